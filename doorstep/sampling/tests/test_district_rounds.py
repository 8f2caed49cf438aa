"""A district round at the lanes: a resident of one of its towns sampled at a lane of another is
recorded once, for their home community, and a second swab anywhere in the round is "already
sampled"; a town's own round still takes only its own residents."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from doorstep.api.actions import issue_token
from doorstep.campaigns.actions import set_community_zone
from doorstep.campaigns.actions.district import start_district_round
from doorstep.campaigns.models import Campaign, CampaignBuilding, PoolRule, Zone
from doorstep.canvass import queries as canvass_queries
from doorstep.canvass.models import BuildingTask, Coverage
from doorstep.core import ttl
from doorstep.core.roles import Role
from doorstep.lab.actions import retests
from doorstep.lab.models import OrderKind, OrderStatus, RetestOrder
from doorstep.sampling import tally
from doorstep.sampling.models import (
    HomeStop,
    HourTally,
    RoundSample,
    Scope,
    Tally,
    Tube,
    TubeMember,
)
from doorstep.territory.models import Community, Resident, Town
from doorstep.testing import (
    make_building,
    make_campaign,
    make_community,
    make_district,
    make_household,
    make_lane,
    make_lane_team,
    make_resident,
    make_town,
    make_user,
    valid_id,
)
from doorstep.testing.lanes import Device, add, open_tube

pytestmark = pytest.mark.django_db


@dataclass
class Town3:
    town: Town
    community: Community
    people: list[Resident]
    device: Device
    lane: Any


def _town(name: str, district: Any, people: int = 3) -> Town3:
    town = make_town(name, district)
    community = make_community(f"{name}一社区", town)
    building = make_building(community, "1号楼")
    residents = [
        make_resident(make_household(building, f"{n}01"), f"{name}居民{n}") for n in range(people)
    ]
    lane = make_lane(community, site_name=f"{name}采样点")
    registrar = make_user(Role.REGISTRAR, community)
    make_lane_team(lane, registrar, name=f"{name}采样组")
    return Town3(town, community, residents, Device(issue_token(registrar)[1]), lane)


@pytest.fixture
def district() -> dict[str, Town3]:
    """西青区 with three towns of three residents each, each with a lane and its registrar."""
    xiqing = make_district("西青区")
    return {name: _town(name, xiqing) for name in ("中北镇", "杨柳青镇", "大寺镇")}


def _round(*towns: Town3) -> dict[int, Campaign]:
    """A district round over these towns; each town's campaign by town."""
    district_round = start_district_round(
        None, towns[0].town.district, "全区第1轮", [t.town for t in towns]
    )
    return {c.town_id: c for c in district_round.campaigns.all()}


def test_a_resident_sampled_in_another_town_counts_once_for_their_home_community(district):
    zhongbei, yangliuqing = district["中北镇"], district["杨柳青镇"]
    rounds = _round(zhongbei, yangliuqing)
    home, away = rounds[zhongbei.town.pk], rounds[yangliuqing.town.pk]
    guest = zhongbei.people[0]
    d = yangliuqing.device
    assert d.codes(open_tube(d, yangliuqing.lane), add(d, "2112250001", guest.person_code)) == [
        "accepted",
        "accepted",
    ]
    # Recorded once, in the home town's round and community.
    sample = RoundSample.objects.get(resident=guest)
    assert (sample.campaign_id, sample.community_id) == (home.pk, zhongbei.community.pk)
    member = TubeMember.objects.get(resident=guest)
    assert (member.campaign_id, member.community_id) == (away.pk, zhongbei.community.pk)
    # The home town's coverage and untested list move; the other town's do not.
    assert BuildingTask.objects.get(campaign=home).sampled == 1
    assert Coverage.objects.get(campaign=home, community=zhongbei.community).sampled == 1
    assert Coverage.objects.get(campaign=away).sampled == 0
    untested = canvass_queries.untested(home.pk, community_id=zhongbei.community.pk)
    assert guest not in untested and untested.count() == 2
    # The lane's tally counts the swab where it was taken; the home community's hour is its own
    # round's, so each town's chart shows only its own communities.
    lane = Tally.objects.get(campaign=away, scope=Scope.LANE, place_id=yangliuqing.lane.pk)
    assert lane.people == 1
    assert Tally.objects.get(campaign=away, scope=Scope.CAMPAIGN, place_id=away.pk).people == 1
    assert not Tally.objects.filter(campaign=home, people__gt=0).exists()
    assert HourTally.objects.get(scope=Scope.COMMUNITY).campaign_id == home.pk
    assert HourTally.objects.get(scope=Scope.CAMPAIGN).campaign_id == away.pk


