"""A campaign day in simulated time (SimPy; minutes from the round's start).

The town is a ``Shape`` (communities, buildings, floors, households, people), the staffing a
``Staffing``, the behaviour a ``Behaviour`` whose defaults are sourced where a source exists
(``../shared/field-guide.md``) and named as assumptions where none does. ``play`` runs the day
and returns its ``Record``; every step is also told to a ``Recorder`` (``system.System`` makes
each one happen in Doorstep; the base class does nothing, for the planner's quick runs).

Every random draw comes from one ``random.Random(seed)`` in a fixed order, so a seed gives the
same day whatever the recorder does.
"""

from __future__ import annotations

import math
import random
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from typing import Any

import simpy

from doorstep.planning.sites import ARRIVAL_HOURS, LANE_PER_HOUR, Service

Process = Generator[simpy.Event, Any, None]

# Outcomes of a knock, in the proportions the demo's morning uses (assumed; no source gives them).
NOTIFIED, NOBODY_HOME, REFUSED, HOME_SAMPLING = (
    "notified",
    "nobody_home",
    "refused",
    "home_sampling",
)
OUTCOMES = ((NOTIFIED, 0.88), (NOBODY_HOME, 0.08), (REFUSED, 0.01), (HOME_SAMPLING, 0.03))


@dataclass
class Household:
    id: int
    floor: int
    people: list[int]  # indices into Shape.codes


@dataclass
class Building:
    id: int
    floors: int
    lift: bool
    households: list[Household]


@dataclass
class Community:
    id: int
    name: str
    buildings: list[Building]

    @property
    def people(self) -> int:
        return sum(len(h.people) for b in self.buildings for h in b.households)


@dataclass
class Shape:
    communities: list[Community]
    codes: list[str]  # each person's code (for the scanner), by index

    @property
    def people(self) -> int:
        return len(self.codes)


@dataclass(frozen=True)
class Staffing:
    """Lanes at each community's site and door-to-door teams in each community."""

    lanes: tuple[int, ...]
    door_teams: tuple[int, ...]
    door_team_size: int = 4  # a leader and three canvassers (the demo's teams)
    lane_crew: int = 3  # a sampler, a registrar and an order keeper (field guide F3.4)

    @classmethod
    def spread(cls, shape: Shape, lanes: int, door_teams: int) -> Staffing:
        """``lanes`` and ``door_teams`` shared among the communities by their people, at least
        one of each per community (largest remainders)."""
        return cls(share(shape, lanes), share(shape, door_teams))

    @property
    def people(self) -> int:
        return sum(self.lanes) * self.lane_crew + sum(self.door_teams) * self.door_team_size

    def with_lane(self, community: int) -> Staffing:
        lanes = list(self.lanes)
        lanes[community] += 1
        return Staffing(tuple(lanes), self.door_teams, self.door_team_size, self.lane_crew)


def share(shape: Shape, total: int) -> tuple[int, ...]:
    n = len(shape.communities)
    if total < n:
        raise ValueError(f"{total} is fewer than one for each of the {n} communities")
    weights = [c.people for c in shape.communities]
    whole = sum(weights) or 1
    exact = [1 + (total - n) * w / whole for w in weights]
    counts = [math.floor(x) for x in exact]
    order = sorted(range(n), key=lambda i: exact[i] - counts[i], reverse=True)
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return tuple(counts)


