from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from doorstep.core import codes
from doorstep.core.http import AuthedRequest, require
from doorstep.core.inputs import is_number, number
from doorstep.core.roles import Can
from doorstep.sampling.models import Lane
from doorstep.territory.models import Community, Town
from doorstep.territory.scoping import scoped_to_towns, town_ids
from doorstep.workforce import actions, queries, staff_import
from doorstep.workforce.actions.staff_import import import_staff
from doorstep.workforce.forms import CallUpForm
from doorstep.workforce.models import (
    LANE_ROLES,
    CallUp,
    Duty,
    DutyRole,
    Muster,
    Staff,
    SupportUnit,
    Team,
    TeamStatus,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _town_for(request: AuthedRequest) -> Town:
    """The town the user works in; a user of several picks with ?town=."""
    towns = Town.objects.all()
    ids = town_ids(request.user)
    if ids is not None:
        towns = towns.filter(pk__in=ids)
    wanted = request.GET.get("town") or request.POST.get("town")
    if wanted and is_number(wanted):
        return get_object_or_404(towns, pk=int(wanted))
    town = towns.order_by("pk").first()
    if town is None:
        raise Http404
    return town


def _towns_of(request: AuthedRequest) -> QuerySet[Town]:
    """The towns a user may switch between (a district commander's: the district's)."""
    ids = town_ids(request.user)
    towns = Town.objects.order_by("name")
    return towns if ids is None else towns.filter(pk__in=ids)


def _get_callup_for_user(request: AuthedRequest, pk: int) -> CallUp:
    require(request.user, Can.VIEW_WORKFORCE)
    callups = scoped_to_towns(
        request.user, CallUp.objects.select_related("unit", "town", "community", "site")
    )
    return get_object_or_404(callups, pk=pk)


def _get_team_for_user(request: AuthedRequest, pk: int) -> Team:
    require(request.user, Can.VIEW_WORKFORCE)
    teams = scoped_to_towns(
        request.user, Team.objects.select_related("leader", "community", "lane__site")
    )
    return get_object_or_404(teams, pk=pk)


def _get_lane_for_user(request: AuthedRequest, pk: int) -> Lane:
    require(request.user, Can.VIEW_WORKFORCE)
    lanes = scoped_to_towns(
        request.user, Lane.objects.select_related("site__community"), "site__community__town"
    )
    return get_object_or_404(lanes, pk=pk)


def _is_htmx(request: AuthedRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


@require_GET
@login_required
def index(request: AuthedRequest) -> HttpResponse:
    require(request.user, Can.VIEW_WORKFORCE)
    town = _town_for(request)
    callups = CallUp.objects.filter(town=town).select_related("unit", "community", "site", "batch")
    teams = (
        Team.objects.filter(town=town)
        .exclude(status=TeamStatus.STOOD_DOWN)
        .select_related("leader", "community", "lane__site")
    )
    return render(
        request,
        "workforce/index.html",
        {
            "town": town,
            "towns": _towns_of(request),
            "callups": callups,
            "teams": teams,
            "can_manage": request.user.can(Can.MANAGE_WORKFORCE),
            "lanes": queries.lanes_status(town.pk),
        },
    )


@require_GET
@login_required
def staff_list(request: AuthedRequest) -> HttpResponse:
    require(request.user, Can.VIEW_WORKFORCE)
    town = _town_for(request)
    staff: QuerySet[Staff] = Staff.objects.filter(town=town).select_related("unit")
    unit = request.GET.get("unit", "")
    if is_number(unit):
        staff = staff.filter(unit_id=int(unit))
    return render(
        request,
        "workforce/staff_list.html",
        {
            "town": town,
            "staff": staff,
            "units": SupportUnit.objects.filter(town=town),
            "unit": unit,
            "can_manage": request.user.can(Can.MANAGE_WORKFORCE),
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
def staff_import_view(request: AuthedRequest) -> HttpResponse:
    require(request.user, Can.MANAGE_WORKFORCE)
    town = _town_for(request)
    context: dict[str, object] = {"town": town}
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            context["file_error"] = _("Choose the staff file (.xlsx or .csv) to upload.")
            return render(request, "workforce/staff_import.html", context, status=400)
        report = import_staff(town, upload, dry_run=bool(request.POST.get("dry_run")))
        context["report"] = report
        return render(
            request, "workforce/staff_import.html", context, status=200 if report.ok else 400
        )
    return render(request, "workforce/staff_import.html", context)


@require_GET
@login_required
def staff_template(request: AuthedRequest) -> HttpResponse:
    require(request.user, Can.MANAGE_WORKFORCE)
    response = HttpResponse(staff_import.template_workbook(), content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="doorstep-staff-template.xlsx"'
    return response


@require_GET
@login_required
def staff_codes(request: AuthedRequest) -> HttpResponse:
    """Printable worker codes of a unit (or of everyone), one QR each."""
    require(request.user, Can.MANAGE_WORKFORCE)
    town = _town_for(request)
    staff = Staff.objects.filter(town=town).select_related("unit")
    unit = request.GET.get("unit", "")
    if is_number(unit):
        staff = staff.filter(unit_id=int(unit))
    cards = [
        {
            "staff": s,
            "qr": codes.qr_svg(s.worker_code),
        }
        for s in staff
    ]
    return render(request, "workforce/staff_codes.html", {"cards": cards, "town": town})


@require_http_methods(["GET", "POST"])
@login_required
def callup_create(request: AuthedRequest) -> HttpResponse:
    require(request.user, Can.MANAGE_WORKFORCE)
    town = _town_for(request)
    form = CallUpForm(request.POST or None, town=town)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            callup = actions.create_callup(
                request.user,
                data["unit"],
                requested=data["requested"] or 0,
                named=list(data["named"]),
                purpose=data["purpose"],
                muster_point=data["muster_point"],
                muster_at=data["muster_at"],
                community=data["community"],
                site=data["site"],
            )
        except actions.WorkforceError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("workforce:board", callup_id=callup.pk)
    return render(
        request,
        "workforce/callup_form.html",
        {"form": form, "town": town},
        status=400 if form.errors else 200,
    )


@require_GET
@login_required
def muster_board(request: AuthedRequest, callup_id: int) -> HttpResponse:
    """The live board: the whole page, or (for htmx polling) just the board fragment."""
    callup = _get_callup_for_user(request, callup_id)
    context = {
        "board": queries.muster_board(callup),
        "can_manage": request.user.can(Can.MANAGE_WORKFORCE),
        "can_check_in": request.user.can(Can.CHECK_IN),
    }
    template = "workforce/_board.html" if _is_htmx(request) else "workforce/muster_board.html"
    return render(request, template, context)


@require_http_methods(["GET", "POST"])
@login_required
def check_in(request: AuthedRequest, callup_id: int) -> HttpResponse:
    """Scanner page: a hardware scanner types the code and Enter; the answer replaces the status."""
    callup = _get_callup_for_user(request, callup_id)
    require(request.user, Can.CHECK_IN)
    if request.method == "GET":
        return render(request, "workforce/check_in.html", {"callup": callup})
    context: dict[str, object] = {"callup": callup}
    status = 200
    code = request.POST.get("code", "")
    try:
        result = actions.check_in(request.user, callup, code, move=request.POST.get("move") == "1")
        context.update(ok=True, first=result.first_time, message=result.message)
    except actions.ArrivedElsewhere as exc:
        context.update(ok=False, message=str(exc), elsewhere=exc.elsewhere, code=code)
        status = 409 if not _is_htmx(request) else 200
    except actions.WorkforceError as exc:
        context.update(ok=False, message=str(exc))
        status = 400 if not _is_htmx(request) else 200
    callup.refresh_from_db()
    context["board"] = queries.muster_board(callup)
    template = "workforce/_check_in_result.html" if _is_htmx(request) else "workforce/check_in.html"
    return render(request, template, context, status=status)


@require_POST
@login_required
def send(request: AuthedRequest, callup_id: int) -> HttpResponse:
    """Send one arrived person to another call-up of their unit (one beyond the number asked
    for, to where people are short)."""
    callup = _get_callup_for_user(request, callup_id)
    require(request.user, Can.MANAGE_WORKFORCE)
    muster = get_object_or_404(
        Muster.objects.select_related("staff"), callup=callup, pk=number(request.POST.get("muster"))
    )
    to = get_object_or_404(
        CallUp.objects.filter(unit_id=callup.unit_id), pk=number(request.POST.get("to"))
    )
    try:
        result = actions.send_to(request.user, muster, to)
    except actions.WorkforceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("%(name)s sent to %(point)s.")
            % {"name": result.staff.name, "point": to.muster_point},
        )
    return redirect("workforce:board", callup_id=callup.pk)


@require_POST
@login_required
def no_show(request: AuthedRequest, callup_id: int) -> HttpResponse:
    callup = _get_callup_for_user(request, callup_id)
    require(request.user, Can.MANAGE_WORKFORCE)
    ids = [int(i) for i in request.POST.getlist("staff") if is_number(i)]
    n = actions.mark_no_show(request.user, callup, ids)
    messages.success(request, _("%(n)d marked as no-show.") % {"n": n})
    return redirect("workforce:board", callup_id=callup.pk)


@require_http_methods(["GET", "POST"])
@login_required
def team_create(request: AuthedRequest) -> HttpResponse:
    require(request.user, Can.MANAGE_WORKFORCE)
    town = _town_for(request)
    people = list(queries.available_people(town.pk))
    context: dict[str, object] = {"town": town, "people": people}
    if request.method == "POST":
        chosen = {int(i) for i in request.POST.getlist("members") if is_number(i)}
        leader_id = request.POST.get("leader", "")
        pool = {
            s.pk: s
            # The town's own people and those its district sent here (form_team checks that
            # each has checked in at one of the town's call-ups).
            for s in queries.staff_at_work_in(town.pk).filter(
                pk__in=chosen | ({int(leader_id)} if is_number(leader_id) else set())
            )
        }
        leader = pool.get(int(leader_id)) if is_number(leader_id) else None
        try:
            team = actions.form_team(
                request.user,
                town,
                request.POST.get("name", ""),
                leader,
                [pool[i] for i in chosen if i in pool],
            )
        except actions.WorkforceError as exc:
            context.update(
                error=str(exc),
                chosen=chosen,
                leader_id=leader_id,
                name=request.POST.get("name", ""),
            )
            return render(request, "workforce/team_form.html", context, status=400)
        return redirect("workforce:team", team_id=team.pk)
    return render(request, "workforce/team_form.html", context)


def _team_context(request: AuthedRequest, team: Team) -> dict[str, object]:
    return {
        "team": team,
        "members": team.members.select_related("unit").order_by("name"),
        "duties": team.duties.filter(ended_at__isnull=True).select_related("staff"),
        "communities": Community.objects.filter(town_id=team.town_id).order_by("name"),
        "lanes": Lane.objects.filter(site__community__town_id=team.town_id)
        .select_related("site")
        .order_by("site__name", "name"),
        "lane_roles": [(r.value, r.label) for r in LANE_ROLES],
        "free_teams": Team.objects.filter(town_id=team.town_id, status=TeamStatus.FORMED).exclude(
            pk=team.pk
        ),
        "can_manage": request.user.can(Can.MANAGE_WORKFORCE),
    }


@require_GET
@login_required
def team_detail(request: AuthedRequest, team_id: int) -> HttpResponse:
    team = _get_team_for_user(request, team_id)
    return render(request, "workforce/team_detail.html", _team_context(request, team))


def _roles_from(request: AuthedRequest) -> dict[int, str]:
    return {
        int(key.split("_", 1)[1]): request.POST.get(key, "")
        for key in request.POST
        if key.startswith("role_") and is_number(key.split("_", 1)[1])
    }


def _act_on_team(request: AuthedRequest, team: Team, do) -> HttpResponse:  # type: ignore[no-untyped-def]
    try:
        message = do()
    except actions.WorkforceError as exc:
        context = _team_context(request, team)
        context["error"] = str(exc)
        return render(request, "workforce/team_detail.html", context, status=400)
    messages.success(request, message)
    return redirect("workforce:team", team_id=team.pk)


@require_POST
@login_required
def team_assign(request: AuthedRequest, team_id: int) -> HttpResponse:
    team = _get_team_for_user(request, team_id)
    require(request.user, Can.MANAGE_WORKFORCE)
    place = request.POST.get("place", "")
    community = lane = None
    if place.startswith("community:") and is_number(place[10:]):
        community = get_object_or_404(Community, pk=int(place[10:]), town_id=team.town_id)
    elif place.startswith("lane:") and is_number(place[5:]):
        lane = get_object_or_404(
            Lane.objects.select_related("site__community"),
            pk=int(place[5:]),
            site__community__town_id=team.town_id,
        )

    def do() -> str:
        actions.assign_team(
            request.user, team, community=community, lane=lane, roles=_roles_from(request)
        )
        return _("%(team)s is on duty at %(place)s.") % {
            "team": team.name,
            "place": lane or community,
        }

    return _act_on_team(request, team, do)


@require_POST
@login_required
def team_handover(request: AuthedRequest, team_id: int) -> HttpResponse:
    team = _get_team_for_user(request, team_id)
    require(request.user, Can.MANAGE_WORKFORCE)
    incoming_id = request.POST.get("incoming", "")
    incoming = get_object_or_404(
        Team, pk=int(incoming_id) if is_number(incoming_id) else 0, town_id=team.town_id
    )

    def do() -> str:
        actions.hand_over(request.user, team, incoming, _roles_from(request))
        return _("%(incoming)s took over from %(team)s.") % {
            "incoming": incoming.name,
            "team": team.name,
        }

    return _act_on_team(request, team, do)


@require_POST
@login_required
def team_stand_down(request: AuthedRequest, team_id: int) -> HttpResponse:
    team = _get_team_for_user(request, team_id)
    require(request.user, Can.MANAGE_WORKFORCE)

    def do() -> str:
        actions.stand_down(request.user, team)
        return _("%(team)s stood down.") % {"team": team.name}

    return _act_on_team(request, team, do)


@require_GET
@login_required
def where(request: AuthedRequest) -> HttpResponse:
    """Who is where, for how long; and what each unit has contributed."""
    require(request.user, Can.VIEW_WORKFORCE)
    town = _town_for(request)
    context = {
        "town": town,
        "places": queries.who_is_where(town.pk),
        "lanes": queries.lanes_status(town.pk),
        "units": queries.unit_contributions(town.pk),
        "roles": DutyRole,
    }
    template = "workforce/_where.html" if _is_htmx(request) else "workforce/where.html"
    return render(request, template, context)


# --- one person at a lane ------------------------------------------------------------------


@require_GET
@login_required
def lane_staff(request: AuthedRequest, lane_id: int) -> HttpResponse:
    """Who is on duty at a lane in which role, and the commander's two fixes for a lane short
    of someone: add one checked-in person, or move one from another lane."""
    lane = _get_lane_for_user(request, lane_id)
    return render(
        request,
        "workforce/lane_staff.html",
        queries.lane_staffing(lane)
        | {
            "roles": [(role.value, role.label) for role in LANE_ROLES],
            "can_manage": request.user.can(Can.MANAGE_WORKFORCE),
        },
    )


def _staff_of_town(request: AuthedRequest, lane: Lane) -> Staff:
    return get_object_or_404(
        queries.staff_at_work_in(lane.site.community.town_id),
        pk=number(request.POST.get("staff")),
    )


def _staff_the_lane(
    request: AuthedRequest, lane_id: int, act: Callable[[Lane, Staff, str], Duty], done: str
) -> HttpResponse:
    """The lane page's two fixes share their checks, their answer and where they return."""
    lane = _get_lane_for_user(request, lane_id)
    require(request.user, Can.MANAGE_WORKFORCE)
    staff = _staff_of_town(request, lane)
    try:
        duty = act(lane, staff, request.POST.get("role", ""))
    except actions.WorkforceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, done % {"name": staff.name, "lane": lane, "role": duty.get_role_display()}
        )
    return redirect("workforce:lane_staff", lane_id=lane.pk)


@require_POST
@login_required
def lane_add(request: AuthedRequest, lane_id: int) -> HttpResponse:
    """One checked-in person joins the lane's team in a role."""
    return _staff_the_lane(
        request,
        lane_id,
        lambda lane, staff, role: actions.add_to_lane(request.user, lane, staff, role),
        _("%(name)s is on duty at %(lane)s as %(role)s."),
    )


@require_POST
@login_required
def lane_move(request: AuthedRequest, lane_id: int) -> HttpResponse:
    """One person on duty at another lane moves here in a role."""
    return _staff_the_lane(
        request,
        lane_id,
        lambda lane, staff, role: actions.move_to_lane(request.user, staff, lane, role),
        _("%(name)s moved to %(lane)s as %(role)s."),
    )
