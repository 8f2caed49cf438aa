"""The fast path for the lane's common batches: tubes opened, filled and sealed, every event
valid. It reads what the batch needs in a few set-based queries, plays the events in order in
memory under the same rules as the per-event engine, and writes the rows in bulk.

It answers only when every event would be accepted. Anything else (a refusal, a replay, a walk-in,
an override, a retest, a race that trips a unique constraint) returns None or raises, and the
caller rolls back and plays the batch through the per-event engine, which has the words for
every refusal. So the two paths cannot disagree about what is accepted.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from doorstep.campaigns.models import Campaign, CampaignBuilding, PoolRule
from doorstep.core import codes
from doorstep.core.idnumbers import InvalidValue, normalise_resident_id
from doorstep.lab.models import OrderStatus, RetestOrder
from doorstep.sampling import tally
from doorstep.sampling.events import Rejected
from doorstep.sampling.models import (
    DeviceEvent,
    Lane,
    RoundSample,
    Tube,
    TubeMember,
    TubeStatus,
)
from doorstep.territory.models import Resident

FAST_TYPES = {"tube.open", "tube.add", "tube.seal"}
POOLS = {"1": 1, "5": 5, "10": 10, "20": 20}


class Fallback(Exception):
    """Not for the fast path: play the batch event by event."""


@dataclass
class Plan:
    tube: Tube
    new: bool
    members: list[TubeMember] = field(default_factory=list)
    touched: bool = False


def _text(event: dict[str, Any], name: str) -> str:
    value = event.get(name)
    if not isinstance(value, str) or not value.strip():
        raise Fallback
    return value.strip()


def _barcode(event: dict[str, Any], name: str) -> str:
    return _text(event, name).upper().replace(" ", "")


def _parse(
    batch: Any, events: Sequence[object]
) -> list[tuple[uuid.UUID, dict[str, Any], dt.datetime]]:
    parsed = []
    for event in events:
        if not isinstance(event, dict) or event.get("type") not in FAST_TYPES:
            raise Fallback
        if "walk_in" in event or event.get("override"):
            raise Fallback
        try:
            uid = uuid.UUID(str(event.get("id")))
        except ValueError:
            raise Fallback from None
        if not isinstance(event.get("id"), str) or uid in batch.seen:
            raise Fallback
        at = parse_datetime(event["at"]) if isinstance(event.get("at"), str) else None
        if at is None:
            raise Fallback
        if timezone.is_naive(at):
            at = timezone.make_aware(at)
        if at > batch.now + dt.timedelta(minutes=10):
            raise Fallback
        parsed.append((uid, event, at))
    if len({uid for uid, _e, _a in parsed}) != len(parsed):
        raise Fallback
    return parsed


def _people(events: list[dict[str, Any]], town_ids: set[int]) -> dict[str, Resident]:
    """Person codes and typed ID numbers of the batch, each to its resident."""
    by_code: dict[str, str] = {}
    by_number: dict[str, str] = {}
    for event in events:
        raw = _text(event, "person")
        code = codes.parse_person_code(raw)
        if code is not None:
            by_code[raw] = code
            continue
        try:
            by_number[raw] = normalise_resident_id(raw)
        except InvalidValue:
            raise Fallback from None
    residents = Resident.objects.filter(town_id__in=town_ids).select_related("household__unit")
    found_codes = {
        r.person_code: r for r in residents.filter(person_code__in=set(by_code.values()))
    }
    found_numbers = {
        r.id_number: r for r in residents.filter(id_number__in=set(by_number.values()))
    }
    people = {}
    for raw, code in by_code.items():
        if code not in found_codes:
            raise Fallback
        people[raw] = found_codes[code]
    for raw, number in by_number.items():
        if number not in found_numbers:
            raise Fallback
        people[raw] = found_numbers[number]
    return people


def try_apply(batch: Any, events: Sequence[object]) -> list[dict[str, Any]]:
    """Apply a batch of plain tube events in bulk, or raise Fallback having written nothing."""
    parsed = _parse(batch, events)
    opens = [e for _u, e, _a in parsed if e["type"] == "tube.open"]
    adds = [e for _u, e, _a in parsed if e["type"] == "tube.add"]
    # Lanes and their campaigns (the Batch caches both; a refusal there means the slow path).
    try:
        lanes: dict[str, Lane] = {e["lane"]: batch.lane(e.get("lane")) for e in opens}
        campaigns = {
            code: batch.campaign_for(lane.site.community_id) for code, lane in lanes.items()
        }
    except Rejected as exc:  # the per-event path has the words for it
        raise Fallback from exc
    codes_in_batch = {_barcode(e, "tube") for _u, e, _a in parsed}
    towns = batch.towns()
    existing_tubes = Tube.objects.filter(code__in=codes_in_batch)
    if towns is not None:
        existing_tubes = existing_tubes.filter(campaign__town_id__in=towns)
    existing = {}
    for tube in existing_tubes.select_for_update(of=("self",)).select_related("campaign"):
        if tube.code in existing:
            raise Fallback  # the same code in two campaigns: let the slow path choose
        existing[tube.code] = tube
    campaign_of: dict[int, Campaign] = {c.pk: c for c in campaigns.values()}
    campaign_of.update({t.campaign_id: t.campaign for t in existing.values()})
    people = _people(adds, {c.town_id for c in campaign_of.values()})
    residents = {r.pk for r in people.values()}
    if residents:
        if RoundSample.objects.filter(
            campaign_id__in=campaign_of, resident_id__in=residents
        ).exists():
            raise Fallback  # someone sampled already: the slow path refuses with the reason
        if RetestOrder.objects.filter(
            campaign_id__in=campaign_of, resident_id__in=residents, status=OrderStatus.OPEN
        ).exists():
            raise Fallback
    # Zone rules are needed only for tubes that no event or earlier scan has given a pool.
    undecided = any(not t.pool_rule for t in existing.values()) or any(
        e.get("pool") is None for e in opens
    )
    zones = (
        {
            (c, b): rule
            for c, b, rule in CampaignBuilding.objects.filter(
                campaign_id__in=campaign_of,
                building_id__in={r.household.unit.building_id for r in people.values()},
            ).values_list("campaign_id", "building_id", "pool_rule")
        }
        if undecided and people
        else {}
    )

    plans: dict[str, Plan] = {code: Plan(tube, new=False) for code, tube in existing.items()}
    sampled: set[tuple[int, int]] = set()
    rows: list[DeviceEvent] = []
    moves: list[tuple[int, dict[str, int], dict[str, int]]] = []
    for uid, event, at in parsed:
        code = _barcode(event, "tube")
        if event["type"] == "tube.open":
            lane = lanes[event["lane"]]
            campaign = campaigns[event["lane"]]
            if code in plans or not re.match(campaign.barcode_pattern, code):
                raise Fallback
            pool = event.get("pool")
            rule = "" if pool is None else str(pool)
            if pool is not None and (
                isinstance(pool, bool) or rule not in {*POOLS, PoolRule.HOUSEHOLD}
            ):
                raise Fallback
            tube = Tube(
                campaign=campaign,
                code=code,
                lane=lane,
                site=lane.site,
                community_id=lane.site.community_id,
                pool_rule=rule,
                capacity=POOLS.get(rule),
                opened_at=at,
                opened_by=batch.user,
            )
            plans[code] = Plan(tube, new=True)
            moves.append((campaign.pk, tally.places_of_tube(tube), {"tubes_open": 1}))
        else:
            plan = plans.get(code)
            if plan is None or plan.tube.status == TubeStatus.SEALED:
                raise Fallback
            tube = plan.tube
            if event["type"] == "tube.seal":
                if tube.member_count == 0:
                    raise Fallback
                tube.status, tube.sealed_at, plan.touched = TubeStatus.SEALED, at, True
                moves.append(
                    (
                        tube.campaign_id,
                        tally.places_of_tube(tube),
                        {"tubes_open": -1, "tubes_sealed": 1},
                    )
                )
            else:
                resident = people[_text(event, "person")]
                if (tube.campaign_id, resident.pk) in sampled:
                    raise Fallback
                if not tube.pool_rule:
                    key = (tube.campaign_id, resident.household.unit.building_id)
                    if key not in zones:
                        raise Fallback
                    tube.pool_rule, tube.capacity = zones[key], POOLS.get(zones[key])
                if tube.pool_rule == PoolRule.HOUSEHOLD:
                    if tube.household_id not in (None, resident.household_id):
                        raise Fallback
                    tube.household_id = resident.household_id
                if tube.capacity is not None and tube.member_count >= tube.capacity:
                    raise Fallback
                tube.member_count += 1
                plan.touched = True
                sampled.add((tube.campaign_id, resident.pk))
                plan.members.append(
                    TubeMember(
                        campaign_id=tube.campaign_id,
                        resident=resident,
                        household_id=resident.household_id,
                        community_id=resident.community_id,
                        added_at=at,
                    )
                )
                moves.append((tube.campaign_id, tally.places_of_tube(tube), {"people": 1}))
        rows.append(
            DeviceEvent(
                client_uuid=uid,
                type=event["type"],
                payload=event,
                user=batch.user,
                at=at,
                received_at=batch.now,
            )
        )
    if any(
        not p.new
        and p.members
        and TubeMember.objects.filter(
            tube=p.tube, resident_id__in=[m.resident_id for m in p.members]
        ).exists()
        for p in plans.values()
    ):
        raise Fallback

    # Write: nothing above has touched the database.
    Tube.objects.bulk_create([p.tube for p in plans.values() if p.new])
    members = []
    for plan in plans.values():
        for member in plan.members:
            member.tube = plan.tube
            members.append(member)
    TubeMember.objects.bulk_create(members)
    at_of = {m.resident_id: m.added_at for m in members}
    by_id = {r.pk: r for r in people.values()}
    RoundSample.objects.bulk_create(
        [
            RoundSample(
                campaign_id=c,
                resident_id=r,
                community_id=by_id[r].community_id,
                sampled_at=at_of[r],
            )
            for c, r in sampled
        ]
    )
    Tube.objects.bulk_update(
        [p.tube for p in plans.values() if not p.new and p.touched],
        ["pool_rule", "capacity", "household", "member_count", "status", "sealed_at"],
    )
    DeviceEvent.objects.bulk_create(rows)
    for campaign_id, places, deltas in moves:
        for scope, place_id in places.items():
            batch.moves.setdefault((campaign_id, scope, place_id), Counter()).update(deltas)
    for campaign_id, resident_id in sampled:
        batch.sampled.setdefault(campaign_id, []).append(resident_id)
    return [{"id": str(uid), "status": "accepted"} for uid, _e, _a in parsed]
