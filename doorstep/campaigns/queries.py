from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection

from django.db.models import Count, F, QuerySet

from doorstep.campaigns.models import Campaign, CampaignBuilding, CampaignStatus
from doorstep.territory.models import Community


def running_in(community_id: int) -> Campaign | None:
    """The testing round running in a community now (the newest one not closed), or None."""
    return running_in_many({community_id}).get(community_id)


def running_in_many(community_ids: Collection[int]) -> dict[int, Campaign]:
    """``running_in`` for several communities at once, in one query; a community with no round
    running is missing from the answer."""
    if not community_ids:
        return {}
    found = (
        Campaign.objects.filter(buildings__community_id__in=community_ids)
        .exclude(status=CampaignStatus.CLOSED)
        .annotate(in_community=F("buildings__community_id"))
        .order_by("-starts_at", "-id")
        .distinct()
    )
    running: dict[int, Campaign] = {}
    for campaign in found:
        running.setdefault(campaign.in_community, campaign)  # type: ignore[attr-defined]
    return running


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
