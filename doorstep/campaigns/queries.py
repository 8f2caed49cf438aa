from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection

from django.db.models import Count, F, QuerySet

from doorstep.campaigns.models import (
    Campaign,
    CampaignBuilding,
    CampaignStatus,
    ZoneChange,
    ZoneWhy,
)
from doorstep.territory.models import Community


def running() -> QuerySet[Campaign]:
    """Rounds running now: started and not closed. A planned round is current nowhere, so
    planning tomorrow's round takes nothing away from today's."""
    return Campaign.objects.filter(status=CampaignStatus.ACTIVE)


def rounds_together(campaign_id: int) -> list[int]:
    """The round and, in a district round, its other towns' rounds: where a member of one of
    its tubes may live (a resident sampled at a lane of another town of the round)."""
    found = Campaign.objects.filter(pk=campaign_id).values_list("district_round_id", flat=True)
    together = next(iter(found), None)
    if together is None:
        return [campaign_id]
    others = Campaign.objects.filter(district_round_id=together).exclude(pk=campaign_id)
    return [campaign_id, *others.order_by("pk").values_list("pk", flat=True)]


def running_in(community_id: int) -> Campaign | None:
    """The testing round running in a community now (started, not closed), or None."""
    return running_in_many({community_id}).get(community_id)


def running_in_many(community_ids: Collection[int]) -> dict[int, Campaign]:
    """``running_in`` for several communities at once, in one query; a community with no round
    running is missing from the answer."""
    if not community_ids:
        return {}
    found = (
        running()
        .filter(buildings__community_id__in=community_ids)
        .annotate(in_community=F("buildings__community_id"))
        .order_by("-starts_at", "-id")
        .distinct()
    )
    current: dict[int, Campaign] = {}
    for campaign in found:
        current.setdefault(campaign.in_community, campaign)  # type: ignore[attr-defined]
    return current


def running_for(communities: QuerySet[Community]) -> list[Campaign]:
    """The rounds running in any of these communities, newest first: what a user who spans
    several communities switches between."""
    return list(
        running()
        .filter(buildings__community__in=communities)
        .distinct()
        .select_related("town")
        .order_by("-starts_at", "-id")
    )


def previous_round(campaign: Campaign, community_id: int) -> Campaign | None:
    """The round before this one in a community: the newest started earlier, running or
    closed, of the same kind (real, or drill)."""
    return (
        Campaign.objects.filter(buildings__community_id=community_id, started_at__isnull=False)
        # A real round follows real rounds only; a drill follows drills.
        .filter(starts_at__lt=campaign.starts_at, is_drill=campaign.is_drill)
        .exclude(pk=campaign.pk)
        .order_by("-starts_at", "-id")
        .first()
    )


def zone_history(
    building_ids: Collection[int], *, drills: bool = False
) -> dict[int, list[ZoneChange]]:
    """Every zone change of these buildings, newest first, across real rounds (and drills'
    too when ``drills``: a drill's pages show its own changes beside the real ones)."""
    history: dict[int, list[ZoneChange]] = defaultdict(list)
    changes = ZoneChange.objects.filter(building_id__in=list(building_ids))
    if not drills:
        changes = changes.filter(campaign__is_drill=False)
    for change in changes.select_related("campaign", "by").order_by("-at", "-id"):
        history[change.building_id].append(change)
    return dict(history)


def unconfirmed_seals(campaign_id: int) -> QuerySet[ZoneChange]:
    """Buildings sealed by a positive whose extent the commander has not confirmed."""
    return ZoneChange.objects.filter(
        campaign_id=campaign_id, why=ZoneWhy.RESULT, confirmed_at__isnull=True
    ).select_related("building", "community")


def zone_summary(campaign: Campaign, communities: QuerySet[Community]) -> list[dict]:
    """Per community of the campaign in the user's scope: buildings per zone and pool rule."""
    rows = (
        CampaignBuilding.objects.filter(campaign=campaign, community__in=communities)
        .values("community_id", "community__name", "zone", "pool_rule")
        .annotate(n=Count("id"))
        .order_by("community__name")
    )
    summary: dict[int, dict] = {}
    for row in rows:
        item = summary.setdefault(
            row["community_id"],
            {
                "id": row["community_id"],
                "name": row["community__name"],
                "zones": defaultdict(int),
                "total": 0,
            },
        )
        item["zones"][row["zone"]] += row["n"]
        item["total"] += row["n"]
        item["pool_rule"] = row["pool_rule"]
    for item in summary.values():
        item["zones"] = dict(item["zones"])
        # The zone the form starts on: the community's own, so "Apply" changes nothing by mistake.
        item["current"] = next(iter(item["zones"])) if len(item["zones"]) == 1 else ""
    return list(summary.values())
