"""A phone that held the lane and building pages offline loses them on its next contact, in
real Chromium. A registrar's lane page and a leader's building page of 中北镇 are kept for use
without signal (a reload offline shows them), each with something unsent on the phone; 中北镇
is erased; the phones' next contact shows the page that says so, and after it the caches,
IndexedDB and localStorage hold nothing of 中北镇 and a reload offline shows nothing. An
unsent tap of a live town on the same phone stays, and a phone of the live town 杨柳青镇
keeps its page."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone
from playwright.sync_api import Error as PlaywrightError

from doorstep.canvass import actions
from doorstep.canvass.models import BuildingTask
from doorstep.core.roles import Role
from doorstep.territory.models import Closure, ClosureState, Town
from doorstep.testing import (
    make_building,
    make_campaign,
    make_community,
    make_door_team,
    make_household,
    make_lane,
    make_lane_team,
    make_resident,
    make_town,
    make_user,
    sign_in,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# What the phone holds, town by town: every Doorstep cache's pages with their town, the lane
# outbox's events, and localStorage (read from the test: the page's CSP forbids eval).
HELD = """async () => {
  const pages = [];
  for (const name of await caches.keys()) {
    const c = await caches.open(name);
    for (const request of await c.keys()) {
      const copy = await c.match(request, {ignoreVary: true});
      pages.push([new URL(request.url).pathname + new URL(request.url).search, copy.headers.get("X-Doorstep-Town")]);
    }
  }
  const events = await new Promise((resolve) => {
    const open = indexedDB.open("doorstep");
    open.onupgradeneeded = () => open.transaction.abort();
    open.onerror = () => resolve([]);
    open.onsuccess = () => {
      const db = open.result;
      if (!db.objectStoreNames.contains("outbox")) { db.close(); return resolve([]); }
      const all = db.transaction("outbox").objectStore("outbox").getAll();
      all.onsuccess = () => { db.close(); resolve(all.result.map((i) => i.lane)); };
    };
  });
  const storage = Object.fromEntries(Object.keys(localStorage).map((k) => [k, localStorage.getItem(k)]));
  return {pages, events, storage};
}"""


def erase(town: Town) -> None:
    """The town as the erase leaves it (the erase itself is closing.erase's)."""
    now = timezone.now()
    Closure.objects.update_or_create(
        town=town,
        defaults={
            "closed_at": now - dt.timedelta(days=31),
            "closed_by": "commander",
            "reason": "outbreak over",
            "erase_after": now - dt.timedelta(days=1),
            "state": ClosureState.ERASED,
            "erased_at": now,
        },
    )


@pytest.fixture
def two_towns(community, registrar, leader):
    building = make_building(community, "12号楼", position=12)
    households = [make_household(building, room) for room in ("101", "201")]
    for h in households:
        make_resident(h, "张伟")
    campaign = make_campaign(community)
    lane = make_lane(community)
    make_lane_team(lane, registrar)
    make_door_team(community, "杨柳青镇第2组", leader)
    task = BuildingTask.objects.get(campaign=campaign, building=building)
    actions.claim(leader, task)
    other = make_community("和苑社区", town=make_town("杨柳青镇"))
    make_building(other, "1号楼")
    make_campaign(other)
    other_lane = make_lane(other)
    other_registrar = make_user(Role.REGISTRAR, other)
    make_lane_team(other_lane, other_registrar)
    for user, name in ((registrar, "lane-a"), (leader, "leader-a"), (other_registrar, "lane-b")):
        user.username = name
        user.set_password("erased-town-1")
        user.save()
    return {
        "town": community.town,
        "lane": lane,
        "task": task,
        "households": households,
        "other_town": other.town,
        "other_lane": other_lane,
    }


def _cached(page, url: str) -> None:
    for _ in range(100):
        if page.evaluate(f"caches.match('{url}', {{ignoreVary: true}}).then(Boolean)"):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"{url} never reached the service worker's cache")


def _phone(browser, live_server, username: str, url: str):
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="en-US")
    page = context.new_page()
    sign_in(page, live_server.url, username, "erased-town-1")
    page.goto(url)
    _cached(page, url)
    page.evaluate("navigator.serviceWorker.ready")
    return context, page


def _scan_offline(context, page, tube: str) -> None:
    """Offline: a tube opened on the lane page waits in the outbox; a reload offline still
    shows the page (from the worker's cache) with it."""
    context.set_offline(True)
    page.locator("#code").fill(tube)
    page.locator("#code").press("Enter")
    page.wait_for_selector(f"#tube-code:text-is('{tube}')")
    page.reload()
    page.wait_for_selector(f"#tube-code:text-is('{tube}')")
    assert page.locator("#offline-state").is_visible()


