"""Home sampling's reads: the round's buildings with people to sample at their door, the lanes
a team may hold one from, and the figures the command screen shows. The writes (what puts
people on a task, what takes them off, the claims) are ``sampling.actions.home``, which says
how home sampling works.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Case, Count, Q, QuerySet, When

from doorstep.core.models import User
from doorstep.sampling.actions.home import waiting
from doorstep.sampling.models import HomeStatus, HomeStop, HomeTask, Lane

# ``waiting`` is the rule ``close`` checks, shown here; the writes are ``sampling.actions.home``.
__all__ = ["HomeCounts", "counts", "lanes_for", "tasks", "waiting"]


def lanes_for(user: User, task: HomeTask, scan_lanes: set[int] | None) -> list[Lane]:
    """The lanes of the task's community the user may scan at (``queries.scan_lanes``): the
    lanes whose team may hold the task."""
    lanes = Lane.objects.filter(site__community_id=task.community_id).select_related("site")
    if scan_lanes is not None:
        lanes = lanes.filter(pk__in=scan_lanes)
    return list(lanes.order_by("site__name", "name"))


def tasks(found: QuerySet[HomeTask], *, waiting: bool | None = None) -> QuerySet[HomeTask]:
    """These tasks (a round's, scoped) with ``people_waiting``, ``households_waiting`` and
    ``people_done``, the ones with people waiting first; ``waiting``: only those with people
    waiting (True) or only those with nobody left (False)."""
    left = Q(stops__done_at=None, stops__cancelled_at=None)
    done = Q(stops__done_at__isnull=False)
    # A person may wait for two reasons (a sealed building and "needs home sampling"): counted
    # once, residents and walk-ins apart.
    annotated = found.annotate(
        people_waiting=Count("stops__resident", filter=left, distinct=True)
        + Count("stops__walk_in", filter=left, distinct=True),
        households_waiting=Count("stops__household", filter=left, distinct=True),
        people_done=Count("stops__resident", filter=done, distinct=True)
        + Count("stops__walk_in", filter=done, distinct=True),
    )
    if waiting is not None:
        annotated = (
            annotated.filter(people_waiting__gt=0)
            if waiting
            else annotated.filter(people_waiting=0)
        )
    return annotated.select_related("building", "community", "lane__site", "campaign").order_by(
        Case(When(people_waiting=0, then=1), default=0),  # people waiting first
        "community__name",
        "building__position",
        "building__name",
    )


@dataclass(frozen=True)
class HomeCounts:
    """The round's home sampling, as the command screen shows it."""

    waiting: int  # people still to sample at home
    done: int  # people sampled at home
    buildings: int  # buildings with people waiting
    claimed: int  # of which a team holds now


def counts(campaign_id: int, now: dt.datetime) -> HomeCounts:
    stops = HomeStop.objects.filter(campaign_id=campaign_id, cancelled_at=None).aggregate(
        waiting=Count("resident", filter=Q(done_at=None), distinct=True)
        + Count("walk_in", filter=Q(done_at=None), distinct=True),
        done=Count("resident", filter=Q(done_at__isnull=False), distinct=True)
        + Count("walk_in", filter=Q(done_at__isnull=False), distinct=True),
    )
    busy = HomeTask.objects.filter(
        campaign_id=campaign_id, stops__done_at=None, stops__cancelled_at=None
    ).distinct()
    return HomeCounts(
        stops["waiting"] or 0,
        stops["done"] or 0,
        busy.count(),
        busy.filter(status=HomeStatus.CLAIMED, expires_at__gt=now).count(),
    )
