"""Look up: what a batch needs from the database, in one statement whatever the batch's size,
into plain in-memory state that ``play`` checks and changes.

The fixed look-ups (the user's lanes on duty, lanes by code, the round running in a community,
its pool by zone, rounds) come from ``lookups``, cached per process for a few seconds. The rest
is one ``core.sql.Read``: the events already accepted by UUID, the tubes and boxes named (and a
lane's open tube), the people named with their households, whether they are sampled this round,
their buildings' zones, walk-ins known to the round and open retest orders.

In a district round (``campaigns.DistrictRound``) "this round" is every town's campaign of it:
the same read takes in the campaigns running beside the batch's rounds, so a resident of another
of its towns is found, with their home round's zone and sample, at no extra statement.

Rows that the batch may change are locked by that statement, tubes and then boxes each in id
order (PostgreSQL; on SQLite the transaction holds the database's one write lock).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from doorstep.campaigns.models import Campaign, CampaignBuilding, CampaignStatus
from doorstep.core import sql
from doorstep.core.models import User
from doorstep.core.roles import Can
from doorstep.sampling import hooks
from doorstep.sampling.ingest import lookups
from doorstep.sampling.ingest.lookups import LaneRow
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
    RoundSample,
    Site,
    Tube,
    TubeMember,
    WalkIn,
)
from doorstep.sampling.rules import BoxFacts, TubeFacts
from doorstep.territory.models import Building, Household, Resident, Unit

__all__ = [
    "Actor",
    "BoxState",
    "LaneRow",
    "Person",
    "TubeState",
    "WalkInState",
    "World",
    "load",
    "read_scope",
]


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
class Actor:
    """Who sent some of the batch's events, and where they may scan. A batch may combine the
    requests of several devices (``ingest.combine``); each event is checked as its sender's."""

    user: User
    # The lanes, by code, of this batch that the user may open tubes and boxes at.
    allowed_lanes: set[str] = field(default_factory=set)
    # The lanes this user may scan at now (duty or the token's lane); None: all of the town's.
    scan_lanes: frozenset[int] | None = None
    # The sites of those lanes, where the user may pack and hand over boxes.
    scan_sites: frozenset[int] | None = None


@dataclass
class World:
    actors: list[Actor]
    now: dt.datetime
    # Accepted events by UUID: the digest of what was accepted.
    seen: dict[uuid.UUID, str] = field(default_factory=dict)
    lanes: dict[str, LaneRow] = field(default_factory=dict)
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
    # Residents by document number, then town (a number is unique within a town only).
    by_number: dict[str, dict[int, Person]] = field(default_factory=dict)
    # District rounds running in the batch: each one's campaign per town, running now.
    district_rounds: dict[int, dict[int, int]] = field(default_factory=dict)
    sampled: set[tuple[int, int]] = field(default_factory=set)
    walk_ins: dict[tuple[int, str], WalkInState] = field(default_factory=dict)
    walk_ins_sampled: set[tuple[int, str]] = field(default_factory=set)
    orders: dict[tuple[int, str, int], hooks.OpenOrder] = field(default_factory=dict)
    zones: dict[tuple[int, int], tuple[str, str]] = field(default_factory=dict)
    # Refused counts already on record, by the event's UUID (a replay records nothing twice).
    checked: set[uuid.UUID] = field(default_factory=set)

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

    def rounds_beside(self, campaign: Campaign) -> list[int]:
        """The campaigns a person sampled at a lane of ``campaign`` may belong to: the campaign,
        and in a district round its other towns' campaigns running now."""
        towns = self.district_rounds.get(campaign.district_round_id or 0, {})
        return [campaign.pk, *sorted(set(towns.values()) - {campaign.pk})]

    def home(self, person: Person, campaign: Campaign) -> Campaign | None:
        """The round a resident is sampled in at a lane of ``campaign``: that round for a
        resident of its town; in a district round, for a resident of another of its towns,
        their own town's round when it covers their building. None: not this round's."""
        if person.town_id == campaign.town_id:
            return campaign
        towns = self.district_rounds.get(campaign.district_round_id or 0, {})
        home_id = towns.get(person.town_id)
        if home_id is None or (home_id, person.building_id) not in self.zones:
            return None
        return self.campaigns.get(home_id)

    def by_document(self, number: str, campaign: Campaign) -> list[tuple[Person, Campaign]]:
        """The residents with this document number that a lane of ``campaign`` may sample,
        each with their home round: the one of the lane's town if there is one, else those of
        the district round's other towns (more than one only if the number is on two rosters)."""
        named = self.by_number.get(number, {})
        own = named.get(campaign.town_id)
        if own is not None:
            return [(own, campaign)]
        found = [(person, self.home(person, campaign)) for person in named.values()]
        return [(person, home) for person, home in found if home is not None]


