"""The watermark on a print page, in real Chromium (issue 33): shown on screen, and in print a
fixed-position footer (which Chromium repeats on every printed page), never hidden by the print
style."""

from __future__ import annotations

import re

import pytest

from doorstep.core.roles import Role
from doorstep.testing import (
    make_building,
    make_community,
    make_household,
    make_resident,
    make_user,
    sign_in,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_code_sheets_watermark_is_on_screen_and_on_every_printed_page(live_server, browser):
    community = make_community()
    building = make_building(community, "7号楼")
    for floor in range(1, 7):
        for flat in range(1, 5):
            make_resident(make_household(building, f"{floor}0{flat}"), f"住户{floor}{flat}")
    make_user(Role.TEAM_LEADER, community, username="printer", password="print-the-codes-7")
    page = browser.new_page(locale="en-US")
    sign_in(page, live_server.url, "printer", "print-the-codes-7")
    page.goto(f"{live_server.url}/territory/buildings/{building.pk}/codes/")
    mark = page.get_by_test_id("watermark")
    assert mark.is_visible()
    assert "Team leader" in mark.inner_text() and "printer" not in mark.inner_text()
    page.emulate_media(media="print")
    style = mark.evaluate(
        "e => { const s = getComputedStyle(e); return [s.position, s.display, s.visibility] }"
    )
    assert style == ["fixed", "block", "visible"]
    pdf = page.pdf(format="A4")
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) >= 2  # a footer to repeat, on each