def _gone_offline(context, page) -> bool:
    """A reload without signal shows nothing kept (the browser's error page)."""
    context.set_offline(True)
    try:
        page.reload()
    except PlaywrightError:
        return True
    return page.locator("#scan-form, #floor-index, .household").count() == 0


def test_a_phone_that_held_the_lane_and_building_pages_offline_loses_them_on_its_next_contact(
    live_server, browser, two_towns
):
    town, other_town = str(two_towns["town"].pk), str(two_towns["other_town"].pk)
    lane, task = two_towns["lane"], two_towns["task"]
    lane_url = f"{live_server.url}/sampling/lanes/{lane.pk}/"
    building_url = f"{live_server.url}/canvass/buildings/{task.pk}/"
    other_url = f"{live_server.url}/sampling/lanes/{two_towns['other_lane'].pk}/"

    # 中北镇's registrar: the lane page offline, a tube opened there and not yet sent.
    lane_phone, lane_page = _phone(browser, live_server, "lane-a", lane_url)
    _scan_offline(lane_phone, lane_page, "2112260001")
    # 中北镇's leader: the building page offline, a tap not yet sent; a surge worker's phone
    # also holds an unsent tap of 杨柳青镇 (a live town), which must survive.
    building_phone, building_page = _phone(browser, live_server, "leader-a", building_url)
    _cached(building_page, building_url.replace(live_server.url, ""))
    building_phone.set_offline(True)
    h = two_towns["households"][0]
    building_page.locator(f"#h-{h.pk} button[value=notified]").click()
    building_page.wait_for_selector("#outbox-status:has-text('Waiting to send: 1')")
    building_page.evaluate(
        """([town]) => {
            const taps = JSON.parse(localStorage.getItem("doorstep-outbox"));
            taps.push({id: "0b6c1f0e-1111-4111-8111-000000000001", endpoint: "/canvass/buildings/999999/outcomes/",
                       household: "1", outcome: "notified", label: "Notified", town});
            localStorage.setItem("doorstep-outbox", JSON.stringify(taps));
        }""",
        [other_town],
    )
    building_page.reload()
    building_page.wait_for_selector("#outbox-status:has-text('Waiting to send: 2')")
    # 杨柳青镇's registrar: the lane page offline, a tube waiting.
    other_phone, other_page = _phone(browser, live_server, "lane-b", other_url)
    _scan_offline(other_phone, other_page, "2112260002")

    before = {"lane": lane_page.evaluate(HELD), "building": building_page.evaluate(HELD)}
    assert any(t == town for _, t in before["lane"]["pages"]), before
    assert before["lane"]["events"] == [lane.pk]
    assert json.loads(before["lane"]["storage"]["doorstep-towns"]) == {f"lane:{lane.pk}": town}
    assert any(t == town for _, t in before["building"]["pages"]), before
    assert f"doorstep-claim-{task.pk}" in before["building"]["storage"]

    erase(two_towns["town"])

    # The next contact: the phone left the page in the stairwell and opens it again with signal
    # (nothing was sent in between: the outboxes still hold their entries).
    for phone, page, url in (
        (lane_phone, lane_page, lane_url),
        (building_phone, building_page, building_url),
    ):
        page.goto("about:blank")
        phone.set_offline(False)
        page.goto(url)
        page.wait_for_selector("#offline-erased[data-cleared]")
        assert "Personal data erased" in page.locator("h1").inner_text()
        assert "deleted" in page.locator("#offline-erased").inner_text()
    after = {"lane": lane_page.evaluate(HELD), "building": building_page.evaluate(HELD)}
    for held in after.values():
        assert not [p for p, t in held["pages"] if t == town], held
        assert not [p for p, _ in held["pages"] if "/lanes/" in p or "/buildings/" in p], held
        assert held["events"] == [], held
        assert json.loads(held["storage"].get("doorstep-towns", "{}")) == {}, held
        for key, value in held["storage"].items():
            assert str(lane.pk) not in key and str(task.pk) not in key, (key, held)
            assert "张伟" not in value
    waiting = json.loads(after["building"]["storage"]["doorstep-outbox"])
    assert [t["town"] for t in waiting] == [other_town]  # the live town's unsent tap stays
    for phone, page in ((lane_phone, lane_page), (building_phone, building_page)):
        assert _gone_offline(phone, page)
        phone.close()

    # 杨柳青镇's phone hears of the erase on its next contact and keeps all of its own.
    other_phone.set_offline(False)
    other_page.reload()
    other_page.wait_for_selector("#scan-form")
    other_page.evaluate("window.DoorstepOffline.cleared")
    kept = other_page.evaluate(HELD)
    assert any(t == other_town for _, t in kept["pages"]), kept
    other_phone.set_offline(True)
    other_page.reload()
    other_page.wait_for_selector("#scan-form")
    assert other_page.locator("#offline-erased").is_hidden()
    other_phone.close()
