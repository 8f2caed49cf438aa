"""A walk-in's household: the address picked at the lane from the community's own list, or
typed as people write it; an address that names no household is listed for the community's
workers, who find it, and a retest waiting for that walk-in then goes to their door."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from doorstep.campaigns.actions import create_campaign, start_round
from doorstep.campaigns.models import BuildingPositive, CampaignBuilding
from doorstep.core import alerts
from doorstep.core.models import AuditEntry
from doorstep.core.roles import Role
from doorstep.lab.models import RetestOrder
from doorstep.sampling import home
from doorstep.sampling.models import HomeTask, Tube, WalkIn
from doorstep.territory.models import Grid
from doorstep.territory.queries import address_book, trace_address
from doorstep.testing import client_for, make_building, make_household, make_user, valid_id
from doorstep.testing.lanes import add, open_tube, post

pytestmark = pytest.mark.django_db


def _json(page: str, script_id: str):  # type: ignore[no-untyped-def]
    found = re.search(rf'<script id="{script_id}" type="application/json">(.*?)</script>', page)
    assert found, f"no {script_id} on the page"
    return json.loads(found[1])


def _walk_ins_in_a_pool(world, addresses):  # type: ignore[no-untyped-def]
    d, lane = world["registrar"], world["lane"]
    people = [
        {"name": f"路人{i}", "id_number": valid_id(), "phone": "", "address": a}
        for i, a in enumerate(addresses)
    ]
    answers = d.send(
        open_tube(d, lane),
        add(d, "2112250001", world["people"][0].person_code),
        *[d.event("tube.add", tube="2112250001", walk_in=w) for w in people],
        d.event("tube.seal", tube="2112250001"),
    )
    assert {a["status"] for a in answers} == {"accepted"}, answers
    return Tube.objects.get(code="2112250001")


def test_the_address_book_lists_buildings_units_and_rooms_that_trace(community):
    tower = make_building(community, "3号楼", position=3)
    for unit in ("1单元", "2单元"):
        for room in ("101", "3202"):
            make_household(tower, room, unit)
    make_household(make_building(community, "1号楼", position=1), "201", "1单元")
    book = address_book(community.pk)
    assert book == [
        ["1号楼", [["1单元", ["201"]]]],
        ["3号楼", [["1单元", ["101", "3202"]], ["2单元", ["101", "3202"]]]],
    ]
    # Every address the picker can write is one the trace finds.
    for building, units in book:
        for unit, rooms in units:
            for room in rooms:
                found = trace_address(community.pk, building + unit + room)
                assert found is not None and (found.unit.name, found.room) == (unit, room)


def test_the_lane_page_holds_the_address_book_for_the_picker(lane_world):
    page = (
        client_for(lane_world["registrar_user"])
        .get(reverse("sampling:lane", args=[lane_world["lane"].pk]))
        .content.decode()
    )
    assert [b for b, _units in _json(page, "lane-address-book")] == ["12号楼", "13号楼"]
    assert 'data-address-book="lane-address-book"' in page and 'data-field="wi-address"' in page


def test_an_untraced_walk_in_is_listed_and_found_and_their_retest_goes_to_the_door(
    lane_world, worker
):
    campaign = lane_world["campaign"]
    pool = _walk_ins_in_a_pool(lane_world, ["12号楼 1单元 402", "桃源里 十二号楼四楼"])
    lost = WalkIn.objects.get(address="桃源里 十二号楼四楼")
    post(lane_world, {"tube": pool.code, "result": "positive"})
    order = RetestOrder.objects.get(walk_in=lost)
    assert order.household is None and order.route == "site"

    client = client_for(worker)
    page = client.get(reverse("sampling:walk_ins")).content.decode()
    # Only the one whose address names no household, in a positive tube, masked.
    assert f'id="walk-in-{lost.pk}" data-positive' in page
    assert "桃源里 十二号楼四楼" in page and "路*1" in page and "路人1" not in page
    assert "路*0" not in page
    book = _json(page, f"address-book-{lost.community_id}")  # the picker's list
    assert book[0][0] == "12号楼"

    refused = client.post(
        reverse("sampling:walk_in_trace", args=[lost.pk]), {"address": "12号楼"}, follow=True
    ).content.decode()
    assert "names no single household" in refused
    client.post(reverse("sampling:walk_in_trace", args=[lost.pk]), {"address": "12号楼1单元302"})
    lost.refresh_from_db()
    assert (lost.household.unit.building.name, lost.household.room) == ("12号楼", "302")
    entry = AuditEntry.objects.get(action="trace")
    assert (entry.object_type, entry.object_id, entry.username) == (
        "walk_in",
        str(lost.pk),
        worker.username,
    )
    # The retest that waited for an address goes to the door: 12号楼 is controlled.
    order.refresh_from_db()
    assert order.household == lost.household and order.route == "door_to_door"
    task = HomeTask.objects.get(campaign=campaign, building=lost.household.unit.building)
    # (the other walk-in's address named 12号楼 402 from the start: their retest was there)
    assert {s.walk_in.address for s in home.waiting(task) if s.walk_in} == {
        "12号楼 1单元 402",
        lost.address,
    }
    page = client.get(reverse("sampling:walk_ins")).content.decode()
    assert 'id="all-traced"' in page


def test_only_the_walk_ins_own_community_may_trace_them(lane_world, outsider, registrar):
    _walk_ins_in_a_pool(lane_world, ["不详"])
    lost = WalkIn.objects.get()
    assert "不详" not in client_for(outsider).get(reverse("sampling:walk_ins")).content.decode()
    url = reverse("sampling:walk_in_trace", args=[lost.pk])
    assert client_for(outsider).post(url, {"address": "12号楼1单元302"}).status_code == 404
    assert client_for(registrar).get(reverse("sampling:walk_ins")).status_code == 403
    lost.refresh_from_db()
    assert lost.household is None


def test_an_untraced_walk_in_in_a_positive_tube_is_an_alert_until_found(lane_world, worker):
    campaign = lane_world["campaign"]
    pool = _walk_ins_in_a_pool(lane_world, ["12号楼 1单元 402", "不详"])
    lost = WalkIn.objects.get(address="不详")
    assert not [a for a in alerts.current(campaign, timezone.now()) if a.kind == "walk_in_untraced"]
    post(lane_world, {"tube": pool.code, "result": "positive"})
    [alert] = [a for a in alerts.current(campaign, timezone.now()) if a.kind == "walk_in_untraced"]
    assert alert.critical and "“不详”" in alert.text and "路*1" in alert.text
    assert alert.url.endswith(f"#walk-in-{lost.pk}")
    client_for(worker).post(
        reverse("sampling:walk_in_trace", args=[lost.pk]), {"address": "12号楼1单元302"}
    )
    assert not [a for a in alerts.current(campaign, timezone.now()) if a.kind == "walk_in_untraced"]


def test_a_walk_in_found_positive_alone_has_their_building_sealed_once_traced(lane_world, worker):
    d, lane = lane_world["registrar"], lane_world["lane"]
    walk_in = {"name": "路人", "id_number": valid_id(), "phone": "", "address": "不详"}
    answers = d.send(
        d.event("tube.open", lane=lane.code, tube="2112250009", pool=1),
        d.event("tube.add", tube="2112250009", walk_in=walk_in),
        d.event("tube.seal", tube="2112250009"),
    )
    assert {a["status"] for a in answers} == {"accepted"}, answers
    post(lane_world, {"tube": "2112250009", "result": "positive"})
    lost = WalkIn.objects.get()
    assert not BuildingPositive.objects.exists()  # nowhere to seal: nobody knows where he lives
    client_for(worker).post(
        reverse("sampling:walk_in_trace", args=[lost.pk]), {"address": "12号楼1单元302"}
    )
    seal = CampaignBuilding.objects.get(campaign=lane_world["campaign"], building__name="12号楼")
    assert seal.zone == "sealed"  # 12号楼 was controlled: a positive seals it
    assert BuildingPositive.objects.filter(tube_code="2112250009").count() == 1


def test_walk_ins_whose_address_traces_are_kept_traced_and_never_listed(lane_world, worker):
    _walk_ins_in_a_pool(lane_world, ["12号楼 1单元 402", "不详"])
    page = client_for(worker).get(reverse("sampling:walk_ins")).content.decode()
    traced = WalkIn.objects.get(address="12号楼 1单元 402")
    assert traced.household is not None and traced.traced_by is None
    assert "12号楼 1单元 402" not in page and "不详" in page


def test_a_worker_held_to_grids_is_told_unplaced_walk_ins_are_not_hers(lane_world, community):
    _walk_ins_in_a_pool(lane_world, ["不详"])
    grid = Grid.objects.create(community=community, name="第1网格")
    held = make_user(Role.COMMUNITY_WORKER, community)
    held.grids.add(grid)
    page = client_for(held).get(reverse("sampling:walk_ins")).content.decode()
    assert 'id="grids-only"' in page and 'id="all-traced"' not in page and "不详" not in page


def test_a_drills_walk_in_is_marked_drill_on_the_list(community, worker):
    """A drill runs on the real roster: its walk-ins on the community's list say drill."""
    place = make_building(community, "9号楼")
    make_household(place, "101")
    drill = create_campaign(community.town, "演练", communities=[community], drill=True)
    start_round(None, drill)
    WalkIn.objects.create(
        campaign=drill,
        community=community,
        name="演练路人",
        id_number=valid_id(),
        address="不详",
        created_at=timezone.now(),
    )
    page = client_for(worker).get(reverse("sampling:walk_ins")).content.decode()
    section = page.split('id="walk-in-')[1].split("</section>")[0]
    assert "data-drill" in section and "badge drill" in section
