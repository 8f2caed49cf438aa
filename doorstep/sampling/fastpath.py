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
from typing import Any, NamedTuple

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from doorstep.campaigns.models import Campaign, CampaignBuilding, PoolRule
from doorstep.core import bulk, codes
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
    members: list[tuple[Person, dt.datetime]] = field(default_factory=list)
    touched: bool = False
    people: int = 0
    sealed: int = 0


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


class Person(NamedTuple):
    id: int
    household_id: int
    community_id: int
    town_id: int
    building_id: int


_PERSON = ("id", "household_id", "community_id", "town_id", "household__unit__building_id")


def _people(events: list[dict[str, Any]], town_ids: set[int]) -> dict[str, Person]:
    """Person codes and typed ID numbers of the batch, each to its resident (as plain tuples:
    a batch reads a hundred of them)."""
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
    found_codes: dict[str, Person] = {}
    if by_code:
        # By the unique person code alone; the town is checked here, not left to the planner.
        for code, *row in Resident.objects.filter(
            person_code__in=set(by_code.values())
        ).values_list("person_code", *_PERSON):
            person = Person(*row)
            if person.town_id in town_ids:
                found_codes[code] = person
    found_numbers: dict[str, Person] = {}
    if by_number:
        for number, *row in Resident.objects.filter(
            town_id__in=town_ids, id_number__in=set(by_number.values())
        ).values_list("id_number", *_PERSON):
            found_numbers[number] = Person(*row)
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
    locked = existing_tubes.select_for_update(of=("self",)).select_related("campaign")
    for tube in locked.order_by("pk"):  # one lock order for every writer
        if tube.code in existing:
            raise Fallback  # the same code in two campaigns: let the slow path choose
        existing[tube.code] = tube
    campaign_of: dict[int, Campaign] = {c.pk: c for c in campaigns.values()}
    campaign_of.update({t.campaign_id: t.campaign for t in existing.values()})
    people = _people(adds, {c.town_id for c in campaign_of.values()})
    residents = {r.id for r in people.values()}
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
                building_id__in={r.building_id for r in people.values()},
            ).values_list("campaign_id", "building_id", "pool_rule")
        }
        if undecided and people
        else {}
    )

    plans: dict[str, Plan] = {code: Plan(tube, new=False) for code, tube in existing.items()}
    sampled: set[tuple[int, int]] = set()
    rows: list[tuple[Any, ...]] = []
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
        else:
            plan = plans.get(code)
            if plan is None or plan.tube.status == TubeStatus.SEALED:
                raise Fallback
            tube = plan.tube
            if event["type"] == "tube.seal":
                if tube.member_count == 0:
                    raise Fallback
                tube.status, tube.sealed_at, plan.touched = TubeStatus.SEALED, at, True
                plan.sealed += 1
            else:
                resident = people[_text(event, "person")]
                if (tube.campaign_id, resident.id) in sampled:
                    raise Fallback
                if not tube.pool_rule:
                    key = (tube.campaign_id, resident.building_id)
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
                sampled.add((tube.campaign_id, resident.id))
                plan.members.append((resident, at))
                plan.people += 1
        rows.append((uid, event["type"], event, batch.user.pk, at, batch.now))
    fresh = {p.tube.pk: p for p in plans.values() if not p.new and p.members}
    if fresh:
        clash = TubeMember.objects.filter(
            tube_id__in=fresh,
            resident_id__in=[person.id for p in fresh.values() for person, _at in p.members],
        ).values_list("tube_id", "resident_id")
        if any(r in {person.id for person, _at in fresh[t].members} for t, r in clash):
            raise Fallback

    # Write: nothing above has touched the database.
    Tube.objects.bulk_create([p.tube for p in plans.values() if p.new])
    bulk.insert(
        TubeMember,
        ("tube", "campaign", "resident", "household", "community", "added_at", "override_reason"),
        [
            (
                plan.tube.pk,
                plan.tube.campaign_id,
                person.id,
                person.household_id,
                person.community_id,
                at,
                "",
            )
            for plan in plans.values()
            for person, at in plan.members
        ],
    )
    bulk.insert(
        RoundSample,
        ("campaign", "resident", "community", "sampled_at"),
        [
            (plan.tube.campaign_id, person.id, person.community_id, at)
            for plan in plans.values()
            for person, at in plan.members
        ],
    )
    Tube.objects.bulk_update(
        [p.tube for p in plans.values() if not p.new and p.touched],
        ["pool_rule", "capacity", "household", "member_count", "status", "sealed_at"],
    )
    bulk.insert(DeviceEvent, ("client_uuid", "type", "payload", "user", "at", "received_at"), rows)
    for plan in plans.values():
        deltas = Counter({"people": plan.people})
        deltas["tubes_open"] += plan.new - plan.sealed
        deltas["tubes_sealed"] += plan.sealed
        for scope, place_id in tally.places_of_tube(plan.tube).items():
            batch.moves.setdefault((plan.tube.campaign_id, scope, place_id), Counter()).update(
                deltas
            )
        for person, at in plan.members:
            batch.hours.update(
                tally.hour_keys(plan.tube.campaign_id, plan.tube.lane_id, person.community_id, at)
            )
        if plan.members:
            batch.people.setdefault(plan.tube.campaign_id, []).extend(
                (p.id, p.household_id, p.building_id, p.community_id) for p, _at in plan.members
            )
    return [{"id": str(uid), "status": "accepted"} for uid, _e, _a in parsed]