def test_a_second_swab_anywhere_in_the_round_is_already_sampled(district):
    zhongbei, yangliuqing, dasi = district["中北镇"], district["杨柳青镇"], district["大寺镇"]
    _round(zhongbei, yangliuqing, dasi)
    first, second = zhongbei.people[:2]
    at_home, away, third = zhongbei.device, yangliuqing.device, dasi.device
    at_home.send(
        open_tube(at_home, zhongbei.lane, "2112250001"),
        add(at_home, "2112250001", first.person_code),
    )
    away.send(
        open_tube(away, yangliuqing.lane, "2112250002"), add(away, "2112250002", second.person_code)
    )
    third.send(open_tube(third, dasi.lane, "2112250003"))
    # Sampled at home, then in another town; sampled in another town, then at home or in a
    # third town; twice in one batch: each second swab is refused as in one town.
    assert away.codes(add(away, "2112250002", first.person_code)) == ["already_sampled"]
    assert at_home.codes(add(at_home, "2112250001", second.person_code)) == ["already_sampled"]
    assert third.codes(add(third, "2112250003", second.person_code)) == ["already_sampled"]
    guest = zhongbei.people[2]
    assert third.codes(
        add(third, "2112250003", guest.person_code),
        third.event("tube.seal", tube="2112250003"),
        open_tube(third, dasi.lane, "2112250004"),
        add(third, "2112250004", guest.person_code),
    ) == ["accepted", "accepted", "accepted", "already_sampled"]
    assert RoundSample.objects.filter(resident__in=zhongbei.people).count() == 3
    # With a reason the registrar may swab again, and the sample is still recorded once.
    assert away.codes(add(away, "2112250002", first.person_code, override="管不合格")) == [
        "accepted"
    ]
    assert RoundSample.objects.filter(resident=first).count() == 1


def test_a_typed_document_number_finds_the_resident_of_another_town_of_the_round(district):
    zhongbei, yangliuqing, dasi = district["中北镇"], district["杨柳青镇"], district["大寺镇"]
    rounds = _round(zhongbei, yangliuqing, dasi)
    d = yangliuqing.device
    guest = zhongbei.people[0]
    assert d.codes(open_tube(d, yangliuqing.lane), add(d, "2112250001", guest.id_number)) == [
        "accepted",
        "accepted",
    ]
    assert RoundSample.objects.get(resident=guest).campaign_id == rounds[zhongbei.town.pk].pk
    # A number on the lane's own town's roster is that town's resident, first.
    shared = valid_id()
    here = make_resident(yangliuqing.people[0].household, "本镇", id_number=shared)
    make_resident(zhongbei.people[1].household, "外镇", id_number=shared)
    assert d.codes(add(d, "2112250001", shared)) == ["accepted"]
    assert RoundSample.objects.get(resident=here).campaign_id == rounds[yangliuqing.town.pk].pk
    # On two other towns' rosters the number names nobody for sure: scan the code instead.
    twice = valid_id()
    make_resident(zhongbei.people[2].household, "甲", id_number=twice)
    make_resident(dasi.people[0].household, "乙", id_number=twice)
    [answer] = d.send(add(d, "2112250001", twice))
    assert answer["error"]["code"] == "unknown_person"
    assert "several towns" in answer["error"]["message"]


def test_a_resident_of_a_town_outside_the_round_is_not_on_its_rosters(district):
    zhongbei, yangliuqing, dasi = district["中北镇"], district["杨柳青镇"], district["大寺镇"]
    _round(yangliuqing, dasi)
    make_campaign(zhongbei.community, name="中北镇自己的轮次")
    d = yangliuqing.device
    d.send(open_tube(d, yangliuqing.lane))
    [answer] = d.send(add(d, "2112250001", zhongbei.people[0].person_code))
    assert answer["error"]["code"] == "unknown_person"
    assert "rosters of this district round's towns" in answer["error"]["message"]
    assert not RoundSample.objects.filter(resident=zhongbei.people[0]).exists()


def test_towns_running_their_own_rounds_take_only_their_own_residents(district):
    zhongbei, yangliuqing = district["中北镇"], district["杨柳青镇"]
    make_campaign(zhongbei.community, name="中北镇第1轮")
    drill = make_campaign(yangliuqing.community, name="杨柳青镇演练")
    Campaign.objects.filter(pk=drill.pk).update(is_drill=True)
    d = yangliuqing.device
    d.send(open_tube(d, yangliuqing.lane))
    [answer] = d.send(add(d, "2112250001", zhongbei.people[0].person_code))
    assert answer["error"]["code"] == "unknown_person"
    assert "this town's roster" in answer["error"]["message"]


