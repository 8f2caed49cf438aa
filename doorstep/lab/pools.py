"""The positive-pool loop, made visible: each positive pool of a round, its members traced to
households (walk-ins through the address they gave at the lane), who must stay home, and the
single-tube retests ordered, sampled and resulted, until the loop closes.

A loop is *open* from the pool's positive result until every member's retest has its own
result (or was cancelled by a correction); then the pool's ``retest_closed_at`` is written and
the loop is *closed*. ``loop_counts`` is the one count of both, read by the pools page, the
command screen and the daily report.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from doorstep.core.masking import mask_name
from doorstep.lab.models import OrderKind, OrderStatus, RetestOrder
from doorstep.notices.queries import Told, told_of_members
from doorstep.sampling.models import Result, Tube, TubeMember

# A round with more positive pools than this on one page has other problems; the page says so.
SHOWN = 200


def _positive_pools(campaign: Any) -> QuerySet[Tube]:
    """The round's pools that were found positive: positive now, or with positive-pool orders
    (a pool corrected to negative keeps its history). ``campaign`` is a round, or the ids of
    several."""
    ids = list(campaign) if isinstance(campaign, Collection) else [campaign.pk]
    return (
        Tube.objects.filter(campaign_id__in=ids, retest_of__isnull=True)
        .exclude(capacity=1)
        .filter(
            Q(result=Result.POSITIVE)
            | Exists(
                RetestOrder.objects.filter(
                    original_tube=OuterRef("pk"), kind=OrderKind.POSITIVE_POOL
                )
            )
        )
    )


@dataclass(frozen=True)
class LoopCounts:
    open: int
    closed: int


def _with_members_in(pools: QuerySet[Tube], members: QuerySet[TubeMember] | None) -> QuerySet[Tube]:
    if members is None:
        return pools
    return pools.filter(Exists(members.filter(tube=OuterRef("pk"))))


def loop_counts(campaign: Any, members: QuerySet[TubeMember] | None = None) -> LoopCounts:
    """Positive pools whose retest loop is open (a member still to sample or to result) and
    closed (every member has a single-tube result), in the round; with ``members`` (the ones a
    user may see, scoped), the pools with one of them."""
    counts = (
        _with_members_in(_positive_pools(campaign), members)
        .filter(result=Result.POSITIVE)
        .aggregate(**_LOOPS)
    )
    return LoopCounts(counts["open"] or 0, counts["closed"] or 0)


# A loop is open until every member of the pool has a single-tube result.
_LOOPS = {
    "open": Count("id", filter=Q(retest_closed_at__isnull=True)),
    "closed": Count("id", filter=Q(retest_closed_at__isnull=False)),
}


def loop_counts_of(campaign_ids: Collection[int]) -> dict[int, LoopCounts]:
    """``loop_counts`` of several rounds, in one query."""
    found = {
        row["campaign_id"]: LoopCounts(row["open"], row["closed"])
        for row in _positive_pools(campaign_ids)
        .filter(result=Result.POSITIVE)
        .values("campaign_id")
        .annotate(**_LOOPS)
        .order_by()
    }
    return {pk: found.get(pk, LoopCounts(0, 0)) for pk in campaign_ids}


@dataclass
class Member:
    """One person of a positive pool and where their retest stands (masked)."""

    name: str
    walk_in: bool
    home: str  # the household on the roster, or the traced one, or "" when none matched
    address: str  # what a walk-in said at the lane
    order: RetestOrder | None
    told: Told | None = None  # how they were told to stay home (``notices``)

    @property
    def told_state(self) -> str:
        """sms or door (told, and how), door-waiting (a door visit is due), waiting (a
        message is on its way), or none (nobody had to be told: a corrected pool)."""
        if self.told is None:
            return "none"
        if self.told.how:
            return self.told.how
        return "door-waiting" if self.told.door_since else "waiting"

    @property
    def state(self) -> str:
        """ordered, sampled, resulted, cancelled, or none (no order: the pool is corrected)."""
        if self.order is None:
            return "none"
        return {
            OrderStatus.OPEN: "ordered",
            OrderStatus.SAMPLED: "sampled",
            OrderStatus.RESULTED: "resulted",
            OrderStatus.CANCELLED: "cancelled",
        }[OrderStatus(self.order.status)]


@dataclass
class Loop:
    tube: Tube
    members: list[Member] = field(default_factory=list)

    @property
    def corrected(self) -> bool:
        return self.tube.result != Result.POSITIVE

    @property
    def closed_at(self) -> dt.datetime | None:
        return self.tube.retest_closed_at

    @property
    def time_to_close(self) -> dt.timedelta | None:
        """From the pool's result to the last retest result."""
        if self.tube.retest_closed_at is None or self.tube.resulted_at is None:
            return None
        return self.tube.retest_closed_at - self.tube.resulted_at

    def _count(self, *states: str) -> int:
        return sum(m.state in states for m in self.members)

    @property
    def ordered(self) -> int:
        return self._count("ordered", "sampled", "resulted")

    @property
    def sampled(self) -> int:
        return self._count("sampled", "resulted")

    @property
    def resulted(self) -> int:
        return self._count("resulted")

    @property
    def stay_home(self) -> int:
        return sum(
            bool(m.order and m.order.stay_put and m.state in {"ordered", "sampled"})
            for m in self.members
        )

    @property
    def positives(self) -> int:
        return sum(bool(m.order and m.order.result == Result.POSITIVE) for m in self.members)


def _home(household: Any) -> str:
    if household is None:
        return ""
    unit = household.unit
    return " ".join(p for p in (unit.building.name, unit.name, household.room) if p)


def loops(campaign: Any, members: QuerySet[TubeMember] | None = None) -> list[Loop]:
    """The round's positive pools, open loops first, then the newest; each with its members.
    ``members`` (the ones a user may see, scoped) keeps the pools with one of them, and only
    those members."""
    pools = _with_members_in(_positive_pools(campaign), members).select_related("site", "lane")
    found = list(pools.order_by("-resulted_at", "-id")[:SHOWN])
    orders = {
        o.member_id: o
        for o in RetestOrder.objects.filter(
            original_tube__in=found, kind=OrderKind.POSITIVE_POOL
        ).select_related("household__unit__building", "retest_tube")
    }
    by_pool: dict[int, list[Member]] = defaultdict(list)
    in_scope = list(
        (TubeMember.objects.all() if members is None else members)
        .filter(tube__in=found)
        .select_related("resident", "walk_in", "household__unit__building")
        .order_by("added_at", "id")
    )
    told = told_of_members([m.pk for m in in_scope])
    for m in in_scope:
        order = orders.get(m.pk)
        person = m.resident or m.walk_in
        by_pool[m.tube_id].append(
            Member(
                name=mask_name(person.name if person else ""),
                walk_in=m.walk_in_id is not None,
                home=_home(m.household or (order.household if order else None)),
                address=m.walk_in.address if m.walk_in else "",
                order=order,
                told=told.get(m.pk),
            )
        )
    result = [Loop(tube, by_pool[tube.pk]) for tube in found]
    return sorted(result, key=lambda loop: loop.closed_at is not None)
