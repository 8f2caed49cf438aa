"""A campaign over one community of two buildings, two door-to-door teams and their leaders."""

from __future__ import annotations

import uuid

import pytest

from doorstep.canvass.models import BuildingTask
from doorstep.canvass.outcomes import Tap
from doorstep.conftest import (
    make_building,
    make_campaign,
    make_door_team,
    make_household,
    make_resident,
    make_user,
)
from doorstep.core.roles import Role
from doorstep.sampling.tests.conftest import lane_world  # noqa: F401 - a round with a lane


@pytest.fixture
def street(community, leader):  # type: ignore[no-untyped-def]
    """12号楼: 4 households of 2 people (1单元 101/201, 2单元 101/201); 13号楼: 1 household."""
    b12 = make_building(community, "12号楼", position=12)
    b13 = make_building(community, "13号楼", position=13)
    b11 = make_building(community, "11号楼", position=11)
    households = [
        make_household(b12, room, unit) for unit in ("1单元", "2单元") for room in ("101", "201")
    ]
    for h in households:
        make_resident(h, "张伟")
        make_resident(h, "李娜")
    make_resident(make_household(b13, "101"), "王芳")
    make_resident(make_household(b11, "101"), "赵敏")
    campaign = make_campaign(community)
    rival_leader = make_user(Role.TEAM_LEADER, community)
    return {
        "campaign": campaign,
        "task": BuildingTask.objects.get(campaign=campaign, building=b12),
        "task13": BuildingTask.objects.get(campaign=campaign, building=b13),
        "task11": BuildingTask.objects.get(campaign=campaign, building=b11),
        "households": households,
        "team": make_door_team(community, "杨柳青镇第2组", leader),
        "rival": make_door_team(community, "精武镇第3组", rival_leader),
        "rival_leader": rival_leader,
    }


def tap(household, outcome: str = "notified", **fields: str) -> Tap:  # type: ignore[no-untyped-def]
    return Tap(id=str(uuid.uuid4()), household=household.pk, outcome=outcome, **fields)
