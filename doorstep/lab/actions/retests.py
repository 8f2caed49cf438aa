"""The retest loop: members of a positive or invalid pool get a single-tube order; the order is
taken by the next single tube they are sampled into, and resulted with it; the pool's loop
closes when every member has a single-tube result."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from typing import Any

from django.db.models import Q

from doorstep.campaigns import actions as zoning
from doorstep.campaigns.models import CampaignBuilding, Zone
from doorstep.campaigns.queries import rounds_together
from doorstep.core import sql
from doorstep.lab.models import OrderKind, OrderStatus, RetestOrder, Route
from doorstep.notices import actions as telling
from doorstep.notices import queries as told
from doorstep.notices.models import Kind
from doorstep.sampling import hooks, tally, walk_ins
from doorstep.sampling.actions import home
from doorstep.sampling.models import HomeStop, Result, Tube, TubeMember, WalkIn
from doorstep.territory.models import Household

DOOR_TO_DOOR_ZONES = {Zone.SEALED, Zone.CONTROLLED}


# The lab's part of the ingest's one read: an open order, and the code of the pool it retests.
ORDER = sql.Table(RetestOrder, "retest")
ORIGINAL = sql.Table(Tube, "original")
ORDER_COLUMNS = (
    *ORDER.columns("id", "campaign_id", "resident_id", "walk_in_id", "original_tube_id"),
    ORIGINAL.c.code,
)


class LabRetestBook:
    """The lab's side of the ingest engine (``sampling.hooks.RetestBook``): who awaits a
    retest, and taking the order when they are sampled into a single tube."""

    def orders_part(
        self, campaigns: sql.Derived, residents: sql.Derived, walk_ins: sql.Derived
    ) -> sql.Part:
        return sql.Part(
            "orders",
            ORDER_COLUMNS,
            _orders_from(campaigns, residents, walk_ins),
            [OrderStatus.OPEN.value],
        )

    def orders(self, rows: Sequence[Sequence[Any]]) -> dict[tuple[int, str, int], hooks.OpenOrder]:
        found: dict[tuple[int, str, int], hooks.OpenOrder] = {}
        for pk, campaign_id, resident_id, walk_in_id, tube_id, code in rows:
            key = (
                (campaign_id, "resident", resident_id)
                if resident_id
                else (campaign_id, "walk_in", walk_in_id)
            )
            found.setdefault(key, hooks.OpenOrder(pk, tube_id, code))
        return found

    def take(self, takes: Sequence[tuple[int, int, int]]) -> bool:
        """The person's single tube is their retest (the tube already points back to the pool)."""
        for order_id, tube_id, _original in takes:
            taken = RetestOrder.objects.filter(pk=order_id, status=OrderStatus.OPEN).update(
                status=OrderStatus.SAMPLED, retest_tube_id=tube_id
            )
            if not taken:
                return False
        return True


@functools.cache
def _orders_from(campaigns: sql.Derived, residents: sql.Derived, walk_ins: sql.Derived) -> str:
    """Written once per process: the engine declares its read's clauses once, at import, so
    every batch hands over the same three."""
    return (
        f"FROM {ORDER} JOIN {ORIGINAL} ON {ORIGINAL.c.id} = {ORDER.c.original_tube_id} "
        f"WHERE {ORDER.c.status} = %s "
        f"AND {ORDER.c.campaign_id} IN (SELECT {campaigns.c.id} FROM {campaigns}) "
        f"AND ({ORDER.c.resident_id} IN (SELECT {residents.c.id} FROM {residents}) "
        f"OR {ORDER.c.walk_in_id} IN (SELECT {walk_ins.c.id} FROM {walk_ins})) "
        f"ORDER BY {ORDER.c.id}"
    )


def register() -> None:
    hooks.register(retest_book=LabRetestBook())
    hooks.register_traced(walk_in_traced)


def _zones(campaign_id: int, households: Sequence[Household]) -> dict[int, tuple[str, int]]:
    """Each household's building's zone and round. A member's building is in the tube's round,
    or (a guest of a district round) in their own town's round of it: that round's zone routes
    them, and that round takes their retest."""
    return {
        building: (zone, campaign)
        for building, zone, campaign in CampaignBuilding.objects.filter(
            campaign_id__in=rounds_together(campaign_id),
            building_id__in=[h.unit.building_id for h in households],
        ).values_list("building_id", "zone", "campaign_id")
    }


