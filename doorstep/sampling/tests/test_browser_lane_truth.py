"""The registrar's screen shows only what the server records, in real Chromium on a 360 px
phone, typing as a keyboard-wedge scanner does (the code, then Enter). Each test checks what the
screen says and what the database holds, and that the two agree."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from doorstep.lab.models import RetestOrder
from doorstep.sampling.models import RoundSample, Tube, TubeMember
from doorstep.testing import make_household, make_resident, sign_in, valid_id
from doorstep.testing.lanes import post, sampled_elsewhere, to_the_lab

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "swab-then-seal-10"


@pytest.fixture
def lane_page(live_server, browser, lane_world, registrar) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    registrar.username = "wedge"
    registrar.set_password(PASSWORD)
    registrar.save()
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="en-US")
    page = context.new_page()
    sign_in(page, live_server.url, "wedge", PASSWORD)
    page.goto(f"{live_server.url}/sampling/lanes/{lane_world['lane'].pk}/")
    page.wait_for_selector("#code:focus")
    page.context_ = context  # type: ignore[attr-defined]
    yield page
    context.close()


def wedge(page, code: str) -> None:  # type: ignore[no-untyped-def]
    """What a keyboard-wedge scanner does: types into the focused field, then Enter."""
    page.keyboard.type(code)
    page.keyboard.press("Enter")


def settled(page) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_selector("#outbox-pending:text-is('0')", timeout=15_000)


def answer(page) -> str:  # type: ignore[no-untyped-def]
    return page.locator("#lane-answer").inner_text()


def fits_the_phone(page) -> None:  # type: ignore[no-untyped-def]
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_a_mistyped_code_is_refused_on_the_spot_and_never_shown_as_added(lane_page, lane_world):
    page, people = lane_page, lane_world["people"]
    wedge(page, "2112250001")
    page.wait_for_selector("#tube-code:text-is('2112250001')")
    code = people[0].person_code
    wrong = code[:-1] + ("0" if code[-1] != "0" else "1")
    wedge(page, wrong)
    page.wait_for_selector("#lane-answer.bad")
    assert "is not a valid person code: one character is wrong" in answer(page)
    assert page.locator("#members li").count() == 0
    wedge(page, code)
    page.wait_for_selector("#members li.confirmed")
    settled(page)
    assert page.locator("#tube-fill").inner_text() == "1/10"
    fits_the_phone(page)
    assert list(TubeMember.objects.values_list("resident", flat=True)) == [people[0].pk]


def test_a_passport_is_typed_with_its_document_type(lane_page, lane_world):
    page, person = lane_page, lane_world["people"][0]
    person.id_type, person.id_number = "passport", "E12345678"
    person.save()
    wedge(page, "2112250001")
    page.wait_for_selector("#doc-field:not([hidden])")
    page.select_option("#id-type", "passport")
    page.locator("#code").focus()
    wedge(page, "E12345678")
    page.wait_for_selector(f"#members li.confirmed:text-is('{person.masked_name}')")
    settled(page)
    # The document type counts for one scan: the next code is read as a person code again.
    assert page.locator("#id-type").input_value() == ""
    assert TubeMember.objects.get().resident == person


def test_someone_already_sampled_is_pending_then_an_alarm_that_names_them(lane_page, lane_world):
    page, people = lane_page, lane_world["people"]
    sampled_elsewhere(lane_world, people[0])
    wedge(page, "2112250001")
    page.wait_for_selector("#tube-code:text-is('2112250001')")
    page.context_.set_offline(True)
    wedge(page, people[0].person_code)
    page.wait_for_selector("#members li.pending")
    assert "waiting for the server" in page.locator("#members").inner_text()
    assert "Kept on this phone" in answer(page)
    assert page.locator("#tube-pending").inner_text() == "0 recorded · 1 waiting"
    page.context_.set_offline(False)
    page.wait_for_selector("#lane-alarms:not([hidden])", timeout=15_000)
    alarm = page.locator("#alarm-list li").inner_text()
    assert people[0].masked_name in alarm and "2112250001" in alarm
    assert "already sampled in this round" in alarm
    assert "record the reason and scan the person again, or set the swab aside" in alarm
    # The screen now shows the server's truth: nobody recorded in this tube.
    assert page.locator("#tube-fill").inner_text() == "0/10"
    assert page.locator("#members li").count() == 0
    assert not TubeMember.objects.filter(tube__code="2112250001").exists()
    # The alarm stays across a reload until the registrar says it has been dealt with.
    page.reload()
    page.wait_for_selector("#lane-alarms:not([hidden])")
    page.click("#alarm-list button")
    page.wait_for_selector("#lane-alarms", state="hidden")
    assert page.evaluate("document.activeElement.id") == "code"


def test_the_eleventh_person_offline_is_refused_on_the_spot_in_a_tube_opened_by_zone(
    lane_page, lane_world
):
    page, people = lane_page, lane_world["people"]
    page.evaluate("navigator.serviceWorker.ready")
    page.context_.set_offline(True)
    wedge(page, "2112250001")  # pool left "by zone": the lane's rule, 10 in 1
    page.wait_for_selector("#tube-code:text-is('2112250001')")
    for person in people[:10]:
        wedge(page, person.person_code)
    page.wait_for_selector("#tube-fill:text-is('10/10')")
    assert page.locator("#tube-pending").inner_text() == "0 recorded · 10 waiting"
    assert not page.locator("#discard").is_visible()  # a tube with people is never discarded
    wedge(page, people[10].person_code)
    page.wait_for_selector("#lane-answer.bad")
    assert "already holds 10 people. Seal it and open a new tube" in answer(page)
    assert page.locator("#members li").count() == 10
    page.context_.set_offline(False)
    settled(page)
    page.wait_for_selector("#members li.confirmed >> nth=9")
    assert page.locator("#tube-pending").inner_text() == ""
    tube = Tube.objects.get()
    assert (tube.capacity, tube.member_count) == (10, 10)
    assert not RoundSample.objects.filter(resident=people[10]).exists()


def test_a_sealed_tube_scanned_again_says_sealed_and_focus_returns_after_seal(
    lane_page, lane_world
):
    page, people = lane_page, lane_world["people"]
    wedge(page, "2112250001")
    page.wait_for_selector("#tube-code:text-is('2112250001')")
    wedge(page, people[0].person_code)
    page.wait_for_selector("#members li")
    page.click("#seal")
    page.wait_for_selector("#tube-code:text-is('—')")
    assert page.evaluate("document.activeElement.id") == "code"
    wedge(page, "2112250001")  # lands in the scan field without a tap
    page.wait_for_selector("#lane-answer.bad")
    assert "Tube 2112250001 was sealed or discarded at this lane. Use a new tube." in answer(page)
    wedge(page, "2112250002")
    page.wait_for_selector("#tube-code:text-is('2112250002')")
    settled(page)
    assert list(Tube.objects.order_by("code").values_list("code", "status")) == [
        ("2112250001", "sealed"),
        ("2112250002", "open"),
    ]


def test_a_person_code_first_is_refused_and_an_empty_tube_can_be_discarded(lane_page, lane_world):
    page, people = lane_page, lane_world["people"]
    wedge(page, people[0].person_code)
    page.wait_for_selector("#lane-answer.bad")
    assert "is a person's code, not a tube: scan the tube's barcode first" in answer(page)
    assert page.locator("#tube-code").inner_text() == "—"
    wedge(page, "2112250001")
    page.wait_for_selector("#discard:visible")
    page.click("#discard")
    page.wait_for_selector("#tube-code:text-is('—')")
    settled(page)
    assert page.evaluate("document.activeElement.id") == "code"
    tube = Tube.objects.get()
    assert (tube.status, tube.member_count) == ("discarded", 0)
    assert not Tube.objects.filter(status="open").exists()


def test_the_override_reason_counts_for_one_scan_only(lane_page, lane_world):
    page, people = lane_page, lane_world["people"]
    sampled_elsewhere(lane_world, *people[:2])
    wedge(page, "2112250001")
    page.wait_for_selector("#tube-code:text-is('2112250001')")
    page.click("#override-box summary")
    page.fill("#override", "采样管破损，重采")
    page.locator("#code").focus()
    wedge(page, people[0].person_code)
    page.wait_for_selector("#members li.confirmed")
    assert page.locator("#override").input_value() == ""
    wedge(page, people[1].person_code)
    page.wait_for_selector("#lane-alarms:not([hidden])", timeout=15_000)
    assert "already sampled in this round" in page.locator("#alarm-list").inner_text()
    settled(page)
    members = TubeMember.objects.filter(tube__code="2112250001")
    assert list(members.values_list("resident", "override_reason")) == [
        (people[0].pk, "采样管破损，重采")
    ]


def test_a_walk_in_with_a_permit_is_registered_offline_and_lands_once(lane_page, lane_world):
    page = lane_page
    page.evaluate("navigator.serviceWorker.ready")
    wedge(page, "2112250001")
    page.wait_for_selector("#tube-code:text-is('2112250001')")
    settled(page)
    page.context_.set_offline(True)
    page.click("#walk-in-box summary")
    page.fill("#wi-name", "过路人")
    page.select_option("#wi-type", "hk_macau")
    page.fill("#wi-id", "H1234567")
    page.click("#walk-in-form button[type=submit]")
    page.wait_for_selector("#lane-answer.bad")
    assert "HK/Macau permit number is H, M or C and 8 more characters" in answer(page)
    page.fill("#wi-id", "H12345678")
    page.fill("#wi-address", "5号楼301")
    page.click("#walk-in-form button[type=submit]")
    page.wait_for_selector("#members li.pending")
    page.context_.set_offline(False)
    page.wait_for_selector("#members li.confirmed", timeout=15_000)
    settled(page)
    member = TubeMember.objects.select_related("walk_in").get()
    assert (member.walk_in.id_type, member.walk_in.address) == ("hk_macau", "5号楼301")


def test_a_refused_person_stays_alarmed_while_everyone_confirmed_is_traced_from_a_positive_pool(
    lane_page, lane_world
):
    page, people = lane_page, lane_world["people"]
    stranger = make_resident(make_household(lane_world["neighbour"].household.unit.building, "303"))
    sampled_elsewhere(lane_world, people[3])
    page.evaluate("navigator.serviceWorker.ready")
    page.context_.set_offline(True)
    wedge(page, "2112250001")
    page.wait_for_selector("#tube-code:text-is('2112250001')")
    # Three people the server will take, one already sampled, one from a sealed building.
    for person in (people[0], people[1], people[3], stranger, people[2]):
        wedge(page, person.person_code)
    page.wait_for_selector("#tube-fill:text-is('5/10')")
    page.click("#seal")
    page.wait_for_selector("#tube-code:text-is('—')")
    page.context_.set_offline(False)
    page.wait_for_selector("#alarm-list li >> nth=1", timeout=15_000)
    settled(page)
    alarms = page.locator("#alarm-list").inner_text()
    assert people[3].masked_name in alarms and stranger.masked_name in alarms
    assert "Sealed zone" in alarms
    tube = Tube.objects.get(code="2112250001")
    confirmed = {people[0].pk, people[1].pk, people[2].pk}
    assert (tube.status, tube.member_count) == ("sealed", 3)
    assert set(tube.members.values_list("resident", flat=True)) == confirmed

    to_the_lab(lane_world, tube.code)
    lane_world["lab"].post("results", {"results": [{"tube": tube.code, "result": "positive"}]})
    assert set(
        RetestOrder.objects.filter(original_tube=tube).values_list("resident", flat=True)
    ) == (confirmed)
    # Until acknowledged, the two refused swabs stay on the lane's alarm list.
    page.reload()
    page.wait_for_selector("#alarm-list li >> nth=1")
    assert page.locator("#alarm-list li").count() == 2
    fits_the_phone(page)


def test_a_walk_ins_address_is_picked_from_the_list_offline_and_traced_after_a_positive(
    lane_page, lane_world
):
    page = lane_page
    page.evaluate("navigator.serviceWorker.ready")
    wedge(page, "2112250001")
    page.wait_for_selector("#tube-code:text-is('2112250001')")
    settled(page)
    page.context_.set_offline(True)
    page.click("#walk-in-box summary")
    picker = page.locator("#walk-in-form .address-picker")
    assert picker.is_visible()
    page.fill("#wi-name", "过路人")
    page.fill("#wi-id", valid_id())
    picker.locator("[data-part=building]").select_option("12号楼")
    # 12号楼 has one unit: it is chosen for the registrar, and its rooms are offered.
    assert picker.locator("[data-part=unit]").input_value() == "1单元"
    picker.locator("[data-part=room]").select_option("302")
    assert page.input_value("#wi-address") == "12号楼1单元302"
    page.click("#walk-in-form button[type=submit]")
    page.wait_for_selector("#members li.pending")
    page.context_.set_offline(False)
    page.wait_for_selector("#members li.confirmed", timeout=15_000)
    page.click("#seal")
    page.wait_for_selector("#lane-answer[data-state=ok]:has-text('sealed')")
    assert Tube.objects.get(code="2112250001").status == "sealed"
    post(lane_world, {"tube": "2112250001", "result": "positive"})
    order = RetestOrder.objects.select_related("household").get(walk_in__isnull=False)
    assert (order.household.room, order.route) == ("302", "door_to_door")


def test_the_status_line_settles_on_what_the_server_said_and_the_tube_seals_from_the_scanner(
    lane_page, lane_world
):
    page, people = lane_page, lane_world["people"]
    sampled_elsewhere(lane_world, people[1])
    wedge(page, "2112250001")
    page.wait_for_selector("#lane-answer[data-state=ok]")
    assert answer(page) == "Tube 2112250001 opened: scan the people."
    # Seal is in reach on a 360×740 phone without scrolling, from the first scan on.
    box = page.locator("#seal").bounding_box()
    assert box is not None and box["y"] + box["height"] <= 740, box
    wedge(page, people[0].person_code)
    page.wait_for_selector("#lane-answer[data-state=ok]:has-text('Recorded')")
    assert answer(page).startswith("Recorded: ")
    wedge(page, people[1].person_code)  # sampled at the other lane a moment ago
    page.wait_for_selector("#lane-answer[data-state=bad]")
    assert answer(page).startswith("Refused: ") and "already" in answer(page)
    # The open tube's barcode scanned again seals it, without a tap.
    wedge(page, "2112250001")
    page.wait_for_selector("#lane-answer[data-state=ok]:has-text('sealed')")
    assert answer(page) == "Tube 2112250001 sealed."
    settled(page)
    tube = Tube.objects.get(code="2112250001")
    assert (tube.status, tube.member_count) == ("sealed", 1)
    assert page.evaluate("document.activeElement.id") == "code"
