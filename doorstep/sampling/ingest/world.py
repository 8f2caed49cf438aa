"""Look up: what a batch needs from the database, read in a fixed number of set-based queries
whatever the batch's size, into plain in-memory state that ``play`` checks and changes.

Rows that the batch may change are locked here, in one order for every writer: tubes by id,
then boxes by id (the counters are locked later, by ``sampling.tally``, after both).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q

from doorstep.campaigns.models import Campaign, CampaignBuilding
from doorstep.campaigns.queries import running_in_many
from doorstep.core.models import User
from doorstep.core.roles import Can
from doorstep.core.scoping import town_ids
from doorstep.sampling import hooks, queries
from doorstep.sampling.ingest.parse import (
    BoxAdd,
    BoxCount,
    BoxOpen,
    Event,
    Parsed,
    TubeAdd,
    TubeDiscard,
    TubeOpen,
    TubeSeal,
)
from doorstep.sampling.models import (
    Box,
    CustodyCheck,
    DeviceEvent,
    Lane,
    RoundSample,
    Tube,
    TubeMember,
    WalkIn,
)
from doorstep.sampling.rules import BoxFacts, TubeFacts
from doorstep.territory.models import Resident


@dataclass
class TubeState(TubeFacts):
    """A tube as the batch sees it; written once at the end with its final state."""

    pk: int | None = None
    site_id: int = 0
    community_id: int = 0
    opened_at: dt.datetime | None = None
    opened_by_id: int | None = None
    sealed_at: dt.datetime | None = None
    discarded_at: dt.datetime | None = None
    discarded_by_id: int | None = None
    discard_reason: str = ""
    received_at: dt.datetime | None = None
    retest_of_id: int | None = None
    box: BoxState | None = None
    changed: bool = False


@dataclass
class BoxState(BoxFacts):
    pk: int | None = None
    site_id: int = 0
    community_id: int = 0
    opened_at: dt.datetime | None = None
    sealed_at: dt.datetime | None = None
    handed_at: dt.datetime | None = None
    courier: str = ""
    received_by_id: int | None = None
    flagged: bool = False
    changed: bool = False


@dataclass(frozen=True)
class LaneRow:
    pk: int
    code: str
    label: str
    site_id: int
    community_id: int
    town_id: int


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    household_id: int
    room: str
    community_id: int
    town_id: int
    building_id: int
    building: str


@dataclass
class WalkInState:
    pk: int | None
    campaign_id: int
    community_id: int
    name: str
    id_type: str
    id_number: str
    phone: str
    address: str
    created_at: dt.datetime


@dataclass
class World:
    user: User
    now: dt.datetime
    seen: dict[uuid.UUID, Any] = field(default_factory=dict)
    lanes: dict[str, LaneRow] = field(default_factory=dict)
    allowed_lanes: set[str] = field(default_factory=set)
    running: dict[int, Campaign | None] = field(default_factory=dict)
    campaigns: dict[int, Campaign] = field(default_factory=dict)
    lane_pools: dict[tuple[int, int], str] = field(default_factory=dict)
    # Tubes and boxes by (campaign, code), and by code alone the newest one.
    tubes: dict[tuple[int, str], TubeState] = field(default_factory=dict)
    newest_tube: dict[str, TubeState] = field(default_factory=dict)
    open_at_lane: dict[int, TubeState] = field(default_factory=dict)
    boxes: dict[tuple[int, str], BoxState] = field(default_factory=dict)
    newest_box: dict[str, BoxState] = field(default_factory=dict)
    by_code: dict[str, Person] = field(default_factory=dict)
    by_number: dict[str, Person] = field(default_factory=dict)
    sampled: set[tuple[int, int]] = field(default_factory=set)
    walk_ins: dict[tuple[int, str], WalkInState] = field(default_factory=dict)
    walk_ins_sampled: set[tuple[int, str]] = field(default_factory=set)
    orders: dict[tuple[int, str, int], hooks.OpenOrder] = field(default_factory=dict)
    zones: dict[tuple[int, int], tuple[str, str]] = field(default_factory=dict)
    # Refused counts already on record, by the event's UUID (a replay records nothing twice).
    checked: set[uuid.UUID] = field(default_factory=set)
    # The lanes this user may scan at now (duty or the token's lane); None: all of the town's.
    scan_lanes: set[int] | None = None
    # The sites of those lanes, where the user may pack and hand over boxes.
    scan_sites: set[int] | None = None

    def tube(self, code: str) -> TubeState | None:
        return self.newest_tube.get(code)

    def box(self, code: str) -> BoxState | None:
        return self.newest_box.get(code)

    def put_tube(self, tube: TubeState) -> None:
        self.tubes[(tube.campaign_id, tube.code)] = tube
        self.newest_tube[tube.code] = tube

    def put_box(self, box: BoxState) -> None:
        self.boxes[(box.campaign_id, box.code)] = box
        self.newest_box[box.code] = box


def load(
    user: User, parsed: Sequence[Parsed], now: dt.datetime, token_lane: int | None = None
) -> World:
    world = World(user=user, now=now)
    if user.can(Can.SCAN):
        world.scan_lanes = queries.scan_lanes(user, token_lane)
        if world.scan_lanes is not None:
            world.scan_sites = set(
                Lane.objects.filter(pk__in=world.scan_lanes).values_list("site_id", flat=True)
            )
    events = [e for e in parsed if isinstance(e, Event)]
    uids = [e.uid for e in parsed if e.uid is not None]
    if uids:
        world.seen = dict(
            DeviceEvent.objects.filter(client_uuid__in=uids).values_list("client_uuid", "payload")
        )
        world.checked = {
            uid
            for uid in CustodyCheck.objects.filter(client_uuid__in=uids).values_list(
                "client_uuid", flat=True
            )
            if uid is not None
        }
    towns = town_ids(user)
    _lanes(world, {e.lane for e in events if isinstance(e, TubeOpen | BoxOpen)}, towns)
    _tubes(world, events, towns)
    _boxes(world, events, towns)
    _campaigns(world)
    _people(world, [e for e in events if isinstance(e, TubeAdd)])
    return world


def _lanes(world: World, codes: set[str], towns: set[int] | None) -> None:
    if not codes:
        return
    rows = Lane.objects.filter(code__in=codes).values_list(
        "pk",
        "code",
        "name",
        "site_id",
        "site__name",
        "site__community_id",
        "site__community__town_id",
    )
    for pk, code, name, site_id, site, community_id, town_id in rows:
        world.lanes[code] = LaneRow(pk, code, f"{site} {name}", site_id, community_id, town_id)
    user = world.user
    if user.can(Can.SCAN):
        mine = None if user.is_town_wide else set(user.communities.values_list("pk", flat=True))
        for code, lane in world.lanes.items():
            if (
                (towns is None or lane.town_id in towns)
                and (mine is None or lane.community_id in mine)
                and (world.scan_lanes is None or lane.pk in world.scan_lanes)
            ):
                world.allowed_lanes.add(code)
    communities = {
        lane.community_id for code, lane in world.lanes.items() if code in world.allowed_lanes
    }
    world.running = dict(running_in_many(communities))
    for campaign in world.running.values():
        if campaign is not None:
            world.campaigns[campaign.pk] = campaign
    world.lane_pools = queries.lane_pools(
        {(c.pk, community) for community, c in world.running.items() if c is not None}
    )


TubeEvent = TubeOpen | TubeAdd | TubeSeal | TubeDiscard | BoxAdd

_TUBE_FIELDS = (
    "pk",
    "code",
    "campaign_id",
    "lane_id",
    "site_id",
    "community_id",
    "status",
    "pool_rule",
    "capacity",
    "member_count",
    "household_id",
    "household__room",
    "box_id",
    "opened_at",
    "sealed_at",
    "discarded_at",
    "received_at",
    "retest_of_id",
)


def _tubes(world: World, events: Sequence[Event], towns: set[int] | None) -> None:
    codes = {e.tube for e in events if isinstance(e, TubeEvent)}
    lanes = [
        world.lanes[e.lane].pk for e in events if isinstance(e, TubeOpen) and e.lane in world.lanes
    ]
    if not codes and not lanes:
        return
    found = Tube.objects.filter(Q(code__in=codes) | Q(lane_id__in=lanes, status="open"))
    if towns is not None:
        found = found.filter(campaign__town_id__in=towns)
    rows = found.select_for_update(of=("self",)).order_by("pk").values_list(*_TUBE_FIELDS)
    newest: dict[str, dt.datetime] = {}
    for row in rows:
        values = dict(zip(_TUBE_FIELDS, row, strict=True))
        tube = TubeState(
            code=values["code"],
            campaign_id=values["campaign_id"],
            lane_id=values["lane_id"],
            status=values["status"],
            pool_rule=values["pool_rule"],
            capacity=values["capacity"],
            member_count=values["member_count"],
            household_id=values["household_id"],
            household_room=values["household__room"] or "",
            box_id=values["box_id"],
            at=values["discarded_at"] or values["sealed_at"],
            pk=values["pk"],
            site_id=values["site_id"],
            community_id=values["community_id"],
            opened_at=values["opened_at"],
            sealed_at=values["sealed_at"],
            discarded_at=values["discarded_at"],
            received_at=values["received_at"],
            retest_of_id=values["retest_of_id"],
        )
        world.tubes[(tube.campaign_id, tube.code)] = tube
        if tube.status == "open":
            world.open_at_lane[tube.lane_id] = tube
        assert tube.opened_at is not None
        if tube.code not in newest or tube.opened_at >= newest[tube.code]:
            newest[tube.code] = tube.opened_at
            world.newest_tube[tube.code] = tube
    # Who is in the tubes the batch adds people to (at most a pool each).
    adding = {
        world.newest_tube[e.tube].pk: world.newest_tube[e.tube]
        for e in events
        if isinstance(e, TubeAdd) and e.tube in world.newest_tube
    }
    if adding:
        for tube_id, resident_id, number in TubeMember.objects.filter(
            tube_id__in=adding
        ).values_list("tube_id", "resident_id", "walk_in__id_number"):
            if resident_id is not None:
                adding[tube_id].residents.add(resident_id)
            else:
                adding[tube_id].walk_ins.add(number)


_BOX_FIELDS = (
    "pk",
    "code",
    "campaign_id",
    "status",
    "tube_count",
    "received_at",
    "site_id",
    "site__community_id",
    "opened_at",
    "sealed_at",
    "handed_at",
    "courier",
    "flagged",
)


def _boxes(world: World, events: Sequence[Event], towns: set[int] | None) -> None:
    codes = {e.box for e in events if isinstance(e, BoxOpen | BoxAdd | BoxCount)}
    if not codes:
        return
    found = Box.objects.filter(code__in=codes)
    if towns is not None:
        found = found.filter(campaign__town_id__in=towns)
    newest: dict[str, dt.datetime] = {}
    for row in found.select_for_update(of=("self",)).order_by("pk").values_list(*_BOX_FIELDS):
        v = dict(zip(_BOX_FIELDS, row, strict=True))
        box = BoxState(
            code=v["code"],
            campaign_id=v["campaign_id"],
            status=v["status"],
            tube_count=v["tube_count"],
            received_at=v["received_at"],
            pk=v["pk"],
            site_id=v["site_id"],
            community_id=v["site__community_id"],
            opened_at=v["opened_at"],
            sealed_at=v["sealed_at"],
            handed_at=v["handed_at"],
            courier=v["courier"],
            flagged=v["flagged"],
        )
        world.boxes[(box.campaign_id, box.code)] = box
        if box.code not in newest or v["opened_at"] >= newest[box.code]:
            newest[box.code] = v["opened_at"]
            world.newest_box[box.code] = box
    for tube in world.tubes.values():
        if tube.box_id is not None:
            tube.box = next((b for b in world.boxes.values() if b.pk == tube.box_id), None)


def _campaigns(world: World) -> None:
    wanted = {t.campaign_id for t in world.tubes.values()} | {
        b.campaign_id for b in world.boxes.values()
    }
    missing = wanted - set(world.campaigns)
    if missing:
        world.campaigns.update(Campaign.objects.in_bulk(missing))


_PERSON = (
    "pk",
    "name",
    "household_id",
    "household__room",
    "community_id",
    "town_id",
    "household__unit__building_id",
    "household__unit__building__name",
)


def _people(world: World, adds: Sequence[TubeAdd]) -> None:
    """Residents by person code and by document number, who of them is sampled already, the
    walk-ins known to the round, open retest orders and the zones of their buildings."""
    if not adds:
        return
    # The rounds of the tubes named, and of tubes the batch opens at its lanes.
    campaign_ids = set(world.campaigns)
    towns = {c.town_id for c in world.campaigns.values()}
    person_codes = {e.person.code for e in adds if e.person and e.person.code}
    numbers = {e.person.number for e in adds if e.person and e.person.number}
    numbers |= {e.walk_in.id_number for e in adds if e.walk_in}
    if person_codes:
        for code, *row in Resident.objects.filter(person_code__in=person_codes).values_list(
            "person_code", *_PERSON
        ):
            person = Person(*row)
            if person.town_id in towns:
                world.by_code[code] = person
    if numbers and towns:
        for number, *row in Resident.objects.filter(
            town_id__in=towns, id_number__in=numbers
        ).values_list("id_number", *_PERSON):
            world.by_number[number] = Person(*row)
    people = {p.id for p in (*world.by_code.values(), *world.by_number.values())}
    if not campaign_ids:
        return
    if people:
        world.sampled = set(
            RoundSample.objects.filter(
                campaign_id__in=campaign_ids, resident_id__in=people
            ).values_list("campaign_id", "resident_id")
        )
        world.zones = {
            (c, b): (zone, rule)
            for c, b, zone, rule in CampaignBuilding.objects.filter(
                campaign_id__in=campaign_ids,
                building_id__in={
                    p.building_id for p in (*world.by_code.values(), *world.by_number.values())
                },
            ).values_list("campaign_id", "building_id", "zone", "pool_rule")
        }
    walk_in_numbers = numbers - set(world.by_number)
    walk_in_ids: dict[int, WalkInState] = {}
    if walk_in_numbers:
        for row in WalkIn.objects.filter(
            campaign_id__in=campaign_ids, id_number__in=walk_in_numbers
        ).values_list(
            "pk",
            "campaign_id",
            "community_id",
            "name",
            "id_type",
            "id_number",
            "phone",
            "address",
            "created_at",
        ):
            state = WalkInState(*row)
            world.walk_ins[(state.campaign_id, state.id_number)] = state
            assert state.pk is not None
            walk_in_ids[state.pk] = state
        for campaign_id, walk_in_id in TubeMember.objects.filter(
            walk_in_id__in=walk_in_ids
        ).values_list("campaign_id", "walk_in_id"):
            world.walk_ins_sampled.add((campaign_id, walk_in_ids[walk_in_id].id_number))
    world.orders = hooks.retests.open_orders(campaign_ids, people, set(walk_in_ids))
