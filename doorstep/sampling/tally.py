"""Sampling counters: one row per (campaign, lane | site | community | campaign), moved by F()
in the transaction of the event or result that changes them."""

from __future__ import annotations

from collections import Counter

from django.db import IntegrityError, transaction
from django.db.models import F, Q

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


def bump_many(moves: dict[tuple[int, str, int], Counter[str]]) -> None:
    """Many places at once: one UPDATE per distinct set of deltas (a batch moves its lane, site,
    community and campaign by the same amounts), then the rows that did not exist yet."""
    groups: dict[frozenset[tuple[str, int]], list[tuple[int, str, int]]] = {}
    for key, deltas in moves.items():
        changed = frozenset((k, v) for k, v in deltas.items() if v)
        if changed:
            groups.setdefault(changed, []).append(key)
    for changed, keys in groups.items():
        where = Q()
        for campaign_id, scope, place_id in keys:
            where |= Q(campaign_id=campaign_id, scope=scope, place_id=place_id)
        updated = Tally.objects.filter(where).update(**{k: F(k) + v for k, v in changed})
        if updated == len(keys):
            continue
        present = set(Tally.objects.filter(where).values_list("campaign_id", "scope", "place_id"))
        for campaign_id, scope, place_id in keys:
            if (campaign_id, scope, place_id) not in present:
                bump(campaign_id, {scope: place_id}, **dict(changed))


def get(campaign_id: int, scope: str, place_id: int) -> Tally:
    found = Tally.objects.filter(campaign_id=campaign_id, scope=scope, place_id=place_id).first()
    return found or Tally(campaign_id=campaign_id, scope=scope, place_id=place_id)
