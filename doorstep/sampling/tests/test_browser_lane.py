"""A registrar's lane in real Chromium: a tube, ten people typed with Enter, the eleventh
refused, sealed and boxed; the lab's positive result puts the households on the retest list."""

import pytest

from doorstep.core.roles import Role
from doorstep.lab.models import RetestOrder
from doorstep.sampling.models import Box, Tube
from doorstep.testing import make_user, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_registrar_fills_a_tube_boxes_it_and_a_positive_pool_comes_back(
    live_server, browser, lane_world, registrar, lab, community, tmp_path
):
    for user, name in ((registrar, "reg"), (lab, "labby")):
        user.username = name
        user.set_password("swab-and-seal-10")
        user.save()
    make_user(Role.COMMUNITY_WORKER, community, username="grid", password="swab-and-seal-10")
    lane, people = lane_world["lane"], lane_world["people"]
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="en-US")
    page = context.new_page()
    sign_in(page, live_server.url, "reg", "swab-and-seal-10")
    page.goto(f"{live_server.url}/sampling/lanes/{lane.pk}/")

    def type_and_enter(code: str) -> None:
        page.locator("#code").press_sequentially(code)
        page.locator("#code").press("Enter")

    type_and_enter("2112250001")
    page.wait_for_selector("#tube-code:has-text('2112250001')")
    for n, person in enumerate(people[:10], start=1):
        type_and_enter(person.person_code)
        page.wait_for_selector(f"#tube-fill:has-text('{n}/10')")
        assert page.locator("#code").input_value() == ""
    type_and_enter(people[10].person_code)
    page.wait_for_selector("#lane-answer:has-text('Seal it and open a new tube')")
    assert page.locator("#tube-fill").inner_text() == "10/10"
    page.click("#seal")
    page.wait_for_selector("text=Scan a new tube's barcode")
    # Everything scanned has reached the server before the registrar walks to the boxes.
    page.wait_for_selector("#outbox-pending:text-is('0')")

    # Packing: the box is scanned once, then its tubes, then it is sealed with the hand count.
    page.goto(f"{live_server.url}/sampling/sites/{lane.site_id}/boxes/")
    type_and_enter("BOX001")
    page.wait_for_selector("#packing-box:text-is('BOX001')")
    type_and_enter("2112250001")
    page.wait_for_selector("#packing-count:text-is('1')")
    page.fill("#seal-count", "1")
    page.click("#seal-box")
    page.wait_for_selector("#boxes:has-text('Sealed')")

    results = tmp_path / "results.csv"
    results.write_text("管码,结果,CT值\n2112250001,阳性,29.8\n", encoding="utf-8")
    lab_page = browser.new_context(locale="en-US").new_page()
    sign_in(lab_page, live_server.url, "labby", "swab-and-seal-10")
    lab_page.goto(f"{live_server.url}/lab/")
    lab_page.fill("#box", "BOX001")
    lab_page.fill("#count", "1")
    lab_page.click("button:text-is('Receive')")
    lab_page.wait_for_selector("#receive-answer.ok")
    lab_page.goto(f"{live_server.url}/lab/results/")
    lab_page.set_input_files("#file", str(results))
    lab_page.click("text=Check and record")
    lab_page.wait_for_selector("#import-result .ok")
    lab_html = lab_page.content()

    grid = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US").new_page()
    sign_in(grid, live_server.url, "grid", "swab-and-seal-10")
    grid.goto(f"{live_server.url}/lab/retests/")
    retests = grid.locator("#retests").inner_text()
    alerts = grid.locator("#alerts").inner_text()
    context.close()

    tube = Tube.objects.get(code="2112250001")
    assert (tube.member_count, tube.status, tube.result) == (10, "sealed", "positive")
    assert Box.objects.get().status == "received"
    assert RetestOrder.objects.count() == 10
    assert "Pool 2112250001 is positive: 10 people in 阳光里社区 must stay home" in alerts
    assert "12号楼" in retests and "Door-to-door sampling" in retests
    assert people[0].name not in lab_html
