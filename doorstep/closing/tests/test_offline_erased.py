"""The phones learn that a town is erased (server side, no browser; the phone's side is
test_browser_erased_phone.py): every offline page names its town and the erased towns, a page
of an erased town is answered with the page that says its data is erased, the worker's script
names the erased towns too, and no other page pays a query for it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from doorstep.canvass.models import BuildingTask
from doorstep.closing import offline as erased_offline
from doorstep.core import offline
from doorstep.core.roles import Role
from doorstep.core.ttl import clear_all
from doorstep.territory.models import Closure, ClosureState, Town
from doorstep.testing import (
    client_for,
    make_building,
    make_campaign,
    make_community,
    make_household,
    make_lane,
    make_lane_team,
    make_resident,
    make_town,
    make_user,
)

pytestmark = pytest.mark.django_db


def erase(town: Town) -> None:
    """The town as the erase leaves it (the erase itself is closing.erase's)."""
    now = timezone.now()
    Closure.objects.update_or_create(
        town=town,
        defaults={
            "closed_at": now - dt.timedelta(days=31),
            "closed_by": "commander",
            "reason": "outbreak over",
            "erase_after": now - dt.timedelta(days=1),
            "state": ClosureState.ERASED,
            "erased_at": now,
        },
    )


@pytest.fixture
def towns(community, registrar, leader):
    building = make_building(community, "12号楼", position=12)
    make_resident(make_household(building, "101"), "张伟")
    campaign = make_campaign(community)
    lane = make_lane(community)
    make_lane_team(lane, registrar)
    other = make_community("和苑社区", town=make_town("杨柳青镇"))
    make_building(other, "1号楼")
    make_campaign(other)
    other_lane = make_lane(other)
    other_registrar = make_user(Role.REGISTRAR, other)
    make_lane_team(other_lane, other_registrar)
    return {
        "town": community.town,
        "lane": lane,
        "task": BuildingTask.objects.get(campaign=campaign, building=building),
        "other_town": other.town,
        "other_lane": other_lane,
        "other_registrar": other_registrar,
    }


def test_offline_pages_name_their_town_and_nothing_is_erased(towns, registrar, leader):
    lane = client_for(registrar).get(f"/sampling/lanes/{towns['lane'].pk}/")
    task = client_for(leader).get(f"/canvass/buildings/{towns['task'].pk}/")
    whole = client_for(leader).get(f"/canvass/buildings/{towns['task'].pk}/?floors=all")
    for response in (lane, task, whole):
        assert response.status_code == 200
        assert response[offline.TOWN] == str(towns["town"].pk)
        assert offline.ERASED not in response
    assert f'data-town="{towns["town"].pk}"' in lane.text
    assert f'data-holds="lane:{towns["lane"].pk}"' in lane.text
    assert f'data-holds="task:{towns["task"].pk}"' in task.text


def test_a_page_of_an_erased_town_says_so_and_keeps_nothing(towns, registrar, leader):
    erase(towns["town"])
    pages = [
        client_for(registrar).get(f"/sampling/lanes/{towns['lane'].pk}/"),
        client_for(leader).get(f"/canvass/buildings/{towns['task'].pk}/"),
        client_for(leader).get(f"/canvass/buildings/{towns['task'].pk}/?floors=all"),
    ]
    for response in pages:
        assert response.status_code == 410
        assert response[offline.ERASED] == str(towns["town"].pk)
        assert response["Clear-Site-Data"] == '"cache"'
        assert "no-store" in response["Cache-Control"]
        assert offline.HEADER not in response  # the worker never keeps it
        assert "Personal data erased" in response.text
        assert "its personal data was erased on" in response.text
        assert f'data-erased="{towns["town"].pk}"' in response.text
        assert "张伟" not in response.text


def test_a_live_town_s_page_and_the_worker_name_the_erased_towns(towns):
    erase(towns["town"])
    client = client_for(towns["other_registrar"])
    page = client.get(f"/sampling/lanes/{towns['other_lane'].pk}/")
    assert page.status_code == 200
    assert page[offline.TOWN] == str(towns["other_town"].pk)
    assert page[offline.ERASED] == str(towns["town"].pk)
    for worker in ("/sampling/sw.js", "/canvass/sw.js"):
        answer = client.get(worker)
        assert answer.status_code == 200 and answer[offline.ERASED] == str(towns["town"].pk)
    # Signed out too: the worker asks its script when the page's answer is a redirect.
    assert Client().get("/sampling/sw.js")[offline.ERASED] == str(towns["town"].pk)


def test_other_pages_carry_nothing_and_cost_no_query(towns, registrar):
    erase(towns["town"])
    client = client_for(registrar)
    assert offline.ERASED not in client.get("/")
    with CaptureQueriesContext(connection) as captured:
        client.get("/")
    assert not [q for q in captured if "closure" in q["sql"].lower()]


def test_the_list_is_read_once_per_cache_period(towns, settings):
    settings.CACHE_SECONDS = 60
    clear_all()
    erase(towns["town"])
    with CaptureQueriesContext(connection) as captured:
        assert erased_offline.erased_towns() == (towns["town"].pk,)
        assert erased_offline.erased_towns() == (towns["town"].pk,)
    assert len([q for q in captured if "closure" in q["sql"].lower()]) == 1
    clear_all()
