"""Small neighbouring communities share a site and its lanes when that is cheaper; a big one keeps
its own; no lane is given more arrivals than it can swab in an hour; the plan names who shares."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from doorstep.planning import sharing
from doorstep.planning.sites import ARRIVAL_HOURS, LANE_PER_HOUR
from doorstep.simulate import day
from doorstep.simulate.management.commands.plan import merged, pace, sites_of, smallest
from doorstep.simulate.plan import Planner
from doorstep.testing import (
    make_building,
    make_community,
    make_household,
    make_resident,
    make_town,
    valid_id,
)

COME = 1 - day.Behaviour.no_show


def _plan(*args: str) -> str:
    out = io.StringIO()
    call_command("plan", *args, "--days", "2", "--workers", "1", stdout=out)
    return out.getvalue()


def _town(*sizes: int) -> day.Shape:
    """A town whose communities, in this order, hold these many residents."""
    shape = day.Shape([], [])
    households = 0
    for k, size in enumerate(sizes):
        community = day.synthetic(size, seed=k + 1, communities=1).communities[0]
        offset = len(shape.codes)
        for building in community.buildings:
            for household in building.households:
                households += 1
                household.id = households
                household.people = [p + offset for p in household.people]
        shape.codes.extend(f"T{offset + n}" for n in range(size))
        shape.communities.append(day.Community(k, f"S{k + 1}", community.buildings))
    return shape


def test_a_town_of_2000_gets_far_fewer_lanes_than_communities_each_within_capacity():
    answer = json.loads(_plan("--residents", "2000", "--json"))
    assert answer["communities"] == 12
    # One lane and one site per community gave 12 lanes at about 30 arrivals an hour each.
    assert answer["lanes"] <= 6 and len(answer["sites"]) < answer["communities"]
    named = [name for site in answer["sites"] for name in site["communities"]]
    assert sorted(named) == sorted(f"C{n}" for n in range(1, 13))  # each community at one site
    assert sum(site["lanes"] for site in answer["sites"]) == answer["lanes"]
    for site in answer["sites"]:
        per_lane_hour = site["residents"] * COME / ARRIVAL_HOURS / site["lanes"]
        assert per_lane_hour <= LANE_PER_HOUR and site["within_capacity"]
        assert site["arrivals_per_lane_hour"] == round(per_lane_hour, 1)
    assert answer["days_meeting_target"] == answer["days"] == 2


def test_only_neighbours_share_and_never_beyond_a_sites_people():
    sites = sharing.share_sites([("A", 150), ("B", 8000), ("C", 150), ("D", 200), ("E", 2900)])
    assert [s.names for s in sites] == [("A",), ("B",), ("C", "D"), ("E",)]
    assert all(s.residents <= sharing.SITE_PEOPLE for s in sites if s.shared)
    # Two communities that each fill most of a site share nothing: together they would exceed it.
    assert len(sharing.share_sites([("F", 1600), ("G", 1600)])) == 2
    # Sharing costs no lane here (8 either way) and saves a site.
    assert [s.names for s in sharing.share_sites([("H", 1500), ("I", 1500)])] == [("H", "I")]


def test_a_big_community_keeps_its_own_site_and_lanes():
    town = _town(150, 200, 6000, 180, 170)
    sites = sites_of(town, day.Behaviour())
    assert [s.names for s in sites] == [("S1", "S2"), ("S3",), ("S4", "S5")]
    planner = Planner(merged(town, sites), day.Behaviour(), days=2, workers=1)
    best = smallest(planner, sites)
    assert planner.good(best)
    small, big, other = best.staffing.lanes
    assert big >= sharing.fewest_within_capacity(6000, pace(day.Behaviour())) == 13
    assert small + other < 4  # four small communities, fewer lanes than them
    # Each shared site stands at its weighted middle: S2 (150 | 200), S4 (180 | 170).
    assert [s.name for s in sites] == ["S2", "S3", "S4"]
    for site, n in zip(sites, best.staffing.lanes, strict=True):
        assert sharing.Load(site, n, pace(day.Behaviour())).within


def test_the_plan_says_which_communities_share_which_site():
    out = _plan("--residents", "2000")
    assert "shared by C1, C2, C3, C4, C5, C6, C7, C8, C9, C10, C11, C12: 2,000 residents" in out
    assert "within capacity" in out and "OVER capacity" not in out
    assert "the territory holds no map" in out
    # Asked not to share, it plans a site per community, as before.
    apart = json.loads(_plan("--residents", "2000", "--json", "--no-sharing"))
    assert apart["lanes"] >= 12 and len(apart["sites"]) == 12
    assert all(c["shared_with"] == [] for c in apart["per_community"])


@pytest.mark.django_db
def test_a_towns_communities_share_with_their_neighbours_in_the_order_they_were_entered():
    town = make_town("共享镇")
    entered = ["丙社区", "甲社区", "乙社区"]  # not the order of their names
    for n, name in enumerate(entered):
        building = make_building(make_community(name, town), f"{n + 1}号楼")
        for room in range(101, 111):
            household = make_household(building, str(room))
            for k in range(3):
                make_resident(household, f"居民{n}{room}{k}", id_number=valid_id())
    answer = json.loads(_plan("--town", "共享镇", "--json"))
    assert answer["residents"] == 90 and answer["neighbours"] == "the town's community order"
    assert [s["communities"] for s in answer["sites"]] == [entered]
    assert answer["lanes"] == 1 and answer["sites"][0]["within_capacity"]
    shared = {c["community"]: c["shared_with"] for c in answer["per_community"]}
    assert shared["甲社区"] == ["丙社区", "乙社区"]