@dataclass(frozen=True)
class Behaviour:
    # Lanes: about 85 people per lane per hour (Xi'an, F3.2); the spread is assumed.
    per_hour: float = LANE_PER_HOUR
    service_cv: float = 0.5
    pool: int = 10  # 10 in 1 (F2.1); 20 in 1 in prevention zones where allowed
    # Residents: most come on their own after the round is announced, evenly over the arrival
    # window (Manzhouli's pace, half by half-time); the rest when a canvasser knocks. Shares
    # and the walk are assumed.
    own_share: float = 0.8
    arrival_hours: float = ARRIVAL_HOURS
    walk_minutes: float = 20.0  # the most, from the knock to joining the queue (evenly)
    no_show: float = 0.02
    walk_in: float = 0.01  # of arrivals: people not on the roster (assumed)
    # Door to door (assumed, held to Manzhouli's 50 % of doors by 12:00 and 100 % by 16:00):
    # a canvasser's minutes at a door; a team's canvassers knock on a floor's doors together.
    household_minutes: float = 1.5
    floor_minutes_stairs: float = 0.6
    floor_minutes_lift: float = 0.3
    # Staff assemble within 30 minutes of the call (the seed; F4.1).
    muster_minutes: float = 30.0
    # Custody (assumed): a box of 20 tubes; a courier at each site every hour; 30 min to the lab.
    box_tubes: int = 20
    courier_every: float = 60.0
    courier_minutes: float = 30.0
    # The lab (assumed): plates of 94 tubes (96 wells less two controls), 150 min a run.
    lab_machines: int = 4
    plate_tubes: int = 94
    run_minutes: float = 150.0
    positive_rate: float = 0.0002
    retest_minutes: float = 90.0  # from a positive pool's result to its members' home swabs
    queue_report_minutes: float = 15.0  # order keepers count the queue every 15 min (F3.7)
    # A scanner sends what it holds at each seal and at least this often (assumed: a phone on a
    # flaky network posting in batches, as the lane page's outbox does).
    flush_minutes: float = 5.0

    @property
    def service(self) -> Service:
        return Service(per_hour=self.per_hour, cv=self.service_cv)


class Recorder:
    """Told of each step as it happens (``now`` is the simulated minute). The base records
    nothing; ``system.System`` makes each step happen in Doorstep."""

    def arrived(self, now: float, person: int) -> None: ...

    def team_ready(self, now: float, team: Team) -> None: ...

    def claimed(self, now: float, team: Team, building: Building) -> bool:
        return True

    def tapped(self, now: float, team: Team, building: Building, taps: list[Tap]) -> None: ...

    def completed(self, now: float, team: Team, building: Building) -> None: ...

    def stood_down(self, now: float, team: Team) -> None: ...

    def scans(self, now: float, lane: Lane, events: list[dict[str, Any]]) -> None:
        """The scanner's events, each with the ``minute`` it was scanned."""

    def received(self, now: float, box: Box) -> None: ...

    def results(self, now: float, tubes: list[Tube]) -> None: ...

    def queue(self, now: float, lane: Lane, waiting: int) -> None: ...


@dataclass
class Team:
    key: str
    community: int  # index into Shape.communities
    people: list[int]  # staff indices
    lane: Lane | None = None
    started: float = 0.0
    ended: float | None = None


@dataclass
class Lane:
    community: int
    number: int  # 1.. at its site; 0 is the site's home-sampling lane
    busy_minutes: float = 0.0
    opened: float | None = None
    closed: float | None = None


@dataclass
class Tap:
    household: Household
    outcome: str
    minute: float


@dataclass
class Tube:
    code: str
    lane: Lane
    opened: float
    members: list[int] = field(default_factory=list)
    walk_ins: int = 0
    sealed: float | None = None
    received: float | None = None
    resulted: float | None = None
    positive: bool = False
    retest: bool = False


@dataclass
class Box:
    code: str
    lane: Lane
    tubes: list[Tube] = field(default_factory=list)
    handed: float | None = None
    received: float | None = None


