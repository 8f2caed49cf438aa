import pytest
from django.core.management import call_command
from django.utils import timezone

from doorstep.campaigns.models import (
    Campaign,
    CampaignBuilding,
    CampaignStatus,
    Zone,
    ZoneChange,
    ZoneWhy,
)
from doorstep.canvass.actions import team_of
from doorstep.canvass.models import BuildingTask, Coverage, FeedPost, TaskStatus
from doorstep.command import rounds, zoning
from doorstep.core import codes
from doorstep.core.demo_logins import DEMO_PASSWORD
from doorstep.core.idnumbers import normalise_resident_id
from doorstep.core.models import User
from doorstep.core.roles import Role
from doorstep.demo.town import TOWN, build_demo
from doorstep.lab.models import RetestOrder
from doorstep.sampling.models import Box, Scope, Site, Tally, Tube
from doorstep.sampling.queries import site_waits
from doorstep.territory.models import Building, Community, Resident, Town
from doorstep.workforce import queries
from doorstep.workforce.models import Batch, CallUp, Duty, SupportUnit, Team
from doorstep.workforce.queries import support_picture

pytestmark = pytest.mark.django_db


def test_the_demo_town_is_built_like_the_seed(capsys):
    result = build_demo(600, progress=lambda _line: None)
    town = Town.objects.get(name=TOWN)
    assert result.residents == Resident.objects.filter(town=town).count() == 600
    assert Community.objects.filter(town=town).count() == 12
    assert all(t.is_demo for t in Town.objects.all())
    walkups = Building.objects.filter(has_lift=False)
    towers = Building.objects.filter(has_lift=True)
    assert set(walkups.values_list("floors", flat=True)) == {6}
    assert all(18 <= f <= 33 for f in towers.values_list("floors", flat=True))
    for resident in Resident.objects.all()[:200]:
        assert normalise_resident_id(resident.id_number) == resident.id_number
        assert codes.is_valid(resident.person_code)
    assert {u.role for u in User.objects.all()} == set(Role.values)
    assert all(u.check_password(DEMO_PASSWORD) for u in User.objects.all())
    # Each unit belongs to its own town of the district.
    assert set(SupportUnit.objects.values_list("name", "town__name")) == {
        ("西营门街机关", "西营门街(演示)"),
        ("大寺镇机关", "大寺镇(演示)"),
        ("杨柳青镇机关", "杨柳青镇(演示)"),
        ("王稳庄镇机关", "王稳庄镇(演示)"),
        ("赤龙南街机关", "赤龙南街(演示)"),
    }

    board = queries.muster_board(CallUp.objects.get(batch__number=2, unit__name="杨柳青镇机关"))
    assert (board.asked, board.arrived, board.minutes_to_assemble) == (30, 28, 28)
    short = [
        s.missing for s in queries.lanes_status(town.pk) if s.lane.site.name.startswith("富锦园")
    ]
    assert short == [[], [], [], ["registrar"]]
    zones = set(CampaignBuilding.objects.values_list("zone", flat=True))
    assert zones == {Zone.SEALED, Zone.CONTROLLED, Zone.PREVENTION}


def test_the_demo_has_a_door_to_door_morning_behind_it():

    build_demo(2000, progress=lambda _line: None)
    leader = User.objects.get(username="leader")
    team = team_of(leader, Community.objects.get(name="阳光里社区").pk)
    assert team is not None and team.leader.user == leader
    done = BuildingTask.objects.filter(status=TaskStatus.DONE)
    assert done.exists() and FeedPost.objects.filter(kind="completed").count() == done.count()
    cov = Coverage.objects.get(community__name="阳光里社区", campaign__status="active")
    assert 0 < cov.covered <= cov.households and 0 < cov.sampled < cov.residents
    assert cov.buildings_claimed == min(3, cov.buildings - cov.buildings_done)


def test_the_demo_has_a_sampling_morning_at_the_site():

    build_demo(3000, progress=lambda _line: None)
    assert Tube.objects.filter(status="sealed").count() == 24
    assert set(Box.objects.values_list("code", "status")) == {
        ("BOX001", "received"),
        ("BOX002", "in_transit"),
        ("BOX003", "open"),
    }
    assert Tube.objects.filter(result="positive").count() == 1
    assert RetestOrder.objects.count() == 10
    campaign = Tally.objects.get(scope=Scope.CAMPAIGN)
    assert (campaign.people, campaign.boxes_in_transit, campaign.positive_pools) == (247, 1, 1)
    assert Tube.objects.get(status="open").member_count == 7
    # The queue the order keepers reported is a believable wait at the lanes' pace.

    site = Site.objects.get(name="富锦园广场采样点")
    wait = site_waits([site])[site.pk]
    assert wait.band in {"free", "busy"} and 10 <= (wait.minutes or 0) <= 45


