"""The campaign day as its people do it, in real Chromium on a 360x740 phone: the registrar of
lane 3 of an 11-lane site opens their lane from the start page and packs a box there; a
sealed building's households wait for a home-sampling team and leave the list as they are
sampled; the lab's upload names its positive first."""

from __future__ import annotations

from typing import Any

import pytest

from doorstep.campaigns.actions import set_community_zone
from doorstep.campaigns.models import Zone
from doorstep.core.roles import Role
from doorstep.sampling.models import Box
from doorstep.testing import make_lane, make_lane_team, make_user, sign_in
from doorstep.testing.lanes import sealed_tube, to_the_lab

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 360, "height": 740}
PASSWORD = "no-household-missed-29"


def _phone(browser: Any, live_server: Any, user: Any) -> Any:
    user.set_password(PASSWORD)
    user.save()
    page = browser.new_context(viewport=PHONE, locale="en-US").new_page()
    sign_in(page, live_server.url, user.username, PASSWORD)
    return page


def test_the_registrar_of_lane_3_opens_their_lane_and_packs_a_box_there(
    live_server, browser, lane_world
):
    site = make_lane(lane_world["lane"].site.community, "体育场采样点", lanes=11).site
    lane3 = site.lanes.get(name="3号通道")
    registrar = make_user(Role.REGISTRAR, site.community, username="lane3")
    make_lane_team(lane3, registrar)
    page = _phone(browser, live_server, registrar)
    page.click("#my-lanes a")  # the start page opens the lane they are on duty at
    page.wait_for_selector("#code:focus")
    assert page.url.endswith(f"/sampling/lanes/{lane3.pk}/")
    page.goto(f"{live_server.url}/sampling/sites/{site.pk}/boxes/")
    page.locator("#code").press_sequentially("BOX003")
    page.locator("#code").press("Enter")
    # Opened through their own lane (not 10号通道, which sorts first by name and refused them).
    page.wait_for_selector("#seal-box")
    assert page.locator(".alert.bad").count() == 0
    assert Box.objects.filter(code="BOX003", site=site, status="open").exists()


def test_a_sealed_buildings_households_leave_the_home_list_as_they_are_sampled(
    live_server, browser, lane_world, commander, registrar
):
    set_community_zone(
        commander,
        lane_world["campaign"],
        lane_world["lane"].site.community,
        Zone.SEALED,
        note="发现阳性",
    )
    page = _phone(browser, live_server, registrar)
    page.goto(f"{live_server.url}/sampling/home/")
    row = page.locator("#home-tasks tbody tr", has_text="12号楼")
    assert row.locator("[data-label='Households waiting']").inner_text() == "12"
    people = lane_world["people"]
    household = [p for p in people if p.household == people[0].household]
    sealed_tube(
        lane_world["registrar"], lane_world["lane"], household, code="2112259002", pool="household"
    )
    page.reload()
    assert row.locator("[data-label='Households waiting']").inner_text() == "11"
    for n, person in enumerate(p for p in people if p not in household):
        sealed_tube(
            lane_world["registrar"],
            lane_world["lane"],
            [person],
            code=f"21122591{n:02d}",
            pool="household",
        )
    page.reload()
    assert page.locator("#home-tasks tbody tr", has_text="12号楼").count() == 0
    assert "1 building has nobody left waiting" in page.locator("#home-finished").inner_text()


def test_the_labs_upload_names_the_positive_first(live_server, browser, lane_world, lab, tmp_path):
    d, lane = lane_world["registrar"], lane_world["lane"]
    pool = sealed_tube(d, lane, lane_world["people"][:10])
    negative = sealed_tube(d, lane, lane_world["people"][10:12], code="2112250002")
    to_the_lab(lane_world, pool.code, negative.code)
    results = tmp_path / "results.csv"
    results.write_text(f"管码,结果\n{negative.code},阴性\n{pool.code},阳性\n", encoding="utf-8")
    page = _phone(browser, live_server, lab)
    page.goto(f"{live_server.url}/lab/results/")
    page.set_input_files("#file", str(results))
    page.click("text=Check and record")
    page.wait_for_selector("#upload-positives")
    positives = page.locator("#upload-positives").inner_text()
    assert "1 positive" in positives and pool.code in positives
    box = page.locator("#upload-positives").bounding_box()
    assert box is not None and box["y"] < 740  # in sight without scrolling
    text = page.locator("main").inner_text()
    assert text.index(pool.code) < text.index("2 results recorded")