@dataclass
class Record:
    """What the day did, in simulated minutes."""

    people: int
    sampled: dict[int, float] = field(default_factory=dict)  # person: first swab
    walk_ins: int = 0
    waits: dict[int, list[float]] = field(default_factory=dict)  # community: each wait
    longest_queue: dict[int, int] = field(default_factory=dict)
    reported_queue: dict[int, int] = field(default_factory=dict)  # the longest count reported
    tapped: list[float] = field(default_factory=list)  # each household's outcome
    households: int = 0
    tubes: list[Tube] = field(default_factory=list)
    teams: list[Team] = field(default_factory=list)
    lanes: list[Lane] = field(default_factory=list)
    positives: set[int] = field(default_factory=set)  # people truly positive
    found: set[int] = field(default_factory=set)  # positive people a retest named
    sent_home: int = 0  # came to a lane after their building was sealed: swabbed at home instead
    end: float = 0.0


@dataclass
class _Site:
    community: int
    queue: simpy.Store
    lanes: list[Lane]
    home: Lane
    boxes: list[Box] = field(default_factory=list)  # sealed, waiting for the courier
    open_boxes: dict[int, Box] = field(default_factory=dict)  # lane number: box being packed
    expected: int = 0  # arrivals still to come
    served: int = 0
    retests: list[int] = field(default_factory=list)
    closed: bool = False


