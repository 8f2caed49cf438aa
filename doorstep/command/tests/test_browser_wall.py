"""The command screen on the demo's whole town in real Chromium: the wall screen fits one
1920x1080 screen with no scrolling, the board stays one column on a 360 px phone, and a new
critical alert sounds (unless muted) and is highlighted."""

import pytest
from django.utils import timezone

from doorstep.campaigns.models import Campaign
from doorstep.core.demo_logins import DEMO_PASSWORD
from doorstep.demo.town import TOWN, build_demo
from doorstep.testing import sign_in
from doorstep.testing.lanes import post, sealed_tube

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FULL_HD = {"width": 1920, "height": 1080}


def _no_scroll(page) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return page.evaluate(
        "({h: document.documentElement.scrollHeight, vh: window.innerHeight,"
        " w: document.documentElement.scrollWidth, vw: window.innerWidth})"
    )


def test_the_wall_screen_fits_1920_by_1080_and_a_phone_gets_one_column(live_server, browser):
    build_demo(600, progress=lambda _line: None)
    campaign = Campaign.objects.get(status="active", town__name=TOWN)
    page = browser.new_context(viewport=FULL_HD, locale="en-US").new_page()
    sign_in(page, live_server.url, "commander", DEMO_PASSWORD)
    page.goto(f"{live_server.url}/command/{campaign.pk}/?wall=1")
    page.wait_for_selector("#panel-alerts")
    size = _no_scroll(page)
    assert size["h"] <= size["vh"] and size["w"] <= size["vw"], size
    # Every panel is on the screen, none below its bottom edge.
    for name in ("clock", "alerts", "coverage", "chart", "sites", "specimens", "needs", "staff"):
        box = page.locator(f"#panel-{name}").bounding_box()
        assert box is not None and box["y"] + box["height"] <= FULL_HD["height"] + 1, (name, box)
    # Read from 3 metres: no text on the wall under 20 px.
    small = page.evaluate(
        """() => [...document.querySelectorAll('main *')].filter((el) =>
            [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim())
            && el.getBoundingClientRect().width > 0
            && parseFloat(getComputedStyle(el).fontSize) < 20
        ).map((el) => `${el.tagName}.${el.className}: ${getComputedStyle(el).fontSize}`)"""
    )
    assert not small, small
    # The coverage panel shows its total row and is no wider than itself.
    panel = page.locator("#panel-coverage").bounding_box()
    total = page.locator("#panel-coverage tfoot th").first.bounding_box()
    assert panel and total and total["y"] + total["height"] <= panel["y"] + panel["height"] + 1
    assert page.evaluate(
        "(() => { const p = document.getElementById('panel-coverage');"
        " return p.scrollWidth <= p.clientWidth; })()"
    )
    # After a refresh of every panel (they poll every 5 s) it still fits.
    page.wait_for_timeout(6_000)
    size = _no_scroll(page)
    assert size["h"] <= size["vh"], size

    page.goto(f"{live_server.url}/command/{campaign.pk}/")
    page.set_viewport_size({"width": 360, "height": 740})
    size = _no_scroll(page)
    assert size["w"] <= 360, size
    left = {round(page.locator(f"#panel-{n}").bounding_box()["x"]) for n in ("clock", "sites")}
    assert len(left) == 1  # one column: the side panels sit under the main ones


def test_a_new_critical_alert_sounds_unless_muted(live_server, browser, lane_world, commander):
    commander.username = "chief"
    commander.set_password("no-household-missed")
    commander.save()
    campaign = lane_world["campaign"]
    page = browser.new_context(viewport=FULL_HD, locale="en-US").new_page()
    sign_in(page, live_server.url, "chief", "no-household-missed")
    page.goto(f"{live_server.url}/command/{campaign.pk}/?wall=1")
    page.wait_for_selector("#no-alerts")
    assert page.evaluate("document.body.dataset.alertSounds") is None
    first = sealed_tube(lane_world["registrar"], lane_world["lane"], lane_world["people"][:3])
    post(lane_world, {"tube": first.code, "result": "positive"})
    page.wait_for_selector("#panel-alerts li[data-kind=positive_pool].alert-new", timeout=12_000)
    assert page.evaluate("document.body.dataset.alertSounds") == "1"
    # Muted: the next new alert is highlighted on top, without a sound.
    page.click("[data-alert-mute]")
    assert page.locator("[data-alert-mute]").get_attribute("aria-pressed") == "true"
    second = sealed_tube(
        lane_world["registrar"], lane_world["lane"], lane_world["people"][3:6], code="2112250002"
    )
    post(lane_world, {"tube": second.code, "result": "positive"})
    page.wait_for_selector(
        f"#panel-alerts li[data-key^='positive:{second.pk}:'].alert-new", timeout=12_000
    )
    top = page.locator("#panel-alerts li").first.get_attribute("data-key")
    assert top.startswith(f"positive:{second.pk}:")
    assert page.evaluate("document.body.dataset.alertSounds") == "1"
    # The mute holds across refreshes of the panel.
    page.wait_for_timeout(6_000)
    assert page.locator("[data-alert-mute]").get_attribute("aria-pressed") == "true"
    # Acknowledged from the screen: marked as seen, still listed while it holds.
    page.locator(f"li[data-key^='positive:{second.pk}:'] button").click()
    page.wait_for_selector(f"li[data-key^='positive:{second.pk}:'] .ack:has-text('seen by chief')")
    assert timezone.now()
