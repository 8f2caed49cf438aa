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
from doorstep.demo.town import build_demo
from doorstep.lab.models import RetestOrder
from doorstep.sampling.models import Box, Scope, Site, Tally, Tube
from doorstep.sampling.queries import site_waits
from doorstep.territory.models import Building, Community, Resident, Town
from doorstep.workforce import queries
from doorstep.workforce.models import CallUp, SupportUnit

pytestmark = pytest.mark.django_db


def test_the_demo_town_is_built_like_the_seed(capsys):
    result = build_demo(600, progress=lambda _line: None)
    assert result.residents == Resident.objects.count() == 600
    assert Community.objects.count() == 12
    assert Town.objects.get().is_demo
    walkups = Building.objects.filter(has_lift=False)
    towers = Building.objects.filter(has_lift=True)
    assert set(walkups.values_list("floors", flat=True)) == {6}
    assert all(18 <= f <= 33 for f in towers.values_list("floors", flat=True))
    for resident in Resident.objects.all()[:200]:
        assert normalise_resident_id(resident.id_number) == resident.id_number
        assert codes.is_valid(resident.person_code)
    assert {u.role for u in User.objects.all()} == set(Role.values)
    assert all(u.check_password(DEMO_PASSWORD) for u in User.objects.all())
    assert set(SupportUnit.objects.values_list("name", flat=True)) == {
        "西营门街",
        "大寺镇",
        "杨柳青镇",
        "王稳庄镇",
        "赤龙南街",
    }

    board = queries.muster_board(CallUp.objects.get(unit__name="杨柳青镇"))
    assert (board.asked, board.arrived, board.minutes_to_assemble) == (30, 28, 28)
    short = [
        s.missing
        for s in queries.lanes_status(Town.objects.get().pk)
        if s.lane.site.name.startswith("富锦园")
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
    assert Resident.objects.count() == 400


def test_the_demo_refuses_to_erase_a_database_that_is_not_the_demo(community, capsys):
    with pytest.raises(SystemExit):
        call_command("demo", residents=300, no_serve=True)
    assert "holds real towns" in capsys.readouterr().err
    assert Community.objects.filter(pk=community.pk).exists()


def test_the_demo_campaign_is_on_its_third_round_with_a_seal_and_a_lift():
    build_demo(1200, progress=lambda _line: None)
    statuses = dict(Campaign.objects.values_list("name", "status"))
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
    today = Campaign.objects.get(status=CampaignStatus.ACTIVE)
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
    compared = rounds.by_community(today, list(Community.objects.values_list("pk", flat=True)))
    assert all(r.previous == before and r.before is not None for r in compared)
    assert sum(r.before.tested for r in compared if r.before) > 0