TubeEvent = TubeOpen | TubeAdd | TubeSeal | TubeDiscard | BoxAdd

# The tables of the batch's read, each under the one alias the read gives it. Every column a
# part names, in its SELECT list, its joins and its conditions, comes from these declarations,
# resolved against the models at import: a renamed field fails here, not in the first scan.
EVENT = sql.Table(DeviceEvent, "device_event")
CHECK = sql.Table(CustodyCheck, "custody")
TUBE = sql.Table(Tube, "tube")
HOME = sql.Table(Household, "home")
MEMBER = sql.Table(TubeMember, "member")
WALK_IN = sql.Table(WalkIn, "walk_in")
BOX = sql.Table(Box, "box")
SITE = sql.Table(Site, "site")
CAMPAIGN = sql.Table(Campaign, "campaign")
# A batch's round and another town's round of the same district round beside it.
OURS = sql.Table(Campaign, "ours")
BESIDE = sql.Table(Campaign, "beside")
RESIDENT = sql.Table(Resident, "resident")
UNIT = sql.Table(Unit, "unit")
BUILDING = sql.Table(Building, "building")
SAMPLE = sql.Table(RoundSample, "sample")
ZONING = sql.Table(CampaignBuilding, "zoning")

# The read's own rows (WITH clauses), by the names the parts read them by: the rounds the
# batch names, those and the rounds beside them, the residents named, those with their
# households and buildings, and the walk-ins named.
BASE = sql.Derived("base", "base", ["id"])
CAMP = sql.Derived("camp", "camp", ["id"])
NAMED = sql.Derived("named", "named", ["id"])
PEOPLE = sql.Derived(
    "people",
    "person",
    [
        "id",
        "person_code",
        "id_number",
        "name",
        "household_id",
        "room",
        "community_id",
        "town_id",
        "building_id",
        "building",
    ],
)
WALK_INS = sql.Derived(
    "walk_ins",
    "known",
    [
        "id",
        "campaign_id",
        "community_id",
        "name",
        "id_type",
        "id_number",
        "phone",
        "address",
        "created_at",
    ],
)

