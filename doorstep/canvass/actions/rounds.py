"""Late arrivals join the running round: what the roster import (``territory.hooks``) tells
door to door, inside the import's transaction.

A building imported into a community that a running round covers becomes one of the round's
buildings (zoned as most of the community is) with its door-to-door task; households and
residents added, moved in, moved away or marked moved out change the counters of the
buildings they touch, which are counted again from the rows (``counters.recount``), so that
coverage, the totals and the untested list keep agreeing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection

from django.utils import timezone

from doorstep.campaigns import hooks as campaign_hooks
from doorstep.campaigns import queries
from doorstep.campaigns.models import (
    DEFAULT_POOL_RULE,
    Campaign,
    CampaignBuilding,
    Zone,
)
from doorstep.canvass import counters
from doorstep.canvass.models import BuildingTask
from doorstep.territory import hooks
from doorstep.territory.models import Building


def roster_changed(building_ids: Collection[int]) -> None:
    buildings = dict(
        Building.objects.filter(pk__in=list(building_ids)).values_list("pk", "community_id")
    )
    if not buildings:
        return
    running = (
        queries.running()
        .filter(buildings__community_id__in=set(buildings.values()))
        .distinct()
        .order_by("pk")
    )
    for campaign in running:
        join(campaign, buildings)


def join(campaign: Campaign, buildings: dict[int, int]) -> list[int]:
    """Bring these buildings (id → community) into the round where their community is in it;
    returns the buildings that joined."""
    area = list(
        CampaignBuilding.objects.filter(
            campaign=campaign, community_id__in=set(buildings.values())
        ).values_list("building_id", "community_id", "zone", "pool_rule")
    )
    inside = {b for b, _c, _z, _p in area}
    zones: dict[int, Counter[tuple[str, str]]] = {}
    for _b, community, zone, rule in area:
        zones.setdefault(community, Counter())[(zone, rule)] += 1
    new = [(b, c) for b, c in sorted(buildings.items()) if b not in inside and c in zones]
    joined: list[int] = []
    sealed: list[int] = []
    for building, community in new:
        zone, rule = zones[community].most_common(1)[0][0]
        CampaignBuilding.objects.create(
            campaign=campaign,
            building_id=building,
            community_id=community,
            zone=zone,
            pool_rule=rule or DEFAULT_POOL_RULE[Zone(zone)],
        )
        BuildingTask.objects.create(campaign=campaign, building_id=building, community_id=community)
        joined.append(building)
        if zone == Zone.SEALED:
            sealed.append(building)
    counters.recount(campaign.pk, inside & set(buildings) | set(joined))
    # Joined sealed: its people are sampled at their doors, as the zone's other buildings'.
    campaign_hooks.zoned(campaign.pk, sealed, Zone.SEALED, timezone.now())
    return joined


def register() -> None:
    hooks.register(roster_changed)
