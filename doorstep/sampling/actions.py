"""Writes of the sampling app: sites and lanes (tubes and boxes arrive with issue 5)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from doorstep.core import codes
from doorstep.sampling.models import Lane, RoundSample, Site
from doorstep.territory.models import Community, Resident

LANE_CODE_BODY = 5


def new_lane_code() -> str:
    """Six characters with a check character, distinct in length from person and worker codes."""
    return codes.new_unique_code(LANE_CODE_BODY, lambda c: Lane.objects.filter(code=c).exists())


@transaction.atomic
def create_site(community: Community, name: str, lanes: int = 0) -> Site:
    site = Site.objects.create(community=community, name=name)
    for n in range(1, lanes + 1):
        Lane.objects.create(site=site, name=f"{n}号通道", code=new_lane_code())
    return site


@transaction.atomic
def record_sampled(campaign_id: int, residents: list[Resident], at: datetime) -> list[int]:
    """Mark residents as sampled this round; returns the ids that were not already marked.

    The tube actions call this for every roster member added to a tube; the door-to-door
    coverage counters move with it, in the same transaction.
    """
    from doorstep.canvass.counters import add_sampled

    ids = {r.pk for r in residents}
    already = set(
        RoundSample.objects.filter(campaign_id=campaign_id, resident_id__in=ids).values_list(
            "resident_id", flat=True
        )
    )
    new = list({r.pk: r for r in residents if r.pk not in already}.values())
    RoundSample.objects.bulk_create(
        [
            RoundSample(
                campaign_id=campaign_id, resident=r, community_id=r.community_id, sampled_at=at
            )
            for r in new
        ]
    )
    add_sampled(campaign_id, [r.pk for r in new])
    return [r.pk for r in new]