def walk_in_traced(walk_in: WalkIn, household: Household, at: dt.datetime) -> int:
    """A worker found the household of a walk-in whose retest could not be routed: their open
    orders take it, and those in a door-to-door zone go to the door (a home-sampling stop).
    Returns the orders routed to the door."""
    orders = list(
        RetestOrder.objects.filter(
            walk_in=walk_in, household__isnull=True, status=OrderStatus.OPEN
        ).select_related("original_tube")
    )
    door = []
    for order in orders:
        zone, campaign_id = _zones(order.original_tube.campaign_id, [household]).get(
            household.unit.building_id, ("", order.campaign_id)
        )
        route = Route.DOOR_TO_DOOR if zone in DOOR_TO_DOOR_ZONES else Route.SITE
        RetestOrder.objects.filter(pk=order.pk).update(
            household=household, route=route, campaign_id=campaign_id
        )
        if route == Route.DOOR_TO_DOOR:
            door.append(home.DoorRetest(order.pk, campaign_id, household, None, walk_in.pk))
    # Found positive alone (a single tube or a retest) before anyone knew where they live: the
    # seal their result called for reaches their building now.
    for tube in Tube.objects.filter(members__walk_in=walk_in, result=Result.POSITIVE).filter(
        Q(capacity=1) | Q(retest_of__isnull=False)
    ):
        zoning.positive_found(tube.campaign_id, {household.unit.building_id}, tube.code, at)
        # Their household, unknown when the result came, is told now.
        tell_household(tube, at)
    return home.need_retests(door, at)


def order_retests(tube: Tube, kind: str, at: dt.datetime) -> int:
    """One order per member of the pool, routed by the zone of their building in their own
    round (a guest of a district round: their town's). A walk-in has
    no household on the roster; their household is the one a worker found or the one the
    address they gave at the lane names (``sampling.walk_ins.home_of``), so that a door-to-door
    retest can find them."""
    members = list(
        TubeMember.objects.filter(tube=tube).select_related(
            "household__unit__building", "walk_in__household__unit"
        )
    )
    homes: dict[int, Household | None] = {
        m.pk: m.household if m.household else walk_ins.home_of(m.walk_in) if m.walk_in else None
        for m in members
    }
    zones = _zones(tube.campaign_id, [h for h in homes.values() if h])
    existing = set(
        RetestOrder.objects.filter(original_tube=tube)
        .exclude(status=OrderStatus.CANCELLED)
        .values_list("member_id", flat=True)
    )
    # Orders a correction cancelled, for a result corrected back: the same orders, open again.
    withdrawn = {
        o.member_id: o.pk
        for o in RetestOrder.objects.filter(original_tube=tube, status=OrderStatus.CANCELLED)
    }
    orders = []
    for m in members:
        if m.pk in existing:
            continue
        household = homes[m.pk]
        zone, campaign_id = (
            zones.get(household.unit.building_id, (None, tube.campaign_id))
            if household
            else (None, tube.campaign_id)
        )
        orders.append(
            RetestOrder(
                pk=withdrawn.get(m.pk),
                campaign_id=campaign_id,
                original_tube=tube,
                member=m,
                resident_id=m.resident_id,
                walk_in_id=m.walk_in_id,
                household_id=household.pk if household else None,
                community_id=m.community_id,
                kind=kind,
                route=Route.DOOR_TO_DOOR if zone in DOOR_TO_DOOR_ZONES else Route.SITE,
                stay_put=kind == OrderKind.POSITIVE_POOL,
                created_at=at,
            )
        )
    RetestOrder.objects.bulk_create([o for o in orders if o.pk is None])
    reopened = [o for o in orders if o.pk in withdrawn.values()]
    for o in reopened:
        o.save()  # every field as ordered now: open, no retest tube, no result
    if orders:
        Tube.objects.filter(pk=tube.pk).update(retest_closed_at=None)
    _tell(tube, kind, orders, homes, at)
    with_stops: set[int] = {
        pk
        for pk in HomeStop.objects.filter(
            order_id__in=[o.pk for o in reopened if o.route == Route.DOOR_TO_DOOR]
        ).values_list("order_id", flat=True)
        if pk is not None
    }
    home.reopen_orders(with_stops)
    home.need_retests(
        [
            home.DoorRetest(o.pk, o.campaign_id, homes[o.member_id], o.resident_id, o.walk_in_id)  # type: ignore[arg-type]
            for o in orders
            if o.route == Route.DOOR_TO_DOOR
            and homes[o.member_id] is not None
            and o.pk not in with_stops
        ],
        at,
    )
    per_community: dict[int, int] = {}
    for order in orders:
        per_community[order.community_id] = per_community.get(order.community_id, 0) + 1
    for community_id, n in per_community.items():
        tally.bump(
            tube.campaign_id,
            tally.places_of(
                tube.campaign_id, lane_id=None, site_id=tube.site_id, community_id=community_id
            ),
            retests_open=n,
        )
    return len(orders)


def _tell(
    tube: Tube,
    kind: str,
    orders: Sequence[RetestOrder],
    homes: dict[int, Household | None],
    at: dt.datetime,
) -> None:
    """Each member ordered is told, in this transaction: stay home for the retest (a positive
    pool) or come back (an invalid tube); by text message, else at their door."""
    what = Kind.POOL_POSITIVE if kind == OrderKind.POSITIVE_POOL else Kind.INVALID
    by_round: dict[int, list[telling.Person]] = {}
    for o in orders:
        household = homes[o.member_id]
        by_round.setdefault(o.campaign_id, []).append(
            telling.Person(
                community_id=o.community_id,
                resident_id=o.resident_id,
                walk_in_id=o.walk_in_id,
                household_id=household.pk if household else None,
                member_id=o.member_id,
                at_door=o.route == Route.DOOR_TO_DOOR,
            )
        )
    for campaign_id, people in by_round.items():
        telling.tell(campaign_id, what, tube, people, at, place=tube.site.name)


