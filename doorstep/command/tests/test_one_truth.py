"""One definition of each figure, shown the same on every page and export, at every step of a
round: an own community of 3 buildings, 8 households and 12 residents; a household nobody
opens to; a positive pool with a walk-in; a box whose count disagrees; the retests taken at
the door by a home-sampling team; the loop closed.

At each step every page and export that shows a figure is read as a person would read it (the
visible text, the cells of the workbook) and all must agree with each other and with what
the step should have done. The suite runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from doorstep.api.actions import issue_token
from doorstep.campaigns.models import CampaignBuilding, PoolRule, Zone
from doorstep.canvass import actions as canvass
from doorstep.canvass.models import BuildingTask
from doorstep.canvass.outcomes import record
from doorstep.core import alerts
from doorstep.core.roles import Role
from doorstep.notices import actions as telling
from doorstep.notices.models import Message, Notice
from doorstep.sampling.models import HomeTask, Tube
from doorstep.testing import (
    client_for,
    make_building,
    make_campaign,
    make_community,
    make_door_team,
    make_household,
    make_lane,
    make_lane_team,
    make_resident,
    make_user,
    tap,
    valid_id,
)
from doorstep.testing.lanes import Device
from doorstep.testing.lanes import post as post_results

pytestmark = pytest.mark.django_db


@pytest.fixture
def own():  # type: ignore[no-untyped-def]
    community = make_community("幸福里社区")
    a = make_building(community, "1号楼", position=1)
    b = make_building(community, "2号楼", position=2)
    c = make_building(community, "3号楼", position=3)
    plan = {a: [2, 2, 1], b: [1, 2, 1], c: [2, 1]}  # 8 households, 12 residents
    households = {}
    for building, sizes in plan.items():
        for i, size in enumerate(sizes):
            h = make_household(building, f"{i + 1}01")
            households[(building.name, i)] = h
            for n in range(size):
                make_resident(h, f"{building.name}{i}住户{n}")
    campaign = make_campaign(community, name="幸福里第1轮")
    zones = {a: (Zone.CONTROLLED, PoolRule.TEN), b: (Zone.PREVENTION, PoolRule.TWENTY)}
    zones[c] = (Zone.SEALED, PoolRule.HOUSEHOLD)
    for building, (zone, rule) in zones.items():
        CampaignBuilding.objects.filter(campaign=campaign, building=building).update(
            zone=zone, pool_rule=rule
        )
    leader = make_user(Role.TEAM_LEADER, community)
    make_door_team(community, "入户1组", leader)
    registrar = make_user(Role.REGISTRAR, community)
    lane = make_lane(community, site_name="幸福里采样点")
    make_lane_team(lane, registrar)
    lab = make_user(Role.LAB, town=community.town)
    return {
        "community": community,
        "campaign": campaign,
        "buildings": (a, b, c),
        "households": households,
        "leader": leader,
        "registrar": registrar,
        "device": Device(issue_token(registrar)[1]),
        "lab": Device(issue_token(lab)[1]),
        "lane": lane,
        "commander": make_user(Role.COMMANDER, town=community.town),
        "worker": make_user(Role.COMMUNITY_WORKER, community),
    }


def _ints(pattern: str, text: str, where: str) -> tuple[int, ...]:
    found = re.search(pattern, text)
    assert found, f"{where}: no match for {pattern!r}"
    return tuple(int(g) for g in found.groups())


def read_everything(world: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each figure as every page and export shows it: figure → {where: value}."""
    campaign, community = world["campaign"], world["community"]
    boss = client_for(world["commander"])
    worker = client_for(world["worker"])
    figures: dict[str, dict[str, Any]] = {
        k: {} for k in ("covered", "households", "untested", "sampled", "residents", "loops")
    }

    def seen(where: str, **values: Any) -> None:
        for figure, value in values.items():
            figures[figure][where] = value

    clock = boss.get(reverse("command:panel", args=[campaign.pk, "clock"])).content.decode()
    covered, households = _ints(r"(\d+) of (\d+) households covered", clock, "clock")
    sampled, residents = _ints(r"(\d+) of (\d+) residents sampled", clock, "clock")
    (untested,) = _ints(r'data-testid="untested">(\d+)<', clock, "clock")
    loops = _ints(r"(\d+) loops open, (\d+) closed", clock, "clock")
    seen("dashboard clock", covered=covered, households=households, untested=untested)
    seen("dashboard clock", sampled=sampled, residents=residents, loops=loops)

    panel = boss.get(reverse("command:panel", args=[campaign.pk, "coverage"])).content.decode()
    row = re.search(rf'data-community="{community.pk}">(.*?)</tr>', panel, re.S)
    assert row, "coverage panel: no row for the community"
    c, h = _ints(r"(\d+)/(\d+) \(", row.group(1), "coverage panel")
    s, _e, r = _ints(r'data-testid="sampled">(\d+)\+(\d+)/(\d+)', row.group(1), "coverage panel")
    (u,) = _ints(r'<td class="num">(\d+)</td>', row.group(1), "coverage panel")
    seen("dashboard coverage", covered=c, households=h, sampled=s, residents=r, untested=u)

    drill = boss.get(
        reverse("command:community", args=[campaign.pk, community.pk])
    ).content.decode()
    c, h = _ints(r"(\d+) of (\d+) households covered\.", drill, "command community")
    seen("command community", covered=c, households=h)

    overview = worker.get(reverse("canvass:coverage", args=[campaign.pk])).content.decode()
    c, h = _ints(r'id="total-covered">(\d+)/(\d+)<', overview, "canvass coverage")
    (u,) = _ints(r'id="total-untested">(\d+)<', overview, "canvass coverage")
    seen("canvass coverage", covered=c, households=h, untested=u)

    page = worker.get(
        reverse("canvass:community", args=[campaign.pk, community.pk])
    ).content.decode()
    c, h = _ints(r'Households covered</div><div class="stat">(\d+)/(\d+)<', page, "community")
    s, r = _ints(r'Sampled</div><div class="stat">(\d+)/(\d+)<', page, "community")
    (u,) = _ints(r"Untested list \((\d+)\)", page, "community")
    seen("community page", covered=c, households=h, sampled=s, residents=r, untested=u)

    listed = worker.get(
        reverse("canvass:untested", args=[campaign.pk, community.pk])
    ).content.decode()
    body = re.search(r'<table class="stack" id="untested">.*?<tbody>(.*?)</tbody>', listed, re.S)
    assert body
    seen("untested list", untested=body.group(1).count("<tr") - ("Nobody:" in body.group(1)))
    export = worker.post(reverse("canvass:untested_export", args=[campaign.pk, community.pk]))
    sheet = load_workbook(io.BytesIO(export.content)).worksheets[0]
    seen("untested export", untested=sheet.max_row - 1)

    report = boss.get(reverse("command:report", args=[campaign.pk])).content.decode()

    def standing(label: str) -> int:
        return _ints(rf"<th>{re.escape(label)}</th><td class=\"num\">(\d+)</td>", report, label)[0]

    seen(
        "daily report",
        covered=standing("Households covered"),
        households=standing("Households"),
        untested=standing("Untested"),
        sampled=standing("Sampled (residents)"),
        residents=standing("Residents"),
    )
    book = load_workbook(
        io.BytesIO(boss.get(reverse("command:report_xlsx", args=[campaign.pk])).content)
    )
    summary = {row[0]: row[2] for row in book.worksheets[0].iter_rows(values_only=True)}
    seen(
        "daily report XLSX",
        covered=summary["Households covered"],
        households=summary["Households"],
        untested=summary["Untested"],
        sampled=summary["Sampled (residents)"],
        residents=summary["Residents"],
    )
    rows = {r[0]: r for r in book.worksheets[1].iter_rows(values_only=True)}
    mine = rows[community.name]
    seen("report XLSX community", households=mine[4], covered=mine[5], residents=mine[6])
    seen("report XLSX community", sampled=mine[7], untested=mine[9])

    pools = boss.get(reverse("lab:pools", args=[campaign.pk])).content.decode()
    seen(
        "pools page",
        loops=(
            _ints(r'id="loops-open">(\d+)<', pools, "pools")[0],
            _ints(r'id="loops-closed">(\d+)<', pools, "pools")[0],
        ),
    )
    return figures