def test_the_home_rounds_zone_caps_the_pool_the_guest_may_join(district):
    """A resident of a sealed building of their own town is held to one tube per household at
    a lane of another town too: the zone is the home round's."""
    zhongbei, yangliuqing = district["中北镇"], district["杨柳青镇"]
    rounds = _round(zhongbei, yangliuqing)
    CampaignBuilding.objects.filter(campaign=rounds[zhongbei.town.pk]).update(
        zone=Zone.SEALED, pool_rule=PoolRule.HOUSEHOLD
    )
    d = yangliuqing.device
    d.send(open_tube(d, yangliuqing.lane, pool=10))
    [answer] = d.send(add(d, "2112250001", zhongbei.people[0].person_code))
    assert answer["status"] == "rejected", answer
    assert not RoundSample.objects.filter(resident=zhongbei.people[0]).exists()


def test_a_guests_scan_costs_no_more_statements_than_a_residents(
    district: dict[str, Town3], settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other towns' rounds come in the batch's one read: with the per-process look-ups
    warm, a guest's scan is as many statements as a resident's."""
    zhongbei, yangliuqing = district["中北镇"], district["杨柳青镇"]
    _round(zhongbei, yangliuqing)
    settings.CACHE_SECONDS = 600
    ttl.clear_all()
    monkeypatch.setattr(tally, "after_write", lambda: None)
    d = yangliuqing.device
    assert (
        d.codes(
            open_tube(d, yangliuqing.lane, pool=10),
            add(d, "2112250001", yangliuqing.people[0].person_code),
            add(d, "2112250001", zhongbei.people[0].person_code),
        )
        == ["accepted"] * 3
    )
    counts = []
    for person in (yangliuqing.people[1], zhongbei.people[1]):
        with CaptureQueriesContext(connection) as captured:
            assert d.codes(add(d, "2112250001", person.person_code)) == ["accepted"]
        counts.append(len(captured.captured_queries))
    ttl.clear_all()
    assert counts[1] == counts[0], counts


@pytest.mark.parametrize("pooled_at", ["home", "away"])
def test_a_retest_is_taken_at_a_lane_of_any_town_of_the_round(district, pooled_at):
    """The pool may have been swabbed in either town and its retest taken in the other: the
    open order is found in every town's round of the district round."""
    zhongbei, yangliuqing = district["中北镇"], district["杨柳青镇"]
    _round(zhongbei, yangliuqing)
    guest = zhongbei.people[0]
    first, then = (zhongbei, yangliuqing) if pooled_at == "home" else (yangliuqing, zhongbei)
    d = first.device
    d.send(
        open_tube(d, first.lane, "2112250001", pool=10),
        add(d, "2112250001", guest.person_code),
        d.event("tube.seal", tube="2112250001"),
    )
    pool = Tube.objects.get(code="2112250001")
    assert retests.order_retests(pool, OrderKind.POSITIVE_POOL, timezone.now()) == 1
    d = then.device
    assert d.codes(
        open_tube(d, then.lane, "2112250002", pool=1), add(d, "2112250002", guest.person_code)
    ) == ["accepted", "accepted"]
    order = RetestOrder.objects.get()
    assert (order.status, order.retest_tube.code) == (OrderStatus.SAMPLED, "2112250002")
    assert Tube.objects.get(code="2112250002").retest_of_id == pool.pk


def test_a_guest_in_a_positive_pool_is_retested_at_their_own_sealed_door(district):
    """The pool was swabbed in 杨柳青镇; the guest lives in a building of 中北镇 sealed since:
    their retest is their home round's, at their door, not a call to a site."""
    zhongbei, yangliuqing = district["中北镇"], district["杨柳青镇"]
    rounds = _round(zhongbei, yangliuqing)
    home = rounds[zhongbei.town.pk]
    guest, local = zhongbei.people[0], yangliuqing.people[0]
    d = yangliuqing.device
    d.send(
        open_tube(d, yangliuqing.lane, "2112250001", pool=10),
        add(d, "2112250001", guest.person_code),
        add(d, "2112250001", local.person_code),
        d.event("tube.seal", tube="2112250001"),
    )
    pool = Tube.objects.get(code="2112250001")
    # The guest's building is sealed since (its community, by the home town's commander).
    set_community_zone(None, home, zhongbei.community, Zone.SEALED, note="发现阳性")
    assert retests.order_retests(pool, OrderKind.POSITIVE_POOL, timezone.now()) == 2
    orders = {o.resident_id: o for o in RetestOrder.objects.all()}
    assert (orders[guest.pk].route, orders[guest.pk].campaign_id) == ("door_to_door", home.pk)
    assert (orders[local.pk].route, orders[local.pk].campaign_id) == (
        "site",
        rounds[yangliuqing.town.pk].pk,
    )
    assert HomeStop.objects.get(order_id=orders[guest.pk].pk).task.campaign_id == home.pk
