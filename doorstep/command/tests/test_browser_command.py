"""The commander's dashboard in real Chromium follows scans posted through the API without a
reload; the public site page is readable on a 360 px phone."""

import pytest
from django.utils import timezone

from doorstep.sampling.actions import report_queue
from doorstep.testing import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_dashboard_follows_scans_posted_through_the_api(
    live_server, browser, lane_world, commander
):
    commander.username = "chief"
    commander.set_password("no-household-missed")
    commander.save()
    campaign, lane, d = lane_world["campaign"], lane_world["lane"], lane_world["registrar"]
    page = browser.new_context(viewport={"width": 1400, "height": 900}, locale="en-US").new_page()
    sign_in(page, live_server.url, "chief", "no-household-missed")
    page.goto(f"{live_server.url}/command/{campaign.pk}/")
    assert page.locator("[data-testid=people]").inner_text() == "0"
    assert page.locator(f"tr[data-lane='{lane.pk}'] [data-testid=lane-people]").inner_text() == "0"

    at = timezone.now().isoformat()
    events = [d.event("tube.open", lane=lane.code, tube="2112250001", pool=10, at=at)]
    events += [
        d.event("tube.add", tube="2112250001", person=p.person_code, at=at)
        for p in lane_world["people"][:4]
    ]
    events.append(d.event("tube.seal", tube="2112250001", at=at))
    assert {a["status"] for a in d.send(*events)} == {"accepted"}

    # The panels poll every 5 s: the figures change on screen without a reload.
    page.wait_for_selector("[data-testid=people]:text-is('4')", timeout=12_000)
    page.wait_for_selector(
        f"tr[data-lane='{lane.pk}'] [data-testid=lane-people]:text-is('4')", timeout=12_000
    )
    page.wait_for_selector("[data-testid=sampled]:has-text('4+0/')", timeout=12_000)
    page.wait_for_selector("#panel-chart svg rect.bar-total", timeout=12_000)
    # On a phone the panels stack and nothing sticks out sideways.
    page.set_viewport_size({"width": 360, "height": 740})
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_the_public_site_page_fits_a_phone(live_server, browser, lane_world, registrar):
    report_queue(registrar, lane_world["lane"], 30)
    page = browser.new_context(viewport={"width": 360, "height": 740}, locale="en-US").new_page()
    page.goto(f"{live_server.url}/status/")
    card = page.locator(".site-status").first
    assert lane_world["lane"].site.name in card.inner_text()
    assert page.locator(".site-status .badge").first.inner_text() in {"Free", "Busy", "Jammed"}
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.click("text=Have I been tested this round?")
    person = lane_world["people"][0]
    page.fill("input[name=code]", person.person_code)
    page.fill("input[name=document]", person.id_number[-6:])
    page.click("button:has-text('Look up')")
    page.wait_for_selector("#my-status")
    assert "Not sampled yet" in page.locator("#my-status").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
