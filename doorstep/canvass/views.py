from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from doorstep.campaigns import queries as campaign_queries
from doorstep.campaigns.models import Campaign, CampaignBuilding
from doorstep.canvass import actions, outcomes, queries, rules
from doorstep.canvass.actions import CanvassError
from doorstep.canvass.models import (
    BuildingTask,
    Coverage,
    ExemptReason,
    HouseholdState,
    NeedKind,
    Outcome,
    TaskStatus,
)
from doorstep.core import alerts as core_alerts
from doorstep.core import offline
from doorstep.core.actions import RESIDENT, audit
from doorstep.core.http import AuthedRequest, NotJson, json_body, require
from doorstep.core.inputs import is_number, number
from doorstep.core.models import AuditAction
from doorstep.core.roles import Can
from doorstep.territory.actions import full_details_reason, residents_workbook
from doorstep.territory.models import Grid
from doorstep.territory.scoping import communities_for, scoped, scoped_to_towns
from doorstep.workforce.models import Team

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_TAPS = 500
# Households the building page draws at first (a building of up to WHOLE households comes
# whole); the other floors come when they are reached, MAX_FLOORS_AT_ONCE floors at most.
FIRST_PAGE = 24
WHOLE = 48
MAX_FLOORS_AT_ONCE = 40


