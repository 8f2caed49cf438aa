"""Door to door in a 33-floor tower on a 360 px phone, in real Chromium: the building page is
opened with signal, the signal goes, the page is reloaded (the service worker serves what the
phone last saw, and says how old it is), three households are tapped, the signal comes back and
the server holds the three outcomes once. The floor index jumps to floor 17 and the household
stays where it was after a tap; a building cannot be claimed without signal, and the page says
so instead of failing."""

import pytest

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


@pytest.fixture
def tower(community, leader):
    building = make_building(community, "18号楼", position=18)
    building.floors, building.has_lift = FLOORS, True
    building.save()
    households = {}
    for floor in range(1, FLOORS + 1):
        for n in range(1, PER_FLOOR + 1):
            household = make_household(building, f"{floor}{n:02d}")
            make_resident(household, f"住户{floor}{n:02d}")
            households[(floor, n)] = household
    make_building(community, "19号楼", position=19)  # another building, still free
    campaign = make_campaign(community)
    team = make_door_team(community, "杨柳青镇第2组", leader)
    task = BuildingTask.objects.get(campaign=campaign, building=building)
    actions.claim(leader, task)
    leader.username = "tower"
    leader.set_password("thirty-three-floors")
    leader.save()
    return {"task": task, "households": households, "team": team, "campaign": campaign}


def _cached(page, url: str) -> None:
    """Wait until the page is in the service worker's cache (polled from the test: the page's
    Content-Security-Policy forbids in-page predicates)."""
    for _ in range(100):
        # The worker keeps the page under the navigation's headers; Django's responses vary on
        # the cookie and the language, so the test looks it up as the worker does.
        if page.evaluate(f"caches.match('{url}', {{ignoreVary: true}}).then(Boolean)"):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"{url} never reached the service worker's cache")


def test_the_building_page_reloads_without_signal_and_sends_its_taps_once(
    live_server, browser, tower
):
    task, households = tower["task"], tower["households"]
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="en-US")
    page = context.new_page()
    sign_in(page, live_server.url, "tower", "thirty-three-floors")
    claim_list = f"{live_server.url}/canvass/"
    page.goto(claim_list)
    _cached(page, claim_list)
    building = f"{live_server.url}/canvass/buildings/{task.pk}/"
    page.goto(building)
    _cached(page, building)
    page.evaluate("navigator.serviceWorker.ready")
    assert page.locator("#offline-state").is_hidden()

    context.set_offline(True)
    page.reload()  # the service worker answers from its cache
    page.wait_for_selector("#offline-state:visible")
    assert "No signal: this is the page as of" in page.locator("#offline-state").inner_text()
    assert page.locator(".household").count() == FLOORS * PER_FLOOR

    tapped = [households[(2, 1)], households[(2, 2)], households[(30, 8)]]
    for h in tapped:
        page.locator(f"#h-{h.pk} button[value=notified]").click()
    page.wait_for_selector("#outbox-status:has-text('Waiting to send: 3')")
    assert "Waiting to send" in page.locator(f"#h-{tapped[0].pk} .badge.outcome").inner_text()
    assert Visit.objects.count() == 0

    page.reload()  # still without signal: the taps are still waiting, on the page from cache
    page.wait_for_selector("#outbox-status:has-text('Waiting to send: 3')")

    context.set_offline(False)
    page.wait_for_selector("#outbox-status:has-text('All taps sent.')", timeout=20_000)
    assert page.locator(f"#h-{tapped[2].pk} .badge.outcome").inner_text() == "Notified"
    context.close()

    visits = list(Visit.objects.filter(task=task).values_list("household_id", "outcome"))
    assert sorted(visits) == sorted((h.pk, "notified") for h in tapped)


def test_the_floor_index_jumps_to_floor_17_and_a_tap_keeps_the_place(live_server, browser, tower):
    task, households = tower["task"], tower["households"]
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="en-US")
    page = context.new_page()
    sign_in(page, live_server.url, "tower", "thirty-three-floors")
    page.goto(f"{live_server.url}/canvass/buildings/{task.pk}/")
    index = page.locator("#floor-index")
    assert index.locator("a.floor").count() == FLOORS
    assert index.locator("a.floor.todo").count() == FLOORS  # nobody knocked yet

    index.locator("a.floor", has_text="17").first.click()
    first_on_17 = page.locator(f"#h-{households[(17, 1)].pk}")
    # Floor 17 may be fetched on the click (the page holds the first floors): wait for it.
    page.locator("h2", has_text="Floor 17").wait_for()
    first_on_17.wait_for()
    bar = index.bounding_box()
    heading = page.locator("h2", has_text="Floor 17").bounding_box()
    assert bar is not None and heading is not None
    assert (
        bar["y"] == 0 and bar["y"] + bar["height"] <= heading["y"] < bar["y"] + bar["height"] + 60
    )

    before = first_on_17.bounding_box()
    first_on_17.locator("button[value=notified]").click()
    page.wait_for_selector(f"#h-{households[(17, 1)].pk} .badge.outcome:text-is('Notified')")
    after = first_on_17.bounding_box()
    assert before is not None and after is not None and abs(after["y"] - before["y"]) < 8
    assert first_on_17.locator(".badge.outcome").inner_text() == "Notified"

    # Tap the rest of floor 17: its mark in the index goes; "next" finds floor 18's first.
    for n in range(2, PER_FLOOR + 1):
        page.locator(f"#h-{households[(17, n)].pk} button[value=notified]").click()
        page.wait_for_selector(f"#h-{households[(17, n)].pk} .badge.outcome:text-is('Notified')")
    assert "todo" not in (
        index.locator("a.floor", has_text="17").first.get_attribute("class") or ""
    )
    page.click("#next-untapped")
    target = page.locator(f"#h-{households[(18, 1)].pk}").bounding_box()
    bar = index.bounding_box()
    assert target is not None and bar is not None
    assert bar["y"] + bar["height"] <= target["y"] < bar["y"] + bar["height"] + 60
    context.close()
    assert Visit.objects.filter(task=task).count() == PER_FLOOR


def test_a_building_cannot_be_claimed_without_signal(live_server, browser, tower, leader):
    task = tower["task"]
    actions.release(leader, task)
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="en-US")
    page = context.new_page()
    sign_in(page, live_server.url, "tower", "thirty-three-floors")
    claim_list = f"{live_server.url}/canvass/"
    page.goto(claim_list)
    _cached(page, claim_list)
    page.evaluate("navigator.serviceWorker.ready")
    context.set_offline(True)
    page.reload()
    page.locator("#claim-list tr", has_text="19号楼").locator("button").click()
    page.wait_for_selector("#offline-state:has-text('need the server')")
    assert page.url == claim_list
    context.close()
    assert not BuildingTask.objects.filter(status="claimed").exists()
