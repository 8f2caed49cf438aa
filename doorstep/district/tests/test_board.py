"""The district board: a row per town with its running round, read by the town screen's own
functions (so a town's row agrees with its command screen and with a recount), the district's
total, the alerts that need the district, drills nowhere, and a fixed cost per town."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from doorstep.campaigns.models import Campaign
from doorstep.canvass.models import untested
from doorstep.command import dashboard
from doorstep.district import queries
from doorstep.district.views import PANELS
from doorstep.lab.pools import loop_counts
from doorstep.sampling.models import Box, BoxStatus, Result, RoundSample, Tube, TubeStatus
from doorstep.territory.models import Resident
from doorstep.testing import (
    client_for,
    make_building,
    make_campaign,
    make_community,
    make_household,
    make_resident,
    make_staff,
    make_town,
    make_unit,
)
from doorstep.testing.lanes import post, sealed_tube
from doorstep.workforce import actions as workforce
from doorstep.workforce.models import DutyRole, Purpose

pytestmark = pytest.mark.django_db


def panel(user, name: str) -> str:  # type: ignore[no-untyped-def]
    response = client_for(user).get(reverse("district:panel", args=[name]))
    assert response.status_code == 200
    return response.content.decode()


def scan(town: dict[str, Any], n: int, code: str, skip: int = 0) -> Tube:
    """A tube of the town's next ``n`` people (after ``skip``), sealed at its lane."""
    people = town["people"][skip : skip + n]
    return sealed_tube(town["device"], town["lane"], people, code=code)


def row_of(rows: list[queries.TownRow], campaign: Campaign) -> queries.TownRow:
    [row] = [r for r in rows if r.campaign is not None and r.campaign.pk == campaign.pk]
    return row


def test_every_town_has_a_row_with_its_round_and_the_district_adds_them_up(district_world, chief):
    zhongbei, yangliu = district_world["zhongbei"], district_world["yangliu"]
    scan(zhongbei, 3, "2112250001")
    scan(yangliu, 2, "2112250002")
    html = panel(chief, "towns")
    assert html.count("<tr data-town=") == 2
    assert "中北镇第1轮" in html and "杨柳青镇第1轮" in html
    assert '<span class="small" data-figure="sampled">3+0/6 (50%)</span>' in html
    assert '<span class="small" data-figure="sampled">2+0/4 (50%)</span>' in html
    total = html.split('id="district-total"')[1]
    assert '<th data-figure="sampled">5+0/10 (50%)</th>' in total
    assert '<th class="num" data-figure="untested">5</th>' in total
    assert '<th class="num" data-figure="unboxed">2</th>' in total


def test_a_towns_row_agrees_with_its_own_dashboard_and_with_a_recount(
    district_world, chief, town_commander
):
    zhongbei = district_world["zhongbei"]
    campaign = zhongbei["campaign"]
    first = scan(zhongbei, 3, "2112250001")
    scan(zhongbei, 2, "2112250003", skip=3)
    # The first tube goes to the lab and is positive: a pool with its retest loop open.
    post(zhongbei["lab_world"], {"tube": first.code, "result": "positive"})
    now = timezone.now()
    rows, total = queries.towns(district_world["district"].pk, now)
    found = row_of(rows, campaign).figures
    assert found is not None
    # The town's own screen reads the same functions.
    _rows, own = dashboard.coverage(campaign)
    tally = dashboard.totals(campaign)
    loops = loop_counts(campaign)
    assert (found.residents, found.sampled, found.exempt, found.untested) == (
        own.residents,
        own.sampled,
        own.exempt,
        own.untested,
    )
    assert (found.people, found.positive_pools) == (tally.people, tally.positive_pools)
    assert (found.loops_open, found.loops_closed) == (loops.open, loops.closed) == (1, 0)
    # And a recount of the rows agrees.
    residents = Resident.objects.filter(community=zhongbei["community"]).count()
    sampled = RoundSample.objects.filter(campaign=campaign).count()
    assert (found.residents, found.sampled) == (residents, sampled) == (6, 5)
    assert found.untested == untested(residents, sampled, 0) == 1
    assert (
        found.positive_pools
        == Tube.objects.filter(campaign=campaign, result=Result.POSITIVE).count()
    )
    assert (
        found.unboxed
        == Tube.objects.filter(
            campaign=campaign, status=TubeStatus.SEALED, box__isnull=True, received_at__isnull=True
        ).count()
    )
    # The town commander's coverage panel shows the same figure as the district's row.
    town_panel = client_for(town_commander).get(
        reverse("command:panel", args=[campaign.pk, "coverage"])
    )
    assert "5+0/6" in town_panel.content.decode()
    assert '<span class="small" data-figure="sampled">5+0/6 (83%)</span>' in panel(chief, "towns")
    assert (
        total.sampled
        == sampled
        + RoundSample.objects.filter(campaign=district_world["yangliu"]["campaign"]).count()
    )


