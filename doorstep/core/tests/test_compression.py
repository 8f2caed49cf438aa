"""Pages reach a phone on a weak signal compressed: a tower's building page is sent gzipped
when the browser accepts it, and reads the same once unpacked."""

import gzip

import pytest
from django.urls import reverse

from doorstep.canvass import actions
from doorstep.canvass.models import BuildingTask
from doorstep.testing import (
    client_for,
    make_building,
    make_campaign,
    make_door_team,
    make_household,
    make_resident,
)

pytestmark = pytest.mark.django_db


def test_a_building_page_is_sent_gzipped_to_a_browser_that_accepts_it(community, leader):
    building = make_building(community, "18号楼")
    for floor in range(1, 11):
        for n in range(1, 5):
            make_resident(make_household(building, f"{floor}{n:02d}"), "住户")
    campaign = make_campaign(community)
    make_door_team(community, "第2组", leader)
    task = BuildingTask.objects.get(campaign=campaign, building=building)
    actions.claim(leader, task)
    client = client_for(leader)
    url = reverse("canvass:task", args=[task.pk])
    plain = client.get(url)
    zipped = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert plain.get("Content-Encoding") is None
    assert zipped["Content-Encoding"] == "gzip" and "Accept-Encoding" in zipped["Vary"]
    assert len(zipped.content) * 5 < len(plain.content)
    unpacked = gzip.decompress(zipped.content).decode()
    assert unpacked.count('class="card household') == 40 and "住*" in unpacked
