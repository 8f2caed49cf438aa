"""A community worker imports a roster in real Chromium: a bad row first, then the fix."""

import pytest

from doorstep.core.roles import Role
from doorstep.territory.models import Resident
from doorstep.testing import make_community, make_user, sign_in
from doorstep.testing.rosters import csv_bytes, good_rows, row

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def answered(page) -> None:  # type: ignore[no-untyped-def]
    """The upload's answer has replaced the page (the form is no longer busy)."""
    page.wait_for_selector("form[enctype]:not([aria-busy])", timeout=120_000)


def test_a_worker_fixes_a_bad_roster_and_sees_the_residents_masked(live_server, browser, tmp_path):
    community = make_community()
    make_user(Role.COMMUNITY_WORKER, community, username="worker", password="walk-the-stairs-6")
    bad = good_rows(6)
    bad[3] = row(3, 证件号码="1.20101E+17")
    fixed = good_rows(6)
    (tmp_path / "bad.csv").write_bytes(csv_bytes(bad, encoding="gbk"))
    (tmp_path / "fixed.csv").write_bytes(csv_bytes(fixed, encoding="gbk"))

    page = browser.new_page(viewport={"width": 360, "height": 740}, locale="en-US")
    sign_in(page, live_server.url, "worker", "walk-the-stairs-6")

    page.goto(f"{live_server.url}/territory/roster/")
    page.set_input_files("#file", str(tmp_path / "bad.csv"))
    page.click("text=Check and import")
    answered(page)
    error = page.locator("#import-result").inner_text()
    after_bad = Resident.objects.count()

    page.set_input_files("#file", str(tmp_path / "fixed.csv"))
    page.click("text=Check and import")
    answered(page)
    result = page.locator("#import-result").inner_text()

    page.goto(f"{live_server.url}/territory/residents/")
    listing = page.locator("table").inner_text()
    page.screenshot(path=str(tmp_path / "residents.png"), full_page=True)
    page.close()

    assert "row 5" in error and "scientific notation" in error and "nothing was imported" in error
    assert after_bad == 0
    assert "6 created" in result
    assert Resident.objects.count() == 6
    first = Resident.objects.get(name="居民0")
    assert first.masked_id in listing
    assert first.id_number not in listing
    assert "居*0" in listing and "居民0" not in listing


def test_a_long_check_shows_it_is_alive_and_cannot_be_sent_twice(live_server, browser, tmp_path):
    community = make_community()
    make_user(Role.COMMUNITY_WORKER, community, username="worker", password="walk-the-stairs-6")
    (tmp_path / "big.csv").write_bytes(csv_bytes(good_rows(8000)))
    page = browser.new_page(viewport={"width": 360, "height": 740}, locale="en-US")
    sign_in(page, live_server.url, "worker", "walk-the-stairs-6")
    page.goto(f"{live_server.url}/territory/roster/")
    page.set_input_files("#file", str(tmp_path / "big.csv"))
    page.check("input[name=dry_run]")
    page.click("text=Check and import")
    # At once: the button is disabled and a status line counts the upload, then the seconds.
    state = page.evaluate(
        "({disabled: document.querySelector('form[enctype] button[type=submit]').disabled,"
        " status: !!document.querySelector('.job-progress[role=status] progress')})"
    )
    assert state == {"disabled": True, "status": True}
    page.wait_for_selector(".job-progress:has-text('has been checking it for')")
    answered(page)
    assert "8000" in page.locator("#import-result").inner_text()
    assert Resident.objects.count() == 0  # a dry run: nothing written
    assert not page.locator("form[enctype] button[type=submit]").is_disabled()
