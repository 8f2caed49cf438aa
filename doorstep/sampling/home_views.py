"""Home-sampling pages: the round's buildings with people to sample at their door, claimed by a
sampling team like a building and worked from its lane's scan page (the reads are
``sampling.home``, the claims ``sampling.actions.home``)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from doorstep.campaigns.models import Campaign, CampaignStatus
from doorstep.core.http import AuthedRequest, require
from doorstep.core.inputs import is_number
from doorstep.core.roles import Can
from doorstep.sampling import home, queries
from doorstep.sampling.access import home_tasks_for
from doorstep.sampling.actions import home as home_actions
from doorstep.sampling.models import HomeStop, HomeTask, Lane
from doorstep.territory.scoping import communities_for, town_ids


def _communities(request: AuthedRequest) -> set[int] | None:
    """Where the user works: None town-wide; else their communities and those of the lanes
    they are on duty at (a sampling team from another sub-district has no communities)."""
    if request.user.is_town_wide:
        return None
    mine = set(communities_for(request.user).values_list("pk", flat=True))
    lanes = queries.scan_lanes(request.user) or set()
    mine |= set(Lane.objects.filter(pk__in=lanes).values_list("site__community_id", flat=True))
    return mine


def _task(request: AuthedRequest, pk: int) -> HomeTask:
    require(request.user, Can.VIEW_SITES)
    return get_object_or_404(
        home_tasks_for(request.user).select_related(
            "building", "community", "campaign", "lane__site"
        ),
        pk=pk,
    )


@require_GET
@login_required
def home_list(request: AuthedRequest) -> HttpResponse:
    require(request.user, Can.VIEW_SITES)
    towns = town_ids(request.user)
    mine = _communities(request)
    campaigns = Campaign.objects.filter(status=CampaignStatus.ACTIVE)
    if towns is not None:
        campaigns = campaigns.filter(town_id__in=towns)
    if mine is not None:
        campaigns = campaigns.filter(buildings__community_id__in=mine).distinct()
    visible = home_tasks_for(request.user)
    rounds = []
    for campaign in campaigns.order_by("-starts_at", "-id")[:5]:
        found = visible.filter(campaign=campaign)
        # A building leaves the list when nobody in it waits; the finished ones are counted.
        rounds.append(
            (
                campaign,
                list(home.tasks(found, waiting=True)[:300]),
                home.tasks(found, waiting=False).count(),
            )
        )
    return render(
        request,
        "sampling/home_list.html",
        {"rounds": rounds, "now": timezone.now(), "can_scan": request.user.can(Can.SCAN)},
    )


@require_GET
@login_required
def home_task(request: AuthedRequest, home_task_id: int) -> HttpResponse:
    task = _task(request, home_task_id)
    stops = list(
        HomeStop.objects.filter(task=task, cancelled_at=None)
        .select_related("resident", "walk_in", "household__unit")
        .order_by("done_at", "household__unit__name", "household__room", "id")
    )
    scan = queries.scan_lanes(request.user)
    lanes = home.lanes_for(request.user, task, scan) if request.user.can(Can.SCAN) else []
    return render(
        request,
        "sampling/home_task.html",
        {
            "campaign": task.campaign,  # a drill's banner and mark (base.html)
            "task": task,
            "stops": stops,
            # People, not stops: one may wait for two reasons (sealed, and needs home sampling).
            "waiting": len({(s.resident_id, s.walk_in_id) for s in stops if s.done_at is None}),
            "lanes": lanes,
            "mine": task.lane_id is not None and (scan is None or task.lane_id in scan),
            "now": timezone.now(),
        },
    )


def _workable(request: AuthedRequest, home_task_id: int) -> tuple[HomeTask, set[int] | None]:
    """The home task, if the user may see it and scan, with the lanes they may scan at."""
    task = _task(request, home_task_id)
    require(request.user, Can.SCAN)
    return task, queries.scan_lanes(request.user)


def _lane_to_work_from(request: AuthedRequest, task: HomeTask, scan: set[int] | None) -> Lane:
    """The lane a team claims home sampling from: the one chosen, or the only one it has."""
    lanes = {lane.pk: lane for lane in home.lanes_for(request.user, task, scan)}
    if not lanes:
        raise home_actions.HomeError(
            _(
                "Only a sampling team on duty at a lane of %(community)s can claim home sampling there. Ask the commander to put your team on a lane (Staff → Teams)."
            )
            % {"community": task.community.name}
        )
    raw = request.POST.get("lane", "")
    lane = lanes.get(int(raw)) if is_number(raw) else None
    if lane is None and len(lanes) == 1:
        lane = next(iter(lanes.values()))
    if lane is None:
        raise home_actions.HomeError(_("Choose the lane your team works from."))
    return lane


@require_POST
@login_required
def home_claim(request: AuthedRequest, home_task_id: int) -> HttpResponse:
    task, scan = _workable(request, home_task_id)
    try:
        home_actions.claim(request.user, task, _lane_to_work_from(request, task, scan))
    except home_actions.HomeError as refusal:
        messages.error(request, str(refusal))
    return redirect("sampling:home_task", home_task_id=task.pk)


@require_POST
@login_required
def home_release(request: AuthedRequest, home_task_id: int) -> HttpResponse:
    task, scan = _workable(request, home_task_id)
    try:
        home_actions.release(task, scan)
    except home_actions.HomeError as refusal:
        messages.error(request, str(refusal))
    return redirect("sampling:home_task", home_task_id=task.pk)


@require_POST
@login_required
def home_close(request: AuthedRequest, home_task_id: int) -> HttpResponse:
    task, scan = _workable(request, home_task_id)
    try:
        home_actions.close(task, scan)
    except home_actions.HomeError as refusal:
        messages.error(request, str(refusal))
    return redirect("sampling:home_task", home_task_id=task.pk)
