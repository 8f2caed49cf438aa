"""The door-to-door tap bench's side inside the database (run in ``doorstep shell`` by
``bench/taps.py``): the teams and buildings it taps on, and the checks after the run.

The demo's four door-to-door teams already hold buildings in one community; the bench makes a
team of its own for every connection of every phase (a team holds one building at a time), each
led by a team leader with the demo password, on duty in the community of the building it will
tap: the largest buildings nobody has claimed, so that a phase taps each household about once.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import transaction
from django.utils import timezone

from doorstep.canvass import counters
from doorstep.canvass.models import BuildingTask, Coverage, TaskStatus, Visit
from doorstep.core.models import User
from doorstep.core.roles import Role
from doorstep.sampling.models import TallyMove
from doorstep.territory.models import Household
from doorstep.workforce import actions as workforce
from doorstep.workforce.actions import new_worker_code
from doorstep.workforce.models import Purpose, Staff, SupportUnit

PREFIX = "tapbench"
TASK_FIGURES = (
    "status",
    "households",
    "residents",
    "sampled",
    "covered",
    "with_outcome",
    "notified",
    "nobody_home",
    "exempt",
)
COVERAGE_FIGURES = (
    "buildings",
    "buildings_claimed",
    "buildings_done",
    "households",
    "residents",
    "sampled",
    "covered",
    "with_outcome",
    "notified",
    "exempt",
    "revisits",
    "phone_calls",
)


def _team(n: int, task: BuildingTask, password: str) -> str:
    community = task.community
    unit = SupportUnit.objects.get_or_create(town=community.town, name="压测支援队")[0]
    # Phones of a range no demo person has (unique within a town).
    people = [
        Staff.objects.create(
            unit=unit,
            town_id=unit.town_id,
            name=f"压测队员{n}-{k}",
            phone=f"1370{n:05d}{k:02d}",
            skills=",canvasser,",
            worker_code=new_worker_code(),
        )
        for k in range(2)
    ]
    callup = workforce.create_callup(
        None,
        unit,
        named=people,
        purpose=Purpose.DOOR_TO_DOOR,
        community=community,
        muster_point="压测集合点",
        muster_at=timezone.now(),
    )
    for person in people:
        workforce.check_in(None, callup, person.worker_code)
    team = workforce.form_team(None, community.town, f"压测第{n + 1}组", people[0], people)
    workforce.assign_team(None, team, community=community)
    user = User.objects.create(
        username=f"{PREFIX}{n}", role=Role.TEAM_LEADER, town=community.town, password=password
    )
    user.communities.set([community])
    people[0].user = user
    people[0].save(update_fields=["user"])
    return user.username


def setup(teams: int) -> None:
    """Print, as JSON, one leader per team with the building it is to claim and the building's
    households in the order a team walks them (unit, floor, room)."""
    password = User.objects.get(username="leader").password  # the demo password, hashed once
    tasks = list(
        BuildingTask.objects.filter(campaign__status="active", status=TaskStatus.OPEN)
        .select_related("community__town")
        .order_by("-households", "pk")[:teams]
    )
    if len(tasks) < teams:
        raise SystemExit(f"the demo has {len(tasks)} open buildings; {teams} are needed")
    found = []
    for n, task in enumerate(tasks):
        households = list(
            Household.objects.filter(unit__building_id=task.building_id)
            .order_by("unit__name", "floor", "room")
            .values_list("pk", flat=True)
        )
        found.append({"user": _team(n, task, password), "task": task.pk, "households": households})
    print(json.dumps(found))


def _figures() -> dict[str, list[Any]]:
    tasks = BuildingTask.objects.filter(campaign__status="active").order_by("pk")
    coverage = Coverage.objects.filter(campaign__status="active").order_by("pk")
    return {
        "tasks": [list(row) for row in tasks.values_list("pk", *TASK_FIGURES)],
        "coverage": [list(row) for row in coverage.values_list("pk", *COVERAGE_FIGURES)],
    }


def check(tasks: list[int]) -> None:
    """Print, as JSON: the bench's tasks that are not claimed, the visits its leaders recorded,
    the moves left to fold, and every counter of the running rounds that differs from
    ``counters.recount`` (the recount is rolled back: the check changes nothing)."""
    unclaimed = list(
        BuildingTask.objects.filter(pk__in=tasks)
        .exclude(status=TaskStatus.CLAIMED)
        .values_list("pk", flat=True)
    )
    visits = Visit.objects.filter(recorded_by__username__startswith=PREFIX).count()
    before = _figures()
    with transaction.atomic():
        for campaign_id in (
            BuildingTask.objects.filter(campaign__status="active")
            .values_list("campaign_id", flat=True)
            .distinct()
        ):
            buildings = BuildingTask.objects.filter(campaign_id=campaign_id).values_list(
                "building_id", flat=True
            )
            counters.recount(campaign_id, list(buildings))
        after = _figures()
        transaction.set_rollback(True)
    differ = {
        name: [[old, new] for old, new in zip(before[name], after[name], strict=True) if old != new]
        for name in before
    }
    print(
        json.dumps(
            {
                "unclaimed": unclaimed,
                "visits": visits,
                "moves": TallyMove.objects.count(),
                "differ": {name: rows[:5] for name, rows in differ.items() if rows},
            }
        )
    )