def _is_htmx(request: AuthedRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _get_campaign_for_user(request: AuthedRequest, pk: int) -> Campaign:
    require(request.user, Can.VIEW_CANVASS)
    return get_object_or_404(scoped_to_towns(request.user, Campaign.objects.all()), pk=pk)


def _get_community_for_user(request: AuthedRequest, campaign: Campaign, pk: int) -> Coverage:
    communities = communities_for(request.user)
    coverage = Coverage.objects.filter(
        campaign=campaign, community__in=communities, community_id=pk
    ).select_related("community", "campaign")
    return get_object_or_404(coverage)


def _get_task_for_user(request: AuthedRequest, pk: int) -> BuildingTask:
    require(request.user, Can.VIEW_CANVASS)
    tasks = scoped(
        request.user,
        BuildingTask.objects.select_related("building", "community", "campaign", "team"),
    )
    return get_object_or_404(tasks, pk=pk)


@require_GET
@login_required
@offline.page
def index(request: AuthedRequest) -> HttpResponse:
    """A team's own page: its building and the claim list in the round running in its
    community. Everyone else goes to the coverage of the round running in their communities,
    or chooses when several run in communities they span."""
    require(request.user, Can.VIEW_CANVASS)
    team = actions.door_to_door_team(request.user)
    if team is None or team.community is None:
        rounds = campaign_queries.running_for(communities_for(request.user))
        if len(rounds) == 1:
            return redirect("canvass:coverage", campaign_id=rounds[0].pk)
        if not rounds:
            return render(request, "canvass/no_campaign.html")
        return render(request, "canvass/rounds.html", {"rounds": rounds})
    campaign = campaign_queries.running_in(team.community.pk)
    if campaign is None:
        return render(request, "canvass/no_campaign.html")
    held = (
        BuildingTask.objects.filter(campaign=campaign, team=team, status=TaskStatus.CLAIMED)
        .select_related("building")
        .first()
    )
    free = queries.open_buildings(
        actions.nearest_open(held or _last_worked(campaign, team) or team.community, campaign.pk)
    )
    response = render(
        request,
        "canvass/index.html",
        {
            "campaign": campaign,
            "team": team,
            "held": held,
            "free": free,
            "is_leader": team.leader.user_id == request.user.pk,
            "now": timezone.now(),
            "offline": _offline(campaign.town_id),
        },
    )
    return offline.of_town(response, campaign.town_id)


def _last_worked(campaign: Campaign, team: Team) -> BuildingTask | None:
    """Where the team last finished: the claim list starts next door."""
    return (
        BuildingTask.objects.filter(campaign=campaign, team=team, status=TaskStatus.DONE)
        .select_related("building")
        .order_by("-completed_at")
        .first()
    )


@require_GET
@login_required
def coverage(request: AuthedRequest, campaign_id: int) -> HttpResponse:
    campaign = _get_campaign_for_user(request, campaign_id)
    rows = queries.coverage_for(
        request.user,
        Coverage.objects.filter(campaign=campaign, community__in=communities_for(request.user))
        .select_related("community")
        .order_by("community__name"),
    )
    fields = (
        "buildings",
        "buildings_claimed",
        "buildings_done",
        "households",
        "covered",
        "notified",
        "revisits",
        "phone_calls",
        "residents",
        "sampled",
        "exempt",
    )
    total = Coverage(campaign=campaign, **{f: sum(getattr(r, f) for r in rows) for f in fields})
    return render(
        request, "canvass/coverage.html", {"campaign": campaign, "rows": rows, "total": total}
    )


@require_GET
@login_required
def community(request: AuthedRequest, campaign_id: int, community_id: int) -> HttpResponse:
    campaign = _get_campaign_for_user(request, campaign_id)
    [cov] = queries.coverage_for(
        request.user, [_get_community_for_user(request, campaign, community_id)]
    )
    tasks = scoped(request.user, queries.buildings(campaign.pk, cov.community_id))
    now = timezone.now()
    return render(
        request,
        "canvass/community.html",
        {
            "campaign": campaign,
            "cov": cov,
            "blockers": queries.blockers(cov, tasks),
            "tasks": tasks,
            "now": now,
            "can_export": request.user.can(Can.EXPORT_PERSONAL),
            "alerts": [
                a
                for a in core_alerts.for_user(request.user, campaign, now)
                if a.community_id == cov.community_id
            ],
            "can_ack": request.user.can(Can.ACK_ALERTS),
            "back": request.get_full_path(),
        },
    )


@require_GET
@login_required
def untested(request: AuthedRequest, campaign_id: int, community_id: int) -> HttpResponse:
    campaign = _get_campaign_for_user(request, campaign_id)
    require(request.user, Can.VIEW_RESIDENTS)
    cov = _get_community_for_user(request, campaign, community_id)
    previous = campaign_queries.previous_round(campaign, cov.community_id)
    residents = scoped(
        request.user,
        queries.untested(
            campaign.pk, before=previous.pk if previous else None, community_id=cov.community_id
        ),
    )
    building = request.GET.get("building", "")
    if is_number(building):
        residents = residents.filter(household__unit__building_id=int(building))
    grids = list(Grid.objects.filter(community_id=cov.community_id).order_by("name"))
    grid = number(request.GET.get("grid", ""))
    if grid:
        residents = residents.filter(household__unit__building__grid_id=grid)
    page = Paginator(residents, 100).get_page(request.GET.get("page"))
    return render(
        request,
        "canvass/untested.html",
        {
            "campaign": campaign,
            "cov": cov,
            "page": page,
            "building": building,
            "grids": grids,
            "grid": grid,
            "previous": previous,
            "can_export": request.user.can(Can.EXPORT_PERSONAL),
        },
    )


@require_POST
@login_required
def untested_export(request: AuthedRequest, campaign_id: int, community_id: int) -> HttpResponse:
    """The untested list as XLSX for grid workers: masked unless a reason is given; audited."""
    campaign = _get_campaign_for_user(request, campaign_id)
    require(request.user, Can.EXPORT_PERSONAL)
    cov = _get_community_for_user(request, campaign, community_id)
    try:
        reason = full_details_reason(request.POST.get("reason", ""))
    except ValueError as exc:
        messages.error(request, str(exc))
        return redirect("canvass:untested", campaign_id=campaign.pk, community_id=cov.community_id)
    outcomes_by_household = queries.household_outcomes(campaign.pk, cov.community_id)
    labels = dict(Outcome.choices)
    previous = campaign_queries.previous_round(campaign, cov.community_id)
    residents = scoped(
        request.user,
        queries.untested(
            campaign.pk, before=previous.pk if previous else None, community_id=cov.community_id
        ),
    )
    drill = ["演练"] if campaign.is_drill else []  # every row of a drill's list says so
    sheet = residents_workbook(
        f"{cov.community.name} 未检测{'(演练)' if drill else ''}",
        residents.iterator(chunk_size=2000),
        full=bool(reason),
        extra_headers=["入户结果", "上轮也未检", *drill],
        extra=lambda r: [
            str(labels.get(outcomes_by_household.get(r.household_id, ""), "")),
            "是" if getattr(r, "missed_before", False) else "",
            *drill,
        ],
    )
    # The list, its people and its mark in one transaction: no file without its entry.
    with transaction.atomic():
        entry = audit(
            request.user,
            AuditAction.EXPORT,
            "untested",
            cov.community_id,
            reason,
            {
                "rows": sheet.rows,
                "masked": not reason,
                "community": cov.community.name,
                "campaign": campaign.pk,
            },
            town_id=cov.community.town_id,
            people=[(RESIDENT, pk) for pk in sheet.ids],
        )
    data = sheet.save(entry)
    response = HttpResponse(data, content_type=XLSX)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = (
        f'attachment; filename="untested-{cov.community_id}-{stamp}.xlsx"'
    )
    return response


@require_GET
@login_required
@offline.page
def revisits(request: AuthedRequest, campaign_id: int, community_id: int) -> HttpResponse:
    campaign = _get_campaign_for_user(request, campaign_id)
    cov = _get_community_for_user(request, campaign, community_id)
    response = render(
        request,
        "canvass/revisits.html",
        {
            "campaign": campaign,
            "cov": cov,
            "rows": queries.revisits(
                scoped(
                    request.user,
                    HouseholdState.objects.filter(campaign=campaign, community_id=cov.community_id),
                )
            ),
            "can_record": request.user.can(Can.RECORD_OUTCOMES)
            and actions.may_follow_up(request.user, cov.community_id),
            "new_id": uuid.uuid4,
            "now": timezone.now(),
            "offline": _offline(campaign.town_id),
        },
    )
    return offline.of_town(response, campaign.town_id)


@require_GET
@login_required
def feed(request: AuthedRequest, campaign_id: int) -> HttpResponse:
    campaign = _get_campaign_for_user(request, campaign_id)
    communities = list(communities_for(request.user).filter(town_id=campaign.town_id))
    wanted = request.GET.get("community", "")
    shown = [c for c in communities if str(c.pk) == wanted] or communities
    context = {
        "campaign": campaign,
        "posts": queries.feed(campaign.pk, [c.pk for c in shown]),
        "communities": communities,
        "community": wanted,
    }
    if _is_htmx(request):
        return render(request, "canvass/_feed.html", context)
    return render(request, "canvass/feed.html", context)


@require_GET
@login_required
def task(request: AuthedRequest, task_id: int) -> HttpResponse:
    """A building's page, drawn floor by floor: the first page holds the floor index and the
    floors where work is (FIRST_PAGE households from the first floor still to knock, or from
    ``?near=`` a household just tapped); the other floors are headings that building.js fills
    as they are reached (``?floors=a-b`` with htmx's header answers those floors alone).
    ``?floors=all`` is the whole building: the copy kept for offline use, and the page without
    JavaScript."""
    t = _get_task_for_user(request, task_id)
    groups = queries.building_page(t)
    wanted = request.GET.get("floors", "")
    if _is_htmx(request):
        first, last = _floor_range(wanted, len(groups))
        return render(
            request, "canvass/_floors.html", _task_context(request, t, groups[first:last])
        )
    whole = wanted == "all"
    context = _task_context(request, t, groups)
    context["floor_index"] = queries.floor_index(groups)
    context["drawn"] = (
        {g.anchor for g in groups} if whole else _first_floors(groups, request.GET.get("near", ""))
    )
    response = render(request, "canvass/task.html", context)
    # The offline worker keeps this page under a key of its own ("light") and the whole
    # building, which offline.js fetches once the page is in use, under the page's address.
    response[offline.HEADER] = "full" if whole else "light"
    if not whole:
        # The page is kept on the phone for offline use anyway (sw.js); the browser's own copy
        # lets offline.js keep the first visit's page without fetching it a second time.
        response["Cache-Control"] = "private, no-cache"
    response["X-Doorstep-Rendered"] = str(context["rendered_ms"])  # the newer copy wins (sw.js)
    return offline.of_town(response, t.campaign.town_id)


def _task_context(
    request: AuthedRequest, t: BuildingTask, groups: list[queries.FloorGroup]
) -> dict[str, object]:
    now = timezone.now()
    my_team = actions.team_of(request.user, t.community_id)
    mine = t.status == TaskStatus.CLAIMED and my_team is not None and t.team_id == my_team.pk
    lapsed = bool(t.expires_at and t.expires_at <= now)
    can_record = outcomes.may_record(request.user, my_team, t, now)
    is_leader = bool(my_team and my_team.leader.user_id == request.user.pk)
    zone = (
        CampaignBuilding.objects.filter(campaign_id=t.campaign_id, building_id=t.building_id)
        .values_list("zone", flat=True)
        .first()
    )
    return {
        "campaign": t.campaign,  # a drill's banner and mark (base.html)
        "task": t,
        "zone": zone,
        "groups": groups,
        "mine": mine,
        "lapsed": lapsed,
        "is_leader": is_leader and request.user.can(Can.CLAIM_BUILDINGS),
        "can_record": can_record,
        "other_teams": [x for x in actions.door_to_door_teams(t.community) if x != my_team],
        "outcomes": Outcome,
        "exempt_reasons": ExemptReason.choices,
        "need_kinds": NeedKind.choices,
        "new_id": uuid.uuid4,
        "now": now,
        # Server time in ms: the phone lays taps and claims it learned later over an older copy.
        "rendered_ms": int(now.timestamp() * 1000),
        "claim_rules": rules.page_data(outcomes.holding(t), mine, t.campaign.claim_lease_minutes),
        "offline": _offline(t.campaign.town_id, f"task:{t.pk}"),
    }


def _first_floors(groups: list[queries.FloorGroup], near: str) -> set[str]:
    """The floors the first page draws: from the floor of the household ``near`` (a tap just
    posted without JavaScript) or the first floor with a household to knock, up and then down,
    until FIRST_PAGE households are drawn; a small building whole."""
    if sum(len(g.rows) for g in groups) <= WHOLE:
        return {g.anchor for g in groups}
    start = next((n for n, g in enumerate(groups) if g.todo), 0)
    if is_number(near):
        start = next(
            (n for n, g in enumerate(groups) if any(r.household.pk == int(near) for r in g.rows)),
            start,
        )
    first, last, count = start, start, 0
    while count < FIRST_PAGE and (last < len(groups) or first > 0):
        if last < len(groups):
            count += len(groups[last].rows)
            last += 1
        else:
            first -= 1
            count += len(groups[first].rows)
    return {g.anchor for g in groups[first:last]}


def _floor_range(wanted: str, floors: int) -> tuple[int, int]:
    """``a-b`` (the groups' numbers on the page, both included) as a slice, at most
    MAX_FLOORS_AT_ONCE floors; anything else is no floor."""
    a, _sep, b = wanted.partition("-")
    if not (is_number(a) and is_number(b)):
        return 0, 0
    first = max(int(a), 0)
    return first, min(int(b) + 1, floors, first + MAX_FLOORS_AT_ONCE)


def _offline(town: int, holds: str = "") -> offline.Boot:
    """The door-to-door pages' service worker, controlling every page under /canvass/; the
    page's town (what the phone keeps of it goes when the town is erased)."""
    return offline.boot(
        "canvass", reverse("canvass:service_worker"), reverse("canvass:index"), town, holds
    )


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    return offline.worker(request, "canvass", reverse("canvass:index"))


def _claimable(request: AuthedRequest, task_id: int) -> BuildingTask:
    """The building task, if the user may see it and claim buildings (else 404 or 403)."""
    task = _get_task_for_user(request, task_id)
    require(request.user, Can.CLAIM_BUILDINGS)
    return task


def _refused(request: AuthedRequest, task: BuildingTask, refused: CanvassError) -> HttpResponse:
    """Back to the building with the refusal, or to the one it names (a team's current task)."""
    messages.error(request, str(refused))
    next_task = getattr(refused, "next_task", None)
    return redirect("canvass:task", task_id=(next_task or task).pk)


@require_POST
@login_required
def claim(request: AuthedRequest, task_id: int) -> HttpResponse:
    task = _claimable(request, task_id)
    try:
        actions.claim(request.user, task)
    except CanvassError as refused:
        return _refused(request, task, refused)
    messages.success(request, _("%(building)s is yours.") % {"building": task.building.name})
    return redirect("canvass:task", task_id=task.pk)


@require_POST
@login_required
def release(request: AuthedRequest, task_id: int) -> HttpResponse:
    task = _claimable(request, task_id)
    try:
        actions.release(request.user, task)
    except CanvassError as refused:
        return _refused(request, task, refused)
    messages.success(request, _("Released %(building)s.") % {"building": task.building.name})
    return redirect("canvass:index")


@require_POST
@login_required
def hand(request: AuthedRequest, task_id: int) -> HttpResponse:
    task = _claimable(request, task_id)
    other = Team.objects.filter(pk=number(request.POST.get("team", ""))).first()
    try:
        if other is None:
            raise CanvassError(_("Choose the team to hand the building to."))
        actions.hand_to(request.user, task, other)
    except CanvassError as refused:
        return _refused(request, task, refused)
    messages.success(
        request,
        _("%(building)s handed to %(team)s.")
        % {"building": task.building.name, "team": other.name},
    )
    return redirect("canvass:index")


@require_POST
@login_required
def complete(request: AuthedRequest, task_id: int) -> HttpResponse:
    task = _claimable(request, task_id)
    try:
        post = actions.complete(request.user, task)
    except CanvassError as refused:
        return _refused(request, task, refused)
    messages.success(request, post.text)
    return redirect("canvass:index")


@require_POST
@login_required
def record_outcomes(request: AuthedRequest, task_id: int) -> HttpResponse:
    """Taps from the building page: a JSON batch from the phone's outbox, or one form post."""
    t = _get_task_for_user(request, task_id)
    require(request.user, Can.RECORD_OUTCOMES)
    if request.content_type == "application/json":
        return _outcome_batch(request, t)
    tap = outcomes.Tap.from_dict(request.POST.dict())
    back = request.POST.get("next", "")
    try:
        answer = outcomes.record_one(request.user, t, tap)
    except CanvassError as refused:
        messages.error(request, str(refused))
    else:
        if answer.message:
            messages.info(request, answer.message)
    if back == "revisits":
        return redirect("canvass:revisits", campaign_id=t.campaign_id, community_id=t.community_id)
    # Back to the household that was tapped, not the top of a 33-floor building.
    household = number(str(tap.household))
    return redirect(reverse("canvass:task", args=[t.pk]) + f"?near={household}#h-{household}")


def _outcome_batch(request: AuthedRequest, t: BuildingTask) -> HttpResponse:
    try:
        body = json_body(request)
    except NotJson:
        return _bad_request(_('The body is not JSON. Send {"taps": [...]}.'))
    taps = body.get("taps") if isinstance(body, dict) else None
    if not isinstance(taps, list) or not all(isinstance(x, dict) for x in taps):
        return _bad_request(_('Send {"taps": [...]}, a list of taps.'))
    if len(taps) > MAX_TAPS:
        return JsonResponse(
            {"error": _("Send at most %(n)s taps at a time.") % {"n": MAX_TAPS}}, status=413
        )
    answers = outcomes.record(request.user, t, [outcomes.Tap.from_dict(x) for x in taps])
    t.refresh_from_db(fields=["with_outcome", "households", "status", "expires_at"])
    return JsonResponse(
        {
            "results": [a.as_dict() for a in answers],
            "progress": {"with_outcome": t.with_outcome, "households": t.households},
            # Server time in ms: an older copy of the page shown offline learns these taps.
            "at": int(timezone.now().timestamp() * 1000),
            # The claim as these taps left it (each accepted one renews it): the page warns
            # offline against taps made after it (``rules.page_data``).
            "claim_until": (
                int(t.expires_at.timestamp() * 1000)
                if t.expires_at and t.status == TaskStatus.CLAIMED
                else None
            ),
        }
    )


def _bad_request(message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=400)
