"""A leader's phone in a stairwell, in real Chromium: claim, tap every household, lose the signal
for two taps, get it back, complete the building, and find the line in the feed and the
household on the revisit list."""

import json

import pytest

from doorstep.canvass import actions
from doorstep.canvass.models import BuildingTask, Visit
from doorstep.canvass.outcomes import record
from doorstep.testing import sign_in, tap

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_leader_canvasses_a_building_through_a_dead_spot(live_server, browser, street, leader):
    leader.username = "wang"
    leader.set_password("stairwell-42")
    leader.save()
    h = street["households"]
    task = street["task"]
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="en-US")
    page = context.new_page()
    sign_in(page, live_server.url, "wang", "stairwell-42")

    page.goto(f"{live_server.url}/canvass/")
    page.locator("#claim-list tr", has_text="12号楼").locator("button").click()
    page.wait_for_selector("text=Your team holds this building until")

    def tap(household, outcome: str) -> None:
        page.locator(f"#h-{household.pk} button[value={outcome}]").click()

    def badge(household) -> str:
        return page.locator(f"#h-{household.pk} .badge.outcome").inner_text()

    tap(h[0], "notified")
    tap(h[1], "notified")
    page.wait_for_selector("#recorded:text-is('2')")
    assert badge(h[0]) == "Notified"

    context.set_offline(True)
    tap(h[2], "nobody_home")
    tap(h[3], "notified")
    page.wait_for_selector("#outbox-status:has-text('Waiting to send: 2')")
    assert "Waiting to send" in badge(h[2])
    stored = page.evaluate("JSON.parse(localStorage.getItem('doorstep-outbox')).length")
    assert stored == 2
    assert Visit.objects.count() == 2

    context.set_offline(False)
    page.wait_for_selector("#outbox-status:has-text('All taps sent.')", timeout=15_000)
    assert page.locator("#recorded").inner_text() == "4"
    assert badge(h[2]) == "Nobody home"
    assert page.evaluate("localStorage.getItem('doorstep-outbox')") == "[]"

    page.click("#complete")
    page.wait_for_selector("text=finished 12号楼")
    page.goto(f"{live_server.url}/canvass/{street['campaign'].pk}/feed/")
    feed = page.locator("#feed").inner_text()
    page.goto(
        f"{live_server.url}/canvass/{street['campaign'].pk}/communities/{task.community_id}/revisits/"
    )
    revisits = page.locator("main").inner_text()
    context.close()

    assert "杨柳青镇第2组 finished 12号楼: 3/4 households notified, 1 nobody home" in feed
    assert "12号楼 2单元 101" in revisits and "nobody home 1 time" in revisits
    assert BuildingTask.objects.get(pk=task.pk).status == "done"
    assert Visit.objects.count() == 4


def test_a_replayed_tap_that_now_differs_is_shown_to_the_leader_as_a_conflict(
    live_server, browser, street, leader
):
    leader.username = "li"
    leader.set_password("stairwell-42")
    leader.save()
    task, household = street["task"], street["households"][0]
    actions.claim(leader, task)
    first = tap(household, "notified")
    record(leader, task, [first])
    # The phone kept the tap's UUID but, after a bad edit, now says something else. It was kept
    # under the building's own key, as the outbox did before it was shared by the pages.
    replay = {"id": first.id, "household": household.pk, "outcome": "refused", "label": "Refused"}

    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="en-US")
    page = context.new_page()
    sign_in(page, live_server.url, "li", "stairwell-42")
    page.goto(f"{live_server.url}/canvass/buildings/{task.pk}/")
    page.evaluate(
        f"localStorage.setItem('doorstep-outbox-{task.pk}', JSON.stringify([{json.dumps(replay)}]))"
    )
    page.reload()
    page.wait_for_selector("#outbox-problems li")
    problem = page.locator("#outbox-problems").inner_text()
    left = page.evaluate("localStorage.getItem('doorstep-outbox')")
    legacy = page.evaluate(f"localStorage.getItem('doorstep-outbox-{task.pk}')")
    context.close()

    assert "Not recorded" in problem and "already recorded as «Notified» for 101" in problem
    assert left == "[]" and legacy is None
    assert Visit.objects.get().outcome == "notified"


def test_offline_a_tap_after_the_claim_ran_out_is_told_it_will_be_refused(
    live_server, browser, street, leader
):
    """No signal means no answer renews the claim: a tap made after it ran out is kept, and the
    page says at once, in the server's words, that it will be refused as lapsed."""
    leader.username = "zhao"
    leader.set_password("stairwell-42")
    leader.save()
    task = street["task"]
    actions.claim(leader, task)
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="en-US")
    page = context.new_page()
    sign_in(page, live_server.url, "zhao", "stairwell-42")
    page.goto(f"{live_server.url}/canvass/buildings/{task.pk}/")
    page.wait_for_selector("text=Your team holds this building until")
    context.set_offline(True)
    # The claim (a 45-minute lease) runs out while the phone is in the stairwell.
    page.evaluate("() => { const n = Date.now() + 90 * 60 * 1000; Date.now = () => n; }")
    h = street["households"]
    page.locator(f"#h-{h[0].pk} button[value=notified]").click()
    state = page.locator("#claim-state")
    assert "lapsed at" in state.inner_text() and "Claim it again" in state.inner_text()
    assert "bad" in (state.get_attribute("class") or "")
    # Under the tapped household too, where the canvasser is looking.
    here = page.locator(f"#h-{h[0].pk} .lapsed-warning")
    assert here.is_visible() and "lapsed at" in here.inner_text()
    assert page.evaluate("JSON.parse(localStorage.getItem('doorstep-outbox')).length") == 1


def test_offline_a_tap_within_the_claim_says_nothing_of_lapsing(
    live_server, browser, street, leader
):
    leader.username = "qian"
    leader.set_password("stairwell-42")
    leader.save()
    task = street["task"]
    actions.claim(leader, task)
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="en-US")
    page = context.new_page()
    sign_in(page, live_server.url, "qian", "stairwell-42")
    page.goto(f"{live_server.url}/canvass/buildings/{task.pk}/")
    context.set_offline(True)
    page.locator(f"#h-{street['households'][0].pk} button[value=notified]").click()
    page.wait_for_selector("#outbox-status:has-text('Waiting to send: 1')")
    assert "Your team holds this building until" in page.locator("#claim-state").inner_text()
