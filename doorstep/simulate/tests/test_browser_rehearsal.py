"""A simulated morning moves the real dashboard: the commander watches in Chromium while the day
is played on in steps, and the panels (polling every 5 s) follow without a reload."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from doorstep.command import dashboard
from doorstep.core.models import User
from doorstep.simulate.run import Rehearsal
from doorstep.testing import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_dashboard_follows_a_simulated_morning(live_server, browser) -> None:  # type: ignore[no-untyped-def]
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=1)
    with Rehearsal(400, 12, 12, seed=3, start=start, progress=str) as rehearsal:
        commander = User.objects.get(username=f"sim-commander-{rehearsal.setup.town.pk}")
        commander.set_password("pass-watch-1")
        commander.save()
        rehearsal.advance(60)
        campaign = rehearsal.setup.campaign
        first = dashboard.totals(campaign).people
        assert first > 0

        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        sign_in(page, live_server.url, commander.username, "pass-watch-1")
        page.goto(f"{live_server.url}/command/{campaign.pk}/")
        people = page.locator("[data-testid=people]")
        assert int(people.inner_text()) == first

        rehearsal.advance(180)
        later = dashboard.totals(campaign).people
        assert later > first
        # No reload: the panel's own poll brings the new figure.
        expect(people).to_have_text(str(later), timeout=15_000)
        assert rehearsal.recorder.refusals == []
