"""The positive-pool loop, visible: members traced to households (walk-ins through the address
they gave at the lane), who stays home, retests ordered, sampled and resulted, the loop closed
and how long it took; the same open/closed counts on the pools page and the command screen."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from doorstep.lab.models import RetestOrder
from doorstep.lab.pools import LoopCounts, loop_counts, loops
from doorstep.notices import actions as telling
from doorstep.notices.models import Message
from doorstep.sampling.models import Tube
from doorstep.territory.queries import trace_address
from doorstep.testing import client_for, make_building, make_household, valid_id
from doorstep.testing.lanes import add, open_tube, post, sealed_tube

pytestmark = pytest.mark.django_db


def test_an_address_typed_at_a_lane_finds_its_household_only_when_exactly_one_matches(community):
    one_unit = make_building(community, "5号楼")
    flat = make_household(one_unit, "301", "")
    two_units = make_building(community, "6号楼")
    east, west = (
        make_household(two_units, "101", "1单元"),
        make_household(two_units, "101", "2单元"),
    )
    assert trace_address(community.pk, "5号楼301") == flat
    assert trace_address(community.pk, " 5号楼 301室 ") == flat
    assert trace_address(community.pk, "５号楼３０１") == flat  # full-width, as some IMEs type
    assert trace_address(community.pk, "6号楼2单元101") == west
    assert trace_address(community.pk, "6号楼1单元101") == east
    assert trace_address(community.pk, "6号楼101") is None  # two households match: ask
    assert trace_address(community.pk, "5号楼999") is None
    assert trace_address(community.pk, "") is None


def test_an_address_written_as_people_write_it_is_traced(community):
    """With the community's (and the town's) name in front, and the building as 栋 or 幢."""
    tower = make_building(community, "3号楼")
    home = make_household(tower, "3202", "1单元")
    make_household(tower, "3202", "2单元")
    name = community.name  # 阳光里社区
    assert trace_address(community.pk, f"{name}3号楼1单元3202") == home
    assert trace_address(community.pk, f"{name.removesuffix('社区')}3栋1单元3202室") == home
    assert trace_address(community.pk, f"{community.town.name}{name} 3幢 1单元 3202") == home
    assert trace_address(community.pk, "3座1单元3202") == home
    # Another community's name in front names nothing here.
    assert trace_address(community.pk, "和苑社区3号楼1单元3202") is None


def pool_with_walk_ins(world):  # type: ignore[no-untyped-def]
    """Three residents of 12号楼 and two walk-ins: one whose address names a household of
    12号楼, one whose address names none."""
    d, lane = world["registrar"], world["lane"]
    walk_ins = [
        {
            "name": "过路人",
            "id_number": valid_id(),
            "phone": "13912345678",
            "address": "12号楼 1单元 402",
        },
        {"name": "外来者", "id_number": valid_id(), "phone": "13912345679", "address": "不详"},
    ]
    answers = d.send(
        open_tube(d, lane),
        *[add(d, "2112250001", p.person_code) for p in world["people"][:3]],
        *[d.event("tube.add", tube="2112250001", walk_in=w) for w in walk_ins],
        d.event("tube.seal", tube="2112250001"),
    )
    assert {a["status"] for a in answers} == {"accepted"}, answers
    return Tube.objects.get(code="2112250001"), walk_ins


def test_a_positive_pool_traces_every_member_and_closes_when_every_retest_is_resulted(
    lane_world, commander
):
    campaign = lane_world["campaign"]
    pool, walk_ins = pool_with_walk_ins(lane_world)
    post(lane_world, {"tube": pool.code, "result": "positive"})
    orders = {
        o.walk_in.address if o.walk_in else o.resident_id: o for o in RetestOrder.objects.all()
    }
    traced = orders["12号楼 1单元 402"]
    assert traced.household is not None and traced.household.room == "402"
    assert traced.route == "door_to_door"  # 12号楼 is controlled: the retest comes to the door
    assert orders["不详"].household is None and orders["不详"].route == "site"
    assert loop_counts(campaign) == LoopCounts(open=1, closed=0)

    client = client_for(commander)
    page = client.get(reverse("lab:pools", args=[campaign.pk])).content.decode()
    assert f'id="pool-{pool.code}"' in page and 'data-state="open"' in page
    assert 'id="loops-open">1<' in page and 'id="loops-closed">0<' in page
    assert "12号楼 1单元 402" in page and "(traced from the address given at the lane)" in page
    assert "not traced: “不详” names no single household" in page
    assert reverse("sampling:walk_ins") in page  # where the commander finds their household
    assert page.count('data-state="ordered"') == 5
    assert "5 retests ordered, 0 sampled, 0 resulted · 5 to stay home" in page
    for p in lane_world["people"][:3]:
        assert p.name not in page  # masked, as everywhere
    assert "过*人" in page and "过路人" not in page

    d, lane = lane_world["registrar"], lane_world["lane"]
    retests = [
        sealed_tube(d, lane, [p], code=f"21122590{i}", pool=1)
        for i, p in enumerate(lane_world["people"][:3])
    ]
    for i, w in enumerate(walk_ins):
        code = f"21122591{i}"
        d.send(
            d.event("tube.open", lane=lane.code, tube=code, pool=1),
            d.event("tube.add", tube=code, walk_in=w),
            d.event("tube.seal", tube=code),
        )
        retests.append(Tube.objects.get(code=code))
    page = client.get(reverse("lab:pools", args=[campaign.pk])).content.decode()
    assert "5 retests ordered, 5 sampled, 0 resulted · 5 to stay home" in page
    post(lane_world, *[{"tube": t.code, "result": "negative"} for t in retests])
    pool.refresh_from_db()
    # Every retest is resulted, but nobody is known to have been told: the loop stays open.
    assert pool.retest_closed_at is None
    for message in Message.objects.filter(notice__cause_tube=pool):
        telling.delivery_report(message, telling.DLR_DELIVERED, "", timezone.now())
    pool.refresh_from_db()
    assert pool.retest_closed_at is not None
    assert loop_counts(campaign) == LoopCounts(open=0, closed=1)
    [loop] = loops(campaign)
    assert loop.time_to_close == pool.retest_closed_at - pool.resulted_at
    page = client.get(reverse("lab:pools", args=[campaign.pk])).content.decode()
    assert 'data-state="closed"' in page and "after the pool's result" in page
    assert 'id="loops-open">0<' in page and 'id="loops-closed">1<' in page
    assert "5 retests ordered, 5 sampled, 5 resulted · 0 to stay home" in page
    tile = client.get(reverse("command:panel", args=[campaign.pk, "clock"])).content.decode()
    assert re.search(r'data-testid="positive-pools">1<', tile)
    assert "0 loops open, 1 closed" in tile
    assert reverse("lab:pools", args=[campaign.pk]) in tile


def test_the_pools_page_is_scoped_and_the_lab_never_sees_it(lane_world, outsider, lab):
    campaign = lane_world["campaign"]
    pool, _walk_ins = pool_with_walk_ins(lane_world)
    post(lane_world, {"tube": pool.code, "result": "positive"})
    # A worker of another community of the same town: no pool has members of theirs.
    page = client_for(outsider).get(reverse("lab:pools", args=[campaign.pk])).content.decode()
    assert f'id="pool-{pool.code}"' not in page and 'id="loops-open">0<' in page
    assert client_for(lab).get(reverse("lab:pools", args=[campaign.pk])).status_code == 403
