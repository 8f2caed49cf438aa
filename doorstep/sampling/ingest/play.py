"""Play: each event in order, checked in memory against the rules and against what the batch's
earlier events did, and either refused (nothing changes) or applied to the in-memory state,
with the rows to write collected in ``Changes``.

Each handler first finds and checks everything, then changes the state: a refusal raised half
way leaves nothing behind. The one write that survives a refusal is a box count that disagreed,
which is put on record (and on record once, whatever the number of replays).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from doorstep.campaigns.models import Campaign, PoolRule
from doorstep.core import codes
from doorstep.core.masking import mask_name
from doorstep.core.models import User
from doorstep.core.roles import Can
from doorstep.sampling import rules, tally
from doorstep.sampling.ingest.parse import (
    Bad,
    BoxAdd,
    BoxCount,
    BoxHandoff,
    BoxOpen,
    BoxReceive,
    Event,
    Parsed,
    TubeAdd,
    TubeDiscard,
    TubeOpen,
    TubeSeal,
)
from doorstep.sampling.ingest.world import (
    Actor,
    BoxState,
    LaneRow,
    Person,
    TubeState,
    WalkInState,
    World,
)
from doorstep.sampling.models import BoxStatus, Stage
from doorstep.sampling.rules import PersonFacts, Refusal

Answer = dict[str, Any]


@dataclass
class Member:
    tube: TubeState
    resident: Person | None
    walk_in: WalkInState | None
    at: dt.datetime
    override: str


@dataclass
class Check:
    box: BoxState
    stage: str
    counted: int
    in_system: int
    by_id: int
    at: dt.datetime
    uid: uuid.UUID


@dataclass
class Changes:
    """The rows a batch writes, collected while it plays."""

    new_tubes: list[TubeState] = field(default_factory=list)
    new_boxes: list[BoxState] = field(default_factory=list)
    new_walk_ins: list[WalkInState] = field(default_factory=list)
    members: list[Member] = field(default_factory=list)
    round_samples: list[tuple[int, Person, dt.datetime]] = field(default_factory=list)
    takes: list[tuple[int, TubeState, int]] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    received: list[tuple[BoxState, dt.datetime]] = field(default_factory=list)
    events: list[tuple[Any, ...]] = field(default_factory=list)
    moves: dict[tuple[int, str, int], Counter[str]] = field(default_factory=dict)
    hours: Counter[tuple[int, str, int, dt.datetime]] = field(default_factory=Counter)

    def move(self, campaign_id: int, places: dict[str, int], **deltas: int) -> None:
        for scope, place_id in places.items():
            self.moves.setdefault((campaign_id, scope, place_id), Counter()).update(deltas)


def digest(payload: object) -> str:
    """What a replay is compared by: a digest of the event's canonical JSON."""
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.blake2b(canonical.encode(), digest_size=16).hexdigest()


def answer(uid: str, status: str, refusal: Refusal | None = None, **extra: Any) -> Answer:
    out: Answer = {"id": uid, "status": status}
    if refusal is not None:
        out["error"] = {"code": refusal.code, "message": refusal.message}
    out.update({k: v for k, v in extra.items() if v is not None})
    return out


def _tube_places(tube: TubeState) -> dict[str, int]:
    return tally.places_of(
        tube.campaign_id, lane_id=tube.lane_id, site_id=tube.site_id, community_id=tube.community_id
    )


def _box_places(box: BoxState) -> dict[str, int]:
    return tally.places_of(
        box.campaign_id, lane_id=None, site_id=box.site_id, community_id=box.community_id
    )


