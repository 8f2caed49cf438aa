"""The retest loop: members of a positive or invalid pool get a single-tube order; the order is
taken by the next single tube they are sampled into, and resulted with it; the pool's loop
closes when every member has a single-tube result."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q

from doorstep.campaigns.models import Campaign, CampaignBuilding, Zone
from doorstep.lab.models import Alert, AlertKind, OrderKind, OrderStatus, RetestOrder, Route
from doorstep.sampling import tally
from doorstep.sampling.models import Result, Tube, TubeMember, WalkIn
from doorstep.territory.models import Resident

DOOR_TO_DOOR_ZONES = {Zone.SEALED, Zone.CONTROLLED}


def open_order_for(
    campaign: Campaign, resident: Resident | None, walk_in: WalkIn | None
) -> RetestOrder | None:
    if resident is None and (walk_in is None or walk_in.pk is None):
        return None
    person = Q(resident=resident) if resident is not None else Q(walk_in=walk_in)
    return (
        RetestOrder.objects.filter(person, campaign=campaign, status=OrderStatus.OPEN)
        .select_related("original_tube")
        .first()
    )


def order_retests(tube: Tube, kind: str, at: dt.datetime) -> int:
    """One order per member of the pool, routed by the zone of their building; alerts."""
    members = list(TubeMember.objects.filter(tube=tube).select_related("household__unit__building"))
    zones = dict(
        CampaignBuilding.objects.filter(
            campaign_id=tube.campaign_id,
            building_id__in=[m.household.unit.building_id for m in members if m.household],
        ).values_list("building_id", "zone")
    )
    existing = set(
        RetestOrder.objects.filter(original_tube=tube).values_list("member_id", flat=True)
    )
    orders = []
    for m in members:
        if m.pk in existing:
            continue
        zone = zones.get(m.household.unit.building_id) if m.household else None
        orders.append(
            RetestOrder(
                campaign_id=tube.campaign_id,
                original_tube=tube,
                member=m,
                resident_id=m.resident_id,
                walk_in_id=m.walk_in_id,
                household_id=m.household_id,
                community_id=m.community_id,
                kind=kind,
                route=Route.DOOR_TO_DOOR if zone in DOOR_TO_DOOR_ZONES else Route.SITE,
                stay_put=kind == OrderKind.POSITIVE_POOL,
                created_at=at,
            )
        )
    RetestOrder.objects.bulk_create(orders)
    per_community: dict[int, int] = {}
    for order in orders:
        per_community[order.community_id] = per_community.get(order.community_id, 0) + 1
    alert = AlertKind.POSITIVE_POOL if kind == OrderKind.POSITIVE_POOL else AlertKind.INVALID
    for community_id, n in per_community.items():
        Alert.objects.create(
            campaign_id=tube.campaign_id,
            community_id=community_id,
            kind=alert,
            tube=tube,
            people=n,
            at=at,
        )
        tally.bump(
            tube.campaign_id,
            tally.places_of(
                tube.campaign_id, lane_id=None, site_id=tube.site_id, community_id=community_id
            ),
            retests_open=n,
        )
    return len(orders)


def cancel_retests(tube: Tube, at: dt.datetime) -> int:
    """A corrected result no longer calls for the orders that have not been sampled yet."""
    orders = list(RetestOrder.objects.filter(original_tube=tube, status=OrderStatus.OPEN))
    RetestOrder.objects.filter(pk__in=[o.pk for o in orders]).update(
        status=OrderStatus.CANCELLED, closed_at=at
    )
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


def take_retest(order: RetestOrder, tube: Tube, member: TubeMember) -> None:
    """The person's single tube is their retest: it points back to the original pool."""
    RetestOrder.objects.filter(pk=order.pk).update(status=OrderStatus.SAMPLED, retest_tube=tube)
    Tube.objects.filter(pk=tube.pk).update(retest_of=order.original_tube_id)


def result_retests(tube: Tube, result: str, at: dt.datetime) -> None:
    """A single-tube result closes the orders it answers (an invalid one asks again)."""
    for order in RetestOrder.objects.filter(retest_tube=tube).select_related("original_tube"):
        if result == Result.INVALID:
            RetestOrder.objects.filter(pk=order.pk).update(
                status=OrderStatus.OPEN, retest_tube=None
            )
            continue
        RetestOrder.objects.filter(pk=order.pk).update(
            status=OrderStatus.RESULTED, result=result, closed_at=at
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
    still_open = RetestOrder.objects.filter(
        original_tube=original, status__in=[OrderStatus.OPEN, OrderStatus.SAMPLED]
    ).exists()
    Tube.objects.filter(pk=original.pk).update(retest_closed_at=None if still_open else at)
