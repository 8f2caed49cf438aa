"""Home sampling: "needs home sampling" and a retest routed door to door become per-building
tasks a sampling team claims like a building (exclusive, leased), samples from its lane's scan
page, and closes; the command screen counts them; a household sampled at home leaves the
revisit list."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from doorstep.campaigns.actions import close_round, set_community_zone
from doorstep.campaigns.models import Zone
from doorstep.canvass import actions as canvass
from doorstep.canvass.models import BuildingTask, HouseholdState
from doorstep.canvass.outcomes import record
from doorstep.core.roles import Role
from doorstep.sampling import home
from doorstep.sampling.actions import home as home_actions
from doorstep.sampling.models import HomeStatus, HomeStop, HomeTask
from doorstep.testing import (
    client_for,
    make_campaign,
    make_door_team,
    make_lane_team,
    make_user,
    tap,
    valid_id,
)
from doorstep.testing.lanes import post, sealed_tube
from doorstep.testing.rosters import csv_bytes, row

pytestmark = pytest.mark.django_db


def needs_home(world, leader):  # type: ignore[no-untyped-def]
    """A door team finds the 王 family (13号楼 301, sealed zone) cannot come down."""
    campaign, family = world["campaign"], world["family"]
    make_door_team(family[0].community, "第2组", leader)
    task = BuildingTask.objects.get(campaign=campaign, building=family[0].household.unit.building)
    canvass.claim(leader, task)
    [answer] = record(leader, task, [tap(family[0].household, "home_sampling")])
    assert answer.status == "accepted"
    return HomeTask.objects.get(campaign=campaign, building=task.building)


def test_needs_home_sampling_puts_every_unsampled_member_on_the_buildings_task(lane_world, leader):
    task = needs_home(lane_world, leader)
    stops = list(home.waiting(task))
    assert {s.resident for s in stops} == set(lane_world["family"])
    assert {s.reason for s in stops} == {"home"} and task.status == HomeStatus.OPEN
    # Another outcome later (they came down after all): nobody waits any more.
    door = BuildingTask.objects.get(campaign=lane_world["campaign"], building=task.building)
    record(leader, door, [tap(lane_world["family"][0].household, "notified")])
    assert not home.waiting(task).exists()


def test_a_sampling_team_claims_samples_at_the_door_and_closes(lane_world, leader, registrar):
    task = needs_home(lane_world, leader)
    client = client_for(registrar)
    page = client.get(reverse("sampling:home_task", args=[task.pk])).content.decode()
    assert "2 people to sample" in page and "王父" not in page and "王*" in page
    client.post(reverse("sampling:home_claim", args=[task.pk]))
    task.refresh_from_db()
    assert (task.status, task.lane) == (HomeStatus.CLAIMED, lane_world["lane"])
    # Exclusive: another lane's team is told who holds it.
    rival = make_user(Role.REGISTRAR, lane_world["lane"].site.community)
    other = lane_world["lane"].site.lanes.exclude(pk=lane_world["lane"].pk).get()
    make_lane_team(other, rival, name="采样2组")
    response = client_for(rival).post(reverse("sampling:home_claim", args=[task.pk]), follow=True)
    assert (
        f"{lane_world['lane']} holds this building&#x27;s home sampling"
        in response.content.decode()
    )
    # Close refuses while people wait.
    refused = client.post(reverse("sampling:home_close", args=[task.pk]), follow=True)
    assert "2 people are still waiting" in refused.content.decode()
    page = client.get(reverse("sampling:home_task", args=[task.pk])).content.decode()
    assert reverse("sampling:lane", args=[lane_world["lane"].pk]) in page  # the scan page
    before = task.expires_at
    sealed_tube(lane_world["registrar"], lane_world["lane"], lane_world["family"], pool="household")
    assert not home.waiting(task).exists()
    task.refresh_from_db()
    assert task.expires_at > before  # sampling extends the lease
    state = HouseholdState.objects.get(household=lane_world["family"][0].household)
    assert state.all_sampled  # covered, and off the revisit list
    client.post(reverse("sampling:home_close", args=[task.pk]))
    task.refresh_from_db()
    assert task.status == HomeStatus.DONE and task.completed_at is not None


def test_a_door_to_door_retest_is_a_home_stop_a_correction_cancels(lane_world):
    campaign, people = lane_world["campaign"], lane_world["people"][:3]
    pool = sealed_tube(lane_world["registrar"], lane_world["lane"], people)
    post(lane_world, {"tube": pool.code, "result": "positive"})
    task = HomeTask.objects.get(campaign=campaign, building=people[0].household.unit.building)
    assert {(s.resident, s.reason) for s in home.waiting(task)} == {(p, "retest") for p in people}
    # The first person's single-tube retest answers their stop, and only theirs.
    sealed_tube(lane_world["registrar"], lane_world["lane"], people[:1], code="2112259001", pool=1)
    assert {s.resident for s in home.waiting(task)} == set(people[1:])
    post(
        lane_world,
        {"tube": pool.code, "result": "negative", "correction": True, "reason": "复核为阴性"},
    )
    assert not home.waiting(task).exists()
    assert HomeStop.objects.filter(task=task, cancelled_at__isnull=False).count() == 2


def test_an_unreadable_retest_puts_the_person_back_on_the_task(lane_world):
    campaign, person = lane_world["campaign"], lane_world["people"][0]
    pool = sealed_tube(lane_world["registrar"], lane_world["lane"], [person])
    post(lane_world, {"tube": pool.code, "result": "positive"})
    retest = sealed_tube(
        lane_world["registrar"], lane_world["lane"], [person], code="2112259001", pool=1
    )
    task = HomeTask.objects.get(campaign=campaign)
    assert not home.waiting(task).exists()
    post(lane_world, {"tube": retest.code, "result": "invalid"})
    assert [s.resident for s in home.waiting(task)] == [person]


def test_a_lapsed_claim_is_free_to_claim(lane_world, leader, registrar):
    task = needs_home(lane_world, leader)
    lane = lane_world["lane"]
    home_actions.claim(registrar, task, lane, timezone.now() - dt.timedelta(hours=3))
    other = lane.site.lanes.exclude(pk=lane.pk).get()
    assert home_actions.claim(registrar, task, other).lane == other


def test_the_command_screen_counts_people_waiting_at_home(lane_world, leader, commander):
    campaign = lane_world["campaign"]
    needs_home(lane_world, leader)
    pool = sealed_tube(lane_world["registrar"], lane_world["lane"], lane_world["people"][:3])
    post(lane_world, {"tube": pool.code, "result": "positive"})
    counts = home.counts(campaign.pk, timezone.now())
    assert (counts.waiting, counts.done, counts.buildings, counts.claimed) == (5, 0, 2, 0)
    tile = (
        client_for(commander)
        .get(reverse("command:panel", args=[campaign.pk, "clock"]))
        .content.decode()
    )
    assert 'data-testid="home-waiting">5<' in tile
    assert "waiting in 2 buildings (0 claimed)" in tile
    listing = client_for(commander).get(reverse("sampling:home")).content.decode()
    assert listing.count('data-status="open"') == 2


# A sealed building: everyone is sampled at their door -------------------------------------


def _seal(world, commander):  # type: ignore[no-untyped-def]
    """The commander seals the lane's community (both buildings) by hand."""
    campaign = world["campaign"]
    set_community_zone(
        commander, campaign, world["lane"].site.community, Zone.SEALED, note="发现阳性"
    )
    return HomeTask.objects.filter(campaign=campaign)


