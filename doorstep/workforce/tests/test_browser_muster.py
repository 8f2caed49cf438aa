"""Muster to lane in real Chromium: scan three codes, watch the board, form a team, staff a lane."""

import pytest
from django.utils import timezone

from doorstep.core.roles import Role
from doorstep.testing import make_community, make_lane, make_staff, make_unit, make_user, sign_in
from doorstep.workforce import actions
from doorstep.workforce.models import Duty, Purpose

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_commander_musters_three_people_and_puts_them_on_a_lane(live_server, browser):
    community = make_community()
    commander = make_user(
        Role.COMMANDER, username="zhao", town=community.town, password="muster-in-30-min"
    )
    unit = make_unit(town=community.town)
    people = [
        make_staff(unit, name=n, skills=s)
        for n, s in (("甲采样", ",sampler,"), ("乙登记", ",registrar,"), ("丙秩序", ""))
    ]
    callup = actions.create_callup(
        commander,
        unit,
        requested=3,
        purpose=Purpose.SAMPLING,
        site=make_lane(community).site,
        muster_point="居委会门前",
        muster_at=timezone.now(),
    )
    lane = make_lane(community)
    codes = [p.worker_code for p in people]

    context = browser.new_context(viewport={"width": 390, "height": 800}, locale="en-US")
    board = context.new_page()
    sign_in(board, live_server.url, "zhao", "muster-in-30-min")
    board.goto(f"{live_server.url}/workforce/callups/{callup.pk}/")
    assert board.locator("#arrived").inner_text() == "0"

    scanner = context.new_page()
    scanner.goto(f"{live_server.url}/workforce/callups/{callup.pk}/check-in/")
    for n, code in enumerate(codes, start=1):
        # A hardware scanner types the characters and then Enter.
        scanner.locator("#code").press_sequentially(code)
        scanner.locator("#code").press("Enter")
        scanner.wait_for_selector(f"#tally:text-matches('^{n} of 3')")
        assert scanner.locator("#code").input_value() == ""
    scanner.locator("#code").press_sequentially(codes[0])
    scanner.locator("#code").press("Enter")
    scanner.wait_for_selector("text=already checked in")

    # The board was never reloaded: its fragment polls.
    board.wait_for_selector("#arrived:text-is('3')", timeout=10_000)
    assert board.locator("#missing").inner_text() == "0"

    board.goto(f"{live_server.url}/workforce/teams/new/")
    board.fill("#name", "杨柳青镇第1组")
    for person in people:
        board.check(f"input[name=members][value='{person.pk}']")
    board.check(f"input[name=leader][value='{people[0].pk}']")
    board.click("text=Form the team")
    board.wait_for_selector("text=Put the team on duty")
    board.select_option("#place", f"lane:{lane.pk}")
    for person, role in zip(people, ("sampler", "registrar", "order_keeper"), strict=True):
        board.select_option(f"select[name=role_{person.pk}]", role)
    board.click("text=Put on duty")
    board.wait_for_selector("text=is on duty at")
    board.goto(f"{live_server.url}/workforce/where/")
    where = board.locator("#where").inner_text()
    context.close()

    assert "甲采样" in where and "Sampler" in where
    roles = dict(
        Duty.objects.filter(lane=lane, ended_at__isnull=True).values_list("staff__name", "role")
    )
    assert roles == {"甲采样": "sampler", "乙登记": "registrar", "丙秩序": "order_keeper"}
