"""A 33-floor building's page, as the server draws it: the floor index and the floors where
work is, the other floors as headings; a range of floors for htmx; the whole building for the
offline copy and for a phone without JavaScript; the floor of a household just tapped."""

import gzip
import re

import pytest
from django.urls import reverse

from doorstep.canvass import actions
from doorstep.canvass.models import BuildingTask, Outcome
from doorstep.canvass.outcomes import record
from doorstep.testing import (
    client_for,
    make_building,
    make_campaign,
    make_door_team,
    make_household,
    make_resident,
    tap,
)

pytestmark = pytest.mark.django_db

FLOORS, PER_FLOOR = 33, 8


@pytest.fixture
def tower(community, leader):
    building = make_building(community, "18号楼")
    building.floors = FLOORS
    building.save()
    households = {}
    for floor in range(1, FLOORS + 1):
        for n in range(1, PER_FLOOR + 1):
            households[(floor, n)] = make_household(building, f"{floor}{n:02d}")
            make_resident(households[(floor, n)], f"住户{floor}{n:02d}")
    campaign = make_campaign(community)
    make_door_team(community, "第2组", leader)
    task = BuildingTask.objects.get(campaign=campaign, building=building)
    actions.claim(leader, task)
    return {"task": task, "households": households}


def drawn(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'id="h-(\d+)"', html)]


def test_the_first_page_draws_the_floors_still_to_knock_and_heads_the_others(tower, leader):
    task, h = tower["task"], tower["households"]
    record(leader, task, [tap(h[(f, n)], Outcome.NOTIFIED) for f in (1, 2, 3) for n in range(1, 9)])
    response = client_for(leader).get(reverse("canvass:task", args=[task.pk]))
    html = response.content.decode()
    # Floors 4 to 6 (24 households) from the first floor with work; every floor in the index.
    assert drawn(html) == [h[(f, n)].pk for f in (4, 5, 6) for n in range(1, 9)]
    assert html.count('class="floor"') + html.count('class="floor todo"') == FLOORS
    assert html.count('class="floor-group later"') == FLOORS - 3
    assert "Floor 33" in html and 'href="?floors=all#floor-32"' in html
    assert response["X-Doorstep-Offline"] == "light"
    zipped = client_for(leader).get(
        reverse("canvass:task", args=[task.pk]), headers={"Accept-Encoding": "gzip"}
    )
    assert len(zipped.content) < 12 * 1024 and len(gzip.decompress(zipped.content)) < 100_000


def test_htmx_asks_for_a_range_of_floors_and_gets_those_alone(tower, leader):
    task, h = tower["task"], tower["households"]
    url = reverse("canvass:task", args=[task.pk])
    part = client_for(leader).get(url + "?floors=29-30", headers={"HX-Request": "true"})
    html = part.content.decode()
    assert "<html" not in html and "floor-group later" not in html
    assert drawn(html) == [h[(f, n)].pk for f in (30, 31) for n in range(1, 9)]
    assert "data-outbox" in html and 'name="household"' in html
    nothing = client_for(leader).get(url + "?floors=x", headers={"HX-Request": "true"})
    assert drawn(nothing.content.decode()) == []


def test_the_whole_building_is_the_offline_copy_and_a_tap_without_javascript_comes_back_to_its_floor(
    tower, leader
):
    task, h = tower["task"], tower["households"]
    url = reverse("canvass:task", args=[task.pk])
    whole = client_for(leader).get(url + "?floors=all")
    assert len(drawn(whole.content.decode())) == FLOORS * PER_FLOOR
    assert whole["X-Doorstep-Offline"] == "full"
    posted = client_for(leader).post(
        reverse("canvass:outcomes", args=[task.pk]),
        {
            "id": "7d0b3f5e-1a43-4d0b-9d6f-3c5e2d0f9a11",
            "household": h[(20, 3)].pk,
            "outcome": "notified",
        },
    )
    assert posted["Location"] == f"{url}?near={h[(20, 3)].pk}#h-{h[(20, 3)].pk}"
    back = client_for(leader).get(posted["Location"]).content.decode()
    assert h[(20, 3)].pk in drawn(back) and h[(1, 1)].pk not in drawn(back)