def test_drills_count_nowhere_on_the_board(district_world, chief):
    drill = district_world["drill"]
    sealed_tube(drill["device"], drill["lane"], drill["people"][:3], code="2112250009")
    rows, total = queries.towns(district_world["district"].pk, timezone.now())
    assert drill["campaign"].pk not in {r.campaign.pk for r in rows if r.campaign}
    assert (total.residents, total.sampled, total.people, total.unboxed) == (10, 0, 0, 0)
    html = panel(chief, "towns")
    assert "演练" not in html
    assert "演练" not in panel(chief, "alerts")


def test_a_town_without_a_running_round_says_so(district_world, chief):
    make_town("王稳庄镇", district_world["district"])
    html = panel(chief, "towns")
    assert "王稳庄镇" in html and "No round running." in html


def test_each_town_drills_down_to_its_own_command_screen(district_world, chief):
    campaign = district_world["yangliu"]["campaign"]
    url = reverse("command:dashboard", args=[campaign.pk])
    assert f'href="{url}" data-drill-down>杨柳青镇</a>' in panel(chief, "towns")
    assert client_for(chief).get(url).status_code == 200


def test_a_positive_and_a_lane_short_of_staff_are_the_districts_alerts(district_world, chief):
    zhongbei, yangliu = district_world["zhongbei"], district_world["yangliu"]
    assert "No town needs the district now." in panel(chief, "alerts")
    tube = scan(zhongbei, 3, "2112250001")
    post(zhongbei["lab_world"], {"tube": tube.code, "result": "positive"})
    # 杨柳青镇's second lane has a sampler and no registrar.
    lane = yangliu["lane"].site.lanes.exclude(pk=yangliu["lane"].pk).get()
    unit = make_unit("杨柳青镇机关", town=lane.site.community.town)
    sampler = make_staff(unit, skills=",sampler,")
    callup = workforce.create_callup(
        None,
        unit,
        named=[sampler],
        purpose=Purpose.SAMPLING,
        site=lane.site,
        muster_point="采样点",
        muster_at=timezone.now(),
    )
    workforce.check_in(None, callup, sampler.worker_code)
    team = workforce.form_team(None, lane.site.community.town, "采样2组", sampler, [sampler])
    workforce.assign_team(None, team, lane=lane, roles={sampler.pk: DutyRole.SAMPLER})
    found = {(a.kind, a.town): a for a in queries.alerts(*_rows(district_world))}
    assert set(found) == {(queries.POSITIVE, "中北镇"), (queries.SHORT_STAFF, "杨柳青镇")}
    assert found[(queries.POSITIVE, "中北镇")].url == reverse(
        "command:dashboard", args=[zhongbei["campaign"].pk]
    )
    html = panel(chief, "alerts")
    assert "中北镇: 1 positive results to act on." in html
    assert "杨柳青镇: 1 lanes short of staff." in html


def _rows(world: dict[str, Any]) -> tuple[list[queries.TownRow], dt.datetime]:
    now = timezone.now()
    return queries.towns(world["district"].pk, now)[0], now


