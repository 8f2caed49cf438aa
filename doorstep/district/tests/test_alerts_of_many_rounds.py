"""The one list of alerts read for many rounds at once (``core.alerts.current_many``, what the
district board reads): each round's list is the list its own town reads (``current``), acks and
drill marks included, and its cost does not grow with the number of rounds."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from doorstep.campaigns.models import Campaign
from doorstep.core import alerts
from doorstep.core.actions import acknowledge_alert
from doorstep.core.roles import Role
from doorstep.district import queries
from doorstep.lab import case_alerts
from doorstep.lab.actions import cases as case_actions
from doorstep.lab.models import CaseSheet
from doorstep.sampling.models import Tube
from doorstep.testing import make_lane_short_of_a_registrar, make_user
from doorstep.testing.lanes import post, sealed_tube

pytestmark = pytest.mark.django_db

DISTRICT_KINDS = set(queries._KINDS)


def positive(town: dict[str, Any], people: list[Any], code: str, pool: int | None = None) -> Tube:
    """A tube of these people sealed at the town's lane and found positive by its lab."""
    tube = sealed_tube(town["device"], town["lane"], people, code=code, pool=pool)
    post(town["lab_world"], {"tube": tube.code, "result": "positive"})
    return Tube.objects.get(pk=tube.pk)


def other_lane(town: dict[str, Any]) -> Any:
    return town["lane"].site.lanes.exclude(pk=town["lane"].pk).get()


def with_district_alerts(town: dict[str, Any], serial: int) -> dict[str, Any]:
    """A positive pool, a positive single tube and a lane short of a registrar in the town."""
    pool = positive(town, town["people"][:2], f"21122{serial:01d}0001")
    case = positive(town, town["people"][2:3], f"21122{serial:01d}0002", pool=1)
    make_lane_short_of_a_registrar(other_lane(town))
    return {"campaign": town["campaign"], "pool": pool, "case": case}


def summary(found: list[alerts.Alert]) -> list[tuple[str, str, str, bool, int | None]]:
    return [(a.kind, a.key, a.acknowledged_by, a.drill, a.campaign_id) for a in found]


def test_many_rounds_read_at_once_are_each_rounds_own_list(district_world):
    zhongbei, yangliu, drill = (district_world[k] for k in ("zhongbei", "yangliu", "drill"))
    commander = make_user(Role.COMMANDER, town=zhongbei["community"].town)
    seen = with_district_alerts(zhongbei, 1)
    # In 杨柳青镇: a pool whose loop was never opened, and a case already handed over.
    lost = sealed_tube(yangliu["device"], yangliu["lane"], yangliu["people"][:2], code="2112230001")
    Tube.objects.filter(pk=lost.pk).update(result="positive", resulted_at=timezone.now())
    handed = positive(yangliu, yangliu["people"][2:3], "2112230002", pool=1)
    make_lane_short_of_a_registrar(other_lane(yangliu))
    make_lane_short_of_a_registrar(other_lane(drill), name="演练2组")
    now = timezone.now()
    [pool_alert] = [
        a for a in alerts.current(zhongbei["campaign"], now) if a.kind == "positive_pool"
    ]
    acknowledge_alert(commander, zhongbei["campaign"].pk, pool_alert.key, now)
    # 杨柳青镇's case sheet is handed over: the 流调 team has it, the district need not act.
    case_actions.hand_over(commander, CaseSheet.objects.get(tube=handed), "区流调队")
    # The same key acknowledged in another round acknowledges nothing here.
    case_key = f"case_sheet_open:{CaseSheet.objects.get(tube=seen['case']).pk}"
    acknowledge_alert(commander, yangliu["campaign"].pk, case_key, now)
    rounds = [zhongbei["campaign"], yangliu["campaign"], drill["campaign"]]

    many = alerts.current_many(rounds, now)
    assert list(many) == [c.pk for c in rounds]
    for campaign in rounds:
        assert many[campaign.pk] == alerts.current(campaign, now)
    district = alerts.current_many(rounds, now, apps={"workforce", "lab"}, kinds=DISTRICT_KINDS)
    for campaign in rounds:
        assert district[campaign.pk] == [
            a
            for a in alerts.current(campaign, now, apps={"workforce", "lab"})
            if a.kind in DISTRICT_KINDS
        ]
    z, y, d = (c.pk for c in rounds)
    short = other_lane(zhongbei)
    assert summary(district[z]) == [
        ("case_sheet_open", case_key, "", False, z),
        ("lane_short", f"lane_short:{short.pk}:registrar", "", False, z),
        ("positive_pool", pool_alert.key, commander.username, False, z),
    ]
    assert pool_alert.key == f"positive:{seen['pool'].pk}:{zhongbei['community'].pk}"
    assert [a.kind for a in district[y]] == ["positive_no_retest", "lane_short"]
    assert [(a.kind, a.drill) for a in district[d]] == [("lane_short", True)]
    assert "has no Registrar" in district[d][0].text
    assert "2112210002" in district[z][0].text and "流调" in district[z][0].text


def test_each_round_shows_its_own_newest_results_up_to_the_cap(district_world, monkeypatch):
    zhongbei, yangliu = district_world["zhongbei"], district_world["yangliu"]
    monkeypatch.setattr(case_alerts, "SHOWN", 1)
    newest = {}
    for serial, town in enumerate((zhongbei, yangliu), start=1):
        positive(town, town["people"][:1], f"21122{serial}0001", pool=1)
        newest[town["campaign"].pk] = positive(town, town["people"][1:2], f"21122{serial}0002", 1)
    rounds = [zhongbei["campaign"], yangliu["campaign"]]
    now = timezone.now()
    many = alerts.current_many(rounds, now, kinds={"case_sheet_open"})
    for campaign in rounds:
        sheet = CaseSheet.objects.get(tube=newest[campaign.pk])
        assert [a.key for a in many[campaign.pk]] == [f"case_sheet_open:{sheet.pk}"]
        assert many[campaign.pk] == alerts.current(campaign, now, kinds={"case_sheet_open"})


def _cost(rounds: list[Campaign], now: dt.datetime) -> int:
    with CaptureQueriesContext(connection) as run:
        found = alerts.current_many(rounds, now, apps=queries._APPS, kinds=DISTRICT_KINDS)
    for campaign in rounds:
        kinds = {a.kind for a in found[campaign.pk]}
        assert kinds == {"positive_pool", "case_sheet_open", "lane_short"}, campaign
    return len(run)


def test_the_districts_alerts_cost_the_same_queries_for_2_rounds_as_for_6(
    district_world, another_town
):
    towns = [district_world["zhongbei"], district_world["yangliu"]]
    towns += [another_town(name) for name in ("大寺镇", "赤龙南街", "精武镇", "王稳庄镇")]
    rounds = [with_district_alerts(town, n)["campaign"] for n, town in enumerate(towns, start=1)]
    now = timezone.now()
    assert _cost(rounds[:2], now) == _cost(rounds, now)
    rows = [r for r in queries.towns(district_world["district"].pk, now)[0] if r.campaign]
    assert len(rows) == 6

    def board_cost(some: list[queries.TownRow]) -> int:
        with CaptureQueriesContext(connection) as run:
            found = queries.alerts(some, now)
        assert {a.kind for a in found} >= {queries.POSITIVE, queries.SHORT_STAFF}
        return len(run)

    assert board_cost(rows[:2]) == board_cost(rows)
