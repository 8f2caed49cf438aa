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

# Table names, as the models have them.
T_TUBE = Tube._meta.db_table
T_MEMBER = TubeMember._meta.db_table
T_BOX = Box._meta.db_table
T_SITE = Site._meta.db_table
T_WALK_IN = WalkIn._meta.db_table
T_SAMPLE = RoundSample._meta.db_table
T_EVENT = DeviceEvent._meta.db_table
T_CHECK = CustodyCheck._meta.db_table
T_CAMPAIGN = Campaign._meta.db_table
T_ZONE = CampaignBuilding._meta.db_table
T_RESIDENT = Resident._meta.db_table
T_HOUSEHOLD = Household._meta.db_table
T_UNIT = Unit._meta.db_table
T_BUILDING = Building._meta.db_table


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
    where, params = sql.any_of("town_id", towns, "bigint")
    return f" AND {column} IN (SELECT id FROM {T_CAMPAIGN} WHERE {where})", params


def _read(keys: Keys, access: lookups.Access, running: set[int], lane_ids: list[int]) -> sql.Read:
    read = sql.Read()
    if keys.uids:
        where, params = sql.any_of("client_uuid", keys.uids, "uuid")
        read.add(
            sql.Part("seen", ["client_uuid", "digest"], f"FROM {T_EVENT} WHERE {where}", params)
        )
        if keys.counts:
            read.add(sql.Part("checked", ["client_uuid"], f"FROM {T_CHECK} WHERE {where}", params))
    if keys.tubes or lane_ids:
        code, code_params = sql.any_of("tube.code", keys.tubes, "text")
        lane, lane_params = sql.any_of("tube.lane_id", lane_ids, "bigint")
        towns, town_params = _in_towns("tube.campaign_id", access.towns)
        read.add(
            sql.Part(
                "tubes",
                [
                    "tube.id",
                    "tube.code",
                    "tube.campaign_id",
                    "tube.lane_id",
                    "tube.site_id",
                    "tube.community_id",
                    "tube.status",
                    "tube.pool_rule",
                    "tube.capacity",
                    "tube.member_count",
                    "tube.household_id",
                    "home.room",
                    "tube.box_id",
                    "tube.opened_at",
                    "tube.sealed_at",
                    "tube.discarded_at",
                    "tube.received_at",
                    "tube.retest_of_id",
                ],
                f"FROM {T_TUBE} tube LEFT JOIN {T_HOUSEHOLD} home ON home.id = tube.household_id "
                f"WHERE ({code} OR ({lane} AND tube.status = 'open')){towns} ORDER BY tube.id",
                code_params + lane_params + town_params,
                lock="tube",
            )
        )
    if keys.adding_to:
        code, params = sql.any_of("code", keys.adding_to, "text")
        read.add(
            sql.Part(
                "members",
                ["member.tube_id", "member.resident_id", "walk_in.id_number"],
                f"FROM {T_MEMBER} member LEFT JOIN {T_WALK_IN} walk_in "
                f"ON walk_in.id = member.walk_in_id "
                f"WHERE member.tube_id IN (SELECT id FROM {T_TUBE} WHERE {code})",
                params,
            )
        )
    if keys.boxes:
        code, params = sql.any_of("box.code", keys.boxes, "text")
        towns, town_params = _in_towns("box.campaign_id", access.towns)
        read.add(
            sql.Part(
                "boxes",
                [
                    "box.id",
                    "box.code",
                    "box.campaign_id",
                    "box.status",
                    "box.tube_count",
                    "box.received_at",
                    "box.site_id",
                    "site.community_id",
                    "box.opened_at",
                    "box.sealed_at",
                    "box.handed_at",
                    "box.courier",
                    "box.flagged",
                ],
                f"FROM {T_BOX} box JOIN {T_SITE} site ON site.id = box.site_id "
                f"WHERE {code}{towns} ORDER BY box.id",
                params + town_params,
                lock="box",
            )
        )
    if keys.adding_to:
        _people_parts(read, keys, running)
    return read