# The read's text that does not change with the batch, written once at import: a batch adds
# only its conditions on keys, which ``core.sql.any_of`` writes (one text per column on
# PostgreSQL).
SEEN_COLUMNS = (EVENT.c.client_uuid, EVENT.c.digest)
SEEN_FROM = f"FROM {EVENT} WHERE"
CHECKED_COLUMNS = (CHECK.c.client_uuid,)
CHECKED_FROM = f"FROM {CHECK} WHERE"
IN_CAMPAIGNS = f"IN (SELECT {CAMPAIGN.c.id} FROM {CAMPAIGN} WHERE"
TUBE_COLUMNS = (
    *TUBE.columns(
        "id",
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
    ),
    HOME.c.room,
    *TUBE.columns(
        "box_id", "opened_at", "sealed_at", "discarded_at", "received_at", "retest_of_id"
    ),
)
TUBES_FROM = f"FROM {TUBE} LEFT JOIN {HOME} ON {HOME.c.id} = {TUBE.c.household_id} WHERE"
IS_OPEN = f"{TUBE.c.status} = 'open'"
BY_TUBE_ID = f"ORDER BY {TUBE.c.id}"
MEMBER_COLUMNS = (MEMBER.c.tube_id, MEMBER.c.resident_id, WALK_IN.c.id_number)
MEMBERS_FROM = (
    f"FROM {MEMBER} LEFT JOIN {WALK_IN} ON {WALK_IN.c.id} = {MEMBER.c.walk_in_id} "
    f"WHERE {MEMBER.c.tube_id} IN (SELECT {TUBE.c.id} FROM {TUBE} WHERE"
)
BOX_COLUMNS = (
    *BOX.columns("id", "code", "campaign_id", "status", "tube_count", "received_at", "site_id"),
    SITE.c.community_id,
    *BOX.columns("opened_at", "sealed_at", "handed_at", "courier", "flagged"),
)
BOXES_FROM = f"FROM {BOX} JOIN {SITE} ON {SITE.c.id} = {BOX.c.site_id} WHERE"
BY_BOX_ID = f"ORDER BY {BOX.c.id}"
BASE_OF_TUBES = f"SELECT {BASE.select(TUBE.c.campaign_id)} FROM {TUBE} WHERE"
BASE_RUNNING = f"SELECT {CAMPAIGN.c.id} FROM {CAMPAIGN} WHERE"
IN_CAMP = f"IN (SELECT {CAMP.c.id} FROM {CAMP})"
CAMP_SQL = (
    f"SELECT {CAMP.select(BASE.c.id)} FROM {BASE} UNION "
    f"SELECT {BESIDE.c.id} FROM {BESIDE} JOIN {OURS} "
    f"ON {OURS.c.district_round_id} = {BESIDE.c.district_round_id} "
    f"WHERE {OURS.c.id} IN (SELECT {BASE.c.id} FROM {BASE}) AND {BESIDE.c.status} = %s"
)
ROUND_COLUMNS = tuple(CAMPAIGN.columns("id", "district_round_id", "town_id"))
ROUNDS_FROM = (
    f"FROM {CAMPAIGN} WHERE {CAMPAIGN.c.id} {IN_CAMP} "
    f"AND {CAMPAIGN.c.district_round_id} IS NOT NULL AND {CAMPAIGN.c.status} = %s"
)
NAMED_BY_CODE = f"SELECT {NAMED.select(RESIDENT.c.id)} FROM {RESIDENT} WHERE"
NAMED_BY_NUMBER = f"SELECT {RESIDENT.c.id} FROM {RESIDENT} WHERE"
IN_CAMP_TOWNS = (
    f"{RESIDENT.c.town_id} IN (SELECT {CAMPAIGN.c.town_id} FROM {CAMPAIGN} "
    f"WHERE {CAMPAIGN.c.id} {IN_CAMP})"
)
PEOPLE_SQL = (
    "SELECT "
    + PEOPLE.select(
        *RESIDENT.columns("id", "person_code", "id_number", "name", "household_id"),
        HOME.c.room,
        *RESIDENT.columns("community_id", "town_id"),
        UNIT.c.building_id,
        BUILDING.c.name,
    )
    + f" FROM {NAMED} JOIN {RESIDENT} ON {RESIDENT.c.id} = {NAMED.c.id} "
    f"JOIN {HOME} ON {HOME.c.id} = {RESIDENT.c.household_id} "
    f"JOIN {UNIT} ON {UNIT.c.id} = {HOME.c.unit_id} "
    f"JOIN {BUILDING} ON {BUILDING.c.id} = {UNIT.c.building_id}"
)
WALK_INS_SQL = (
    f"SELECT {WALK_INS.select(*WALK_IN.columns(*WALK_INS.names))} FROM {WALK_IN} "
    f"WHERE {WALK_IN.c.campaign_id} {IN_CAMP} AND"
)
PEOPLE_COLUMNS = tuple(
    PEOPLE.columns(
        "person_code",
        "id_number",
        "id",
        "name",
        "household_id",
        "room",
        "community_id",
        "town_id",
        "building_id",
        "building",
    )
)
PEOPLE_FROM = f"FROM {PEOPLE}"
SAMPLED_COLUMNS = (SAMPLE.c.campaign_id, SAMPLE.c.resident_id)
SAMPLED_FROM = (
    f"FROM {SAMPLE} WHERE {SAMPLE.c.campaign_id} {IN_CAMP} "
    f"AND {SAMPLE.c.resident_id} IN (SELECT {PEOPLE.c.id} FROM {PEOPLE})"
)
ZONE_COLUMNS = tuple(ZONING.columns("campaign_id", "building_id", "zone", "pool_rule"))
ZONES_FROM = (
    f"FROM {ZONING} WHERE {ZONING.c.campaign_id} {IN_CAMP} "
    f"AND {ZONING.c.building_id} IN (SELECT {PEOPLE.c.building_id} FROM {PEOPLE})"
)
# A known walk-in, and whether they are in a tube already.
KNOWN_COLUMNS = (
    *WALK_INS.columns(*WALK_INS.names),
    f"EXISTS (SELECT 1 FROM {MEMBER} WHERE {MEMBER.c.walk_in_id} = {WALK_INS.c.id})",
)
KNOWN_FROM = f"FROM {WALK_INS}"


