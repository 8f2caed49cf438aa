"""Device events: the lane's scans and the boxes' custody, as in the scan-events contract.

Each event is answered in order: ``accepted``, ``duplicate`` (its UUID was accepted before with
the same payload) or ``rejected`` with a code and a message a volunteer understands. A rejected
event does not stop the others. Each event is applied in its own savepoint inside the request's
transaction, so an answer of ``accepted`` means committed once the response is sent.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from doorstep.campaigns.models import Campaign, CampaignBuilding, PoolRule
from doorstep.campaigns.queries import running_in
from doorstep.core import codes
from doorstep.core.idnumbers import InvalidValue, normalise_phone, normalise_resident_id
from doorstep.core.models import User
from doorstep.core.roles import Can
from doorstep.core.scoping import scoped, town_ids
from doorstep.sampling import tally
from doorstep.sampling.models import (
    Box,
    BoxStatus,
    CustodyCheck,
    DeviceEvent,
    Lane,
    RoundSample,
    Stage,
    Tube,
    TubeMember,
    TubeStatus,
    WalkIn,
)
from doorstep.territory.models import Resident

MAX_EVENTS = 1000
FUTURE = dt.timedelta(minutes=10)
BOX_PATTERN = re.compile(r"^[0-9A-Z-]{4,32}$")
POOLS = {"1": 1, "5": 5, "10": 10, "20": 20}


class Rejected(Exception):
    def __init__(self, code: str, message: str, after: Callable[[], None] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        # Written even though the event is refused (a count that disagreed is on record).
        self.after = after


def invalid(message: str) -> Rejected:
    return Rejected("invalid", message)


@dataclass
class Batch:
    """What one request's events share: the user, the clock and look-ups already made."""

    user: User
    now: dt.datetime
    lanes: dict[str, Lane] = field(default_factory=dict)
    campaigns: dict[int, Campaign | None] = field(default_factory=dict)
    seen: dict[uuid.UUID, DeviceEvent] = field(default_factory=dict)
    _towns: set[int] | bool | None = False
    # Counter moves of the event being applied, and of the batch once each event is accepted:
    # the counters are written once per batch, in its transaction.
    pending: list[tuple[int, dict[str, int], dict[str, int]]] = field(default_factory=list)
    pending_hours: list[tuple[int, str, int, dt.datetime]] = field(default_factory=list)
    hours: Counter[tuple[int, str, int, dt.datetime]] = field(default_factory=Counter)
    sampled_now: list[tuple[int, int]] = field(default_factory=list)
    moves: dict[tuple[int, str, int], Counter[str]] = field(default_factory=dict)
    sampled: dict[int, list[int]] = field(default_factory=dict)
    # The bulk path's sampled residents with what the counters need: (id, household, building,
    # community) per campaign.
    people: dict[int, list[tuple[int, int, int, int]]] = field(default_factory=dict)

    def count(self, campaign_id: int, places: dict[str, int], **deltas: int) -> None:
        self.pending.append((campaign_id, places, deltas))

    def accept(self) -> None:
        for campaign_id, places, deltas in self.pending:
            for scope, place_id in places.items():
                self.moves.setdefault((campaign_id, scope, place_id), Counter()).update(deltas)
        for campaign_id, resident_id in self.sampled_now:
            self.sampled.setdefault(campaign_id, []).append(resident_id)
        self.hours.update(self.pending_hours)
        self.discard()

    def discard(self) -> None:
        self.pending.clear()
        self.pending_hours.clear()
        self.sampled_now.clear()

    def flush(self) -> None:
        from doorstep.canvass.counters import add_sampled, add_sampled_people

        tally.bump_many(self.moves)
        tally.bump_hours(self.hours)
        for campaign_id, ids in self.sampled.items():
            add_sampled(campaign_id, ids)
        for campaign_id, people in self.people.items():
            add_sampled_people(campaign_id, people)

    def lane(self, raw: object) -> Lane:
        code = codes.normalise(_text(raw, "lane"))
        if code not in self.lanes:
            lane = Lane.objects.select_related("site__community").filter(code=code).first()
            if lane is None:
                raise Rejected("unknown_lane", _("No lane has the code %(code)s.") % {"code": code})
            mine = scoped(self.user, Lane.objects.filter(pk=lane.pk), "site__community")
            if not self.user.can(Can.SCAN) or not mine.exists():
                raise Rejected(
                    "forbidden",
                    _("You may not work at %(lane)s. Ask the commander to put you on that lane.")
                    % {"lane": lane},
                )
            self.lanes[code] = lane
        return self.lanes[code]

    def campaign_for(self, community_id: int) -> Campaign:
        if community_id not in self.campaigns:
            self.campaigns[community_id] = running_in(community_id)
        campaign = self.campaigns[community_id]
        if campaign is None:
            raise Rejected(
                "no_campaign",
                _(
                    "No testing round is running for this lane's community; the commander starts one."
                ),
            )
        return campaign

    def towns(self) -> set[int] | None:
        if self._towns is False:
            self._towns = town_ids(self.user)
        return self._towns  # type: ignore[return-value]

    def tube(self, raw: object, *, lock: bool = True) -> Tube:
        code = _barcode(raw, "tube")
        tubes = Tube.objects.filter(code=code)
        towns = self.towns()
        if towns is not None:
            tubes = tubes.filter(campaign__town_id__in=towns)
        if lock:
            tubes = tubes.select_for_update(of=("self",))
        tube = tubes.select_related("campaign", "lane__site").order_by("-opened_at").first()
        if tube is None:
            raise Rejected(
                "unknown_tube",
                _("Tube %(code)s was never opened. Scan the tube first, then the people.")
                % {"code": code},
            )
        return tube

    def box(self, raw: object) -> Box:
        code = _barcode(raw, "box")
        boxes = Box.objects.filter(code=code)
        towns = self.towns()
        if towns is not None:
            boxes = boxes.filter(campaign__town_id__in=towns)
        box = boxes.select_for_update(of=("self",)).order_by("-opened_at").first()
        if box is None:
            raise Rejected("unknown_box", _("Box %(code)s was never opened.") % {"code": code})
        return box


