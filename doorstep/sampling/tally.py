"""Sampling counters: one row per (campaign, lane | site | community | campaign), moved by F()
in the transaction of the event or result that changes them."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from django.db import IntegrityError, transaction
from django.db.models import F, Q

from doorstep.sampling.models import HourTally, Scope, Tally, Tube


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
    """Move one set of places by the same amounts."""
    bump_many(
        {(campaign_id, scope, place_id): Counter(deltas) for scope, place_id in places.items()}
    )


def bump_many(moves: dict[tuple[int, str, int], Counter[str]]) -> None:
    """Many places at once: one UPDATE per distinct set of deltas (a batch moves its lane, site,
    community and campaign by the same amounts), then the rows that did not exist yet."""
    moves = {key: deltas for key, deltas in moves.items() if any(deltas.values())}
    if not moves:
        return
    # Lock every row first, in one order for all writers. Otherwise two batches at one site take
    # its site and campaign rows in opposite orders and deadlock (seen in the bunched-start run).
    locks = Q()
    for campaign_id, scope, place_id in moves:
        locks |= Q(campaign_id=campaign_id, scope=scope, place_id=place_id)
    list(Tally.objects.filter(locks).order_by("pk").select_for_update().values_list("pk"))
    groups: dict[frozenset[tuple[str, int]], list[tuple[int, str, int]]] = {}
    for key, deltas in moves.items():
        groups.setdefault(frozenset((k, v) for k, v in deltas.items() if v), []).append(key)
    for changed, keys in groups.items():
        where = Q()
        for campaign_id, scope, place_id in keys:
            where |= Q(campaign_id=campaign_id, scope=scope, place_id=place_id)
        updated = Tally.objects.filter(where).update(**{k: F(k) + v for k, v in changed})
        if updated == len(keys):
            continue
        present = set(Tally.objects.filter(where).values_list("campaign_id", "scope", "place_id"))
        for campaign_id, scope, place_id in sorted(set(keys) - present):
            _create(campaign_id, scope, place_id, dict(changed))


def _create(campaign_id: int, scope: str, place_id: int, deltas: dict[str, int]) -> None:
    """The first move of a place; another writer may create it at the same instant."""
    try:
        with transaction.atomic():
            Tally.objects.create(campaign_id=campaign_id, scope=scope, place_id=place_id, **deltas)
    except IntegrityError:
        Tally.objects.filter(campaign_id=campaign_id, scope=scope, place_id=place_id).update(
            **{k: F(k) + v for k, v in deltas.items()}
        )


def get(campaign_id: int, scope: str, place_id: int) -> Tally:
    found = Tally.objects.filter(campaign_id=campaign_id, scope=scope, place_id=place_id).first()
    return found or Tally(campaign_id=campaign_id, scope=scope, place_id=place_id)


def hour_of(at: dt.datetime) -> dt.datetime:
    """The start of the (UTC) hour of ``at``: the key of the hourly counters."""
    return at.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)


def hour_keys(
    campaign_id: int, lane_id: int | None, community_id: int, at: dt.datetime
) -> list[tuple[int, str, int, dt.datetime]]:
    """The hourly counters one sampled person moves: their lane, community and campaign."""
    hour = hour_of(at)
    keys: list[tuple[int, str, int, dt.datetime]] = [
        (campaign_id, Scope.COMMUNITY, community_id, hour),
        (campaign_id, Scope.CAMPAIGN, campaign_id, hour),
    ]
    if lane_id is not None:
        keys.append((campaign_id, Scope.LANE, lane_id, hour))
    return keys


def bump_hours(hours: Counter[tuple[int, str, int, dt.datetime]]) -> None:
    """People sampled per (campaign, scope, place, hour), in key order (one lock order)."""
    for (campaign_id, scope, place_id, hour), n in sorted(hours.items()):
        if not n:
            continue
        rows = HourTally.objects.filter(
            campaign_id=campaign_id, scope=scope, place_id=place_id, hour=hour
        )
        if rows.update(people=F("people") + n):
            continue
        try:
            with transaction.atomic():
                HourTally.objects.create(
                    campaign_id=campaign_id, scope=scope, place_id=place_id, hour=hour, people=n
                )
        except IntegrityError:
            rows.update(people=F("people") + n)
