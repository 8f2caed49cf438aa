"""The district commander's board in real Chromium at 1920x1080: the wall screen shows both
towns on one screen without scrolling, and a town's name drills into its own command screen."""

from __future__ import annotations

import pytest

from doorstep.core.roles import Role
from doorstep.testing import make_user, sign_in
from doorstep.testing.lanes import sealed_tube

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FULL_HD = {"width": 1920, "height": 1080}


def test_the_district_commander_sees_both_towns_and_drills_into_one(
    live_server, browser, district_world
):
    make_user(
        Role.DISTRICT_COMMANDER,
        username="xiqing",
        password="every-town-counts",
        district=district_world["district"],
    )
    zhongbei = district_world["zhongbei"]
    sealed_tube(zhongbei["device"], zhongbei["lane"], zhongbei["people"][:3])
    page = browser.new_context(viewport=FULL_HD, locale="en-US").new_page()
    sign_in(page, live_server.url, "xiqing", "every-town-counts")
    page.goto(f"{live_server.url}/district/?wall=1")
    page.wait_for_selector("#panel-towns")
    rows = page.locator("#district-towns tbody tr")
    assert rows.count() == 2
    assert page.locator("#district-towns tbody th").all_inner_texts() == ["中北镇", "杨柳青镇"]
    row = page.locator(f"tr[data-campaign='{zhongbei['campaign'].pk}'] [data-figure=sampled]")
    assert row.inner_text() == "3+0/6 (50%)"
    size = page.evaluate(
        "({h: document.documentElement.scrollHeight, vh: window.innerHeight,"
        " w: document.documentElement.scrollWidth, vw: window.innerWidth})"
    )
    assert size["h"] <= size["vh"] and size["w"] <= size["vw"], size
    # The towns table fits its panel: no column hidden behind a scroll bar of its own.
    table = page.evaluate(
        "(() => { const t = document.querySelector('#district-towns');"
        " return {w: t.scrollWidth, box: t.parentElement.clientWidth}; })()"
    )
    assert table["w"] <= table["box"], table
    for name in ("towns", "alerts", "support"):
        box = page.locator(f"#panel-{name}").bounding_box()
        assert box is not None and box["y"] + box["height"] <= FULL_HD["height"] + 1, (name, box)
    # The panels poll: a scan in the other town shows within a refresh.
    yangliu = district_world["yangliu"]
    sealed_tube(yangliu["device"], yangliu["lane"], yangliu["people"][:2], code="2112250002")
    page.wait_for_selector(
        "#district-total [data-figure=sampled]:has-text('5+0/10')", timeout=12_000
    )
    page.click("text=杨柳青镇")
    page.wait_for_url(f"**/command/{yangliu['campaign'].pk}/")
    assert "杨柳青镇第1轮" in page.locator("h1").inner_text()
