"""Simulated residents at a real lane in a drill: the feeder shows who would be waiting now at
the plan's pace; a person leaves it once the real lane has sampled them; a real round has no
feeder; opening it is audited as a code sheet."""

import datetime as dt
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from doorstep.campaigns.actions import close_round, create_campaign, start_round
from doorstep.campaigns.models import Campaign
from doorstep.core.models import AuditEntry
from doorstep.core.roles import Role
from doorstep.sampling import ingest
from doorstep.simulate import day
from doorstep.simulate.feeder import feeder
from doorstep.territory.models import Building, Grid
from doorstep.testing import (
    client_for,
    make_building,
    make_campaign,
    make_community,
    make_household,
    make_lane,
    make_lane_team,
    make_resident,
    make_user,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def drill(community, registrar):
    building = make_building(community, "5号楼")
    for n in range(40):
        make_resident(make_household(building, f"{1 + n // 4}0{1 + n % 4}"), f"居民{n}")
    campaign = create_campaign(community.town, "演练", communities=[community], drill=True)
    start_round(None, campaign, now=campaign.starts_at)
    # An hour into the round: 40 x 0.8 come over 5.5 h, so about 6 have come.
    Campaign.objects.filter(pk=campaign.pk).update(starts_at=timezone.now() - dt.timedelta(hours=1))
    campaign.refresh_from_db()
    lane = make_lane(community, lanes=1)
    make_lane_team(lane, registrar)
    return campaign, lane


def test_the_feeder_shows_who_would_be_waiting_at_the_plans_pace(drill, commander):
    campaign, lane = drill
    b = day.Behaviour()
    expected = round(40 * b.own_share * 1 / b.arrival_hours)
    found = feeder(campaign, lane, timezone.now())
    assert (found.people, found.arrived, found.waiting) == (40, expected, expected)
    page = client_for(commander).get(reverse("simulate:feeder", args=[campaign.pk, lane.pk]))
    html = page.content.decode()
    assert page.status_code == 200 and html.count("<svg") == expected
    assert f'id="waiting">{expected}<' in html and "居*" in html and "居民1" not in html
    assert AuditEntry.objects.filter(object_type="drill_lane", object_id=str(lane.pk)).exists()


def test_a_person_the_lane_has_sampled_leaves_the_feeder(drill, registrar):
    campaign, lane = drill
    first = feeder(campaign, lane, timezone.now()).next[0]
    now = timezone.now().isoformat()
    events = [
        {
            "id": str(uuid.uuid4()),
            "type": "tube.open",
            "at": now,
            "lane": lane.code,
            "tube": "2112250001",
            "pool": "10",
        },
        {
            "id": str(uuid.uuid4()),
            "type": "tube.add",
            "at": now,
            "tube": "2112250001",
            "person": first.person_code,
        },
    ]
    assert [a["status"] for a in ingest.apply(registrar, events)] == ["accepted", "accepted"]
    after = feeder(campaign, lane, timezone.now())
    assert first not in after.next and after.sampled == 1
    assert after.waiting == after.arrived - 1


def test_a_real_round_has_no_feeder(community, commander):
    make_building(community)
    real = make_campaign(community)
    lane = make_lane(community, "真实采样点", lanes=1)
    response = client_for(commander).get(reverse("simulate:feeder", args=[real.pk, lane.pk]))
    assert response.status_code == 404


def test_a_drills_pace_page_links_each_lane_to_its_feeder(drill, commander):
    campaign, lane = drill
    html = client_for(commander).get(reverse("simulate:pace", args=[campaign.pk])).content.decode()
    assert reverse("simulate:feeder", args=[campaign.pk, lane.pk]) in html


def test_a_feeder_serves_only_the_lanes_of_a_drill_while_it_runs(drill, community, commander):
    """A code scanned from the screen is recorded in whatever round runs at that lane: the
    feeder serves no lane of a community outside the drill, and no drill before or after."""
    campaign, lane = drill
    client = client_for(commander)
    elsewhere = make_community("和苑社区")
    make_building(elsewhere, "1号楼")
    make_campaign(elsewhere)  # the real round runs there
    real_lane = make_lane(elsewhere, "和苑采样点", lanes=1)
    assert client.get(reverse("simulate:feeder", args=[campaign.pk, lane.pk])).status_code == 200
    assert (
        client.get(reverse("simulate:feeder", args=[campaign.pk, real_lane.pk])).status_code == 404
    )
    planned = create_campaign(community.town, "演练2", communities=[elsewhere], drill=True)
    assert (
        client.get(reverse("simulate:feeder", args=[planned.pk, real_lane.pk])).status_code == 404
    )
    close_round(None, campaign, confirmed=True)
    assert client.get(reverse("simulate:feeder", args=[campaign.pk, lane.pk])).status_code == 404


def test_every_view_of_the_feeder_is_audited_the_screens_polls_included(drill, commander):
    campaign, lane = drill
    client = client_for(commander)
    url = reverse("simulate:feeder", args=[campaign.pk, lane.pk])
    client.get(url)
    fragment = client.get(url, headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "data-drill" in fragment.content.decode()
    assert AuditEntry.objects.filter(object_type="drill_lane", object_id=str(lane.pk)).count() == 2


def test_a_grid_workers_feeder_shows_only_her_grids_people(drill, community):
    campaign, lane = drill
    grid = Grid.objects.create(community=community, name="第一网格")
    mine = make_building(community, "6号楼")
    Building.objects.filter(pk=mine.pk).update(grid=grid)
    gridder = make_user(Role.COMMUNITY_WORKER, community)
    gridder.grids.set([grid])
    her = [make_resident(make_household(mine, f"10{n}"), f"网格{n}") for n in range(1, 9)]
    page = client_for(gridder).get(reverse("simulate:feeder", args=[campaign.pk, lane.pk]))
    assert page.context["feeder"].people == len(her)
    assert {r.pk for r in page.context["feeder"].next} <= {r.pk for r in her}
