"""Writes of the sampling app: sites and lanes (tubes and boxes arrive with issue 5)."""

from __future__ import annotations

from django.db import transaction

from doorstep.core import codes
from doorstep.sampling.models import Lane, Site
from doorstep.territory.models import Community

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
