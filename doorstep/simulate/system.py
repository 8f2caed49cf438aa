"""The recorder that makes the simulated day happen in Doorstep: each step goes through the action
a page would call (call-ups, check-in, teams, claims, taps, queue counts) or the device API a
scanner or the lab posts to (``/api/v1/events``, ``/api/v1/results``, over Django's in-process
client, so the request passes the same middleware, token check and parser), under the simulated
clock. Nothing is written around the system: the dashboard, alerts and reports of the simulated
day are the real ones.

Every answer is checked: a refusal is kept in ``refusals`` (the simulation means every step to
be accepted, so one is a defect in the simulator or in Doorstep, and the run says so).
"""

from __future__ import annotations

import datetime as dt
import json
import random
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.test import Client

from doorstep.api.actions import issue_token
from doorstep.campaigns.actions import create_campaign, start_round
from doorstep.campaigns.models import Campaign
from doorstep.canvass import actions as canvass
from doorstep.canvass.models import BuildingTask
from doorstep.canvass.outcomes import Tap, record
from doorstep.core.models import User
from doorstep.core.roles import Role
from doorstep.demo.town import SUPPORT_UNITS, build_town, fake_name
from doorstep.sampling import tally
from doorstep.sampling.actions import MAX_WAITING, create_site, report_queue
from doorstep.sampling.models import Lane as LaneRow
from doorstep.simulate import day
from doorstep.simulate.clock import SimClock
from doorstep.territory.models import Community, Household, Town
from doorstep.workforce import actions as workforce
from doorstep.workforce.models import CallUp, Purpose, Skill, Staff, SupportUnit
from doorstep.workforce.models import Team as TeamRow

TOWN = "模拟镇"
LANE_ROLES = ("sampler", "registrar", "order_keeper")


@dataclass
class Refusal:
    minute: float
    step: str
    answer: str


@dataclass
class Setup:
    town: Town
    campaign: Campaign
    shape: day.Shape
    communities: list[Community]


def build(
    residents: int,
    staffing_for: Any,
    start: dt.datetime,
    seed: int = 1,
    *,
    drill: bool = False,
    progress: Any = print,
) -> tuple[Setup, day.Staffing]:
    """A town of its own, its round (started at ``start``) and its sites, with a lane for each
    the staffing gives plus a home-sampling lane; ``staffing_for(shape)`` gives the staffing."""
    rng = random.Random(seed)
    with transaction.atomic():
        town, communities, _h, _b = build_town(rng, residents, name=TOWN, progress=progress)
        admin = User.objects.create(
            username=f"sim-admin-{town.pk}", role=Role.ADMIN, town=town, password="!"
        )
        campaign = create_campaign(
            town,
            "模拟第1轮" if not drill else "演练第1轮",
            communities=communities,
            starts_at=start,
            user=admin,
            drill=drill,
        )
        start_round(admin, campaign, now=start)
        shape = shape_of(communities)
        staffing = staffing_for(shape)
        for community, lanes in zip(communities, staffing.lanes, strict=True):
            if lanes > 29:
                raise ValueError(f"{community.name}: a site has at most 29 lanes and a home lane")
            create_site(community, f"{community.name}采样点", lanes=lanes + 1)
    return Setup(town, campaign, shape, communities), staffing


def shape_of(communities: list[Community]) -> day.Shape:
    """The town as the day sees it: buildings in their order, households floor by floor."""
    shape = day.Shape([], [])
    for community in communities:
        buildings: dict[int, day.Building] = {}
        households = (
            Household.objects.filter(unit__building__community=community)
            .select_related("unit__building")
            .prefetch_related("residents")
            .order_by("unit__building__position", "floor", "unit__name", "room")
        )
        for household in households:
            b = household.unit.building
            building = buildings.setdefault(b.pk, day.Building(b.pk, b.floors, b.has_lift, []))
            people = []
            for resident in household.residents.all():
                if resident.moved_out:
                    continue
                people.append(len(shape.codes))
                shape.codes.append(resident.person_code)
            building.households.append(day.Household(household.pk, household.floor or 0, people))
        shape.communities.append(
            day.Community(community.pk, community.name, list(buildings.values()))
        )
    return shape


