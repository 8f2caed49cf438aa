"""A drill runs like a real round, and nothing of it reaches a real one: not the zones it set, not
its positives, not the people it sampled or missed, not the residents' public pages."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from doorstep.campaigns import actions, queries
from doorstep.campaigns.models import Campaign, CampaignBuilding, Zone
from doorstep.canvass.queries import untested_twice
from doorstep.command import dashboard, public, rounds, zoning
from doorstep.sampling.actions import record_sampled
from doorstep.testing import (
    client_for,
    make_building,
    make_household,
    make_lane,
    make_resident,
    valid_id,
)

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)


def _round(community, name, starts_at, *, drill=False):  # type: ignore[no-untyped-def]
    campaign = actions.create_campaign(
        community.town, name, communities=[community], starts_at=starts_at, drill=drill
    )
    actions.start_round(None, campaign, now=starts_at)
    return campaign


@pytest.fixture
def days(community):  # type: ignore[no-untyped-def]
    """Round 1 (real, closed) sampled the first two of four; then a drill sampled the other
    two and found a positive that sealed the building; then round 2 (real) starts."""
    building = make_building(community, "1号楼")
    people = [
        make_resident(make_household(building, f"10{n}"), f"居民{n}", id_number=valid_id(700 + n))
        for n in range(4)
    ]
    start = dt.datetime(2026, 12, 1, 7, tzinfo=dt.UTC)
    first = _round(community, "第1轮", start)
    record_sampled(first.pk, people[:2], start + dt.timedelta(hours=1))
    actions.close_round(None, first, confirmed=True, now=start + dt.timedelta(hours=12))
    drill = _round(community, "演练", start + DAY, drill=True)
    record_sampled(drill.pk, people[2:], start + DAY + dt.timedelta(hours=1))
    actions.positive_found(
        drill.pk, [building.pk], "DRILL0001", start + DAY + dt.timedelta(hours=5)
    )
    drill_zone = CampaignBuilding.objects.get(campaign=drill, building=building).zone
    actions.close_round(None, drill, confirmed=True, now=start + DAY + dt.timedelta(hours=12))
    second = _round(community, "第2轮", start + 2 * DAY)
    return {
        "building": building,
        "people": people,
        "first": first,
        "drill": drill,
        "second": second,
        "drill_zone": drill_zone,
    }


def test_a_drill_sets_its_own_zones_and_they_carry_nowhere(days) -> None:  # type: ignore[no-untyped-def]
    assert days["drill_zone"] == Zone.SEALED  # the drill's positive worked in the drill
    zone = CampaignBuilding.objects.get(campaign=days["second"], building=days["building"]).zone
    assert zone == Zone.PREVENTION


def test_the_real_round_before_is_the_real_one(days) -> None:  # type: ignore[no-untyped-def]
    community_id = days["building"].community_id
    assert queries.previous_round(days["second"], community_id) == days["first"]
    # The drill's own previous round is no real one.
    assert queries.previous_round(days["drill"], community_id) is None
    [row] = rounds.by_community(days["second"], [community_id])
    assert row.previous == days["first"] and row.before is not None and row.before.tested == 2


def test_nobody_is_untested_twice_because_of_a_drill(days) -> None:  # type: ignore[no-untyped-def]
    community_id = days["building"].community_id
    before = queries.previous_round(days["second"], community_id)
    assert before is not None
    twice = untested_twice(days["second"].pk, before.pk, community_id=community_id)
    # Round 2 has sampled nobody yet: those untested in round 1 (the last two) are untested
    # twice; the drill, which sampled them, does not count for them.
    assert sorted(r.name for r in twice) == ["居民2", "居民3"]


def test_the_lifting_rule_and_zone_history_ignore_the_drill(days) -> None:  # type: ignore[no-untyped-def]
    second, building = days["second"], days["building"]
    actions.set_community_zone(None, second, building.community, Zone.CONTROLLED, note="演练分区")
    [answer] = zoning.evidence(
        second, second.starts_at + dt.timedelta(hours=1), communities=[building.community_id]
    )
    assert answer.last_positive is None  # the drill's positive is not this building's
    history = queries.zone_history([building.pk])[building.pk]
    assert all(not change.campaign.is_drill for change in history)
    assert any(
        change.campaign.is_drill
        for change in queries.zone_history([building.pk], drills=True)[building.pk]
    )


def test_each_rounds_figures_are_its_own(days) -> None:  # type: ignore[no-untyped-def]
    _rows, total = dashboard.coverage(days["second"])
    assert total.sampled == 0
    _rows, drill_total = dashboard.coverage(days["drill"])
    assert drill_total.sampled == 2


def test_residents_are_not_sent_to_a_drill(community) -> None:  # type: ignore[no-untyped-def]
    person = make_resident(
        make_household(make_building(community), "301"), "王芳", id_number=valid_id(801)
    )
    make_lane(community)
    drill = _round(community, "演练", dt.datetime(2026, 12, 1, 7, tzinfo=dt.UTC), drill=True)
    assert public._round_of(person) is None
    assert public.site_statuses() == []
    Campaign.objects.filter(pk=drill.pk).update(is_drill=False)
    assert public._round_of(person) == drill
    assert len(public.site_statuses()) == 1


def test_the_commander_creates_a_drill_and_every_page_says_so(community, commander) -> None:  # type: ignore[no-untyped-def]
    make_building(community)
    client = client_for(commander)
    response = client.post(
        reverse("campaigns:create"),
        {
            "name": "演练第1轮",
            "communities": [community.pk],
            "starts_at": "2026-12-05T07:00",
            "zone": Zone.PREVENTION,
            "is_drill": "on",
        },
    )
    assert response.status_code == 302
    drill = Campaign.objects.get(name="演练第1轮")
    assert drill.is_drill
    page = client.get(reverse("campaigns:detail", args=[drill.pk])).content.decode()
    assert "Drill: this round is a rehearsal" in page
    listing = client.get(reverse("campaigns:list")).content.decode()
    assert "badge drill" in listing
