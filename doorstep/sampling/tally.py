"""Sampling counters: one row per (campaign, lane | site | community | campaign), moved by F()
in the transaction of the event or result that changes them."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F

from doorstep.sampling.models import Scope, Tally, Tube


def places_of(
    campaign_id: int, *, lane_id: int | None, site_id: int, community_id: int
) -> dict[str, int]:
    places: dict[str, int] = {
        Scope.SITE: site_id,
        Scope.COMMUNITY: community_id,
        Scope.CAMPAIGN: campaign_id,
    }
    if lane_id is not None:
        places[Scope.LANE] = lane_id
    return places


def places_of_tube(tube: Tube) -> dict[str, int]:
    """A tube's lane, site, community and campaign."""
    return places_of(
        tube.campaign_id, lane_id=tube.lane_id, site_id=tube.site_id, community_id=tube.community_id
    )


def bump(campaign_id: int, places: dict[str, int], **deltas: int) -> None:
    deltas = {k: v for k, v in deltas.items() if v}
    if not deltas:
        return
    for scope, place_id in places.items():
        rows = Tally.objects.filter(campaign_id=campaign_id, scope=scope, place_id=place_id)
        if rows.update(**{k: F(k) + v for k, v in deltas.items()}):
            continue
        try:
            with transaction.atomic():
                Tally.objects.create(
                    campaign_id=campaign_id, scope=scope, place_id=place_id, **deltas
                )
        except IntegrityError:
            rows.update(**{k: F(k) + v for k, v in deltas.items()})


def get(campaign_id: int, scope: str, place_id: int) -> Tally:
    found = Tally.objects.filter(campaign_id=campaign_id, scope=scope, place_id=place_id).first()
    return found or Tally(campaign_id=campaign_id, scope=scope, place_id=place_id)
