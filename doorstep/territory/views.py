from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from doorstep.core import codes
from doorstep.core.http import AuthedRequest, require
from doorstep.core.inputs import is_number
from doorstep.core.roles import Can
from doorstep.territory import actions, queries
from doorstep.territory.models import Building, Community, Household, Resident
from doorstep.territory.roster import template_workbook
from doorstep.territory.scoping import communities_for, residents_for, scoped

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _get_community_for_user(request: AuthedRequest, pk: int) -> Community:
    require(request.user, Can.VIEW_RESIDENTS)
    return get_object_or_404(communities_for(request.user), pk=pk)


def _get_building_for_user(request: AuthedRequest, pk: int) -> Building:
    require(request.user, Can.VIEW_RESIDENTS)
    buildings = scoped(request.user, Building.objects.select_related("community"))
    return get_object_or_404(buildings, pk=pk)


def _get_resident_for_user(request: AuthedRequest, pk: int) -> Resident:
    require(request.user, Can.VIEW_RESIDENTS)
    residents = residents_for(request.user).select_related("household__unit__building", "community")
    return get_object_or_404(residents, pk=pk)


@require_GET
@login_required
def community_list(request: AuthedRequest) -> HttpResponse:
    require(request.user, Can.VIEW_RESIDENTS)
    communities = queries.community_summaries(communities_for(request.user))
    return render(request, "territory/community_list.html", {"communities": communities})


@require_GET
@login_required
def community_detail(request: AuthedRequest, community_id: int) -> HttpResponse:
    community = _get_community_for_user(request, community_id)
    # A grid worker sees their grids' buildings (the others' pages are 404 to them).
    buildings = queries.buildings_nearest_first(community).filter(
        pk__in=scoped(request.user, Building.objects.filter(community=community)).values("pk")
    )
    return render(
        request, "territory/community_detail.html", {"community": community, "buildings": buildings}
    )


@require_http_methods(["GET", "POST"])
@login_required
def community_export(request: AuthedRequest, community_id: int) -> HttpResponse:
    """GET: masked. POST with a reason: in full. Both audited."""
    community = _get_community_for_user(request, community_id)
    require(request.user, Can.EXPORT_PERSONAL)
    reason = ""
    if request.method == "POST":
        require(request.user, Can.REVEAL_PERSONAL)
        reason = request.POST.get("reason", "")
        if len(reason.strip()) < 4:
            return render(
                request,
                "territory/community_detail.html",
                {
                    "community": community,
                    "buildings": queries.buildings_nearest_first(community),
                    "export_error": _("Say why you need the full details (at least 4 characters)."),
                },
                status=400,
            )
    data = actions.export_residents(request.user, community, reason)
    response = HttpResponse(data, content_type=XLSX)
    suffix = "full" if reason else "masked"
    response["Content-Disposition"] = (
        f'attachment; filename="residents-{community.pk}-{suffix}.xlsx"'
    )
    return response


@require_GET
@login_required
def building_detail(request: AuthedRequest, building_id: int) -> HttpResponse:
    building = _get_building_for_user(request, building_id)
    households = queries.households_with_residents(building)
    return render(
        request, "territory/building_detail.html", {"building": building, "households": households}
    )


def _code_sheets(
    request: AuthedRequest, households: list[tuple[Household, list[Resident]]]
) -> list[dict]:
    return [
        {
            "household": household,
            "members": [
                {
                    "resident": r,
                    "qr": codes.qr_svg(r.person_code),
                }
                for r in members
                if not r.moved_out
            ],
        }
        for household, members in households
        if members
    ]


@require_GET
@login_required
def building_codes(request: AuthedRequest, building_id: int) -> HttpResponse:
    building = _get_building_for_user(request, building_id)
    require(request.user, Can.PRINT_CODES)
    sheets = _code_sheets(request, queries.households_with_residents(building))
    actions.record_code_sheet(
        request.user, "building", building.pk, sum(len(s["members"]) for s in sheets)
    )
    return render(request, "territory/code_sheet.html", {"sheets": sheets, "title": str(building)})


@require_GET
@login_required
def household_codes(request: AuthedRequest, household_id: int) -> HttpResponse:
    require(request.user, Can.PRINT_CODES)
    households = scoped(
        request.user,
        Household.objects.select_related("unit__building__community"),
        "unit__building__community",
    )
    household = get_object_or_404(households, pk=household_id)
    members = list(household.residents.order_by("id"))
    sheets = _code_sheets(request, [(household, members)])
    actions.record_code_sheet(request.user, "household", household.pk, len(members))
    return render(request, "territory/code_sheet.html", {"sheets": sheets, "title": str(household)})