@dataclass
class Keys:
    """What a batch names, read off its parsed events."""

    uids: list[uuid.UUID]
    lanes: set[str]
    tubes: set[str]
    adding_to: set[str]
    boxes: set[str]
    counts: bool
    person_codes: set[str]
    numbers: set[str]

    @classmethod
    def of(cls, parsed: Sequence[Parsed]) -> Keys:
        events = [e for e in parsed if isinstance(e, Event)]
        adds = [e for e in events if isinstance(e, TubeAdd)]
        return cls(
            uids=[e.uid for e in parsed if e.uid is not None],
            lanes={e.lane for e in events if isinstance(e, TubeOpen | BoxOpen)},
            tubes={e.tube for e in events if isinstance(e, TubeEvent)},
            adding_to={e.tube for e in adds},
            boxes={e.box for e in events if isinstance(e, BoxOpen | BoxAdd | BoxCount)},
            counts=any(isinstance(e, BoxCount) for e in events),
            person_codes={e.person.code for e in adds if e.person and e.person.code},
            numbers={e.person.number for e in adds if e.person and e.person.number}
            | {e.walk_in.id_number for e in adds if e.walk_in},
        )


def read_scope(user: User, token_lane: int | None) -> frozenset[int] | None:
    """What the batch's read depends on of its sender: the towns whose tubes and boxes it sees.
    Only senders with the same scope share a batch."""
    return lookups.access(user, token_lane).towns


def load(
    senders: Sequence[tuple[User, int | None]], parsed: Sequence[Parsed], now: dt.datetime
) -> World:
    """The batch's world for its senders, each a (user, the device token's lane)."""
    accesses = [lookups.access(user, token_lane) for user, token_lane in senders]
    towns = {access.towns for access in accesses}
    if len(towns) != 1:
        raise ValueError("a batch's senders must see the same towns (ingest.world.read_scope)")
    world = World(
        actors=[
            Actor(user=user, scan_lanes=access.scan_lanes, scan_sites=access.scan_sites)
            for (user, _lane), access in zip(senders, accesses, strict=True)
        ],
        now=now,
    )
    keys = Keys.of(parsed)
    _lanes(world, keys.lanes, accesses)
    running = {c.pk for c in world.running.values() if c is not None}
    rows = _read(keys, accesses[0], running, [lane.pk for lane in world.lanes.values()]).run()
    world.seen = {uuid.UUID(u): digest for u, digest in rows.get("seen", [])}
    world.checked = {uuid.UUID(u) for (u,) in rows.get("checked", [])}
    _tubes(world, rows.get("tubes", []), rows.get("members", []))
    _boxes(world, rows.get("boxes", []))
    for campaign_id, district_round_id, town_id in rows.get("rounds", []):
        world.district_rounds.setdefault(district_round_id, {})[town_id] = campaign_id
    world.campaigns.update(
        lookups.campaigns(
            {t.campaign_id for t in world.tubes.values()}
            | {b.campaign_id for b in world.boxes.values()}
            | {c for towns in world.district_rounds.values() for c in towns.values()}
        )
    )
    if keys.adding_to:
        _people(world, rows)
    return world


def _lanes(world: World, codes: set[str], accesses: Sequence[lookups.Access]) -> None:
    world.lanes = lookups.lanes(codes)
    for actor, access in zip(world.actors, accesses, strict=True):
        if not actor.user.can(Can.SCAN):
            continue
        for code, lane in world.lanes.items():
            if (
                (access.towns is None or lane.town_id in access.towns)
                and (access.communities is None or lane.community_id in access.communities)
                and (access.scan_lanes is None or lane.pk in access.scan_lanes)
            ):
                actor.allowed_lanes.add(code)
    communities = {
        world.lanes[code].community_id for actor in world.actors for code in actor.allowed_lanes
    }
    world.running = lookups.running(communities)
    for community, campaign in world.running.items():
        if campaign is not None:
            world.campaigns[campaign.pk] = campaign
            world.lane_pools[(campaign.pk, community)] = lookups.pool(campaign.pk, community)