def _people_parts(read: sql.Read, keys: Keys, running: set[int]) -> None:
    """The people a batch adds to tubes, and what the rules need to know of them."""
    tube, tube_params = sql.any_of("code", keys.adding_to, "text")
    ids, id_params = sql.any_of("id", running, "bigint")
    read.with_(
        "base",
        f"SELECT campaign_id AS id FROM {T_TUBE} WHERE {tube} "
        f"UNION SELECT id FROM {T_CAMPAIGN} WHERE {ids}",
        tube_params + id_params,
    )
    # The batch's rounds, and beside each round of a district round its other towns' rounds
    # running now: a resident of those towns is sampled in their own town's round.
    read.with_(
        "camp",
        "SELECT id FROM base UNION "
        f"SELECT s.id FROM {T_CAMPAIGN} s JOIN {T_CAMPAIGN} c "
        "ON c.district_round_id = s.district_round_id "
        "WHERE c.id IN (SELECT id FROM base) AND s.status = %s",
        [CampaignStatus.ACTIVE.value],
    )
    read.add(
        sql.Part(
            "rounds",
            ["c.id", "c.district_round_id", "c.town_id"],
            f"FROM {T_CAMPAIGN} c WHERE c.id IN (SELECT id FROM camp) "
            "AND c.district_round_id IS NOT NULL AND c.status = %s",
            [CampaignStatus.ACTIVE.value],
        )
    )
    code, code_params = sql.any_of("r.person_code", keys.person_codes, "text")
    number, number_params = sql.any_of("r.id_number", keys.numbers, "text")
    # Two index look-ups (person code; town and document number) joined by UNION: written
    # as one WHERE with OR, PostgreSQL read the whole roster.
    read.with_(
        "named",
        f"SELECT r.id FROM {T_RESIDENT} r WHERE {code} UNION SELECT r.id FROM {T_RESIDENT} r "
        f"WHERE {number} AND r.town_id IN "
        f"(SELECT town_id FROM {T_CAMPAIGN} WHERE id IN (SELECT id FROM camp))",
        code_params + number_params,
    )
    read.with_(
        "people",
        "SELECT r.id, r.person_code, r.id_number, r.name, r.household_id, h.room, "
        "r.community_id, r.town_id, u.building_id, b.name AS building "
        f"FROM named JOIN {T_RESIDENT} r ON r.id = named.id "
        f"JOIN {T_HOUSEHOLD} h ON h.id = r.household_id "
        f"JOIN {T_UNIT} u ON u.id = h.unit_id JOIN {T_BUILDING} b ON b.id = u.building_id",
    )
    walk_in, walk_in_params = sql.any_of("w.id_number", keys.numbers, "text")
    read.with_(
        "walk_ins",
        "SELECT w.id, w.campaign_id, w.community_id, w.name, w.id_type, w.id_number, w.phone, "
        "w.address, w.created_at "
        f"FROM {T_WALK_IN} w WHERE w.campaign_id IN (SELECT id FROM camp) AND {walk_in}",
        walk_in_params,
    )
    read.add(
        sql.Part(
            "people",
            [
                "p.person_code",
                "p.id_number",
                "p.id",
                "p.name",
                "p.household_id",
                "p.room",
                "p.community_id",
                "p.town_id",
                "p.building_id",
                "p.building",
            ],
            "FROM people p",
        )
    )
    read.add(
        sql.Part(
            "sampled",
            ["s.campaign_id", "s.resident_id"],
            f"FROM {T_SAMPLE} s WHERE s.campaign_id IN (SELECT id FROM camp) "
            "AND s.resident_id IN (SELECT id FROM people)",
        )
    )
    read.add(
        sql.Part(
            "zones",
            ["z.campaign_id", "z.building_id", "z.zone", "z.pool_rule"],
            f"FROM {T_ZONE} z WHERE z.campaign_id IN (SELECT id FROM camp) "
            "AND z.building_id IN (SELECT building_id FROM people)",
        )
    )
    read.add(
        sql.Part(
            "walk_ins",
            [
                "w.id",
                "w.campaign_id",
                "w.community_id",
                "w.name",
                "w.id_type",
                "w.id_number",
                "w.phone",
                "w.address",
                "w.created_at",
                f"EXISTS (SELECT 1 FROM {T_MEMBER} m WHERE m.walk_in_id = w.id)",
            ],
            "FROM walk_ins w",
        )
    )
    orders = hooks.retests.orders_part(
        "SELECT id FROM camp", "SELECT id FROM people", "SELECT id FROM walk_ins"
    )
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