class Day:
    def __init__(
        self,
        shape: Shape,
        staffing: Staffing,
        behaviour: Behaviour,
        seed: int,
        recorder: Recorder,
        env: simpy.Environment | None = None,
    ) -> None:
        if len(staffing.lanes) != len(shape.communities) or len(staffing.door_teams) != len(
            shape.communities
        ):
            raise ValueError("the staffing names a number of lanes and teams for each community")
        self.shape, self.staffing, self.b, self.recorder = shape, staffing, behaviour, recorder
        self.rng = random.Random(seed)
        self.env = env or simpy.Environment()
        self.record = Record(people=shape.people)
        self.sites: list[_Site] = []
        self.tube_count = 0
        self.box_count = 0
        self.lab_waiting: list[Tube] = []
        self.lab_signal = self.env.event()
        self.open_work = 0  # boxes and retests not yet resulted, so the lab knows when to stop
        self.buffers: dict[tuple[int, int], list[dict[str, Any]]] = {}  # each scanner's unsent
        self.building_of = {
            person: building.id
            for community in shape.communities
            for building in community.buildings
            for household in building.households
            for person in household.people
        }
        # Buildings a positive sealed: their people stay home (Doorstep refuses them at a lane).
        self.sealed: set[int] = set()

    # The plan of the day: every resident's fate, drawn up front in a fixed order -----------

    def _fates(self) -> None:
        b, rng = self.b, self.rng
        arrivals: list[tuple[float, int, int]] = []  # minute, person, community
        self.knocked: dict[int, list[tuple[int, int]]] = {}  # household id: (person, community)
        self.outcomes: dict[int, str] = {}
        for ci, community in enumerate(self.shape.communities):
            for building in community.buildings:
                for household in building.households:
                    roll, outcome = rng.random(), NOTIFIED
                    for name, share in OUTCOMES:
                        if roll < share:
                            outcome = name
                            break
                        roll -= share
                    self.outcomes[household.id] = outcome
                    for person in household.people:
                        if rng.random() < b.positive_rate:
                            self.record.positives.add(person)
                        if rng.random() < b.no_show or outcome == HOME_SAMPLING:
                            continue
                        if rng.random() < b.own_share:
                            at = rng.uniform(0, b.arrival_hours * 60)
                            arrivals.append((at, person, ci))
                            self.sites[ci].expected += 1
                        elif outcome == NOTIFIED:
                            self.knocked.setdefault(household.id, []).append((person, ci))
                            self.sites[ci].expected += 1
        arrivals.sort()
        self.env.process(self._own_arrivals(arrivals))

    def _own_arrivals(self, arrivals: list[tuple[float, int, int]]) -> Process:
        for at, person, ci in arrivals:
            yield self.env.timeout(at - self.env.now)
            self._join(person, ci)

    def _join(self, person: int, ci: int) -> None:
        site = self.sites[ci]
        site.queue.put((self.env.now, person))
        self.recorder.arrived(self.env.now, person)
        waiting = len(site.queue.items)
        if waiting > self.record.longest_queue.get(ci, 0):
            self.record.longest_queue[ci] = waiting

    def _walk(self, person: int, ci: int, delay: float) -> Process:
        yield self.env.timeout(delay)
        self._join(person, ci)

    # Staff ----------------------------------------------------------------------------------

    def _teams(self) -> None:
        staff = 0
        for ci, _community in enumerate(self.shape.communities):
            for n in range(self.staffing.lanes[ci]):
                lane = self.sites[ci].lanes[n]
                crew = list(range(staff, staff + self.staffing.lane_crew))
                staff += len(crew)
                self._muster(Team(f"L{ci}-{n + 1}", ci, crew, lane=lane))
            for n in range(self.staffing.door_teams[ci]):
                crew = list(range(staff, staff + self.staffing.door_team_size))
                staff += len(crew)
                self._muster(Team(f"D{ci}-{n + 1}", ci, crew))
            # The site's home-sampling pair: a sampler and a registrar for retests.
            crew = [staff, staff + 1]
            staff += 2
            self._muster(Team(f"H{ci}", ci, crew, lane=self.sites[ci].home))

    def _muster(self, team: Team) -> None:
        arrivals = [self.rng.uniform(5, self.b.muster_minutes) for _ in team.people]
        self.record.teams.append(team)
        self.env.process(self._on_duty(team, max(arrivals)))

    def _on_duty(self, team: Team, ready: float) -> Process:
        yield self.env.timeout(ready)
        team.started = self.env.now
        self.recorder.team_ready(self.env.now, team)
        if team.lane is None:
            yield from self._door_to_door(team)
        elif team.lane.number:
            yield from self._lane(team, team.lane)
        else:
            yield from self._home(team, team.lane)
        team.ended = self.env.now
        self.recorder.stood_down(self.env.now, team)

    # Door to door ---------------------------------------------------------------------------

    def _door_to_door(self, team: Team) -> Process:
        left = self.buildings_left[team.community]
        while left:
            building = left.pop(0)
            if not self.recorder.claimed(self.env.now, team, building):
                continue
            floor_minutes = (
                self.b.floor_minutes_lift if building.lift else self.b.floor_minutes_stairs
            )
            by_floor: dict[int, list[Household]] = {}
            for household in building.households:
                by_floor.setdefault(household.floor, []).append(household)
            # The leader records; the others knock on a floor's doors at the same time.
            knockers = max(1, len(team.people) - 1)
            for floor in sorted(by_floor):
                yield self.env.timeout(floor_minutes)
                taps = []
                for n, household in enumerate(by_floor[floor]):
                    if n % knockers == 0:
                        yield self.env.timeout(self.b.household_minutes)
                    taps.append(Tap(household, self.outcomes[household.id], self.env.now))
                    self.record.tapped.append(self.env.now)
                    for person, ci in self.knocked.get(household.id, ()):
                        delay = self.rng.uniform(0, self.b.walk_minutes)
                        self.env.process(self._walk(person, ci, delay))
                self.recorder.tapped(self.env.now, team, building, taps)
            self.recorder.completed(self.env.now, team, building)

    # Lanes ----------------------------------------------------------------------------------

    def _lane(self, team: Team, lane: Lane) -> Process:
        site = self.sites[lane.community]
        lane.opened = self.env.now
        service = self.b.service
        tube: Tube | None = None
        events = self.buffers.setdefault((lane.community, lane.number), [])
        sent = self.env.now
        self.env.process(self._count_queue(site, lane))
        while site.served < site.expected:
            got = site.queue.get()
            yield got | self.env.timeout(self.b.queue_report_minutes)
            if not got.triggered:
                got.cancel()
                # Nobody came for a while: seal what the tube holds so it can travel.
                if tube is not None and tube.members:
                    self._seal(tube, events)
                    tube = None
                self._flush(lane, events)
                continue
            joined, person = got.value  # type: ignore[misc]
            site.served += 1
            if self.building_of[person] in self.sealed:
                self.record.sent_home += 1
                continue
            self.record.waits.setdefault(lane.community, []).append(self.env.now - joined)
            # The lane's order: the code is scanned (the server judges the person then), then
            # the swab. A building sealed during the swab does not undo a scan made before it.
            if tube is None:
                tube = self._open(lane, events, self.b.pool)
            self._add(tube, person, events)
            took = service.draw(self.rng)
            yield self.env.timeout(took)
            lane.busy_minutes += took
            if self.rng.random() < self.b.walk_in:
                # Someone not on the roster, registered by name and document at the lane.
                if len(tube.members) + tube.walk_ins >= self.b.pool:
                    self._seal(tube, events)
                    tube = self._open(lane, events, self.b.pool)
                took = service.draw(self.rng)
                yield self.env.timeout(took)
                lane.busy_minutes += took
                self._walk_in(tube, events)
            if len(tube.members) + tube.walk_ins >= self.b.pool:
                self._seal(tube, events)
                tube = None
                self._flush(lane, events)
                sent = self.env.now
            elif self.env.now - sent >= self.b.flush_minutes:
                self._flush(lane, events)
                sent = self.env.now
        if tube is not None:
            self._seal(tube, events)
        self._close_box(site, lane, events)
        self._flush(lane, events)
        lane.closed = self.env.now
        self._site_done(site)

    def _count_queue(self, site: _Site, lane: Lane) -> Process:
        """The order keeper's count, every quarter of an hour while the lane runs."""
        while lane.closed is None:
            waiting = len(site.queue.items)
            self.record.reported_queue[lane.community] = max(
                self.record.reported_queue.get(lane.community, 0), waiting
            )
            self.recorder.queue(self.env.now, lane, waiting)
            yield self.env.timeout(self.b.queue_report_minutes)

    def _open(self, lane: Lane, events: list[dict[str, Any]], pool: int) -> Tube:
        self.tube_count += 1
        tube = Tube(f"29{self.tube_count:08d}", lane, self.env.now, retest=pool == 1)
        self.record.tubes.append(tube)
        events.append(
            {"minute": self.env.now, "type": "tube.open", "tube": tube.code, "pool": str(pool)}
        )
        return tube

    def _walk_in(self, tube: Tube, events: list[dict[str, Any]]) -> None:
        tube.walk_ins += 1
        self.record.walk_ins += 1
        n = self.record.walk_ins
        walk_in = {"name": f"访客{n}", "id_type": "passport", "id_number": f"SIM{n:07d}"}
        events.append(
            {"minute": self.env.now, "type": "tube.add", "tube": tube.code, "walk_in": walk_in}
        )

    def _add(self, tube: Tube, person: int, events: list[dict[str, Any]]) -> None:
        tube.members.append(person)
        self.record.sampled.setdefault(person, self.env.now)
        tube.positive = tube.positive or person in self.record.positives
        events.append(
            {
                "minute": self.env.now,
                "type": "tube.add",
                "tube": tube.code,
                "person": self.shape.codes[person],
            }
        )

    def _seal(self, tube: Tube, events: list[dict[str, Any]]) -> None:
        tube.sealed = self.env.now
        events.append({"minute": self.env.now, "type": "tube.seal", "tube": tube.code})
        site = self.sites[tube.lane.community]
        box = site.open_boxes.get(tube.lane.number)
        if box is None:
            self.box_count += 1
            box = Box(f"BOX{self.box_count:06d}", tube.lane)
            site.open_boxes[tube.lane.number] = box
            events.append({"minute": self.env.now, "type": "box.open", "box": box.code})
        box.tubes.append(tube)
        events.append(
            {"minute": self.env.now, "type": "box.add", "box": box.code, "tube": tube.code}
        )
        if len(box.tubes) >= self.b.box_tubes:
            self._close_box(site, tube.lane, events)

    def _close_box(self, site: _Site, lane: Lane, events: list[dict[str, Any]]) -> None:
        box = site.open_boxes.pop(lane.number, None)
        if box is not None:
            events.append(
                {
                    "minute": self.env.now,
                    "type": "box.seal",
                    "box": box.code,
                    "count": len(box.tubes),
                }
            )
            site.boxes.append(box)
            self.open_work += 1

    def _flush(self, lane: Lane, events: list[dict[str, Any]]) -> None:
        if events:
            self.recorder.scans(self.env.now, lane, list(events))
            events.clear()

    def _site_done(self, site: _Site) -> None:
        if all(lane.closed is not None for lane in site.lanes):
            site.closed = True

    # Custody and the lab --------------------------------------------------------------------

    def _courier(self, site: _Site) -> Process:
        """Collects the site's sealed boxes every ``courier_every`` minutes and takes them to the
        lab, until the site and its retests are done."""
        while True:
            yield self.env.timeout(self.b.courier_every)
            # The courier takes every box with a tube in it: the lane seals it on the spot.
            for lane in [*site.lanes, site.home]:
                if lane.number in site.open_boxes:
                    self._close_box(site, lane, self.buffers[(lane.community, lane.number)])
            if site.boxes:
                boxes, site.boxes = site.boxes, []
                for box in boxes:
                    box.handed = self.env.now
                    events = self.buffers[(box.lane.community, box.lane.number)]
                    events.append(
                        {
                            "minute": self.env.now,
                            "type": "box.handoff",
                            "box": box.code,
                            "count": len(box.tubes),
                            "courier": "模拟司机",
                        }
                    )
                for lane in {(b.lane.community, b.lane.number): b.lane for b in boxes}.values():
                    self._flush(lane, self.buffers[(lane.community, lane.number)])
                self.env.process(self._ride(boxes))
            if site.closed and not site.boxes and not site.open_boxes and self._home_idle(site):
                return

    def _home_idle(self, site: _Site) -> bool:
        return not site.retests and self.open_work == 0

    def _ride(self, boxes: list[Box]) -> Process:
        yield self.env.timeout(self.b.courier_minutes)
        for box in boxes:
            box.received = self.env.now
            for tube in box.tubes:
                tube.received = self.env.now
            self.recorder.received(self.env.now, box)
            self.lab_waiting.extend(box.tubes)
            self.open_work -= 1
            self.open_work += len(box.tubes)
        if not self.lab_signal.triggered:
            self.lab_signal.succeed()

    def _lab(self, machine: int) -> Process:
        while True:
            if not self.lab_waiting:
                if self._all_done():
                    return
                yield self.lab_signal | self.env.timeout(30)
                if self.lab_signal.triggered:
                    self.lab_signal = self.env.event()
                continue
            plate = self.lab_waiting[: self.b.plate_tubes]
            del self.lab_waiting[: len(plate)]
            yield self.env.timeout(self.b.run_minutes)
            for tube in plate:
                tube.resulted = self.env.now
                self.open_work -= 1
            if any(t.positive and t.retest for t in plate):
                # A positive seals a building the moment it is recorded: every scanner sends
                # what it holds first, so nothing scanned before the seal is judged after it.
                for (ci, number), events in self.buffers.items():
                    lane = self.sites[ci].home if number == 0 else self.sites[ci].lanes[number - 1]
                    self._flush(lane, events)
            self.recorder.results(self.env.now, plate)
            for tube in plate:
                if tube.positive and not tube.retest:
                    self.open_work += len(tube.members)
                    self.env.process(self._order_retests(tube))
                elif tube.positive:
                    self.record.found.update(tube.members)
                    self.sealed.update(self.building_of[p] for p in tube.members)

    def _all_done(self) -> bool:
        return self.open_work == 0 and all(s.closed for s in self.sites)

    def _order_retests(self, tube: Tube) -> Process:
        yield self.env.timeout(self.b.retest_minutes)
        # Each member stays open work (counted at the pool's result) until boxed.
        self.sites[tube.lane.community].retests.extend(tube.members)

    def _home(self, team: Team, lane: Lane) -> Process:
        """Single-tube retests at the door, swabbed as they are ordered."""
        site = self.sites[lane.community]
        lane.opened = self.env.now
        events = self.buffers.setdefault((lane.community, lane.number), [])
        while not (site.closed and self._all_done() and not site.retests):
            if not site.retests:
                yield self.env.timeout(10)
                continue
            people, site.retests = site.retests, []
            for person in people:
                yield self.env.timeout(10)  # to the door and a swab (assumed)
                tube = self._open(lane, events, 1)
                self._add(tube, person, events)
                self._seal(tube, events)
                self.open_work -= 1
            self._close_box(site, lane, events)
            self._flush(lane, events)
        lane.closed = self.env.now

    # The day --------------------------------------------------------------------------------

    def play(self, until_hours: float = 36.0) -> Record:
        self.start()
        return self.run(until_hours * 60)

    def run(self, until_minutes: float) -> Record:
        """Play on to ``until_minutes`` (the day may be watched in steps)."""
        self.env.run(until=until_minutes)
        self.record.end = self.env.now
        return self.record

    def start(self) -> None:
        for ci, _community in enumerate(self.shape.communities):
            lanes = [Lane(ci, n + 1) for n in range(self.staffing.lanes[ci])]
            home = Lane(ci, 0)
            self.record.lanes += [*lanes, home]
            self.sites.append(_Site(ci, simpy.Store(self.env), lanes, home))
        self.buildings_left = [list(c.buildings) for c in self.shape.communities]
        self.record.households = sum(
            len(b.households) for c in self.shape.communities for b in c.buildings
        )
        self._fates()
        self._teams()
        for site in self.sites:
            self.env.process(self._courier(site))
        for machine in range(self.b.lab_machines):
            self.env.process(self._lab(machine))


