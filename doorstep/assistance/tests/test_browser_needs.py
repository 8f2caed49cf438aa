"""In real Chromium: a leader marks a household "special need: graduate exam tomorrow 08:00",
the community worker verifies and arranges it, it shows on the exam-taker list, and an emergency
registered afterwards goes to the top of the list with the alarm."""

import datetime as dt

import pytest
from django.utils import timezone

from doorstep.assistance.models import Request
from doorstep.core.roles import Role
from doorstep.testing import make_household, make_resident, make_user, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_exam_taker_is_arranged_and_an_emergency_jumps_the_queue(
    live_server,
    browser,
    street,
    leader,
    community,
):
    leader.username = "wang"
    leader.set_password("stairwell-42")
    leader.save()
    make_user(Role.COMMUNITY_WORKER, community, username="grid", password="stairwell-42")
    household = street["households"][0]
    tomorrow = timezone.localtime(timezone.now() + dt.timedelta(days=1)).replace(hour=8, minute=0)

    phone = browser.new_context(viewport={"width": 360, "height": 740}, locale="en-US").new_page()
    sign_in(phone, live_server.url, "wang", "stairwell-42")
    phone.goto(f"{live_server.url}/canvass/")
    phone.locator("#claim-list tr", has_text="12号楼").locator("button").click()
    phone.wait_for_selector("text=Your team holds this building until")
    row = phone.locator(f"#h-{household.pk}")
    row.locator("summary").click()
    row.locator(f"#need-{household.pk}").select_option("graduate_exam")
    row.locator(f"#need-by-{household.pk}").fill(tomorrow.strftime("%Y-%m-%dT%H:%M"))
    row.locator(f"#note-{household.pk}").fill("明早考研")
    row.locator("button[value=special_need]").click()
    phone.wait_for_selector("#recorded:text-is('1')")

    desk = browser.new_context(viewport={"width": 1200, "height": 900}, locale="en-US").new_page()
    sign_in(desk, live_server.url, "grid", "stairwell-42")
    desk.goto(f"{live_server.url}/needs/")
    desk.locator("tr[data-kind=graduate_exam] a").first.click()
    desk.select_option("select[name=outcome]", "reached")
    desk.fill("input[name=note]", "本人接听，8点考试")
    desk.click("text=Log the call")
    desk.click("text=Verified: we reached them")
    desk.wait_for_selector("h1:has-text('Verified')")
    desk.select_option("select[name=how]", "volunteer_car")
    desk.fill("input[name=place]", "天津大学考点")
    desk.click("button:text-is('Arranged')")
    desk.wait_for_selector("h1:has-text('Arranged')")
    desk.goto(f"{live_server.url}/needs/exams/")
    exams = desk.locator("main").inner_text()
    assert "天津大学考点" in exams and "single tube" in exams

    neighbour = make_resident(make_household(street["task13"].building, "101"), "孕妇")
    desk.goto(f"{live_server.url}/needs/new/")
    desk.fill("input[name=person_code]", neighbour.person_code)
    desk.select_option("select[name=kind]", "pregnancy")
    desk.fill("input[name=needed_by]", timezone.localtime().strftime("%Y-%m-%dT%H:%M"))
    desk.fill("textarea[name=details]", "临产")
    desk.click("button:text-is('Register')")
    desk.wait_for_selector("h1:has-text('Pregnancy')")
    desk.goto(f"{live_server.url}/needs/")
    desk.wait_for_selector("#need-alarm")
    first = desk.locator("tr.need-row").first
    assert first.get_attribute("data-kind") == "pregnancy"

    exam = Request.objects.get(kind="graduate_exam")
    assert (exam.status, exam.source, exam.single_tube) == ("arranged", "canvasser", True)
    assert exam.needed_by == tomorrow.replace(second=0, microsecond=0)
