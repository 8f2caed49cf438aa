"""Late arrivals join the running round: a roster imported while a round runs adds its
buildings, households and residents to the round (tasks, counters, coverage, the untested
list) in the import's transaction; moved-out residents leave it; and the counters the actions
keep by deltas always equal a recount from the rows."""

from __future__ import annotations

import pytest
from django.urls import reverse

from doorstep.campaigns.actions import set_community_zone
from doorstep.campaigns.models import CampaignBuilding, Zone
from doorstep.canvass import actions, counters, queries
from doorstep.canvass.models import BuildingTask, Coverage
from doorstep.canvass.outcomes import record
from doorstep.command import public
from doorstep.sampling import home
from doorstep.sampling.models import HomeTask
from doorstep.territory.actions import import_roster
from doorstep.territory.models import Resident
from doorstep.testing import client_for, make_door_team, tap, valid_id
from doorstep.testing.lanes import sealed_tube
from doorstep.testing.rosters import csv_bytes

pytestmark = pytest.mark.django_db

HEADER = ["社区", "楼栋", "单元", "房号", "姓名", "证件号码", "已迁出"]
TASK_FIELDS = ["households", "residents", "covered", "with_outcome", "notified"]
TASK_FIELDS += ["nobody_home", "sampled", "exempt"]
COVERAGE_FIELDS = ["buildings", "buildings_claimed", "buildings_done", "households"]
COVERAGE_FIELDS += ["with_outcome", "covered", "notified", "revisits", "phone_calls"]
COVERAGE_FIELDS += ["residents", "sampled", "exempt"]


def roster(*rows: tuple[str, str, str, str, str, str]) -> bytes:
    return csv_bytes([list(r) for r in rows], header=HEADER)


def snapshot(campaign):  # type: ignore[no-untyped-def]
    tasks = {
        t.building_id: tuple(getattr(t, f) for f in TASK_FIELDS)
        for t in BuildingTask.objects.filter(campaign=campaign)
    }
    coverage = {
        c.community_id: tuple(getattr(c, f) for f in COVERAGE_FIELDS)
        for c in Coverage.objects.filter(campaign=campaign)
    }
    return tasks, coverage


def figures(campaign, community, commander):  # type: ignore[no-untyped-def]
    """The untested figure wherever it is shown: the counter, the list, the community page,
    the dashboard and the daily report."""
    cov = Coverage.objects.get(campaign=campaign, community=community)
    listed = queries.untested(campaign.pk, community_id=community.pk).count()
    client = client_for(commander)
    page = client.get(reverse("canvass:community", args=[campaign.pk, community.pk])).content
    board = client.get(reverse("command:panel", args=[campaign.pk, "clock"])).content
    report = client.get(reverse("command:report", args=[campaign.pk])).content
    return {
        "counter": cov.untested,
        "list": listed,
        "page": f"Untested list ({cov.untested})".encode() in page,
        "board": f'data-testid="untested">{cov.untested}<'.encode() in board,
        "report": f'<th>Untested</th><td class="num">{cov.untested}</td>'.encode() in report,
    }


def test_a_building_imported_during_the_round_joins_it(lane_world, commander):
    campaign, community = lane_world["campaign"], lane_world["lane"].site.community
    CampaignBuilding.objects.filter(campaign=campaign).update(zone=Zone.CONTROLLED)
    before = Coverage.objects.get(campaign=campaign, community=community)
    newcomer = valid_id()
    report = import_roster(
        "中北镇",
        roster(
            ("阳光里社区", "20号楼", "1单元", "101", "新住户甲", newcomer, ""),
            ("阳光里社区", "20号楼", "1单元", "102", "新住户乙", valid_id(), "否"),
            ("阳光里社区", "12号楼", "1单元", "501", "搬来的人", valid_id(), ""),
        ),
    )
    assert report.ok, report.errors
    task = BuildingTask.objects.get(campaign=campaign, building__name="20号楼")
    assert (task.households, task.residents, task.status) == (2, 2, "open")
    zone = CampaignBuilding.objects.get(campaign=campaign, building=task.building).zone
    assert zone == Zone.CONTROLLED  # zoned as the rest of its community
    after = Coverage.objects.get(campaign=campaign, community=community)
    assert (after.buildings, after.households, after.residents) == (
        before.buildings + 1,
        before.households + 3,
        before.residents + 3,
    )
    # A team can claim it like any other building.
    assert task in actions.nearest_open(community, campaign.pk)
    shown = figures(campaign, community, commander)
    assert shown == {
        "counter": after.residents,
        "list": after.residents,
        **{k: True for k in ("page", "board", "report")},
    }
    # A newcomer sampled at the lane is in the round: the look-up finds it.
    person = Resident.objects.get(id_number=newcomer)
    sealed_tube(lane_world["registrar"], lane_world["lane"], [person], pool=1)
    found = public.look_up(person.person_code, person.id_number[-6:], "10.8.0.1")
    assert (found.error, found.state) == ("", "waiting")
    assert figures(campaign, community, commander)["counter"] == after.residents - 1