def test_a_sealed_building_becomes_a_home_task_household_by_household(
    lane_world, commander, registrar
):
    campaign, people = lane_world["campaign"], lane_world["people"]
    # Three of 12号楼's people were sampled at the lane before the seal: nobody goes for them.
    sealed_tube(lane_world["registrar"], lane_world["lane"], people[:3])
    tasks = _seal(lane_world, commander)
    b12 = people[0].household.unit.building
    task12 = tasks.get(building=b12)
    waiting = {s.resident for s in home.waiting(task12)}
    assert waiting == set(people[3:]) and {s.reason for s in home.waiting(task12)} == {"sealed"}
    # 13号楼 was already sealed (set in the fixture, not through a zone change): it has no stops
    # until its zone changes through the one place zones change.
    assert not tasks.filter(building=lane_world["family"][0].household.unit.building).exists()
    page = client_for(registrar).get(reverse("sampling:home")).content.decode()
    assert "12号楼" in page and ">9<" in page  # households waiting: 101-102 sampled… 9 left
    # One household sampled at home in its household tube leaves the list of the waiting.
    household = [p for p in people[3:] if p.household == people[3].household]
    sealed_tube(
        lane_world["registrar"], lane_world["lane"], household, code="2112259002", pool="household"
    )
    assert {s.resident for s in home.waiting(task12)} == set(people[3:]) - set(household)
    # The whole building sampled: it leaves the list, counted as finished.
    for n, person in enumerate(people[4:]):
        sealed_tube(
            lane_world["registrar"],
            lane_world["lane"],
            [person],
            code=f"21122591{n:02d}",
            pool="household",
        )
    assert not home.waiting(task12).exists()
    page = client_for(registrar).get(reverse("sampling:home")).content.decode()
    assert "12号楼" not in page and 'id="home-finished"' in page
    counts = home.counts(campaign.pk, timezone.now())
    assert (counts.waiting, counts.done) == (0, 9)