def _in_towns(column: str, towns: frozenset[int] | None) -> tuple[str, list[Any]]:
    """Rows of rounds in the user's towns only (all for an admin of every town)."""
    if towns is None:
        return "", []
    where, params = sql.any_of(CAMPAIGN.c.town_id, towns, "bigint")
    return f" AND {column} {IN_CAMPAIGNS} {where})", params


def _read(keys: Keys, access: lookups.Access, running: set[int], lane_ids: list[int]) -> sql.Read:
    read = sql.Read()
    if keys.uids:
        where, params = sql.any_of(EVENT.c.client_uuid, keys.uids, "uuid")
        read.add(sql.Part("seen", SEEN_COLUMNS, f"{SEEN_FROM} {where}", params))
        if keys.counts:
            where, params = sql.any_of(CHECK.c.client_uuid, keys.uids, "uuid")
            read.add(sql.Part("checked", CHECKED_COLUMNS, f"{CHECKED_FROM} {where}", params))
    if keys.tubes or lane_ids:
        code, code_params = sql.any_of(TUBE.c.code, keys.tubes, "text")
        lane, lane_params = sql.any_of(TUBE.c.lane_id, lane_ids, "bigint")
        towns, town_params = _in_towns(TUBE.c.campaign_id, access.towns)
        read.add(
            sql.Part(
                "tubes",
                TUBE_COLUMNS,
                f"{TUBES_FROM} ({code} OR ({lane} AND {IS_OPEN})){towns} {BY_TUBE_ID}",
                code_params + lane_params + town_params,
                lock=TUBE.alias,
            )
        )
    if keys.adding_to:
        code, params = sql.any_of(TUBE.c.code, keys.adding_to, "text")
        read.add(sql.Part("members", MEMBER_COLUMNS, f"{MEMBERS_FROM} {code})", params))
    if keys.boxes:
        code, params = sql.any_of(BOX.c.code, keys.boxes, "text")
        towns, town_params = _in_towns(BOX.c.campaign_id, access.towns)
        read.add(
            sql.Part(
                "boxes",
                BOX_COLUMNS,
                f"{BOXES_FROM} {code}{towns} {BY_BOX_ID}",
                params + town_params,
                lock=BOX.alias,
            )
        )
    if keys.adding_to:
        _people_parts(read, keys, running)
    return read


def _people_parts(read: sql.Read, keys: Keys, running: set[int]) -> None:
    """The people a batch adds to tubes, and what the rules need to know of them."""
    tube, tube_params = sql.any_of(TUBE.c.code, keys.adding_to, "text")
    ids, id_params = sql.any_of(CAMPAIGN.c.id, running, "bigint")
    read.with_(
        BASE.name, f"{BASE_OF_TUBES} {tube} UNION {BASE_RUNNING} {ids}", tube_params + id_params
    )
    # The batch's rounds, and beside each round of a district round its other towns' rounds
    # running now: a resident of those towns is sampled in their own town's round.
    read.with_(CAMP.name, CAMP_SQL, [CampaignStatus.ACTIVE.value])
    read.add(sql.Part("rounds", ROUND_COLUMNS, ROUNDS_FROM, [CampaignStatus.ACTIVE.value]))
    code, code_params = sql.any_of(RESIDENT.c.person_code, keys.person_codes, "text")
    number, number_params = sql.any_of(RESIDENT.c.id_number, keys.numbers, "text")
    # Two index look-ups (person code; town and document number) joined by UNION: written
    # as one WHERE with OR, PostgreSQL read the whole roster.
    read.with_(
        NAMED.name,
        f"{NAMED_BY_CODE} {code} UNION {NAMED_BY_NUMBER} {number} AND {IN_CAMP_TOWNS}",
        code_params + number_params,
    )
    read.with_(PEOPLE.name, PEOPLE_SQL)
    walk_in, walk_in_params = sql.any_of(WALK_IN.c.id_number, keys.numbers, "text")
    read.with_(WALK_INS.name, f"{WALK_INS_SQL} {walk_in}", walk_in_params)
    read.add(sql.Part("people", PEOPLE_COLUMNS, PEOPLE_FROM))
    read.add(sql.Part("sampled", SAMPLED_COLUMNS, SAMPLED_FROM))
    read.add(sql.Part("zones", ZONE_COLUMNS, ZONES_FROM))
    read.add(sql.Part("walk_ins", KNOWN_COLUMNS, KNOWN_FROM))
    orders = hooks.retests.orders_part(CAMP, PEOPLE, WALK_INS)
    if orders is not None:
        read.add(orders)