def test_a_town_past_the_6_h_target_with_people_untested_is_an_alert(district_world, chief):
    campaign = district_world["yangliu"]["campaign"]
    hours_ago = timezone.now() - dt.timedelta(hours=7)
    Campaign.objects.filter(pk=campaign.pk).update(starts_at=hours_ago)
    [late] = [a for a in queries.alerts(*_rows(district_world)) if a.kind == "behind_target"]
    assert (late.town, late.severity, late.count) == ("杨柳青镇", "bad", 4)
    assert "the 6 h sampling target has passed with 4 untested" in panel(chief, "alerts")


def test_the_pace_against_the_6_h_target() -> None:
    start = dt.datetime(2026, 12, 7, 8, tzinfo=dt.UTC)

    def at(hours: float, sampled: int) -> str:
        clock = dashboard.Clock(
            start + dt.timedelta(hours=hours),
            start,
            start + dt.timedelta(hours=24),
            start + dt.timedelta(hours=6),
        )
        return queries.pace(
            clock, queries.Figures(residents=100, sampled=sampled, untested=100 - sampled)
        )

    assert at(0.2, 0) == queries.ON_PACE  # the first minutes are not behind
    assert at(3, 45) == queries.ON_PACE
    assert at(3, 39) == queries.BEHIND
    assert at(6, 99) == queries.LATE
    assert at(7, 100) == queries.DONE


def test_the_panels_cost_the_same_queries_for_more_residents_and_scans(district_world, chief):
    client = client_for(chief)

    def counts() -> dict[str, int]:
        found = {}
        for name in PANELS:
            with CaptureQueriesContext(connection) as queries_run:
                assert client.get(reverse("district:panel", args=[name])).status_code == 200
            found[name] = len(queries_run)
        return found

    scan(district_world["zhongbei"], 2, "2112250001")
    before = counts()
    zhongbei = district_world["zhongbei"]
    home = zhongbei["people"][0].household
    more = [
        make_resident(make_household(home.unit.building, f"9{n:02d}"), f"新{n}") for n in range(20)
    ]
    sealed_tube(zhongbei["device"], zhongbei["lane"], more[:8], code="2112250002")
    scan(district_world["yangliu"], 4, "2112250003")
    assert counts() == before
    # Each town running a round costs the same fixed number more, whatever its size.
    third = make_community("第三社区", make_town("大寺镇", district_world["district"]))
    make_resident(make_household(make_building(third)), "大寺")
    make_campaign(third, name="大寺镇第1轮")
    with_three = counts()
    fourth = make_community("第四社区", make_town("赤龙南街", district_world["district"]))
    for n in range(12):
        make_resident(make_household(make_building(fourth, f"{n % 3}号楼"), f"{n}01"), "赤龙")
    make_campaign(fourth, name="赤龙南街第1轮")
    with_four = counts()
    assert {n: with_four[n] - with_three[n] for n in PANELS} == {
        n: with_three[n] - before[n] for n in PANELS
    }
    # The towns panel reads every round's counters in one query each: more towns cost nothing.
    assert with_four["towns"] == with_three["towns"] == before["towns"]


def test_boxes_on_the_way_and_tubes_past_the_4_h_clock(district_world, chief):
    zhongbei = district_world["zhongbei"]
    tube = scan(zhongbei, 2, "2112250001")
    scan(zhongbei, 2, "2112250002", skip=2)
    Tube.objects.filter(pk=tube.pk).update(sealed_at=timezone.now() - dt.timedelta(hours=5))
    found = row_of(_rows(district_world)[0], zhongbei["campaign"]).figures
    assert found is not None
    assert (found.boxes, found.unboxed, found.unboxed_overdue, found.overdue) == (0, 2, 1, 1)
    assert Box.objects.filter(status=BoxStatus.IN_TRANSIT).count() == 0
    assert '<span class="badge clock-overdue">1</span>' in panel(chief, "towns")
