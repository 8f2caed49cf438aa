"""A district of two towns, each running a real round with a lane and a registrar's device, a
drill running beside them in a third community, and the district's commander."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from doorstep.api.actions import issue_token
from doorstep.campaigns.actions import create_campaign, start_round
from doorstep.core.models import User
from doorstep.core.roles import Role
from doorstep.territory.models import Community
from doorstep.testing import (
    make_building,
    make_campaign,
    make_community,
    make_district,
    make_household,
    make_lane,
    make_lane_team,
    make_resident,
    make_town,
    make_user,
)
from doorstep.testing.lanes import Device


def _people(community: Community, n: int, first: str) -> list[Any]:
    building = make_building(community, "1号楼")
    return [make_resident(make_household(building, f"{i + 1}01"), f"{first}{i}") for i in range(n)]


def _town_round(community: Community, people: int, first: str) -> dict[str, Any]:
    residents = _people(community, people, first)
    campaign = make_campaign(community, name=f"{community.town.name}第1轮")
    lane = make_lane(community)
    registrar = make_user(Role.REGISTRAR, community)
    make_lane_team(lane, registrar)
    device = Device(issue_token(registrar)[1])
    lab = Device(issue_token(make_user(Role.LAB, town=community.town))[1])
    return {
        "community": community,
        "campaign": campaign,
        "people": residents,
        "lane": lane,
        "device": device,
        "registrar": registrar,
        # What ``testing.lanes.post`` needs to box the town's tubes and post their results.
        "lab_world": {"lane": lane, "registrar": device, "lab": lab},
    }


@pytest.fixture
def district_world(db) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    district = make_district("西青区")
    zhongbei = _town_round(make_community("阳光里社区", make_town("中北镇", district)), 6, "中北")
    yangliu = _town_round(make_community("柳园社区", make_town("杨柳青镇", district)), 4, "杨柳")
    # A drill in a third community of 中北镇: it counts in no figure of the district.
    drill_community = make_community("演练社区", make_town("中北镇", district))
    drill_people = _people(drill_community, 3, "演练")
    drill = create_campaign(drill_community.town, "演练", communities=[drill_community], drill=True)
    start_round(None, drill, now=drill.starts_at)
    drill_lane = make_lane(drill_community)
    drill_registrar = make_user(Role.REGISTRAR, drill_community)
    make_lane_team(drill_lane, drill_registrar)
    return {
        "district": district,
        "zhongbei": zhongbei,
        "yangliu": yangliu,
        "drill": {
            "campaign": drill,
            "people": drill_people,
            "lane": drill_lane,
            "device": Device(issue_token(drill_registrar)[1]),
        },
    }


@pytest.fixture
def another_town(district_world: dict[str, Any]) -> Callable[[str], dict[str, Any]]:
    """Makes one more town of the district running a real round, as each town above (3 people)."""

    def make(name: str) -> dict[str, Any]:
        town = make_town(name, district_world["district"])
        return _town_round(make_community(f"{name}社区", town), 3, name)

    return make


@pytest.fixture
def chief(district_world: dict[str, Any]) -> User:
    """The district's commander."""
    return make_user(Role.DISTRICT_COMMANDER, district=district_world["district"])


@pytest.fixture
def town_commander(district_world: dict[str, Any]) -> User:
    """中北镇's own commander: the town, not the district."""
    return make_user(Role.COMMANDER, town=district_world["zhongbei"]["community"].town)


@pytest.fixture
def other_chief(db) -> User:  # type: ignore[no-untyped-def]
    """The commander of another district, with a town of its own running a round."""
    other = make_district("北辰区")
    community = make_community("北辰社区", make_town("北辰镇", other))
    _town_round(community, 2, "北辰")
    return make_user(Role.DISTRICT_COMMANDER, district=other)