class Play:
    def __init__(self, world: World, changes: Changes) -> None:
        self.world = world
        self.changes = changes
        # The sender of the event being played (``run`` sets it for each event).
        self.actor: Actor = world.actors[0]
        # Answer fields learnt while checking, kept for a refusal too (the person's masked name).
        self.extra: dict[str, Any] = {}
        self.handlers: dict[type[Event], Callable[[Any], dict[str, Any] | None]] = {
            TubeOpen: self.tube_open,
            TubeAdd: self.tube_add,
            TubeSeal: self.tube_seal,
            TubeDiscard: self.tube_discard,
            BoxOpen: self.box_open,
            BoxAdd: self.box_add,
            BoxCount: self.box_count,
            BoxHandoff: self.box_count,
            BoxReceive: self.box_count,
        }

    def run(self, parsed: Sequence[Parsed], senders: Sequence[int] | None = None) -> list[Answer]:
        """Each event in order; ``senders`` gives each event's actor (by index), the first
        actor's when it is None."""
        answers = []
        for n, event in enumerate(parsed):
            self.actor = self.world.actors[senders[n] if senders is not None else 0]
            answers.append(self.one(event))
        return answers

    @property
    def user(self) -> User:
        return self.actor.user

    def one(self, event: Parsed) -> Answer:
        uid = event.uid
        replay = self.replayed(uid, event.raw) if uid is not None else None
        if replay is not None:
            return replay
        if isinstance(event, Bad):
            return answer(str(uid) if uid else event.raw_id, "rejected", event.refusal)
        self.extra = {}
        try:
            extra = self.handlers[type(event)](event) or {}
        except Refusal as refusal:
            return answer(str(event.uid), "rejected", refusal, **self.extra)
        fingerprint = digest(event.raw)
        self.changes.events.append(
            (event.uid, event.type, fingerprint, self.user.pk, event.at, self.world.now)
        )
        self.world.seen[event.uid] = fingerprint
        return answer(str(event.uid), "accepted", **{**self.extra, **extra})

    def replayed(self, uid: uuid.UUID, raw: object) -> Answer | None:
        if uid not in self.world.seen:
            return None
        if self.world.seen[uid] == digest(raw):
            return answer(str(uid), "duplicate")
        return answer(
            str(uid),
            "rejected",
            Refusal(
                "conflict",
                _(
                    "Event %(id)s was already accepted with different content; it was not applied again."
                )
                % {"id": uid},
            ),
        )

    # Shared look-ups -------------------------------------------------------------------------

    def may(self, capability: Can, message: str) -> None:
        if not self.user.can(capability):
            raise Refusal("forbidden", message)

    def may_scan(self) -> None:
        self.may(Can.SCAN, _("Only registrars scan tubes and boxes at a lane."))

    def lane(self, code: str) -> tuple[LaneRow, Campaign]:
        # Who may scan at all comes first: a role that never scans is told so, not that it is
        # off duty at this lane.
        self.may_scan()
        lane = self.world.lanes.get(code)
        if lane is None:
            raise Refusal("unknown_lane", _("No lane has the code %(code)s.") % {"code": code})
        if code not in self.actor.allowed_lanes:
            raise Refusal(
                "forbidden",
                _("You may not work at %(lane)s. Ask the commander to put you on that lane.")
                % {"lane": lane.label},
            )
        campaign = self.world.running.get(lane.community_id)
        if campaign is None:
            raise Refusal(
                "no_campaign",
                _(
                    "No testing round is running for this lane's community; the commander starts one."
                ),
            )
        return lane, campaign

    def tube(self, code: str, at: dt.datetime) -> TubeState:
        tube = self.world.tube(code)
        if tube is None:
            raise Refusal(
                "unknown_tube",
                _("Tube %(code)s was never opened. Scan the tube first, then the people.")
                % {"code": code},
            )
        lanes = self.actor.scan_lanes
        if lanes is not None and tube.lane_id not in lanes:
            raise Refusal(
                "forbidden",
                _(
                    "Tube %(code)s belongs to a lane you are not on duty at: it is filled and sealed there."
                )
                % {"code": code},
            )
        rules.check_moment(at, self.world.campaigns[tube.campaign_id].starts_at, self.world.now)
        return tube

    def box(self, code: str, at: dt.datetime) -> BoxState:
        box = self.world.box(code)
        if box is None:
            raise Refusal("unknown_box", _("Box %(code)s was never opened.") % {"code": code})
        sites = self.actor.scan_sites
        if sites is not None and box.site_id not in sites:
            raise Refusal(
                "forbidden",
                _("Box %(code)s belongs to a site you are not on duty at.") % {"code": code},
            )
        rules.check_moment(at, self.world.campaigns[box.campaign_id].starts_at, self.world.now)
        return box

    # Tubes -----------------------------------------------------------------------------------

    def tube_open(self, e: TubeOpen) -> dict[str, Any]:
        lane, campaign = self.lane(e.lane)
        rules.check_moment(e.at, campaign.starts_at, self.world.now)
        code = rules.tube_code(e.tube, campaign.barcode_pattern)
        rules.check_new_tube(
            self.world.tubes.get((campaign.pk, code)), self.world.open_at_lane.get(lane.pk)
        )
        rule = e.pool or self.world.lane_pools.get(
            (campaign.pk, lane.community_id), PoolRule.TWENTY
        )
        tube = TubeState(
            code=code,
            campaign_id=campaign.pk,
            lane_id=lane.pk,
            status=rules.OPEN,
            pool_rule=rule,
            capacity=rules.capacity(rule),
            member_count=0,
            site_id=lane.site_id,
            community_id=lane.community_id,
            opened_at=e.at,
            opened_by_id=self.user.pk,
        )
        self.world.put_tube(tube)
        self.world.open_at_lane[lane.pk] = tube
        self.changes.new_tubes.append(tube)
        self.changes.move(campaign.pk, _tube_places(tube), tubes_open=1)
        return {"pool": rule, "capacity": tube.capacity}

    def person(
        self, e: TubeAdd, campaign: Campaign
    ) -> tuple[Person | None, WalkInState | None, Campaign]:
        """The resident named by the scan, or the walk-in registered with it, and the round
        they are sampled in: the lane's, or in a district round a resident's own town's."""
        world = self.world
        if e.walk_in is not None:
            residents = self.by_document(e.walk_in.id_number, campaign)
            if residents:
                return residents[0][0], None, residents[0][1]
            known = world.walk_ins.get((campaign.pk, e.walk_in.id_number))
            return (
                None,
                known
                or WalkInState(
                    pk=None,
                    campaign_id=campaign.pk,
                    community_id=0,
                    name=e.walk_in.name,
                    id_type=e.walk_in.id_type,
                    id_number=e.walk_in.id_number,
                    phone=e.walk_in.phone,
                    address=e.walk_in.address,
                    created_at=e.at,
                ),
                campaign,
            )
        key = e.person
        assert key is not None
        if key.number:
            residents = self.by_document(key.number, campaign)
            if residents:
                return residents[0][0], None, residents[0][1]
        found = world.by_code.get(key.code) if key.code else None
        home = world.home(found, campaign) if found is not None else None
        if found is not None and home is not None:
            return found, None, home
        if key.code and campaign.district_round_id is not None:
            raise Refusal(
                "unknown_person",
                _("Nobody on the rosters of this district round's towns has the code %(code)s.")
                % {"code": codes.display(key.code)},
            )
        if key.code:
            raise Refusal(
                "unknown_person",
                _("Nobody on this town's roster has the code %(code)s.")
                % {"code": codes.display(key.code)},
            )
        raise Refusal(
            "unknown_person",
            _(
                "This document number is not on the roster. Register the person as a walk-in with name, document and phone."
            ),
        )

    def by_document(self, number: str, campaign: Campaign) -> list[tuple[Person, Campaign]]:
        residents = self.world.by_document(number, campaign)
        if len(residents) > 1:
            raise Refusal(
                "unknown_person",
                _(
                    "This document number is on the rosters of several towns of this round. Scan the person's code instead."
                ),
            )
        return residents

    def order(self, campaign: Campaign, kind: str, person_id: int) -> tuple[int, str, int] | None:
        """The key of the person's open retest order in this round: in a district round, in
        any of its towns' campaigns (the pool may have been taken in another town)."""
        for campaign_id in self.world.rounds_beside(campaign):
            if (campaign_id, kind, person_id) in self.world.orders:
                return (campaign_id, kind, person_id)
        return None

    def tube_add(self, e: TubeAdd) -> None:
        self.may_scan()
        tube = self.tube(e.tube, e.at)
        rules.check_open(tube)
        world = self.world
        campaign = world.campaigns[tube.campaign_id]
        # ``home``: the round the person is sampled in (another town's, in a district round).
        resident, walk_in, home = self.person(e, campaign)
        order_key: tuple[int, str, int] | None = None
        if resident is not None:
            self.extra["person"] = mask_name(resident.name)
            zone, rule = world.zones.get((home.pk, resident.building_id), ("", ""))
            order_key = self.order(campaign, "resident", resident.id)
            order = world.orders[order_key] if order_key else None
            facts = PersonFacts(
                resident_id=resident.id,
                walk_in="",
                household_id=resident.household_id,
                building=resident.building,
                zone=zone,
                rule=rule,
                sampled=(home.pk, resident.id) in world.sampled,
                retest_of=order.original_code if order else "",
            )
        else:
            assert walk_in is not None
            self.extra["person"] = mask_name(walk_in.name)
            if walk_in.pk:
                order_key = (campaign.pk, "walk_in", walk_in.pk)
            order = world.orders.get(order_key) if order_key else None
            facts = PersonFacts(
                resident_id=None,
                walk_in=walk_in.id_number,
                household_id=None,
                building="",
                zone="",
                rule="",
                sampled=(campaign.pk, walk_in.id_number) in world.walk_ins_sampled,
                retest_of=order.original_code if order else "",
            )
        rules.check_add(tube, facts, e.override)

        # Every check has passed: change the state.
        if walk_in is not None and walk_in.pk is None and walk_in not in self.changes.new_walk_ins:
            walk_in.community_id = tube.community_id
            world.walk_ins[(campaign.pk, walk_in.id_number)] = walk_in
            self.changes.new_walk_ins.append(walk_in)
        tube.member_count += 1
        tube.changed = True
        if tube.pool_rule == PoolRule.HOUSEHOLD and resident is not None:
            tube.household_id, tube.household_room = resident.household_id, resident.room
        community_id = resident.community_id if resident else tube.community_id
        if resident is not None:
            tube.residents.add(resident.id)
            if not facts.sampled:
                world.sampled.add((home.pk, resident.id))
                self.changes.round_samples.append((home.pk, resident, e.at))
        else:
            assert walk_in is not None
            tube.walk_ins.add(walk_in.id_number)
            world.walk_ins_sampled.add((campaign.pk, walk_in.id_number))
        self.changes.members.append(Member(tube, resident, walk_in, e.at, e.override))
        if order is not None and order_key is not None:
            world.orders.pop(order_key)
            tube.retest_of_id = order.original_tube_id
            self.changes.takes.append((order.id, tube, order.original_tube_id))
        # The lane counts the person where the swab was taken; their community, in their round.
        self.changes.move(campaign.pk, _tube_places(tube), people=1)
        self.changes.hours.update(
            tally.hour_keys(campaign.pk, tube.lane_id, community_id, e.at, home_id=home.pk)
        )

    def tube_seal(self, e: TubeSeal) -> None:
        self.may_scan()
        tube = self.tube(e.tube, e.at)
        rules.check_seal(tube)
        tube.status, tube.sealed_at, tube.at, tube.changed = rules.SEALED, e.at, e.at, True
        self._closed(tube)
        self.changes.move(tube.campaign_id, _tube_places(tube), tubes_open=-1, tubes_sealed=1)

    def tube_discard(self, e: TubeDiscard) -> None:
        self.may_scan()
        tube = self.tube(e.tube, e.at)
        rules.check_discard(tube)
        tube.status, tube.discarded_at, tube.at, tube.changed = rules.DISCARDED, e.at, e.at, True
        tube.discarded_by_id, tube.discard_reason = self.user.pk, e.reason
        self._closed(tube)
        self.changes.move(tube.campaign_id, _tube_places(tube), tubes_open=-1)

    def _closed(self, tube: TubeState) -> None:
        if self.world.open_at_lane.get(tube.lane_id) is tube:
            del self.world.open_at_lane[tube.lane_id]

    # Boxes -----------------------------------------------------------------------------------

    def box_open(self, e: BoxOpen) -> None:
        lane, campaign = self.lane(e.lane)
        rules.check_moment(e.at, campaign.starts_at, self.world.now)
        if (campaign.pk, e.box) in self.world.boxes:
            raise Refusal(
                "box_exists", _("Box %(code)s is already open or used.") % {"code": e.box}
            )
        box = BoxState(
            code=e.box,
            campaign_id=campaign.pk,
            status=rules.BOX_OPEN,
            tube_count=0,
            site_id=lane.site_id,
            community_id=lane.community_id,
            opened_at=e.at,
        )
        self.world.put_box(box)
        self.changes.new_boxes.append(box)

    def box_add(self, e: BoxAdd) -> None:
        self.may_scan()
        box = self.box(e.box, e.at)
        tube = self.world.tube(e.tube)
        if tube is None:
            raise Refusal("unknown_tube", _("Tube %(code)s was never opened.") % {"code": e.tube})
        rules.check_box_add(box, tube)
        tube.box, tube.box_id, tube.changed = box, box.pk, True
        box.tube_count += 1
        box.changed = True

    def box_count(self, e: BoxCount) -> None:
        """Sealed at the site, handed to the courier or received at the lab, with a hand count."""
        if isinstance(e, BoxReceive):
            self.may(Can.RECEIVE_SPECIMENS, _("Only the lab receives boxes."))
        else:
            self.may_scan()
        box = self.box(e.box, e.at)
        if isinstance(e, BoxReceive):
            rules.check_receive(box)
            stage = Stage.RECEIVE
        elif isinstance(e, BoxHandoff):
            rules.check_handoff(box, str(BoxStatus(box.status).label))
            stage = Stage.HANDOFF
        else:
            rules.check_box_seal(box)
            stage = Stage.SEAL
        mismatch = rules.count_mismatch(box, e.count)
        if e.uid not in self.world.checked:
            self.world.checked.add(e.uid)
            self.changes.checks.append(
                Check(box, stage, e.count, box.tube_count, self.user.pk, e.at, e.uid)
            )
            if mismatch is not None:
                box.flagged = box.changed = True
        if mismatch is not None:
            raise mismatch
        box.flagged, box.changed = False, True
        if isinstance(e, BoxReceive):
            if box.status == rules.BOX_IN_TRANSIT:
                self.changes.move(box.campaign_id, _box_places(box), boxes_in_transit=-1)
            box.status, box.received_at, box.received_by_id = rules.BOX_RECEIVED, e.at, self.user.pk
            self.changes.received.append((box, e.at))
        elif isinstance(e, BoxHandoff):
            box.status, box.handed_at, box.courier = rules.BOX_IN_TRANSIT, e.at, e.courier
            self.changes.move(box.campaign_id, _box_places(box), boxes_in_transit=1)
        else:
            box.status, box.sealed_at = rules.BOX_SEALED, e.at
