"""Staggered start times: the commander gives each community of a round its own start, or
spreads them from the round's start every few minutes in an order they choose; a time outside
the round is refused with the range; every change is audited like the round's other steps; a
town commander sets them in their own town only, a district commander in their district's."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from doorstep.campaigns import actions, queries
from doorstep.campaigns.actions import starts
from doorstep.campaigns.models import Campaign, CommunityStart
from doorstep.core.models import AuditAction, AuditEntry
from doorstep.core.roles import Role
from doorstep.territory.models import Community, Town
from doorstep.testing import (
    client_for,
    make_building,
    make_community,
    make_district,
    make_household,
    make_resident,
    make_user,
)

pytestmark = pytest.mark.django_db


def _eight_tomorrow() -> dt.datetime:
    day = timezone.localtime() + dt.timedelta(days=1)
    return day.replace(hour=8, minute=0, second=0, microsecond=0)


@pytest.fixture
def town_round(community: Community) -> Campaign:
    """A planned round over four communities of the town, from 08:00 tomorrow for 12 hours."""
    places = [community] + [
        make_community(name, community.town) for name in ("和苑社区", "新村社区", "东湖社区")
    ]
    for place in places:
        make_resident(make_household(make_building(place)))
    start = _eight_tomorrow()
    return actions.create_campaign(
        community.town,
        "第5轮",
        communities=places,
        starts_at=start,
        deadline=start + dt.timedelta(hours=12),
    )


def _ids(campaign: Campaign) -> dict[str, int]:
    return {
        r.name: r.community_id for r in queries.start_plan(campaign, Community.objects.all()).rows
    }


def _local(at: dt.datetime) -> str:
    return timezone.localtime(at).strftime("%Y-%m-%dT%H:%M")


def test_a_community_without_its_own_time_starts_with_the_round(town_round):
    plan = queries.start_plan(town_round, Community.objects.all())
    assert len(plan.rows) == 4
    assert {r.starts_at for r in plan.rows} == {town_round.starts_at}
    assert not any(r.own for r in plan.rows)
    assert set(starts.community_starts(town_round).values()) == {town_round.starts_at}


def test_the_commander_sets_a_communitys_start_on_the_round_page(town_round, commander):
    ids = _ids(town_round)
    at = town_round.starts_at + dt.timedelta(minutes=40)
    response = client_for(commander).post(
        reverse("campaigns:starts", args=[town_round.pk]),
        {f"start-{ids['和苑社区']}": _local(at)},
        follow=True,
    )
    page = response.content.decode()
    assert "Start times saved: 1 changed." in page
    row = CommunityStart.objects.get(campaign=town_round, community_id=ids["和苑社区"])
    assert row.starts_at == at
    # The round page lists it after the others, which start with the round.
    assert page.index("和苑社区") > page.index("阳光里社区")
    assert timezone.localtime(at).strftime("%m-%d %H:%M") in page
    # Emptied again: with the round.
    client_for(commander).post(reverse("campaigns:starts", args=[town_round.pk]), {})
    assert starts.community_starts(town_round)[ids["和苑社区"]] == town_round.starts_at


@pytest.mark.parametrize(
    "offset", [dt.timedelta(minutes=-1), dt.timedelta(hours=12)], ids=["before", "at_deadline"]
)
def test_a_time_outside_the_round_is_refused_with_the_rounds_range(town_round, commander, offset):
    ids = _ids(town_round)
    at = town_round.starts_at + offset
    response = client_for(commander).post(
        reverse("campaigns:starts", args=[town_round.pk]),
        {f"start-{ids['新村社区']}": _local(at), f"start-{ids['和苑社区']}": ""},
        follow=True,
    )
    page = response.content.decode()
    start = timezone.localtime(town_round.starts_at).strftime("%Y-%m-%d %H:%M")
    assert "新村社区" in page and "is outside the round" in page and start in page
    assert not CommunityStart.objects.exists()


def test_a_time_that_is_not_a_time_is_refused_saying_how_to_write_it(town_round, commander):
    ids = _ids(town_round)
    response = client_for(commander).post(
        reverse("campaigns:starts", args=[town_round.pk]),
        {f"start-{ids['新村社区']}": "明早八点"},
        follow=True,
    )
    assert "«明早八点» is not a time: write it as 2026-12-08 08:40." in response.content.decode()
    assert not CommunityStart.objects.exists()


def test_stagger_spreads_the_communities_every_n_minutes_in_the_order_given(town_round, commander):
    ids = _ids(town_round)
    order = ["东湖社区", "新村社区", "阳光里社区", "和苑社区"]
    data = {f"order-{ids[name]}": str(i) for i, name in enumerate(order, start=1)}
    response = client_for(commander).post(
        reverse("campaigns:stagger", args=[town_round.pk]), {**data, "every": "15"}, follow=True
    )
    assert "4 communities start 15 minutes apart." in response.content.decode()
    found = starts.community_starts(town_round)
    for i, name in enumerate(order):
        assert found[ids[name]] == town_round.starts_at + dt.timedelta(minutes=15 * i), name
    # The page shows them in that order now, numbered so the commander can change it.
    rows = queries.start_plan(town_round, Community.objects.all()).rows
    assert [r.name for r in rows] == order and [r.order for r in rows] == [1, 2, 3, 4]


def test_the_default_spread_covers_about_an_hour(town_round, commander):
    assert queries.default_every(4) == 20 and queries.default_every(13) == 5
    assert queries.default_every(1) == 60 and queries.default_every(200) == 1
    page = client_for(commander).get(reverse("campaigns:detail", args=[town_round.pk]))
    assert 'name="every" value="20"' in page.content.decode()


def test_a_stagger_that_would_end_after_the_deadline_is_refused(town_round, commander):
    ids = _ids(town_round)
    response = client_for(commander).post(
        reverse("campaigns:stagger", args=[town_round.pk]),
        {**{f"order-{c}": "1" for c in ids.values()}, "every": "240"},
        follow=True,
    )
    assert "after the round&#x27;s deadline" in response.content.decode()
    assert not CommunityStart.objects.exists()


def test_each_change_of_start_times_is_audited_as_a_step_of_the_round(town_round, commander):
    ids = list(_ids(town_round).values())
    starts.stagger(commander, town_round, ids, 10)
    entry = AuditEntry.objects.get(action=AuditAction.ROUND, object_id=str(town_round.pk))
    assert entry.user == commander and entry.detail["step"] == "start times"
    assert len(entry.detail["starts"]) == 3  # the first starts with the round, as before
    # The same times again change nothing and add no entry.
    starts.stagger(commander, town_round, ids, 10)
    assert AuditEntry.objects.filter(action=AuditAction.ROUND).count() == 1


def test_a_closed_rounds_start_times_no_longer_change(town_round, commander):
    actions.start_round(commander, town_round)
    actions.close_round(commander, town_round, confirmed=True)
    with pytest.raises(actions.CampaignError, match="closed"):
        starts.stagger(commander, town_round, list(_ids(town_round).values()), 10)


def test_a_district_commander_sets_the_times_of_a_town_of_their_district(town_round):
    district = make_district("西青区", town_round.town.name)
    chief = make_user(Role.DISTRICT_COMMANDER, district=district)
    ids = _ids(town_round)
    response = client_for(chief).post(
        reverse("campaigns:stagger", args=[town_round.pk]),
        {**{f"order-{c}": "1" for c in ids.values()}, "every": "5"},
    )
    assert response.status_code == 302
    assert CommunityStart.objects.filter(campaign=town_round).count() == 3


@pytest.mark.parametrize("name", ["campaigns:starts", "campaigns:stagger", "campaigns:announce"])
def test_a_town_commander_sets_times_only_in_their_own_town(town_round, name):
    elsewhere = make_user(Role.COMMANDER, town=Town.objects.create(name="远方镇"))
    response = client_for(elsewhere).post(reverse(name, args=[town_round.pk]), {"every": "5"})
    assert response.status_code == 404
    assert not CommunityStart.objects.exists()


@pytest.mark.parametrize("name", ["campaigns:starts", "campaigns:stagger", "campaigns:announce"])
def test_a_team_leader_sees_the_times_but_may_not_set_them(town_round, leader, name):
    page = client_for(leader).get(reverse("campaigns:detail", args=[town_round.pk]))
    assert "Start times by community" in page.content.decode()
    assert 'name="every"' not in page.content.decode()
    response = client_for(leader).post(reverse(name, args=[town_round.pk]), {"every": "5"})
    assert response.status_code == 403
    assert not CommunityStart.objects.exists()
