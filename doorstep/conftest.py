"""Personas (fixtures) every app's tests share; the builders are in ``doorstep.testing``."""

from __future__ import annotations

import os
from typing import Any

import pytest
from django.test import testcases
from django.utils import translation
from playwright.sync_api import sync_playwright

from doorstep.api.actions import issue_token
from doorstep.campaigns.models import CampaignBuilding, PoolRule, Zone
from doorstep.canvass.models import BuildingTask
from doorstep.core import chromium
from doorstep.core.models import User
from doorstep.core.roles import Role
from doorstep.sampling import tally
from doorstep.smsgw.testing import kannel  # noqa: F401
from doorstep.territory.models import Community, Resident
from doorstep.testing import (
    make_building,
    make_campaign,
    make_community,
    make_door_team,
    make_household,
    make_lane,
    make_lane_team,
    make_resident,
    make_user,
)
from doorstep.testing.lanes import Device

_create_live_server = testcases.LiveServerThread._create_server  # type: ignore[attr-defined]


def _live_server_that_stops(
    self: testcases.LiveServerThread, connections_override: Any = None
) -> Any:
    """The live server's listening socket, with a timeout. It blocks in accept() when a
    connection its selector saw is gone before it is taken (Chromium dropping a speculative
    connection as it closes or goes offline), and shutting it down then waited for ever: a
    PostgreSQL run sat six minutes in the live server's teardown. With a timeout that accept
    gives up, and the server's loop sees the shutdown."""
    server = _create_live_server(self, connections_override=connections_override)
    server.socket.settimeout(1)
    return server


testcases.LiveServerThread._create_server = _live_server_that_stops  # type: ignore[attr-defined]


@pytest.fixture
def community(db) -> Community:  # type: ignore[no-untyped-def]
    return make_community()


@pytest.fixture
def other_community(db) -> Community:  # type: ignore[no-untyped-def]
    return make_community("和苑社区")


@pytest.fixture
def resident(community: Community) -> Resident:
    return make_resident(make_household(make_building(community)))


@pytest.fixture
def commander(community: Community) -> User:
    return make_user(Role.COMMANDER, town=community.town)


@pytest.fixture
def worker(community: Community) -> User:
    return make_user(Role.COMMUNITY_WORKER, community)


@pytest.fixture
def outsider(other_community: Community) -> User:
    """A community worker of another community: sees nothing of ours."""
    return make_user(Role.COMMUNITY_WORKER, other_community)


@pytest.fixture
def leader(community: Community) -> User:
    return make_user(Role.TEAM_LEADER, community)


@pytest.fixture
def canvasser(community: Community) -> User:
    return make_user(Role.CANVASSER, community)


@pytest.fixture
def registrar(community: Community) -> User:
    return make_user(Role.REGISTRAR, community)


@pytest.fixture
def lab(community: Community) -> User:
    return make_user(Role.LAB, town=community.town)


@pytest.fixture
def admin_user(community: Community) -> User:
    user = make_user(Role.ADMIN, town=community.town)
    user.is_staff = user.is_superuser = True
    user.save()
    return user


@pytest.fixture
def lane_world(community: Community, registrar: User, lab: User) -> dict[str, Any]:
    """A lane at 广场采样点 in a community with a controlled building (10 in 1) and a sealed
    one (one tube per household), a registrar with a token, and a lab receiver with one."""
    controlled = make_building(community, "12号楼", position=12)
    sealed = make_building(community, "13号楼", position=13)
    people = [
        make_resident(make_household(controlled, f"{floor}0{n}"), f"居民{floor}{n}")
        for floor in range(1, 5)
        for n in range(1, 4)
    ]
    home = make_household(sealed, "301")
    family = [make_resident(home, "王父"), make_resident(home, "王母")]
    neighbour = make_resident(make_household(sealed, "302"), "邻居")
    campaign = make_campaign(community)
    CampaignBuilding.objects.filter(campaign=campaign, building=controlled).update(
        zone=Zone.CONTROLLED, pool_rule=PoolRule.TEN
    )
    CampaignBuilding.objects.filter(campaign=campaign, building=sealed).update(
        zone=Zone.SEALED, pool_rule=PoolRule.HOUSEHOLD
    )
    lane = make_lane(community)
    # The registrar is on duty at the lane (a registrar scans only where on duty) and, for
    # tests that use the site's other lane, their device's token is given that lane too.
    make_lane_team(lane, registrar)
    other = lane.site.lanes.exclude(pk=lane.pk).first()
    return {
        "campaign": campaign,
        "lane": lane,
        "people": people,
        "family": family,
        "neighbour": neighbour,
        "registrar": Device(issue_token(registrar, lane=other)[1]),
        "registrar_user": registrar,
        "lab": Device(issue_token(lab)[1]),
    }


@pytest.fixture
def street(community: Community, leader: User) -> dict[str, Any]:
    """A round over one community, two door-to-door teams and their leaders. 12号楼: 4 households of 2 people (1单元 101/201, 2单元 101/201); 13号楼: 1 household."""
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


@pytest.fixture(scope="session")
def browser():  # type: ignore[no-untyped-def]
    """The system Chromium through Playwright. Missing is a failure, never a skip."""
    if not os.path.exists(chromium.PATH):
        pytest.fail(
            f"{chromium.PATH} is missing: install the Debian package 'chromium' (.ci/run does)."
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium.PATH, args=chromium.ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session", autouse=True)
def folding_thread_gone(django_db_setup):  # type: ignore[no-untyped-def]
    """The folding thread holds a connection until it leaves, idle; the test database is
    dropped only after it has (else PostgreSQL refuses: "being accessed by other users")."""
    yield
    tally.folder_gone()


@pytest.fixture(autouse=True)
def english():  # type: ignore[no-untyped-def]
    """Tests read messages in English; the Chinese catalogue has tests of its own."""
    with translation.override("en"):
        yield


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A skipped test fails the run: every part of the suite must run, on every database."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if reporter and skipped and exitstatus == 0:
        reporter.write_line(
            f"{len(skipped)} test(s) skipped: a part that cannot run fails the run.", red=True
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