def test_moved_out_residents_leave_the_round(lane_world, commander):
    campaign, community = lane_world["campaign"], lane_world["lane"].site.community
    leaving, sampled_then_left = lane_world["people"][0], lane_world["people"][1]
    sealed_tube(lane_world["registrar"], lane_world["lane"], [sampled_then_left], pool=1)
    before = Coverage.objects.get(campaign=campaign, community=community)
    rows = [
        (
            "阳光里社区",
            "12号楼",
            "1单元",
            p.household.room,
            p.name,
            p.id_number,
            "是",
        )
        for p in (leaving, sampled_then_left)
    ]
    assert import_roster("中北镇", roster(*rows)).ok
    after = Coverage.objects.get(campaign=campaign, community=community)
    assert (after.residents, after.sampled) == (before.residents - 2, before.sampled - 1)
    assert after.untested == before.untested - 1
    shown = figures(campaign, community, commander)
    assert shown["counter"] == shown["list"] == after.untested
    assert all(shown[k] for k in ("page", "board", "report"))


def test_a_household_found_moved_out_at_the_door_leaves_and_can_come_back(street, leader):
    campaign, household = street["campaign"], street["households"][0]
    actions.claim(leader, street["task"])
    before = Coverage.objects.get(campaign=campaign)
    record(leader, street["task"], [tap(household, "moved_out")])
    gone = Coverage.objects.get(campaign=campaign)
    assert (gone.residents, gone.covered) == (before.residents - 2, before.covered + 1)
    assert not queries.untested(campaign.pk, building_id=household.unit.building_id).filter(
        household=household
    )
    record(leader, street["task"], [tap(household, "notified")])  # it was a mistake
    back = Coverage.objects.get(campaign=campaign)
    assert (back.residents, back.covered) == (before.residents, before.covered + 1)


def test_the_counters_always_equal_a_recount_from_the_rows(lane_world, leader):
    campaign = lane_world["campaign"]
    community = lane_world["lane"].site.community
    make_door_team(community, "第2组", leader)
    tasks = {t.building.name: t for t in BuildingTask.objects.filter(campaign=campaign)}
    actions.claim(leader, tasks["12号楼"])
    people = lane_world["people"]
    households = [p.household for p in people[::3]]
    record(
        leader,
        tasks["12号楼"],
        [
            tap(households[0], "notified"),
            tap(households[1], "nobody_home"),
            tap(households[2], "exempt", exempt_reason="isolating"),
            tap(households[3], "refused"),
        ],
    )
    record(leader, tasks["12号楼"], [tap(households[1], "nobody_home")])
    sealed_tube(lane_world["registrar"], lane_world["lane"], people[:6])
    sealed_tube(
        lane_world["registrar"],
        lane_world["lane"],
        lane_world["family"],
        code="2112250002",
        pool="household",
    )
    assert import_roster(
        "中北镇", roster(("阳光里社区", "12号楼", "1单元", "101", "新生儿", valid_id(), ""))
    ).ok
    kept = snapshot(campaign)
    counters.recount(campaign.pk, list(tasks[n].building_id for n in tasks))
    assert snapshot(campaign) == kept


def test_a_building_imported_into_a_sealed_community_waits_at_its_doors(lane_world, commander):
    campaign, community = lane_world["campaign"], lane_world["lane"].site.community
    set_community_zone(commander, campaign, community, Zone.CONTROLLED, note="x")
    set_community_zone(commander, campaign, community, Zone.SEALED, note="发现阳性")
    report = import_roster(
        "中北镇",
        roster(
            ("阳光里社区", "20号楼", "1单元", "101", "新住户甲", valid_id(), ""),
            ("阳光里社区", "20号楼", "1单元", "102", "新住户乙", valid_id(), ""),
        ),
    )
    assert report.ok, report.errors
    building = CampaignBuilding.objects.get(campaign=campaign, building__name="20号楼")
    assert building.zone == Zone.SEALED
    task = HomeTask.objects.get(campaign=campaign, building=building.building)
    assert home.waiting(task).count() == 2