def _text(raw: object, name: str) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise invalid(_("“%(field)s” is missing or not text.") % {"field": name})
    return raw.strip()


def _barcode(raw: object, name: str) -> str:
    return _text(raw, name).upper().replace(" ", "")


def _count(raw: object) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
        raise invalid(_("“count” must be the number of tubes counted by hand, e.g. 20."))
    return raw


# Tubes -------------------------------------------------------------------------------------


def tube_open(batch: Batch, event: dict[str, Any], at: dt.datetime) -> None:
    lane = batch.lane(event.get("lane"))
    campaign = batch.campaign_for(lane.site.community_id)
    code = _barcode(event.get("tube"), "tube")
    if not re.match(campaign.barcode_pattern, code):
        raise invalid(
            _(
                "%(code)s is not a tube barcode of this round (expected %(pattern)s). Scan the tube's own label."
            )
            % {"code": code, "pattern": campaign.barcode_pattern}
        )
    pool = event.get("pool")
    rule = ""
    if pool is not None:
        rule = str(pool)
        if rule not in {*POOLS, PoolRule.HOUSEHOLD} or isinstance(pool, bool):
            raise invalid(_('“pool” must be 1, 5, 10, 20 or "household".'))
    existing = (
        Tube.objects.filter(campaign=campaign, code=code).select_related("lane__site").first()
    )
    if existing is not None:
        raise Rejected(
            "tube_exists",
            _("Tube %(code)s was already opened at %(lane)s. Use a new tube.")
            % {"code": code, "lane": existing.lane},
        )
    tube = Tube.objects.create(
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
    batch.count(campaign.pk, tally.places_of_tube(tube), tubes_open=1)


def _person(batch: Batch, campaign: Campaign, event: dict[str, Any]) -> Resident | WalkIn:
    if event.get("walk_in") is not None:
        return _walk_in(batch, campaign, event["walk_in"])
    text = _text(event.get("person"), "person")
    code = codes.parse_person_code(text)
    if code is not None:
        resident = (
            Resident.objects.select_related("household")
            .filter(person_code=code, town_id=campaign.town_id)
            .first()
        )
        if resident is None:
            raise Rejected(
                "unknown_person",
                _("Nobody on this town's roster has the code %(code)s.")
                % {"code": codes.display(code)},
            )
        return resident
    try:
        number = normalise_resident_id(text)
    except InvalidValue:
        raise Rejected(
            "unknown_person",
            _(
                "That is neither a person code nor an ID number. Scan the code again or type the ID number."
            ),
        ) from None
    resident = Resident.objects.filter(id_number=number, town_id=campaign.town_id).first()
    if resident is None:
        raise Rejected(
            "unknown_person",
            _(
                "This ID number is not on the roster. Register the person as a walk-in with name, ID number and phone."
            ),
        )
    return resident


def _walk_in(batch: Batch, campaign: Campaign, data: object) -> Resident | WalkIn:
    if not isinstance(data, dict):
        raise invalid(_("“walk_in” must be an object with name, id_number and phone."))
    name = _text(data.get("name"), "walk_in.name")
    try:
        number = normalise_resident_id(_text(data.get("id_number"), "walk_in.id_number"))
        phone = normalise_phone(str(data.get("phone") or "")) if data.get("phone") else ""
    except InvalidValue as exc:
        raise invalid(str(exc)) from None
    on_roster = Resident.objects.filter(id_number=number, town_id=campaign.town_id).first()
    if on_roster is not None:
        return on_roster
    walk_in = WalkIn.objects.filter(campaign=campaign, id_number=number).first()
    return walk_in or WalkIn(campaign=campaign, name=name[:100], id_number=number, phone=phone)


def _zone_rule(campaign: Campaign, person: Resident | WalkIn, tube: Tube) -> str:
    rules = CampaignBuilding.objects.filter(campaign=campaign)
    if isinstance(person, Resident):
        rule = (
            rules.filter(building_id=person.household.unit.building_id)
            .values_list("pool_rule", flat=True)
            .first()
        )
        if rule:
            return rule
    # A walk-in opens the tube: the rule most of the site's community follows.
    found = list(
        rules.filter(community_id=tube.community_id).values_list("pool_rule", flat=True)[:200]
    )
    return max(set(found), key=found.count) if found else PoolRule.TWENTY


def tube_add(batch: Batch, event: dict[str, Any], at: dt.datetime) -> None:
    from doorstep.lab.retests import open_order_for, take_retest

    tube = batch.tube(event.get("tube"))
    if tube.status == TubeStatus.SEALED:
        raise Rejected(
            "tube_sealed",
            _("Tube %(code)s is sealed; nobody can be added. Open a new tube.")
            % {"code": tube.code},
        )
    campaign = tube.campaign
    person = _person(batch, campaign, event)
    override = str(event.get("override") or "").strip()[:200]
    resident = person if isinstance(person, Resident) else None
    walk_in = person if isinstance(person, WalkIn) else None
    if (resident is not None and tube.members.filter(resident=resident).exists()) or (
        walk_in is not None and walk_in.pk and tube.members.filter(walk_in=walk_in).exists()
    ):
        raise Rejected("already_in_tube", _("This person is already in this tube."))
    order = open_order_for(campaign, resident, walk_in)
    if order is not None and tube.capacity != 1:
        raise Rejected(
            "single_tube_required",
            _(
                "This person must be re-sampled alone (their pool %(code)s needs a retest). Open a single tube (pool 1)."
            )
            % {"code": order.original_tube.code},
        )
    sampled = (
        RoundSample.objects.filter(campaign=campaign, resident=resident).exists()
        if resident
        else bool(
            walk_in
            and walk_in.pk
            and TubeMember.objects.filter(campaign=campaign, walk_in=walk_in).exists()
        )
    )
    if sampled and order is None and not override:
        raise Rejected(
            "already_sampled",
            _(
                "This person was already sampled in this round. Only sample again with a reason (override)."
            ),
        )
    if not tube.pool_rule:
        tube.pool_rule = _zone_rule(campaign, person, tube)
        tube.capacity = POOLS.get(tube.pool_rule)
    household = resident.household if resident else None
    if tube.pool_rule == PoolRule.HOUSEHOLD:
        if household is None:
            raise Rejected(
                "wrong_household",
                _("This is a household tube; a walk-in needs a tube of their own."),
            )
        if tube.household_id is not None and tube.household_id != household.pk:
            raise Rejected(
                "wrong_household",
                _("This tube is for one household (%(room)s). Open a new tube for this household.")
                % {"room": tube.household.room if tube.household else ""},
            )
        tube.household = household
    if tube.capacity is not None and tube.member_count >= tube.capacity:
        raise Rejected(
            "tube_full",
            _(
                "Tube %(code)s already holds %(n)s people. Seal it and open a new tube for this person."
            )
            % {"code": tube.code, "n": tube.member_count},
        )
    if walk_in is not None and walk_in.pk is None:
        walk_in.community_id = tube.community_id
        walk_in.created_at = at
        walk_in.save()
    member = TubeMember.objects.create(
        tube=tube,
        campaign=campaign,
        resident=resident,
        walk_in=walk_in,
        household=household,
        community_id=resident.community_id if resident else tube.community_id,
        added_at=at,
        override_reason=override,
    )
    tube.member_count += 1
    tube.save(update_fields=["pool_rule", "capacity", "household", "member_count"])
    if resident is not None and not sampled:
        RoundSample.objects.create(
            campaign=campaign,
            resident=resident,
            community_id=resident.community_id,
            sampled_at=at,
        )
        batch.sampled_now.append((campaign.pk, resident.pk))
    batch.count(campaign.pk, tally.places_of_tube(tube), people=1)
    batch.pending_hours += tally.hour_keys(campaign.pk, tube.lane_id, member.community_id, at)
    if order is not None:
        take_retest(order, tube, member)


def tube_seal(batch: Batch, event: dict[str, Any], at: dt.datetime) -> None:
    tube = batch.tube(event.get("tube"))
    if tube.status == TubeStatus.SEALED:
        raise Rejected("tube_sealed", _("Tube %(code)s is already sealed.") % {"code": tube.code})
    if tube.member_count == 0:
        raise invalid(
            _("Tube %(code)s is empty: add people before sealing it.") % {"code": tube.code}
        )
    Tube.objects.filter(pk=tube.pk).update(status=TubeStatus.SEALED, sealed_at=at)
    batch.count(tube.campaign_id, tally.places_of_tube(tube), tubes_open=-1, tubes_sealed=1)


# Boxes -------------------------------------------------------------------------------------


def box_open(batch: Batch, event: dict[str, Any], at: dt.datetime) -> None:
    lane = batch.lane(event.get("lane"))
    campaign = batch.campaign_for(lane.site.community_id)
    code = _barcode(event.get("box"), "box")
    if not BOX_PATTERN.match(code):
        raise invalid(
            _("%(code)s is not a box barcode. Scan the label on the box.") % {"code": code}
        )
    if Box.objects.filter(campaign=campaign, code=code).exists():
        raise Rejected("box_exists", _("Box %(code)s is already open or used.") % {"code": code})
    Box.objects.create(campaign=campaign, code=code, site=lane.site, opened_at=at)


def box_add(batch: Batch, event: dict[str, Any], at: dt.datetime) -> None:
    box = batch.box(event.get("box"))
    if box.status != BoxStatus.OPEN:
        raise Rejected(
            "box_sealed", _("Box %(code)s is sealed; open a new box.") % {"code": box.code}
        )
    tube = batch.tube(event.get("tube"))
    if tube.status != TubeStatus.SEALED:
        raise Rejected("tube_open", _("Seal tube %(code)s before boxing it.") % {"code": tube.code})
    if tube.box_id is not None:
        raise Rejected(
            "already_in_box", _("Tube %(code)s is already in a box.") % {"code": tube.code}
        )
    Tube.objects.filter(pk=tube.pk).update(box=box)
    Box.objects.filter(pk=box.pk).update(tube_count=F("tube_count") + 1)


def _check_count(batch: Batch, box: Box, stage: str, counted: int, at: dt.datetime) -> None:
    """Count at a hand-off against what was scanned. A disagreement is recorded, flagged and
    refused: the box does not move on until the counts agree."""
    if counted == box.tube_count:
        CustodyCheck.objects.create(
            box=box, stage=stage, counted=counted, in_system=box.tube_count, by=batch.user, at=at
        )
        return

    def record() -> None:
        from doorstep.lab.models import Alert, AlertKind

        CustodyCheck.objects.create(
            box=box, stage=stage, counted=counted, in_system=box.tube_count, by=batch.user, at=at
        )
        Box.objects.filter(pk=box.pk).update(flagged=True)
        Alert.objects.create(
            campaign_id=box.campaign_id,
            community_id=box.site.community_id,
            kind=AlertKind.COUNT_MISMATCH,
            box=box,
            people=counted,
            at=at,
        )

    raise Rejected(
        "count_mismatch",
        _(
            "%(counted)s tubes counted but %(scanned)s were scanned into box %(code)s. Recount, and scan any tube not yet scanned; nothing was changed."
        )
        % {"counted": counted, "scanned": box.tube_count, "code": box.code},
        after=record,
    )


def box_seal(batch: Batch, event: dict[str, Any], at: dt.datetime) -> None:
    box = batch.box(event.get("box"))
    if box.status != BoxStatus.OPEN:
        raise Rejected("box_sealed", _("Box %(code)s is already sealed.") % {"code": box.code})
    counted = _count(event.get("count"))
    if box.tube_count == 0:
        raise invalid(_("Box %(code)s is empty: scan tubes into it first.") % {"code": box.code})
    _check_count(batch, box, Stage.SEAL, counted, at)
    Box.objects.filter(pk=box.pk).update(status=BoxStatus.SEALED, sealed_at=at, flagged=False)


def box_handoff(batch: Batch, event: dict[str, Any], at: dt.datetime) -> None:
    box = batch.box(event.get("box"))
    if box.status != BoxStatus.SEALED:
        raise Rejected(
            "box_not_sealed" if box.status == BoxStatus.OPEN else "box_moved",
            _("Box %(code)s is %(status)s; only a sealed box is handed to a courier.")
            % {"code": box.code, "status": box.get_status_display()},
        )
    courier = _text(event.get("courier"), "courier")[:100]
    counted = _count(event.get("count"))
    _check_count(batch, box, Stage.HANDOFF, counted, at)
    Box.objects.filter(pk=box.pk).update(
        status=BoxStatus.IN_TRANSIT, handed_at=at, courier=courier, flagged=False
    )
    batch.count(
        box.campaign_id,
        tally.places_of(
            box.campaign_id, lane_id=None, site_id=box.site_id, community_id=box.site.community_id
        ),
        boxes_in_transit=1,
    )


def box_receive(batch: Batch, event: dict[str, Any], at: dt.datetime) -> None:
    if not batch.user.can(Can.RECEIVE_SPECIMENS):
        raise Rejected("forbidden", _("Only the lab receives boxes."))
    box = batch.box(event.get("box"))
    if box.status == BoxStatus.RECEIVED:
        assert box.received_at is not None
        raise Rejected(
            "box_received",
            _("Box %(code)s was already received at %(at)s.")
            % {"code": box.code, "at": timezone.localtime(box.received_at).strftime("%H:%M")},
        )
    if box.status == BoxStatus.OPEN:
        raise Rejected(
            "box_not_sealed", _("Box %(code)s was never sealed at the site.") % {"code": box.code}
        )
    counted = _count(event.get("count"))
    _check_count(batch, box, Stage.RECEIVE, counted, at)
    Box.objects.filter(pk=box.pk).update(
        status=BoxStatus.RECEIVED, received_at=at, received_by=batch.user, flagged=False
    )
    pending = Tube.objects.filter(box=box, received_at__isnull=True, result="")
    per_lane = list(pending.values_list("lane_id", "site_id", "community_id"))
    pending.update(received_at=at)
    places = tally.places_of(
        box.campaign_id, lane_id=None, site_id=box.site_id, community_id=box.site.community_id
    )
    if box.status == BoxStatus.IN_TRANSIT:
        batch.count(box.campaign_id, places, boxes_in_transit=-1)
    for lane_id, site_id, community_id in per_lane:
        batch.count(
            box.campaign_id,
            tally.places_of(
                box.campaign_id, lane_id=lane_id, site_id=site_id, community_id=community_id
            ),
            results_pending=1,
        )


HANDLERS: dict[str, Callable[[Batch, dict[str, Any], dt.datetime], None]] = {
    "tube.open": tube_open,
    "tube.add": tube_add,
    "tube.seal": tube_seal,
    "box.open": box_open,
    "box.add": box_add,
    "box.seal": box_seal,
    "box.handoff": box_handoff,
    "box.receive": box_receive,
}


# The batch ---------------------------------------------------------------------------------


def _canonical(event: dict[str, Any]) -> str:
    return json.dumps(event, sort_keys=True, ensure_ascii=False, default=str)


def _answer(event_id: str, status: str, code: str = "", message: str = "") -> dict[str, Any]:
    answer: dict[str, Any] = {"id": event_id, "status": status}
    if code:
        answer["error"] = {"code": code, "message": message}
    return answer


def _replayed(
    batch: Batch, uid: uuid.UUID, event: dict[str, Any], fresh: bool = False
) -> dict[str, Any] | None:
    seen = DeviceEvent.objects.filter(client_uuid=uid).first() if fresh else batch.seen.get(uid)
    if seen is None:
        return None
    if _canonical(seen.payload) == _canonical(event):
        return _answer(str(uid), "duplicate")
    return _answer(
        str(uid),
        "rejected",
        "conflict",
        _("Event %(id)s was already accepted with different content; it was not applied again.")
        % {"id": uid},
    )


def _one(batch: Batch, event: object) -> dict[str, Any]:
    if not isinstance(event, dict):
        return _answer("", "rejected", "invalid", _("Each event must be an object."))
    raw_id = event.get("id")
    try:
        uid = uuid.UUID(str(raw_id)) if isinstance(raw_id, str) else None
    except ValueError:
        uid = None
    if uid is None:
        return _answer(
            str(raw_id or ""), "rejected", "invalid", _("“id” must be a UUID made by the device.")
        )
    kind = event.get("type")
    if kind not in HANDLERS:
        return _answer(
            str(uid),
            "rejected",
            "invalid",
            _("Unknown event type «%(type)s»; expected one of %(types)s.")
            % {"type": str(kind)[:40], "types": ", ".join(HANDLERS)},
        )
    at = parse_datetime(event["at"]) if isinstance(event.get("at"), str) else None
    if at is None:
        return _answer(
            str(uid),
            "rejected",
            "invalid",
            _("“at” must be a date and time with its offset, e.g. 2021-12-25T09:12:03+08:00."),
        )
    if timezone.is_naive(at):
        at = timezone.make_aware(at)
    if at > batch.now + FUTURE:
        return _answer(
            str(uid),
            "rejected",
            "invalid",
            _("“at” is more than 10 minutes in the future; check the device's clock."),
        )
    replay = _replayed(batch, uid, event)
    if replay is not None:
        return replay
    batch.discard()
    try:
        try:
            with transaction.atomic():
                HANDLERS[kind](batch, event, at)
                DeviceEvent.objects.create(
                    client_uuid=uid,
                    type=kind,
                    payload=event,
                    user=batch.user,
                    at=at,
                    received_at=batch.now,
                )
        except Rejected as refused:
            if refused.after is not None:
                refused.after()
            raise
    except Rejected as refused:
        batch.discard()
        # The same event may have been committed by another connection since this batch began
        # (a retry racing its original): then it is a duplicate, not a refusal.
        return _replayed(batch, uid, event, fresh=True) or _answer(
            str(uid), "rejected", refused.code, refused.message
        )
    except IntegrityError:
        batch.discard()
        # Another connection applied the same UUID at the same instant.
        return _replayed(batch, uid, event, fresh=True) or _answer(
            str(uid), "rejected", "conflict", _("The event clashed with another; send it again.")
        )
    batch.accept()
    # A later event of the same batch replaying this one is a duplicate.
    batch.seen[uid] = DeviceEvent(client_uuid=uid, type=kind, payload=event)
    return _answer(str(uid), "accepted")


def _prefetch_seen(batch: Batch, events: Sequence[object]) -> None:
    ids = []
    for event in events:
        if not isinstance(event, dict):
            continue
        try:
            ids.append(uuid.UUID(str(event.get("id"))))
        except (ValueError, TypeError):
            continue
    for start in range(0, len(ids), 500):
        for seen in DeviceEvent.objects.filter(client_uuid__in=ids[start : start + 500]):
            batch.seen[seen.client_uuid] = seen


def apply(
    user: User, events: Sequence[object], now: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """Apply a batch of events in order, one answer each, in one transaction.

    Outside any other transaction, a batch that loses a deadlock (or, on SQLite, finds the
    database locked past the timeout) is rolled back whole and played again, up to three
    times: nothing of it was kept, so the answers are those of the replay."""
    now = now or timezone.now()
    for attempt in range(RETRIES):
        try:
            return _apply_once(user, events, now)
        except OperationalError as exc:
            if connection.in_atomic_block or not _transient(exc) or attempt == RETRIES - 1:
                raise
            time.sleep(random.uniform(0.005, 0.02) * 2**attempt)
    raise AssertionError("unreachable")


RETRIES = 3


def _transient(exc: OperationalError) -> bool:
    cause = exc.__cause__
    return getattr(cause, "sqlstate", None) in {"40P01", "40001"} or "database is locked" in str(
        exc
    )


def _apply_once(user: User, events: Sequence[object], now: dt.datetime) -> list[dict[str, Any]]:
    batch = Batch(user=user, now=now)
    with transaction.atomic():
        _prefetch_seen(batch, events)
        answers = _fast(batch, events)
        if answers is None:
            answers = [_one(batch, event) for event in events]
        batch.flush()
    return answers


def _fast(batch: Batch, events: Sequence[object]) -> list[dict[str, Any]] | None:
    """The bulk path for plain tube batches; None when the batch needs the per-event path."""
    from doorstep.sampling import fastpath

    try:
        with transaction.atomic():
            return fastpath.try_apply(batch, events)
    except (fastpath.Fallback, IntegrityError):
        # Nothing was kept: the savepoint rolled back. Counter moves are added only on success.
        return None