def _tubes(world: World, rows: list[list[Any]], members: list[list[Any]]) -> None:
    moment = sql.moment
    for (
        pk, code, campaign_id, lane_id, site_id, community_id, status, pool_rule, capacity,
        member_count, household_id, room, box_id, opened_at, sealed_at, discarded_at,
        received_at, retest_of_id,
    ) in rows:  # fmt: skip
        sealed, discarded = moment(sealed_at), moment(discarded_at)
        tube = TubeState(
            code=code,
            campaign_id=campaign_id,
            lane_id=lane_id,
            status=status,
            pool_rule=pool_rule,
            capacity=capacity,
            member_count=member_count,
            household_id=household_id,
            household_room=room or "",
            box_id=box_id,
            at=discarded or sealed,
            pk=pk,
            site_id=site_id,
            community_id=community_id,
            opened_at=moment(opened_at),
            sealed_at=sealed,
            discarded_at=discarded,
            received_at=moment(received_at),
            retest_of_id=retest_of_id,
        )
        world.tubes[(campaign_id, code)] = tube
        if status == "open":
            world.open_at_lane[lane_id] = tube
        newest = world.newest_tube.get(code)
        assert tube.opened_at is not None
        if newest is None or tube.opened_at >= newest.opened_at:  # type: ignore[operator]
            world.newest_tube[code] = tube
    by_pk = {t.pk: t for t in world.newest_tube.values()}
    for tube_id, resident_id, number in members:
        adding = by_pk.get(tube_id)
        if adding is None:
            continue
        if resident_id is not None:
            adding.residents.add(resident_id)
        else:
            adding.walk_ins.add(number)


def _boxes(world: World, rows: list[list[Any]]) -> None:
    moment = sql.moment
    for (
        pk, code, campaign_id, status, tube_count, received_at, site_id, community_id,
        opened_at, sealed_at, handed_at, courier, flagged,
    ) in rows:  # fmt: skip
        box = BoxState(
            code=code,
            campaign_id=campaign_id,
            status=status,
            tube_count=tube_count,
            received_at=moment(received_at),
            pk=pk,
            site_id=site_id,
            community_id=community_id,
            opened_at=moment(opened_at),
            sealed_at=moment(sealed_at),
            handed_at=moment(handed_at),
            courier=courier,
            flagged=bool(flagged),
        )
        world.boxes[(campaign_id, code)] = box
        newest = world.newest_box.get(code)
        if newest is None or box.opened_at >= newest.opened_at:  # type: ignore[operator]
            world.newest_box[code] = box
    by_pk = {b.pk: b for b in world.boxes.values()}
    for tube in world.tubes.values():
        if tube.box_id is not None:
            tube.box = by_pk.get(tube.box_id)


def _people(world: World, rows: dict[str, list[list[Any]]]) -> None:
    """Residents by person code and by document number, who of them is sampled already, the
    walk-ins known to the round, open retest orders and the zones of their buildings."""
    towns = {c.town_id for c in world.campaigns.values()}
    for code, number, *person in rows.get("people", []):
        found = Person(*person)
        if code in world.by_code or found.town_id not in towns:
            continue
        world.by_code[code] = found
        world.by_number.setdefault(number, {})[found.town_id] = found
    world.sampled = {(c, r) for c, r in rows.get("sampled", [])}
    world.zones = {(c, b): (zone, rule) for c, b, zone, rule in rows.get("zones", [])}
    for *walk_in, used in rows.get("walk_ins", []):
        state = WalkInState(*walk_in)
        campaign = world.campaigns.get(state.campaign_id)
        if campaign is not None and world.by_document(state.id_number, campaign):
            continue  # on the roster now: the resident, not the walk-in
        state.created_at = sql.moment(state.created_at)  # type: ignore[assignment]
        world.walk_ins[(state.campaign_id, state.id_number)] = state
        if used:
            world.walk_ins_sampled.add((state.campaign_id, state.id_number))
    if "orders" in rows:
        world.orders = hooks.retests.orders(rows["orders"])