def test_lifting_the_seal_cancels_who_still_waits_and_sealing_again_brings_them_back(
    lane_world, commander
):
    campaign, people = lane_world["campaign"], lane_world["people"]
    task = _seal(lane_world, commander).get(building=people[0].household.unit.building)
    assert home.waiting(task).count() == 12
    set_community_zone(
        commander, campaign, lane_world["lane"].site.community, Zone.CONTROLLED, note="复核阴性"
    )
    assert not home.waiting(task).exists()
    _seal(lane_world, commander)
    assert home.waiting(task).count() == 12
    assert HomeStop.objects.filter(task=task).count() == 12  # the same stops, not new ones


def test_a_positive_that_seals_a_building_sends_sampling_to_its_doors(lane_world):
    people = lane_world["people"]
    pool = sealed_tube(lane_world["registrar"], lane_world["lane"], people[:1], pool=1)
    post(lane_world, {"tube": pool.code, "result": "positive"})
    task = HomeTask.objects.get(
        campaign=lane_world["campaign"], building=people[0].household.unit.building
    )
    reasons = {(s.resident, s.reason) for s in home.waiting(task)}
    # A single tube positive is a case, not a retest; the building's other 11 wait as sealed.
    assert reasons == {(p, "sealed") for p in people[1:]}


def test_a_new_round_over_a_sealed_building_starts_with_its_home_task(lane_world, commander):
    _seal(lane_world, commander)
    community = lane_world["lane"].site.community
    close_round(commander, lane_world["campaign"], confirmed=True)
    second = make_campaign(community, name="第2轮")
    assert {t.building.name for t in HomeTask.objects.filter(campaign=second)} == {
        "12号楼",
        "13号楼",
    }
    assert HomeStop.objects.filter(campaign_id=second.pk, reason="sealed").count() == 15


def test_needs_home_in_a_sealed_building_outlives_the_seal_and_counts_once(
    lane_world, commander, leader
):
    community = lane_world["lane"].site.community
    # The fixture wrote 13号楼's seal into the row; sealed through the one place zones change:
    set_community_zone(commander, lane_world["campaign"], community, Zone.CONTROLLED, note="x")
    _seal(lane_world, commander)
    task = needs_home(lane_world, leader)
    family = set(lane_world["family"])
    reasons = {(s.resident, s.reason) for s in home.waiting(task) if s.resident in family}
    assert reasons == {(p, r) for p in family for r in ("sealed", "home")}
    [listed] = home.tasks(HomeTask.objects.filter(pk=task.pk))
    assert listed.people_waiting == 3  # 王父, 王母 and the neighbour: people, not stops
    assert home.counts(lane_world["campaign"].pk, timezone.now()).waiting == 15
    # The seal lifted: the bedridden family still waits, for their own reason.
    set_community_zone(
        commander,
        lane_world["campaign"],
        lane_world["lane"].site.community,
        Zone.CONTROLLED,
        note="复核阴性",
    )
    assert {(s.resident, s.reason) for s in home.waiting(task)} == {(p, "home") for p in family}


def test_a_household_found_moved_out_leaves_the_sealed_buildings_list(
    lane_world, commander, leader
):
    campaign, people = lane_world["campaign"], lane_world["people"]
    task = _seal(lane_world, commander).get(building=people[0].household.unit.building)
    household = people[0].household
    make_door_team(household.unit.building.community, "第2组", leader)
    door = BuildingTask.objects.get(campaign=campaign, building=household.unit.building)
    canvass.claim(leader, door)
    record(leader, door, [tap(household, "moved_out")])
    gone = [p for p in people if p.household == household]
    assert not home.waiting(task).filter(resident__in=gone).exists()
    assert home.waiting(task).count() == 12 - len(gone)
    # They were there after all: they wait at their door again.
    record(leader, door, [tap(household, "notified")])
    assert home.waiting(task).filter(resident__in=gone).count() == len(gone)


def test_residents_imported_into_a_sealed_building_wait_at_their_door(
    lane_world, commander, worker
):
    people = lane_world["people"]
    task = _seal(lane_world, commander).get(building=people[0].household.unit.building)
    rows = [
        row(n, 楼栋="12号楼", 房号="501", 证件号码=valid_id(7000 + n), 姓名=f"新住户{n}")
        for n in range(2)
    ]
    upload = SimpleUploadedFile("roster.csv", csv_bytes(rows), content_type="text/csv")
    answer = client_for(worker).post(
        reverse("territory:roster_upload"),
        {"town": lane_world["lane"].site.community.town.name, "file": upload},
    )
    assert answer.status_code == 200, answer.content.decode()[:500]
    assert home.waiting(task).filter(household__room="501").count() == 2
    assert home.waiting(task).count() == 14
