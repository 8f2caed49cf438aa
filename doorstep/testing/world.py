"""A small town with a morning's work in it, for the fence tests (``doorstep.testing.crawl``).

Three communities of one town: 阳光里 (two grids, a building in each), 和苑 (beside it in the
same real round) and 柳溪苑 (running a drill), and a drill over 阳光里 planned but never started.
In every building, made through the real actions: a household nobody was home at (the revisit
list), one that needs home sampling and one with a special need, and a positive pool whose
members must stay home for their retests, which the sealed building brings to their door.

Every person's name, document, phone and room is unique in the town, so a page that shows one of
them can be caught showing it: 3-character names whose first and last characters are theirs
alone (so the masked form ``赵*伟`` is too), documents whose first four characters (all the mask
keeps) name their building, phones whose last four digits are theirs, rooms written ``1101室``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from django.utils import timezone

from doorstep.campaigns.actions import create_campaign, start_round
from doorstep.campaigns.models import Campaign
from doorstep.canvass import actions as canvass
from doorstep.canvass.models import BuildingTask, NeedKind, Outcome
from doorstep.canvass.outcomes import record
from doorstep.core import clocks
from doorstep.core.idnumbers import id_check_character
from doorstep.core.models import User
from doorstep.core.roles import Role
from doorstep.lab.actions import results
from doorstep.notices import actions as telling
from doorstep.sampling import ingest
from doorstep.sampling.models import Lane, WalkIn
from doorstep.territory.actions import assign_person_codes
from doorstep.territory.models import Building, Community, Grid, Household, Resident, Town, Unit
from doorstep.testing import make_door_team, make_lane, make_town, make_user, tap

# First and last characters of the people's names: each used once in the town.
FIRST = "赵钱孙周吴郑冯陈褚卫蒋沈韩杨朱秦尤许何吕施孔曹严华金魏陶姜戚谢邹喻柏水窦"
LAST = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英玉萍红建国志鹏飞宇瑶琪璐婷"
ROOMS = ("101", "102", "201", "202")


@dataclass
class World:
    town: Town
    communities: dict[str, Community]  # "a" (two grids), "b" (the same round), "c" (the drill)
    grids: dict[str, Grid]  # "first" (the grid worker's), "second"
    buildings: dict[str, Building]  # "a1" (first grid), "a2" (second grid), "b1", "c1"
    live: Campaign  # the real round over a and b
    drill: Campaign  # the drill running over c
    planned_drill: Campaign  # a drill over a, never started
    lanes: dict[str, Lane]  # the first lane of each community's site
    users: dict[str, User] = field(default_factory=dict)

    def residents(self, *buildings: str) -> list[Resident]:
        return list(
            Resident.objects.filter(
                household__unit__building__in=[self.buildings[b] for b in buildings]
            ).order_by("pk")
        )

    def walk_ins(self, *buildings: str) -> list[WalkIn]:
        """The walk-ins who gave an address in these buildings (names unique in the town)."""
        names = tuple(self.buildings[b].name for b in buildings)
        found = WalkIn.objects.filter(community__town=self.town).order_by("pk")
        return [w for w in found if w.address.startswith(names)]

    def people(self, *buildings: str) -> list[Resident | WalkIn]:
        return [*self.residents(*buildings), *self.walk_ins(*buildings)]

    def everyone(self) -> list[Resident | WalkIn]:
        return self.people(*self.buildings)


def _document(area: str, n: int) -> str:
    body = f"{area}19800101{n:03d}"
    return body + id_check_character(body)


def _people(building: Building, area: str, first: int) -> None:
    """Four households of two: rooms ``<n>101室`` ... in one unit."""
    unit = Unit.objects.create(building=building, name="1单元")
    people = []
    for h, room in enumerate(ROOMS):
        household = Household.objects.create(
            unit=unit, room=f"{area[1]}{room}室", floor=int(room[0])
        )
        for m in range(2):
            n = first + 2 * h + m
            people.append(
                Resident(
                    household=household,
                    town_id=building.community.town_id,
                    community=building.community,
                    name=f"{FIRST[n]}小{LAST[n]}",
                    id_number=_document(area, n),
                    phone=f"1380000{n:04d}",
                )
            )
    assign_person_codes(people)
    Resident.objects.bulk_create(people)


def _territory() -> tuple[Town, dict[str, Community], dict[str, Grid], dict[str, Building]]:
    town = make_town("中北镇")
    communities = {
        key: Community.objects.create(town=town, name=name)
        for key, name in (("a", "阳光里社区"), ("b", "和苑社区"), ("c", "柳溪苑社区"))
    }
    grids = {
        "first": Grid.objects.create(community=communities["a"], name="第一网格"),
        "second": Grid.objects.create(community=communities["a"], name="第二网格"),
    }
    buildings = {
        "a1": Building.objects.create(
            community=communities["a"], name="1号楼", position=1, grid=grids["first"]
        ),
        "a2": Building.objects.create(
            community=communities["a"], name="2号楼", position=2, grid=grids["second"]
        ),
        "b1": Building.objects.create(community=communities["b"], name="8号楼", position=1),
        "c1": Building.objects.create(community=communities["c"], name="9号楼", position=1),
    }
    for n, (key, area) in enumerate(
        (("a1", "110101"), ("a2", "120101"), ("b1", "130101"), ("c1", "140101"))
    ):
        _people(buildings[key], area, 8 * n)
    return town, communities, grids, buildings


def _door_to_door(campaign: Campaign, community: Community, leader: User) -> None:
    """The community's team knocks at every building: nobody home, needs home sampling, a
    special need, notified."""
    make_door_team(community, f"{community.name}第1组", leader)
    now = timezone.now()
    for task in BuildingTask.objects.filter(campaign=campaign, community=community).order_by(
        "building__position"
    ):
        canvass.claim(leader, task, now=now)
        homes = list(Household.objects.filter(unit__building=task.building).order_by("room"))
        taps = [
            (Outcome.NOBODY_HOME, {}),
            (Outcome.HOME_SAMPLING, {}),
            (
                Outcome.SPECIAL_NEED,
                {
                    "need_kind": NeedKind.DIALYSIS,
                    "need_by": (now + dt.timedelta(hours=3)).isoformat(),
                },
            ),
            (Outcome.NOTIFIED, {}),
        ]
        answers = record(
            leader,
            task,
            [
                tap(home, outcome, **extra)
                for home, (outcome, extra) in zip(homes, taps, strict=True)
            ],
            now=now,
        )
        assert {a.status for a in answers} == {"accepted"}, answers
        canvass.complete(leader, task, now=now)


def _event(type_: str, **fields: object) -> dict[str, object]:
    return {"id": str(uuid.uuid4()), "type": type_, "at": timezone.now().isoformat(), **fields}


def _walk_in(n: int, address: str) -> dict[str, str]:
    """Someone not on the roster, sampled at a lane, who gave the address of a household."""
    return {
        "name": f"{FIRST[n]}小{LAST[n]}",
        "id_number": _document("150101", n),
        "phone": f"1380000{n:04d}",
        "address": address,
    }


def _positive_pool(
    scanner: User,
    lab: User,
    lane: Lane,
    tube: str,
    box: str,
    people: list[Resident],
    walk_ins: list[dict[str, str]],
    pool: int = 10,
) -> None:
    """A pool of these people, boxed, received by the lab and found positive (``pool=1``: a
    single tube, a retest for a member of a positive pool)."""
    events = [_event("tube.open", lane=lane.code, tube=tube, pool=pool)]
    events += [_event("tube.add", tube=tube, person=p.person_code) for p in people]
    events += [_event("tube.add", tube=tube, walk_in=w) for w in walk_ins]
    events += [
        _event("tube.seal", tube=tube),
        _event("box.open", lane=lane.code, box=box),
        _event("box.add", box=box, tube=tube),
        _event("box.seal", box=box, count=1),
    ]
    answers = ingest.apply(scanner, events)
    assert {a["status"] for a in answers} == {"accepted"}, answers
    answers = ingest.apply(lab, [_event("box.receive", box=box, count=1)])
    assert {a["status"] for a in answers} == {"accepted"}, answers
    answers = results.record(lab, [{"tube": tube, "result": "positive"}])
    assert {a["status"] for a in answers} == {"accepted"}, answers


def build_world() -> World:
    town, communities, grids, buildings = _territory()
    a, b, c = communities["a"], communities["b"], communities["c"]
    # Both rounds started two hours ago: the drill's stand-in queue has people in it.
    started = timezone.now() - dt.timedelta(hours=2)
    live = create_campaign(town, "第1轮", communities=[a, b], starts_at=started)
    start_round(None, live, now=started)
    drill = create_campaign(town, "演练", communities=[c], starts_at=started, drill=True)
    start_round(None, drill, now=started)
    planned = create_campaign(town, "演练2", communities=[a], drill=True)
    commander = make_user(Role.COMMANDER, town=town)
    lab = make_user(Role.LAB, town=town)
    for campaign, community in ((live, a), (live, b), (drill, c)):
        _door_to_door(campaign, community, make_user(Role.TEAM_LEADER, community))
    lanes = {
        key: make_lane(community, f"{community.name}广场") for key, community in communities.items()
    }
    pools = {
        "a": (
            [*_pooled(buildings, "a1"), *_pooled(buildings, "a2")],
            [_walk_in(32, "1号楼1单元1101室"), _walk_in(33, "2号楼1单元2101室")],
        ),
        "b": (_pooled(buildings, "b1"), [_walk_in(34, "8号楼1单元3101室")]),
        "c": (_pooled(buildings, "c1"), [_walk_in(35, "9号楼1单元4101室")]),
    }
    for n, (key, (people, walk_ins)) in enumerate(pools.items(), 1):
        _positive_pool(
            commander, lab, lanes[key], f"21122500{n:02d}", f"BOX00{n}", people, walk_ins
        )
    # A member of the real round's pool (in 1号楼) and one of the drill's, each retested in a
    # single tube and found positive: a case sheet (流调) each.
    for n, key in enumerate(("a", "c"), 1):
        first = pools[key][0][:1]
        _positive_pool(commander, lab, lanes[key], f"21122590{n:02d}", f"BOX10{n}", first, [], 1)
    # No message reached anyone in time: everyone to tell is a door visit on the door list.
    telling.escalate_due(timezone.now() + clocks.TELL_WITHIN)
    world = World(town, communities, grids, buildings, live, drill, planned, lanes)
    world.users = {"commander": commander, "lab": lab}
    return world


def _pooled(buildings: dict[str, Building], key: str) -> list[Resident]:
    """The building's last household (told at the door, then sampled at the lane)."""
    return list(
        Resident.objects.filter(
            household__unit__building=buildings[key], household__room__endswith="202室"
        ).order_by("pk")
    )
