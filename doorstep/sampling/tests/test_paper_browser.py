"""A paper sheet keyed in real Chromium as a wedge scanner types it: each code, then Enter."""

import datetime as dt

import pytest
from django.utils import timezone

from doorstep.sampling.models import Tube
from doorstep.sampling.paper import SheetId
from doorstep.testing import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_registrar_keys_a_paper_sheet_with_a_wedge_scanner_on_a_phone(
    live_server, browser, lane_world, registrar
):
    registrar.username = "reg"
    registrar.set_password("swab-and-seal-10")
    registrar.save()
    lane, people, campaign = lane_world["lane"], lane_world["people"], lane_world["campaign"]
    sheet = SheetId(campaign.pk, lane.pk, 1)
    moment = timezone.localtime() - dt.timedelta(minutes=15)
    at = moment.strftime("%H:%M")
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="en-US")
    page = context.new_page()
    sign_in(page, live_server.url, "reg", "swab-and-seal-10")
    page.goto(f"{live_server.url}/sampling/lanes/{lane.pk}/")
    page.click("#paper-links >> text=Key a paper sheet")
    page.wait_for_selector("#paper-sheet:focus")

    def scan(code: str) -> None:
        """What a wedge scanner does: the characters, one key at a time, then Enter."""
        page.keyboard.type(code)
        page.keyboard.press("Enter")

    # Enter after the sheet number moves on to the sheet's text instead of sending the form.
    page.evaluate("window.sameDocument = true")
    scan(sheet.number)
    page.wait_for_selector("#paper-text:focus")
    assert page.evaluate("window.sameDocument === true"), "Enter sent the form"
    assert page.locator("#paper-errors").count() == 0
    page.fill("#paper-day", moment.date().isoformat())  # the date written on the sheet
    page.select_option("#paper-pool", "10")
    page.focus("#paper-text")
    for code in [sheet.tube_code(1), at, *(p.person_code for p in people[:10])]:
        scan(code)
    scan(sheet.tube_code(2))
    scan(at)
    scan(people[10].person_code)
    page.wait_for_selector("#paper-tally:has-text('15 lines typed')")
    page.click("#paper-check")
    page.wait_for_selector("#paper-result[data-checked=yes]")
    assert not Tube.objects.exists()
    assert page.locator("#paper-rows tr[data-status=accepted]").count() == 15
    page.click("#paper-record")
    page.wait_for_selector("#paper-result[data-checked=no]")
    assert page.locator("#paper-rows tr[data-status=accepted]").count() == 15
    # Sent again by mistake: every line was keyed before, nothing new.
    page.click("#paper-record")
    page.wait_for_selector("#paper-result[data-checked=no] [data-count=duplicate]:has-text('15')")
    assert page.locator("#paper-rows tr[data-status=duplicate]").count() == 15
    context.close()
    tubes = Tube.objects.order_by("code")
    assert [(t.code, t.status, t.member_count) for t in tubes] == [
        (sheet.tube_code(1), "sealed", 10),
        (sheet.tube_code(2), "sealed", 1),
    ]
