"""Case sheets (流调): a confirmed positive (a single tube or a retest) opens a sheet with the
person, their household, the rest of the pool, where and when they were sampled, the zone and
what was sent; the commander hands it over, the receiver acknowledges it, and it is an alert
until then. A correction withdraws it (it stays, saying so). Every reveal, print and download
is audited; the lab never opens a sheet, and another town's sheet is not found."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from doorstep.core import alerts
from doorstep.core.models import AuditAction, AuditEntry
from doorstep.core.roles import Role
from doorstep.lab import cases
from doorstep.lab.actions import cases as case_actions
from doorstep.lab.models import CaseSheet
from doorstep.territory.models import Building, Grid, Household, Town
from doorstep.testing import client_for, make_building, make_household, make_user, valid_id
from doorstep.testing.lanes import post, sealed_tube

pytestmark = pytest.mark.django_db
EN = {"Accept-Language": "en"}


def _case_alerts(campaign):  # type: ignore[no-untyped-def]
    return [
        (a.kind, a.severity)
        for a in alerts.current(campaign, timezone.now(), apps={"lab"})
        if a.kind.startswith("case_sheet")
    ]


def _positive_single(lane_world, person, code="2112250101"):  # type: ignore[no-untyped-def]
    tube = sealed_tube(lane_world["registrar"], lane_world["lane"], [person], code=code, pool=1)
    [answer] = post(lane_world, {"tube": tube.code, "result": "positive"})
    assert answer["status"] == "accepted", answer
    return tube


def test_a_positive_single_tube_opens_a_sheet_with_the_household_and_the_zone(lane_world, worker):
    father, mother = lane_world["family"]
    tube = _positive_single(lane_world, father)
    sheet = CaseSheet.objects.get()
    assert (sheet.tube, sheet.resident, sheet.household) == (tube, father, father.household)
    assert sheet.state == "open"
    data = cases.sheet_data(sheet, worker)
    assert data.person.name == father.masked_name and data.person.name != father.name
    assert [m.name for m in data.household] == [mother.masked_name]
    assert data.pool is None and data.pool_members == []
    assert (data.tube.site, data.sampled_at) == (tube.site, tube.members.get().added_at)
    assert data.zone == "Sealed"
    # What was sent to whom (doorstep.notices): the household is told to stay home.
    told = {(s.to, s.what) for s in data.sent}
    assert (mother.masked_name, "Positive in the household: stay home") in told
    assert all(s.how.startswith("Text message 138****") for s in data.sent)
    page = client_for(worker).get(reverse("lab:case", args=[sheet.pk]), headers=EN)
    html = page.content.decode()
    assert page.status_code == 200
    assert father.masked_name in html and father.name not in html and tube.site.name in html
    assert "Not yet handed over" in html
    # A negative single tube opens nothing.
    other = sealed_tube(
        lane_world["registrar"], lane_world["lane"], [lane_world["neighbour"]], "2112250102", 1
    )
    post(lane_world, {"tube": other.code, "result": "negative"})
    assert CaseSheet.objects.count() == 1


def test_a_positive_retest_lists_the_other_members_of_the_original_pool(lane_world, worker):
    people = lane_world["people"][:3]
    pool = sealed_tube(lane_world["registrar"], lane_world["lane"], people)
    post(lane_world, {"tube": pool.code, "result": "positive"})
    assert not CaseSheet.objects.exists()  # a positive pool is no case yet
    retest = sealed_tube(lane_world["registrar"], lane_world["lane"], people[1:2], "2112259001", 1)
    assert retest.retest_of == pool
    post(lane_world, {"tube": retest.code, "result": "positive"})
    sheet = CaseSheet.objects.get()
    assert (sheet.tube, sheet.resident) == (retest, people[1])
    data = cases.sheet_data(sheet, worker)
    assert data.pool == pool
    assert [m.name for m in data.pool_members] == [people[0].masked_name, people[2].masked_name]
    assert {m.result for m in data.pool_members} == {"To sample"}
    told = {(s.to, s.what) for s in data.sent}
    assert (people[2].masked_name, "Positive pool: stay home for the retest") in told
    # A grid worker sees the pool's members of their own grid only, and how many others.
    grid, other = (Grid.objects.create(community=people[0].community, name=n) for n in "甲乙")
    gridder = make_user(Role.COMMUNITY_WORKER, people[0].community)
    gridder.grids.set([grid])
    building = people[1].household.unit.building
    Building.objects.filter(pk=building.pk).update(grid=grid)
    elsewhere = make_household(make_building(people[0].community, "14号楼", position=14), "101")
    Building.objects.filter(pk=elsewhere.unit.building_id).update(grid=other)
    Household.objects.filter(pk=people[2].household_id).update(unit=elsewhere.unit)
    held = cases.sheet_data(sheet, gridder)
    assert [m.name for m in held.pool_members] == [people[0].masked_name]
    assert held.pool_hidden == 1
    assert people[2].masked_name not in {s.to for s in held.sent}
    page = client_for(gridder).get(reverse("lab:case", args=[sheet.pk]), headers=EN)
    assert people[2].masked_name not in page.content.decode()
    assert "1 more member outside your area." in page.content.decode()
    # The sheet itself is out of a grid worker's reach when its household is.
    Building.objects.filter(pk=building.pk).update(grid=other)
    assert client_for(gridder).get(reverse("lab:case", args=[sheet.pk])).status_code == 404


def test_a_walk_in_s_sheet_takes_their_household_once_a_worker_finds_it(lane_world, worker):
    d, lane = lane_world["registrar"], lane_world["lane"]
    walk_in = {"name": "路过人", "id_number": valid_id(), "phone": "", "address": "不详"}
    answers = d.send(
        d.event("tube.open", lane=lane.code, tube="2112250009", pool=1),
        d.event("tube.add", tube="2112250009", walk_in=walk_in),
        d.event("tube.seal", tube="2112250009"),
    )
    assert {a["status"] for a in answers} == {"accepted"}, answers
    post(lane_world, {"tube": "2112250009", "result": "positive"})
    sheet = CaseSheet.objects.get()
    assert sheet.walk_in is not None and sheet.household is None
    data = cases.sheet_data(sheet, worker)
    assert data.person.walk_in and data.person.name == "路*人" and data.household == []
    client_for(worker).post(
        reverse("sampling:walk_in_trace", args=[sheet.walk_in_id]), {"address": "12号楼1单元302"}
    )
    sheet.refresh_from_db()
    assert sheet.household is not None and sheet.household.room == "302"
    neighbours = lane_world["people"]
    lives_there = [p.masked_name for p in neighbours if p.household_id == sheet.household_id]
    assert [m.name for m in cases.sheet_data(sheet, worker).household] == lives_there


def test_a_correction_withdraws_the_sheet_and_clears_its_alert(lane_world, worker):
    father = lane_world["family"][0]
    tube = _positive_single(lane_world, father)
    campaign = lane_world["campaign"]
    assert _case_alerts(campaign) == [("case_sheet_open", "bad")]
    post(lane_world, {"tube": tube.code, "result": "negative", "reason": "复核为阴性"})
    sheet = CaseSheet.objects.get()
    assert sheet.state == "withdrawn" and sheet.withdrawn_at is not None
    assert _case_alerts(campaign) == []
    html = client_for(worker).get(reverse("lab:case", args=[sheet.pk]), headers=EN)
    assert "this case is withdrawn" in html.content.decode()
    listing = client_for(worker).get(reverse("lab:cases", args=[campaign.pk]), headers=EN)
    assert 'data-state="withdrawn"' in listing.content.decode()
    # Corrected back to positive: the same sheet opens again.
    post(lane_world, {"tube": tube.code, "result": "positive", "reason": "复核为阳性"})
    assert CaseSheet.objects.get().state == "open"


def test_the_commander_hands_over_the_receiver_acknowledges_and_the_alert_clears(
    lane_world, commander, worker
):
    _positive_single(lane_world, lane_world["family"][0])
    sheet, campaign = CaseSheet.objects.get(), lane_world["campaign"]
    url = reverse("lab:case_ack", args=[sheet.pk])
    client_for(worker).post(url, {"name": "王医生"})
    assert CaseSheet.objects.get().acknowledged_at is None  # not handed over yet
    # A worker may not hand over; the commander does.
    hand = reverse("lab:case_hand", args=[sheet.pk])
    assert client_for(worker).post(hand, {"to": "区疾控流调一组"}).status_code == 403
    response = client_for(commander).post(hand, {"to": "区疾控流调一组", "phone": "13800001234"})
    assert response.status_code == 302
    sheet.refresh_from_db()
    assert (sheet.state, sheet.handed_to, sheet.handed_to_phone, sheet.handed_by) == (
        "handed",
        "区疾控流调一组",
        "13800001234",
        commander,
    )
    assert _case_alerts(campaign) == [("case_sheet_handed", "warn")]
    # The commander records the receiver's name.
    client_for(commander).post(url, {"name": "王医生"})
    sheet.refresh_from_db()
    assert (sheet.state, sheet.acknowledged_name, sheet.acknowledged_by) == (
        "acknowledged",
        "王医生",
        commander,
    )
    assert _case_alerts(campaign) == []
    steps = [
        e.detail["step"]
        for e in AuditEntry.objects.filter(object_type="case_sheet", object_id=str(sheet.pk))
    ]
    assert sorted(steps) == ["acknowledge", "hand_over"]
    html = client_for(worker).get(reverse("lab:case", args=[sheet.pk]), headers=EN)
    assert "王医生" in html.content.decode() and "区疾控流调一组" in html.content.decode()


def test_a_worker_acknowledges_as_themselves(lane_world, commander, worker):
    _positive_single(lane_world, lane_world["family"][0])
    sheet = CaseSheet.objects.get()
    case_actions.hand_over(commander, sheet, "社区流调员")
    client_for(worker).post(reverse("lab:case_ack", args=[sheet.pk]), {"name": ""})
    sheet.refresh_from_db()
    assert (sheet.acknowledged_by, sheet.acknowledged_name) == (worker, worker.get_username())


def test_the_sheet_reveals_prints_and_downloads_full_only_for_a_reason_each_audited(
    lane_world, worker
):
    father, mother = lane_world["family"]
    _positive_single(lane_world, father)
    sheet = CaseSheet.objects.get()
    client = client_for(worker)
    masked = client.post(reverse("lab:case_print", args=[sheet.pk]), {"reason": ""}, headers=EN)
    html = masked.content.decode()
    assert masked.status_code == 200 and father.masked_name in html and father.name not in html
    assert "Names, documents and phones are masked." in html
    assert "lab/cases.css" in html and "data-print" in html  # A4, with the print button
    full = client.post(
        reverse("lab:case_print", args=[sheet.pk]), {"reason": "交流调组"}, headers=EN
    ).content.decode()
    assert father.name in full and father.id_number in full and mother.name in full
    revealed = client.post(reverse("lab:case_reveal", args=[sheet.pk]), {"reason": "核对身份"})
    assert father.name in revealed.content.decode()
    assert (
        client.post(reverse("lab:case_reveal", args=[sheet.pk]), {"reason": ""}).status_code == 400
    )
    book = client.post(reverse("lab:case_xlsx", args=[sheet.pk]), {"reason": "交流调组"})
    cells = [
        str(v)
        for row in load_workbook(io.BytesIO(book.content)).active.iter_rows(values_only=True)
        for v in row
        if v is not None
    ]
    assert father.name in cells and father.id_number in cells and mother.name in cells
    entries = AuditEntry.objects.filter(object_type="case_sheet", object_id=str(sheet.pk))
    assert sorted((e.action, e.detail.get("format", ""), e.reason) for e in entries) == [
        (AuditAction.EXPORT, "print", ""),
        (AuditAction.EXPORT, "print", "交流调组"),
        (AuditAction.EXPORT, "xlsx", "交流调组"),
        (AuditAction.REVEAL, "", "核对身份"),
    ]


def test_the_lab_never_opens_a_sheet_and_another_towns_commander_finds_none(
    lane_world, lab, commander, outsider, leader
):
    _positive_single(lane_world, lane_world["family"][0])
    sheet, campaign = CaseSheet.objects.get(), lane_world["campaign"]
    pages = [
        ("get", reverse("lab:cases", args=[campaign.pk])),
        ("get", reverse("lab:case", args=[sheet.pk])),
        ("post", reverse("lab:case_print", args=[sheet.pk])),
        ("post", reverse("lab:case_xlsx", args=[sheet.pk])),
        ("post", reverse("lab:case_ack", args=[sheet.pk])),
    ]
    for user in (lab, leader):
        for method, url in pages:
            assert getattr(client_for(user), method)(url).status_code == 403, (user.role, url)
    stranger = make_user(Role.COMMANDER, town=Town.objects.create(name="远方镇"))
    for method, url in pages:
        assert getattr(client_for(stranger), method)(url).status_code == 404, url
    # A worker of another community sees the round's list without this sheet, and not the sheet.
    listing = client_for(outsider).get(reverse("lab:cases", args=[campaign.pk]))
    assert listing.status_code == 200 and sheet.tube.code not in listing.content.decode()
    assert client_for(outsider).get(reverse("lab:case", args=[sheet.pk])).status_code == 404
    page = client_for(commander).get(reverse("lab:cases", args=[campaign.pk])).content.decode()
    assert sheet.tube.code in page and lane_world["family"][0].masked_name in page


def test_the_pools_page_and_the_command_screen_link_the_round_s_case_sheets(
    lane_world, worker, leader, commander
):
    campaign = lane_world["campaign"]
    url = reverse("lab:cases", args=[campaign.pk])
    pools = reverse("lab:pools", args=[campaign.pk])
    assert url in client_for(worker).get(pools).content.decode()
    assert url not in client_for(leader).get(pools).content.decode()  # a leader may not open it
    board = client_for(commander).get(reverse("command:dashboard", args=[campaign.pk]))
    assert url in board.content.decode()