@pytest.mark.django_db(transaction=True)  # flush cannot run inside the test's transaction
def test_running_the_demo_again_reuses_it_and_a_new_size_rebuilds_it(capsys):
    call_command("demo", residents=300, no_serve=True)
    first = capsys.readouterr().out
    codes_before = set(Resident.objects.values_list("person_code", flat=True))
    call_command("demo", residents=300, no_serve=True)
    second = capsys.readouterr().out
    assert "Built 300 residents" in first and "commander" in first and DEMO_PASSWORD in first
    assert "Reusing the demo" in second
    assert set(Resident.objects.values_list("person_code", flat=True)) == codes_before
    call_command("demo", residents=400, no_serve=True)
    assert "Rebuilding the demo" in capsys.readouterr().out
    assert Resident.objects.filter(town__name=TOWN).count() == 400


def test_the_demo_refuses_to_erase_a_database_that_is_not_the_demo(community, capsys):
    with pytest.raises(SystemExit):
        call_command("demo", residents=300, no_serve=True)
    assert "holds real towns" in capsys.readouterr().err
    assert Community.objects.filter(pk=community.pk).exists()


def test_the_demo_campaign_is_on_its_third_round_with_a_seal_and_a_lift():
    build_demo(1200, progress=lambda _line: None)
    statuses = dict(Campaign.objects.filter(town__name=TOWN).values_list("name", "status"))
    assert statuses == {
        "第1轮全员核酸检测(演示)": CampaignStatus.CLOSED,
        "第2轮全员核酸检测(演示)": CampaignStatus.CLOSED,
        "第3轮全员核酸检测(演示)": CampaignStatus.ACTIVE,
    }
    history = list(
        ZoneChange.objects.exclude(why=ZoneWhy.COMMANDER)
        .order_by("at")
        .values_list("why", "from_zone", "to_zone")
    )
    assert history == [
        (ZoneWhy.RESULT, Zone.CONTROLLED, Zone.SEALED),
        (ZoneWhy.RULE, Zone.SEALED, Zone.CONTROLLED),
    ]
    today = Campaign.objects.get(status=CampaignStatus.ACTIVE, town__name=TOWN)
    lifted = ZoneChange.objects.get(why=ZoneWhy.RULE).building_id
    # The rule agreed with the lift the demo made: a full round since the positive.
    before = Campaign.objects.get(name="第2轮全员核酸检测(演示)")
    [answer] = zoning.evidence(
        before,
        timezone.now(),
        communities=[Community.objects.get(name="和苑社区").pk],
        building_ids=[lifted],
    )
    assert (answer.zone, answer.last_round, answer.untested_last_round) == (
        Zone.SEALED,
        before.name,
        0,
    )
    assert answer.can_lift
    compared = rounds.by_community(
        today, list(Community.objects.filter(town=today.town).values_list("pk", flat=True))
    )
    assert all(r.previous == before and r.before is not None for r in compared)
    assert sum(r.before.tested for r in compared if r.before) > 0


def test_the_demo_district_is_the_founding_scene():
    build_demo(600, progress=lambda _line: None)
    town = Town.objects.get(name=TOWN)
    district = town.district
    assert district is not None and district.is_demo
    assert set(district.towns.values_list("name", flat=True)) == {
        TOWN, "西营门街(演示)", "大寺镇(演示)", "杨柳青镇(演示)", "王稳庄镇(演示)",
        "赤龙南街(演示)", "辛口镇(演示)",
    }  # fmt: skip
    # 杨柳青镇's first batch: all 80 there within 30 minutes of leaving; its second, four lanes.
    first = Batch.objects.get(quota__sending_town__name="杨柳青镇(演示)", number=1)
    line = queries.batch_lines(Batch.objects.filter(pk=first.pk))[0]
    assert (first.people, line.states, line.minutes_to_assemble) == (80, {"arrived": 80}, 28)
    second = Batch.objects.get(quota__sending_town__name="杨柳青镇(演示)", number=2)
    lanes = Team.objects.filter(callup__batch=second).exclude(lane=None)
    assert lanes.count() == 0  # teams are formed from the arrived, not per call-up
    on_lanes = Duty.objects.filter(
        ended_at__isnull=True, staff__musters__callup__batch=second, lane__isnull=False
    )
    assert on_lanes.values("lane").distinct().count() == 4 and on_lanes.count() == 28
    picture = support_picture(district.pk)
    by_town = {s.town: s for s in picture.by_sending}
    assert (by_town["赤龙南街(演示)"].returned, by_town["赤龙南街(演示)"].hours) == (30, 240.0)
    assert (by_town["大寺镇(演示)"].selected, by_town["大寺镇(演示)"].departed) == (30, 0)
    assert by_town["王稳庄镇(演示)"].arrived == 60
    assert picture.unaccounted == 80 + 40 + 82 + 30
    # The second town tests at the same time, and the district commander sees both.
    running = Campaign.objects.filter(status=CampaignStatus.ACTIVE, is_drill=False)
    assert set(running.values_list("town__name", flat=True)) == {TOWN, "辛口镇(演示)"}
    chief = User.objects.get(username="district")
    assert chief.district == district and chief.check_password(DEMO_PASSWORD)
    assert User.objects.get(username="sender").town.name == "杨柳青镇(演示)"