@dataclass
class System(day.Recorder):
    setup: Setup
    clock: SimClock
    staffing: day.Staffing
    refusals: list[Refusal] = field(default_factory=list)
    requests: int = 0
    events: int = 0

    def __post_init__(self) -> None:
        town, campaign = self.setup.town, self.setup.campaign
        self.commander = self._user("commander", Role.COMMANDER)
        self.registrar = self._user("registrar", Role.REGISTRAR)
        self.lab = self._user("lab", Role.LAB)
        self.units = [SupportUnit.objects.create(town=town, name=n) for n in SUPPORT_UNITS]
        self.lanes: dict[tuple[int, int], LaneRow] = {}
        self.tokens: dict[tuple[int, int], str] = {}
        for ci, community in enumerate(self.setup.communities):
            rows = list(LaneRow.objects.filter(site__community=community).order_by("pk"))
            *lanes, home = rows
            for number, lane in [(0, home), *enumerate(lanes, start=1)]:
                self.lanes[(ci, number)] = lane
                self.tokens[(ci, number)] = issue_token(self.registrar, lane=lane)[1]
        self.lab_token = issue_token(self.lab)[1]
        self.tasks = {
            t.building_id: t
            for t in BuildingTask.objects.filter(campaign=campaign).select_related(
                "building", "campaign", "community"
            )
        }
        self.client = Client(HTTP_HOST="localhost")
        self.teams: dict[str, TeamRow] = {}
        self.leaders: dict[str, User] = {}
        self.callups: dict[tuple[int, str], CallUp] = {}
        self.password = make_password(None)
        self.rng = random.Random(0)

    def _user(self, name: str, role: Role) -> User:
        user = User.objects.create(
            username=f"sim-{name}-{self.setup.town.pk}",
            first_name=f"模拟{role.label}",
            role=role,
            town=self.setup.town,
            password="!",
        )
        user.communities.set(self.setup.communities)
        return user

    def _at(self, now: float) -> str:
        self.clock.minutes = now
        return self.clock.now().isoformat()

    def _refused(self, now: float, step: str, answer: object) -> None:
        self.refusals.append(Refusal(now, step, json.dumps(answer, ensure_ascii=False)[:500]))

    # Staff ----------------------------------------------------------------------------------

    def _callup(self, ci: int, team: day.Team) -> CallUp:
        purpose = Purpose.DOOR_TO_DOOR if team.lane is None else Purpose.SAMPLING
        key = (ci, purpose)
        if key not in self.callups:
            community = self.setup.communities[ci]
            unit = self.units[ci % len(self.units)]
            site = self.lanes[(ci, 0)].site
            self.callups[key] = workforce.create_callup(
                self.commander,
                unit,
                requested=self._asked(ci, purpose),
                purpose=purpose,
                community=community if purpose == Purpose.DOOR_TO_DOOR else None,
                site=site if purpose == Purpose.SAMPLING else None,
                muster_point=f"{community.name}居委会门前",
                muster_at=self.setup.campaign.starts_at,
            )
        return self.callups[key]

    def _asked(self, ci: int, purpose: str) -> int:
        staffing = self.staffing
        if purpose == Purpose.DOOR_TO_DOOR:
            return staffing.door_teams[ci] * staffing.door_team_size
        return staffing.lanes[ci] * staffing.lane_crew + 2

    def team_ready(self, now: float, team: day.Team) -> None:
        self._at(now)
        callup = self._callup(team.community, team)
        skill = Skill.CANVASSER if team.lane is None else Skill.SAMPLER
        staff = [
            Staff.objects.create(
                unit=callup.unit,
                town=self.setup.town,
                name=fake_name(self.rng),
                phone=f"139{person:08d}",
                skills=f",{Skill.TEAM_LEADER}," if n == 0 and team.lane is None else f",{skill},",
                worker_code=workforce.new_worker_code(),
            )
            for n, person in enumerate(team.people)
        ]
        for person in staff:
            workforce.check_in(self.commander, callup, person.worker_code)
        row = workforce.form_team(
            self.commander, self.setup.town, f"模拟{team.key}组", staff[0], staff, callup
        )
        self.teams[team.key] = row
        if team.lane is None:
            workforce.assign_team(
                self.commander, row, community=self.setup.communities[team.community]
            )
            leader = User.objects.create(
                username=f"sim-{team.key}-{self.setup.town.pk}",
                role=Role.TEAM_LEADER,
                town=self.setup.town,
                password=self.password,
            )
            leader.communities.set([self.setup.communities[team.community]])
            staff[0].user = leader
            staff[0].save(update_fields=["user"])
            self.leaders[team.key] = leader
        else:
            roles = {s.pk: LANE_ROLES[n % len(LANE_ROLES)] for n, s in enumerate(staff)}
            lane = self.lanes[(team.lane.community, team.lane.number)]
            workforce.assign_team(self.commander, row, lane=lane, roles=roles)

    def stood_down(self, now: float, team: day.Team) -> None:
        self._at(now)
        workforce.stand_down(self.commander, self.teams[team.key])

    # Door to door ---------------------------------------------------------------------------

    def claimed(self, now: float, team: day.Team, building: day.Building) -> bool:
        self._at(now)
        try:
            canvass.claim(self.leaders[team.key], self.tasks[building.id])
        except canvass.CanvassError as refused:
            self._refused(now, "claim", str(refused))
            return False
        return True

    def tapped(
        self, now: float, team: day.Team, building: day.Building, taps: list[day.Tap]
    ) -> None:
        self._at(now)
        sent = [
            Tap(
                str(uuid.uuid4()), t.household.id, t.outcome, at=self.clock.at(t.minute).isoformat()
            )
            for t in taps
        ]
        for answer in record(self.leaders[team.key], self.tasks[building.id], sent):
            if answer.status != "accepted":
                self._refused(now, "tap", answer.as_dict())

    def completed(self, now: float, team: day.Team, building: day.Building) -> None:
        self._at(now)
        try:
            canvass.complete(self.leaders[team.key], self.tasks[building.id])
        except canvass.CanvassError as refused:
            self._refused(now, "complete", str(refused))

    # Lanes, custody and the lab ---------------------------------------------------------------

    def _post(self, now: float, path: str, token: str, body: dict[str, Any]) -> list[Any]:
        response = self.client.post(
            path,
            json.dumps(body),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )
        self.requests += 1
        if response.status_code != 200:
            self._refused(
                now, path, {"status": response.status_code, "body": response.content.decode()[:300]}
            )
            return []
        answers: list[Any] = response.json()["results"]
        return answers

    def scans(self, now: float, lane: day.Lane, events: list[dict[str, Any]]) -> None:
        self._at(now)
        code = self.lanes[(lane.community, lane.number)].code
        sent = []
        for e in events:
            event = {k: v for k, v in e.items() if k != "minute"}
            event.update(id=str(uuid.uuid4()), at=self.clock.at(e["minute"]).isoformat())
            if e["type"] in ("tube.open", "box.open"):
                event["lane"] = code
            sent.append(event)
        self.events += len(sent)
        for answer in self._post(
            now, "/api/v1/events", self.tokens[(lane.community, lane.number)], {"events": sent}
        ):
            if answer.get("status") not in ("accepted", "duplicate"):
                self._refused(now, "event", answer)

    def received(self, now: float, box: day.Box) -> None:
        at = self._at(now)
        event = {
            "id": str(uuid.uuid4()),
            "at": at,
            "type": "box.receive",
            "box": box.code,
            "count": len(box.tubes),
        }
        self.events += 1
        for answer in self._post(now, "/api/v1/events", self.lab_token, {"events": [event]}):
            if answer.get("status") not in ("accepted", "duplicate"):
                self._refused(now, "receive", answer)

    def results(self, now: float, tubes: list[day.Tube]) -> None:
        self._at(now)
        rows = [{"tube": t.code, "result": "positive" if t.positive else "negative"} for t in tubes]
        for answer in self._post(now, "/api/v1/results", self.lab_token, {"results": rows}):
            if answer.get("status") == "rejected":
                self._refused(now, "result", answer)

    def queue(self, now: float, lane: day.Lane, waiting: int) -> None:
        self._at(now)
        report_queue(
            self.registrar, self.lanes[(lane.community, lane.number)], min(waiting, MAX_WAITING)
        )


def settle() -> None:
    tally.settle()
