"""The demo's door-to-door morning: the teams of one community have finished the first buildings
nearest their muster point, three are half-way through one each, a few households were not home,
and part of the finished buildings' residents have been sampled. Everything goes through the
actions, so the counters, feed and lists are the ones real work would leave."""

from __future__ import annotations

import datetime as dt
import random
import uuid

from django.utils import timezone

from doorstep.campaigns.models import Campaign
from doorstep.canvass import actions
from doorstep.canvass.models import BuildingTask, ExemptReason, Outcome
from doorstep.canvass.outcomes import Tap, record
from doorstep.core.models import User
from doorstep.sampling.actions import record_sampled
from doorstep.territory.models import Community, Household, Resident
from doorstep.workforce.models import Team


def _outcome(rng: random.Random) -> tuple[str, str]:
    roll = rng.random()
    if roll < 0.08:
        return Outcome.NOBODY_HOME, ""
    if roll < 0.09:
        return Outcome.REFUSED, ""
    if roll < 0.10:
        return Outcome.MOVED_OUT, ""
    if roll < 0.11:
        return Outcome.EXEMPT, ExemptReason.TESTED_ELSEWHERE
    if roll < 0.12:
        return Outcome.HOME_SAMPLING, ""
    return Outcome.NOTIFIED, ""


def _taps(rng: random.Random, households: list[Household], at: dt.datetime) -> list[Tap]:
    taps = []
    for n, household in enumerate(households):
        outcome, reason = _outcome(rng)
        tapped = (at + dt.timedelta(seconds=40 * n)).isoformat()
        taps.append(Tap(str(uuid.uuid4()), household.pk, outcome, reason, at=tapped))
    return taps


def walk_the_morning(
    rng: random.Random, campaign: Campaign, community: Community, share_done: float = 0.4
) -> None:
    teams = list(
        Team.objects.filter(community=community, lane__isnull=True).select_related("leader__user")
    )
    leaders: list[User] = [t.leader.user for t in teams if t.leader.user]
    tasks = list(
        BuildingTask.objects.filter(campaign=campaign, community=community)
        .select_related("building", "campaign", "community")
        .order_by("building__position")
    )
    households: dict[int, list[Household]] = {}
    for h in Household.objects.filter(unit__building__community=community).order_by(
        "unit__name", "floor", "room"
    ):
        households.setdefault(h.unit.building_id, []).append(h)
    done = max(1, int(len(tasks) * share_done))
    start = campaign.starts_at + dt.timedelta(minutes=20)
    step = (timezone.now() - dt.timedelta(minutes=15) - start) / max(done // len(leaders), 1)
    for n, task in enumerate(tasks[:done]):
        leader = leaders[n % len(leaders)]
        at = start + step * (n // len(leaders))
        actions.claim(leader, task, now=at)
        rows = households.get(task.building_id, [])
        finished = at + dt.timedelta(seconds=40 * len(rows) + 60)
        record(leader, task, _taps(rng, rows, at), now=finished)
        actions.complete(leader, task, now=finished)
        people = list(Resident.objects.filter(household__unit__building_id=task.building_id))
        record_sampled(campaign.pk, rng.sample(people, int(len(people) * 0.6)), finished)
    # Three teams are half-way through their next building; the fourth is between buildings.
    now = timezone.now() - dt.timedelta(minutes=10)
    for leader, task in zip(leaders[:3], tasks[done : done + 3], strict=False):
        actions.claim(leader, task, now=now)
        rows = households.get(task.building_id, [])
        record(leader, task, _taps(rng, rows[: len(rows) // 2], now), now=now)