@require_GET
@login_required
def resident_list(request: AuthedRequest) -> HttpResponse:
    require(request.user, Can.VIEW_RESIDENTS)
    residents = residents_for(request.user).select_related("household__unit__building", "community")
    community_id = request.GET.get("community", "")
    if is_number(community_id):
        residents = residents.filter(community_id=int(community_id))
    text = request.GET.get("q", "")[:100]
    kind = queries.search_kind(text)
    refusal = ""
    if kind is not None and kind.identifier:
        if not request.user.can(Can.REVEAL_PERSONAL):
            # A yes or no on a name or number the role could not see would unmask it.
            refusal = _(
                "Your role finds people by person code, room number, or name as the lists show it (张*). Ask a community worker to search by name or document number."
            )
        elif not actions.allow_identifier_search(request.user):
            refusal = _(
                "Too many searches by name or document number in ten minutes. Wait, or search by person code or room."
            )
    residents = residents.none() if refusal else queries.search_residents(residents, text)
    residents = residents.order_by("community__name", "household_id", "id")
    page = Paginator(residents, 50).get_page(request.GET.get("page"))
    if kind is not None and kind.identifier and not refusal:
        actions.audit_search(request.user, kind, page.paginator.count)
    return render(
        request,
        "territory/resident_list.html",
        {
            "page": page,
            "q": text,
            "refusal": refusal,
            "community_id": community_id,
            "communities": communities_for(request.user),
            "can_reveal": request.user.can(Can.REVEAL_PERSONAL),
        },
        status=429 if refusal and request.user.can(Can.REVEAL_PERSONAL) else 200,
    )


@require_GET
@login_required
def resident_detail(request: AuthedRequest, resident_id: int) -> HttpResponse:
    resident = _get_resident_for_user(request, resident_id)
    return render(
        request,
        "territory/resident_detail.html",
        {
            "resident": resident,
            "can_reveal": request.user.can(Can.REVEAL_PERSONAL),
            # The resident's timeline this round (lab:timeline) shows results: who sees retests.
            "can_see_results": request.user.can(Can.VIEW_RETESTS),
        },
    )


@require_POST
@login_required
def resident_reveal(request: AuthedRequest, resident_id: int) -> HttpResponse:
    resident = _get_resident_for_user(request, resident_id)
    require(request.user, Can.REVEAL_PERSONAL)
    try:
        revealed = actions.reveal_resident(request.user, resident, request.POST.get("reason", ""))
    except ValueError as exc:
        return render(
            request,
            "territory/_reveal.html",
            {"resident": resident, "error": str(exc), "can_reveal": True},
            status=400,
        )
    return render(request, "territory/_reveal.html", {"resident": resident, "revealed": revealed})


@require_http_methods(["GET", "POST"])
@login_required
def roster_upload(request: AuthedRequest) -> HttpResponse:
    require(request.user, Can.IMPORT_ROSTER)
    user = request.user
    communities = list(communities_for(user).select_related("town"))
    towns = sorted({c.town.name for c in communities} | ({user.town.name} if user.town else set()))
    context: dict[str, object] = {"towns": towns, "communities": communities}
    if request.method == "GET":
        return render(request, "territory/roster_upload.html", context)
    town = request.POST.get("town", "") or (towns[0] if len(towns) == 1 else "")
    upload = request.FILES.get("file")
    error = ""
    if town not in towns:
        error = _("Choose the town the roster belongs to.")
    elif upload is None:
        error = _("Choose the roster file (.xlsx or .csv) to upload.")
    elif upload.size and upload.size > settings.ROSTER_UPLOAD_MAX_BYTES:
        error = _(
            "The file is larger than %(mb)d MB. Split it by community and upload each part."
        ) % {"mb": settings.ROSTER_UPLOAD_MAX_BYTES // (1024 * 1024)}
    if error:
        context["file_error"] = error
        return render(request, "territory/roster_upload.html", context, status=400)
    assert upload is not None
    allowed = None if user.is_town_wide else {c.name for c in communities}
    report = actions.import_roster(
        town,
        upload,
        user=user,
        dry_run=bool(request.POST.get("dry_run")),
        allowed_communities=allowed,
        filename=upload.name or "",
    )
    context["report"] = report
    return render(
        request, "territory/roster_upload.html", context, status=200 if report.ok else 400
    )


@require_GET
@login_required
def roster_template(request: AuthedRequest) -> HttpResponse:
    require(request.user, Can.IMPORT_ROSTER)
    response = HttpResponse(template_workbook(), content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="doorstep-roster-template.xlsx"'
    return response
