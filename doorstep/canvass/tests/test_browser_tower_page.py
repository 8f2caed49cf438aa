"""The building page of a 33-floor tower (264 households) on a 360 px phone, in real Chromium:
the first load is light and the far floors come from the floor index; the page is kept for
offline use from the first load, each file fetched once; a copy shown without signal shows the
taps recorded since and the claim as the phone last saw it; the connection notice is at the top
of the screen."""

import pytest
from django.core.signals import request_started

from doorstep.canvass import actions
from doorstep.canvass.models import BuildingTask, Visit
from doorstep.testing import (
    make_building,
    make_campaign,
    make_door_team,
    make_household,
    make_resident,
    sign_in,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FLOORS, PER_FLOOR = 33, 8
NODES = """() => {
  const walker = document.createTreeWalker(document, NodeFilter.SHOW_ALL);
  let n = 0;
  while (walker.nextNode()) n++;
  return n;
}"""


@pytest.fixture
def tower(community, leader):
    building = make_building(community, "18号楼", position=18)
    building.floors, building.has_lift = FLOORS, True
    building.save()
    households = {}
    for floor in range(1, FLOORS + 1):
        for n in range(1, PER_FLOOR + 1):
            household = make_household(building, f"{floor}{n:02d}")
            make_resident(household, f"住户{floor}{n:02d}甲")
            make_resident(household, f"住户{floor}{n:02d}乙")
            households[(floor, n)] = household
    campaign = make_campaign(community)
    make_door_team(community, "杨柳青镇第2组", leader)
    task = BuildingTask.objects.get(campaign=campaign, building=building)
    leader.username = "tower"
    leader.set_password("thirty-three-floors")
    leader.save()
    return {"task": task, "households": households}


@pytest.fixture
def served():
    """The paths the live server was asked for, in order (the browser's caches answer the rest)."""
    paths: list[str] = []

    def note(sender, environ, **kwargs):  # type: ignore[no-untyped-def]
        query = environ.get("QUERY_STRING", "")
        paths.append(environ["PATH_INFO"] + (f"?{query}" if query else ""))

    request_started.connect(note, dispatch_uid="tower-served")
    yield paths
    request_started.disconnect(dispatch_uid="tower-served")


def _phone(browser, live_server):  # type: ignore[no-untyped-def]
    """A phone signed in whose browser has nothing else yet (the sign-in was made in another
    context): the building page is a first visit, its files not in any cache."""
    signing = browser.new_context(locale="en-US")
    sign_in(signing.new_page(), live_server.url, "tower", "thirty-three-floors")
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="en-US")
    context.add_cookies(signing.cookies())
    signing.close()
    return context, context.new_page()


def _kept_whole(page, url: str) -> None:
    """Wait until the whole building is in the service worker's cache (polled from the test: the
    page's Content-Security-Policy forbids in-page predicates)."""
    for _ in range(150):
        if page.evaluate(f"caches.match('{url}', {{ignoreVary: true}}).then(Boolean)"):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"{url} never reached the service worker's cache")


def test_the_first_load_is_light_and_a_far_floor_comes_from_the_floor_index(
    live_server, browser, tower, leader
):
    task, h = tower["task"], tower["households"]
    actions.claim(leader, task)
    context, page = _phone(browser, live_server)
    page.goto(f"{live_server.url}/canvass/buildings/{task.pk}/")
    assert page.evaluate(NODES) <= 3000
    assert page.locator(".household").count() < FLOORS * PER_FLOOR
    assert page.locator("#floor-index a.floor").count() == FLOORS
    far = page.locator(f"#h-{h[(30, 5)].pk}")
    assert far.count() == 0

    page.locator("#floor-index a.floor", has_text="30").first.click()
    far.locator("button[value=notified]").wait_for()
    heading = page.locator("h2", has_text="Floor 30").bounding_box()
    bar = page.locator("#floor-index").bounding_box()
    assert heading is not None and bar is not None
    assert bar["y"] + bar["height"] <= heading["y"] < bar["y"] + bar["height"] + 60
    far.locator("button[value=notified]").click()
    page.wait_for_selector(f"#h-{h[(30, 5)].pk} .badge.outcome:text-is('Notified')")
    page.wait_for_selector("#recorded:text-is('1')")
    context.close()
    assert list(Visit.objects.values_list("household_id", "outcome")) == [
        (h[(30, 5)].pk, "notified")
    ]


def test_the_page_is_kept_offline_from_the_first_load_with_the_taps_and_claim_since(
    live_server, browser, tower, leader, served
):
    task, h = tower["task"], tower["households"]
    context, page = _phone(browser, live_server)
    building = f"{live_server.url}/canvass/buildings/{task.pk}/"
    served.clear()  # the sign-in
    page.goto(building)  # the building is free: the first copy offers it for claiming
    assert page.locator("#claim").is_visible()
    _kept_whole(page, building)
    statics = [p for p in served if p.startswith("/static/")]
    assert statics and len(statics) == len(set(statics)), statics  # each file fetched once

    page.click("#claim")
    page.wait_for_selector("text=Your team holds this building until")
    page.locator(f"#h-{h[(1, 1)].pk} button[value=notified]").click()
    page.wait_for_selector(f"#h-{h[(1, 1)].pk} .badge.outcome:text-is('Notified')")
    assert Visit.objects.filter(household=h[(1, 1)]).exists()

    context.set_offline(True)
    page.reload()  # from the cache: a copy drawn before that tap
    page.wait_for_selector("#offline-state:visible")
    assert page.locator(f"#h-{h[(1, 1)].pk} .badge.outcome").inner_text() == "Notified"
    assert "Your team holds this building" in page.locator("#claim-state").inner_text()
    assert page.locator("#claim").count() == 0

    page.locator(f"#h-{h[(1, 2)].pk} button[value=nobody_home]").click()
    page.wait_for_selector("#outbox-status:has-text('Waiting to send: 1')")
    page.reload()  # still without signal
    page.wait_for_selector("#outbox-status:has-text('Waiting to send: 1')")
    assert "Waiting to send" in page.locator(f"#h-{h[(1, 2)].pk} .badge.outcome").inner_text()
    assert page.locator(f"#h-{h[(1, 1)].pk} .badge.outcome").inner_text() == "Notified"
    assert page.locator("#claim").count() == 0

    context.set_offline(False)
    page.wait_for_selector("#outbox-status:has-text('All taps sent.')", timeout=20_000)
    context.close()
    assert sorted(Visit.objects.values_list("household_id", "outcome")) == sorted(
        [(h[(1, 1)].pk, "notified"), (h[(1, 2)].pk, "nobody_home")]
    )


def test_the_connection_notice_is_at_the_top_of_the_screen_when_the_signal_goes(
    live_server, browser, tower, leader
):
    task = tower["task"]
    actions.claim(leader, task)
    context, page = _phone(browser, live_server)
    page.goto(f"{live_server.url}/canvass/buildings/{task.pk}/")
    page.locator(".household").nth(20).scroll_into_view_if_needed()
    context.set_offline(True)
    notice = page.locator("#offline-state")
    notice.wait_for(state="visible")
    box = notice.bounding_box()
    assert box is not None and box["y"] == 0 and box["height"] < 740 / 3
    assert "No signal" in notice.inner_text()
    # The floor index sits below it, not under it.
    bar = page.locator("#floor-index").bounding_box()
    assert bar is not None and bar["y"] >= box["y"] + box["height"] - 1
    context.close()
