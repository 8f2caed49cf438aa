"""The lane through a dead spot, in real Chromium: thirty people into three tubes of ten while
offline, a reload while still offline, back online, and the server holds each tube exactly once;
sending the whole outbox again is answered "duplicate" throughout."""

import json

import pytest

from doorstep.sampling.models import DeviceEvent, Tube, TubeMember
from doorstep.testing import make_household, make_resident, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_thirty_people_scanned_offline_land_once_after_a_reload(
    live_server, browser, lane_world, registrar
):

    registrar.username = "offline"
    registrar.set_password("no-signal-here-1")
    registrar.save()
    lane, building = lane_world["lane"], lane_world["people"][0].household.unit.building
    people = [
        make_resident(make_household(building, f"{f}{n:02d}", "3单元"))
        for f in (5, 6, 7)
        for n in range(10)
    ]
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="en-US")
    page = context.new_page()
    sign_in(page, live_server.url, "offline", "no-signal-here-1")
    page.goto(f"{live_server.url}/sampling/lanes/{lane.pk}/")
    # The page has put itself in the service worker's cache.
    # (Polled from the test: the page's Content-Security-Policy forbids in-page predicates.)
    for _ in range(100):
        if page.evaluate(
            f"caches.match('{live_server.url}/sampling/lanes/{lane.pk}/').then(Boolean)"
        ):
            break
        page.wait_for_timeout(100)
    else:
        raise AssertionError("the lane page never reached the service worker's cache")
    page.evaluate("navigator.serviceWorker.ready")

    context.set_offline(True)
    for t in range(3):
        page.select_option("#pool", "10")
        page.locator("#code").fill(f"21122599{t:02d}")
        page.locator("#code").press("Enter")
        page.wait_for_selector(f"#tube-code:text-is('21122599{t:02d}')")
        for person in people[t * 10 : t * 10 + 10]:
            page.locator("#code").fill(person.person_code)
            page.locator("#code").press("Enter")
        page.wait_for_selector("#tube-fill:text-is('10/10')")
        page.click("#seal")
        page.wait_for_selector("#tube-code:text-is('—')")
    assert page.locator("#outbox-pending").inner_text() == "36"
    sent = page.evaluate(
        """() => new Promise((resolve) => {
            const open = indexedDB.open("doorstep", 1);
            open.onsuccess = () => {
                const all = open.result.transaction("outbox").objectStore("outbox").getAll();
                all.onsuccess = () => resolve(all.result.sort((a, b) => a.seq - b.seq).map((i) => i.event));
            };
        })"""
    )
    assert len(sent) == 36 and not Tube.objects.exists()

    page.reload()  # still offline: the service worker serves the page from its cache
    page.wait_for_selector("#outbox-pending:text-is('36')")
    assert page.locator("#tube-code").inner_text() == "—"

    context.set_offline(False)
    page.wait_for_selector("#outbox-pending:text-is('0')", timeout=20_000)
    again = page.evaluate(
        """async ([url, events]) => {
            const boot = JSON.parse(document.getElementById("lane-state").textContent);
            const response = await fetch(url, {method: "POST", credentials: "same-origin",
                headers: {"Content-Type": "application/json", "X-CSRFToken": boot.csrf},
                body: JSON.stringify({events})});
            return (await response.json()).results.map((r) => r.status);
        }""",
        [f"{live_server.url}/sampling/lanes/{lane.pk}/events/", sent],
    )
    context.close()

    tubes = Tube.objects.filter(code__startswith="21122599")
    assert sorted((t.code, t.status, t.member_count) for t in tubes) == [
        (f"21122599{t:02d}", "sealed", 10) for t in range(3)
    ]
    assert TubeMember.objects.filter(tube__in=tubes).count() == 30
    assert DeviceEvent.objects.count() == 36
    assert again == ["duplicate"] * 36, json.dumps(again)