def expect(world: dict[str, Any], **wanted: Any) -> None:
    figures = read_everything(world)
    for figure, value in wanted.items():
        shown = figures[figure]
        assert set(shown.values()) == {value}, f"{figure}: expected {value} everywhere, got {shown}"


def test_one_round_every_figure_on_every_page_and_export_at_every_step(own):
    a = own["buildings"][0]
    campaign, device, lane = own["campaign"], own["device"], own["lane"]
    hh = own["households"]
    expect(own, covered=0, households=8, untested=12, sampled=0, residents=12, loops=(0, 0))

    # Door to door in 1号楼: two households told, one nobody home.
    task = BuildingTask.objects.get(campaign=campaign, building=a)
    canvass.claim(own["leader"], task)
    answers = record(
        own["leader"],
        task,
        [tap(hh[("1号楼", 0)]), tap(hh[("1号楼", 1)], "nobody_home"), tap(hh[("1号楼", 2)])],
    )
    assert {x.status for x in answers} == {"accepted"}
    expect(own, covered=2, households=8, untested=12, sampled=0)

    # At the lane: both households of two, and a walk-in living at 1号楼 201, in one pool of
    # ten. The nobody-home household is now covered: every member is sampled.
    people = [*hh[("1号楼", 0)].residents.all(), *hh[("1号楼", 1)].residents.all()]
    walk_in = {"name": "过路人", "id_number": valid_id(), "address": "1号楼201"}
    events = [device.event("tube.open", lane=lane.code, tube="3100000001", pool=10)]
    events += [device.event("tube.add", tube="3100000001", person=p.person_code) for p in people]
    events += [device.event("tube.add", tube="3100000001", walk_in=walk_in)]
    events += [device.event("tube.seal", tube="3100000001")]
    assert {x["status"] for x in device.send(*events)} == {"accepted"}
    expect(own, covered=3, households=8, untested=8, sampled=4, residents=12)

    # The box: a count that disagrees alerts the commander until a count agrees.
    device.send(
        device.event("box.open", lane=lane.code, box="XFL001"),
        device.event("box.add", box="XFL001", tube="3100000001"),
    )
    assert device.codes(device.event("box.seal", box="XFL001", count=2)) == ["count_mismatch"]
    assert [x.kind for x in alerts.current(campaign, timezone.now())] == ["count_mismatch"]
    assert device.codes(device.event("box.seal", box="XFL001", count=1)) == ["accepted"]
    assert alerts.current(campaign, timezone.now()) == []
    assert own["lab"].codes(own["lab"].event("box.receive", box="XFL001", count=1)) == ["accepted"]

    # The pool is positive: its five members must stay home; 1号楼 is controlled, so their
    # retests come to the door, the walk-in's too (traced to 1号楼 201 by the address).
    post_results(
        {"lab": own["lab"], "registrar": device, "lane": lane},
        {"tube": "3100000001", "result": "positive"},
    )
    # The four residents are texted; the walk-in gave no phone: a door visit from the start.
    assert sorted(x.kind for x in alerts.current(campaign, timezone.now())) == [
        "positive_pool",
        "tell_at_door",
    ]
    for message in Message.objects.filter(notice__cause_tube__code="3100000001"):
        telling.delivery_report(message, telling.DLR_DELIVERED, "", timezone.now())
    leader = client_for(own["leader"])
    leader.post(
        reverse("notices:told"),
        {"notice": list(Notice.objects.filter(told_at=None).values_list("pk", flat=True))},
    )
    assert not Notice.objects.filter(told_at=None).exists()
    assert [x.kind for x in alerts.current(campaign, timezone.now())] == ["positive_pool"]
    expect(own, covered=3, untested=8, sampled=4, loops=(1, 0))
    home = HomeTask.objects.get(campaign=campaign, building=a)
    assert home.stops.filter(done_at=None).count() == 5

    # The home-sampling team claims 1号楼 and takes the five retests in single tubes.
    registrar = client_for(own["registrar"])
    registrar.post(reverse("sampling:home_claim", args=[home.pk]))
    for i, person in enumerate(people):
        code = f"31000001{i:02d}"
        device.send(
            device.event("tube.open", lane=lane.code, tube=code, pool=1),
            device.event("tube.add", tube=code, person=person.person_code),
            device.event("tube.seal", tube=code),
        )
    device.send(
        device.event("tube.open", lane=lane.code, tube="3100000199", pool=1),
        device.event("tube.add", tube="3100000199", walk_in=walk_in),
        device.event("tube.seal", tube="3100000199"),
    )
    assert alerts.current(campaign, timezone.now()) == []  # every member's retest is sampled
    registrar.post(reverse("sampling:home_close", args=[home.pk]))
    home.refresh_from_db()
    assert home.status == "done"
    expect(own, covered=3, untested=8, sampled=4, loops=(1, 0))

    # Every retest negative: the loop closes, and every page says so.
    retests = Tube.objects.filter(campaign=campaign, capacity=1).values_list("code", flat=True)
    post_results(
        {"lab": own["lab"], "registrar": device, "lane": lane},
        *[{"tube": code, "result": "negative"} for code in retests],
    )
    expect(own, covered=3, households=8, untested=8, sampled=4, residents=12, loops=(0, 1))