def tell_household(tube: Tube, at: dt.datetime) -> None:
    """A person found positive (a single tube, a retest): everyone of their household is told
    to stay home, in this transaction."""
    people = []
    for m in TubeMember.objects.filter(tube=tube).select_related("walk_in__household"):
        household = m.household or (walk_ins.home_of(m.walk_in) if m.walk_in else None)
        if m.walk_in_id is not None:
            people.append(
                telling.Person(
                    community_id=m.community_id,
                    walk_in_id=m.walk_in_id,
                    household_id=household.pk if household else None,
                    member_id=m.pk,
                )
            )
        if household is None:
            continue
        for resident_id, community_id in household.residents.filter(moved_out=False).values_list(
            "pk", "community_id"
        ):
            people.append(
                telling.Person(
                    community_id=community_id,
                    resident_id=resident_id,
                    household_id=household.pk,
                    member_id=m.pk if resident_id == m.resident_id else None,
                )
            )
    telling.tell(tube.campaign_id, Kind.HOUSEHOLD_POSITIVE, tube, people, at)


def loops_told(tube_ids: Sequence[int] | Any, at: dt.datetime) -> None:
    """A ``notices`` told listener: a pool whose last member was just told may close now."""
    for original in Tube.objects.filter(
        pk__in=list(tube_ids), retest_orders__isnull=False
    ).distinct():
        close_loop_if_done(original, at)


def cancel_retests(tube: Tube, at: dt.datetime) -> int:
    """A corrected result no longer calls for the orders that have not been sampled yet."""
    orders = list(RetestOrder.objects.filter(original_tube=tube, status=OrderStatus.OPEN))
    RetestOrder.objects.filter(pk__in=[o.pk for o in orders]).update(
        status=OrderStatus.CANCELLED, closed_at=at
    )
    home.cancel_orders([o.pk for o in orders], at)
    for order in orders:
        tally.bump(
            tube.campaign_id,
            tally.places_of(
                tube.campaign_id,
                lane_id=None,
                site_id=tube.site_id,
                community_id=order.community_id,
            ),
            retests_open=-1,
        )
    close_loop_if_done(tube, at)
    return len(orders)


def result_retests(tube: Tube, result: str, at: dt.datetime) -> None:
    """A single-tube result closes the orders it answers (an invalid one asks again)."""
    for order in RetestOrder.objects.filter(retest_tube=tube).select_related("original_tube"):
        if result == Result.INVALID:
            RetestOrder.objects.filter(pk=order.pk).update(
                status=OrderStatus.OPEN, retest_tube=None
            )
            home.reopen_orders([order.pk])
            # Unreadable: they are told to be sampled again, like any invalid tube's people.
            telling.tell(
                order.campaign_id,
                Kind.INVALID,
                tube,
                [
                    telling.Person(
                        community_id=order.community_id,
                        resident_id=order.resident_id,
                        walk_in_id=order.walk_in_id,
                        household_id=order.household_id,
                        member_id=None,
                        at_door=order.route == Route.DOOR_TO_DOOR,
                    )
                ],
                at,
                place=tube.site.name,
            )
            continue
        RetestOrder.objects.filter(pk=order.pk).update(
            status=OrderStatus.RESULTED, result=result, closed_at=at
        )
        if result == Result.NEGATIVE and order.status != OrderStatus.RESULTED:
            telling.inform(
                order.campaign_id,
                Kind.RETEST_NEGATIVE,
                [
                    telling.Person(
                        community_id=order.community_id,
                        resident_id=order.resident_id,
                        walk_in_id=order.walk_in_id,
                        household_id=order.household_id,
                    )
                ],
                at,
            )
        if order.status != OrderStatus.RESULTED:
            tally.bump(
                tube.campaign_id,
                tally.places_of(
                    tube.campaign_id,
                    lane_id=None,
                    site_id=order.original_tube.site_id,
                    community_id=order.community_id,
                ),
                retests_open=-1,
            )
        close_loop_if_done(order.original_tube, at)


def close_loop_if_done(original: Tube, at: dt.datetime) -> None:
    """A pool's loop closes when every member has a single-tube result and every member was
    told (``notices``): never "closed" with someone who does not know to stay home."""
    still_open = RetestOrder.objects.filter(
        original_tube=original, status__in=[OrderStatus.OPEN, OrderStatus.SAMPLED]
    ).exists() or bool(told.untold_causes([original.pk]))
    Tube.objects.filter(pk=original.pk).update(retest_closed_at=None if still_open else at)