def play(
    shape: Shape,
    staffing: Staffing,
    behaviour: Behaviour | None = None,
    seed: int = 1,
    recorder: Recorder | None = None,
) -> Record:
    return Day(shape, staffing, behaviour or Behaviour(), seed, recorder or Recorder()).play()


def synthetic(people: int, seed: int = 1, communities: int = 12) -> Shape:
    """A town of ``people`` in memory, built like the demo's (walk-ups of six floors, towers of
    18-33 with a lift), for the planner's runs: nothing is written."""
    rng = random.Random(seed)
    shape = Shape([], [])
    per = [people // communities] * communities
    per[0] += people - sum(per)
    ids = 0
    for ci, wanted in enumerate(per):
        community = Community(ci, f"C{ci + 1}", [])
        left = wanted
        while left > 0:
            tower = rng.random() >= 0.6
            floors = rng.randint(18, 33) if tower else 6
            rooms = (rng.choice((1, 2)) * 4) if tower else 4
            building = Building(len(community.buildings), floors, tower, [])
            for floor in range(1, floors + 1):
                for _ in range(rooms):
                    if left <= 0:
                        break
                    size = min(left, rng.choice((1, 2, 2, 3, 3, 3, 4, 5)))
                    ids += 1
                    people_here = list(range(len(shape.codes), len(shape.codes) + size))
                    shape.codes.extend(f"P{n}" for n in people_here)
                    building.households.append(Household(ids, floor, people_here))
                    left -= size
            community.buildings.append(building)
        shape.communities.append(community)
    return shape


def hours(minutes: Sequence[float]) -> list[float]:
    return [m / 60 for m in minutes]
