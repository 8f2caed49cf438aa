"""A building's code sheets printed from real Chromium: households follow one another on A4
(a 24-household building on a few pages, not 24), none split across two pages."""

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


def test_a_buildings_code_sheets_fill_a4_pages_household_after_household(live_server, browser):
    community = make_community()
    building = make_building(community, "7号楼")
    for floor in range(1, 7):
        for flat in range(1, 5):
            household = make_household(building, f"{floor}0{flat}")
            for n in range(1 + (floor + flat) % 3):  # 1 to 3 people
                make_resident(household, f"住户{floor}{flat}{n}")
    make_user(Role.COMMUNITY_WORKER, community, username="printer", password="print-the-codes-7")
    page = browser.new_page(locale="zh-CN")
    sign_in(page, live_server.url, "printer", "print-the-codes-7")
    page.goto(f"{live_server.url}/territory/buildings/{building.pk}/codes/")
    assert page.locator("section.sheet").count() == 24
    page.emulate_media(media="print")
    pdf = page.pdf(format="A4")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert 1 <= pages <= 6, pages
    # No household's cards start on one page and end on the next.
    heights = page.evaluate(
        "[...document.querySelectorAll('section.sheet')].map(s => getComputedStyle(s).breakInside)"
    )
    assert set(heights) == {"avoid"}
