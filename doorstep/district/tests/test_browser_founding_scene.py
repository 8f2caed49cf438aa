"""The founding scene end to end in real Chromium: 中北镇 asks the district for 30 people for its
lanes; the district commander (1920x1080) gives 杨柳青镇 the quota; 杨柳青镇's organiser, on a
360 px phone, ticks 30 names and sends them; they arrive, work the four lanes in groups, stand
down, and the organiser confirms them home. At each step the district's board and report say
what a recount of the people says."""

from __future__ import annotations

import pytest
from django.utils import timezone

from doorstep.core.roles import Role
from doorstep.testing import (
    make_building,
    make_campaign,
    make_community,
    make_district,
    make_household,
    make_lane,
    make_resident,
    make_staff,
    make_unit,
    make_user,
    sign_in,
)
from doorstep.workforce import actions
from doorstep.workforce.models import CallUp, Duty, DutyRole, Muster, MusterStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FULL_HD = {"width": 1920, "height": 1080}
PHONE = {"width": 360, "height": 740}
PASSWORD = "no-household-missed"


def recount(town_id: int) -> list[str]:
    """Sent, arrived, on duty, back home: counted person by person for one sending town."""
    musters = Muster.objects.filter(callup__batch__quota__sending_town_id=town_id)
    return [
        str(musters.filter(callup__batch__departed_at__isnull=False).count()),
        str(musters.filter(arrived_at__isnull=False).count()),
        str(
            Duty.objects.filter(
                ended_at__isnull=True, staff__musters__in=musters.filter(returned_at__isnull=True)
            ).count()
        ),
        str(musters.filter(returned_at__isnull=False).count()),
    ]


def _board_line(page, town_id: int) -> list[str]:  # type: ignore[no-untyped-def]
    """The board's support line of a sending town: quota, sent, arrived, on duty, back home."""
    page.reload()
    cells = page.locator(
        f"#support-sending tr[data-town='{town_id}'] td.num:not([data-figure=hours])"
    )
    return cells.all_inner_texts()


def _fits(page) -> bool:  # type: ignore[no-untyped-def]
    page.wait_for_load_state()  # after a click that navigates: the new page, not none
    size = page.evaluate("({w: document.documentElement.scrollWidth, vw: window.innerWidth})")
    return size["w"] <= size["vw"]


def test_the_founding_scene_from_request_to_back_home_safe(live_server, browser):
    district = make_district("西青区", "中北镇", "杨柳青镇")
    zhongbei, yangliu = district.towns.get(name="中北镇"), district.towns.get(name="杨柳青镇")
    community = make_community("富锦园社区", zhongbei)
    lane = make_lane(community, "富锦园广场采样点", lanes=4)
    make_resident(make_household(make_building(community)))
    make_campaign(community)
    unit = make_unit("杨柳青镇机关", yangliu)
    skills = (",sampler,", ",sampler,", ",registrar,", "", "", "", "")
    for n in range(34):
        make_staff(unit, name=f"杨柳{n:02d}", skills=skills[n % 7])
    make_user(Role.COMMANDER, username="zhongbei", town=zhongbei, password=PASSWORD)
    make_user(Role.COMMANDER, username="yangliu", town=yangliu, password=PASSWORD)
    make_user(Role.DISTRICT_COMMANDER, username="xiqing", district=district, password=PASSWORD)
    base = live_server.url

    # 中北镇 asks the district for 30 for its lanes.
    asker = browser.new_context(viewport=FULL_HD, locale="en-US").new_page()
    sign_in(asker, base, "zhongbei", PASSWORD)
    asker.goto(f"{base}/workforce/support/")
    asker.fill("#id_people", "30")
    asker.select_option("#id_purpose", "sampling")
    asker.select_option("#id_site", str(lane.site_id))
    asker.fill("#id_muster_point", "富锦园社区居委会门前")
    asker.locator("form[action*='support/ask'] button[type=submit]").click()
    asker.wait_for_selector("h1:has-text('中北镇')")

    # The district commander, at the wall, gives 杨柳青镇 the quota.
    chief = browser.new_context(viewport=FULL_HD, locale="en-US").new_page()
    sign_in(chief, base, "xiqing", PASSWORD)
    chief.goto(f"{base}/workforce/support/?town={zhongbei.pk}")
    chief.locator("#district-requests a").first.click()
    chief.select_option("#id_sending_town", str(yangliu.pk))
    chief.fill("#id_people", "30")
    chief.locator("#quota-form button").click()
    chief.wait_for_selector("#quotas td:text-is('30')")
    board = browser.new_context(viewport=FULL_HD, locale="en-US").new_page()
    sign_in(board, base, "xiqing", PASSWORD)
    board.goto(f"{base}/district/?wall=1")
    assert _board_line(board, yangliu.pk) == ["30", *recount(yangliu.pk)] == [
        "30", "0", "0", "0", "0",
    ]  # fmt: skip

    # 杨柳青镇's organiser, on a phone, ticks 30 and sends them, then presses Departed.
    phone = browser.new_context(viewport=PHONE, locale="en-US", has_touch=True).new_page()
    sign_in(phone, base, "yangliu", PASSWORD)
    phone.goto(f"{base}/workforce/support/")
    phone.locator("#quotas a:has-text('Select the next batch')").click()
    assert _fits(phone)
    boxes = phone.locator("#people input[name=staff]")
    assert boxes.count() == 34
    for n in range(30):
        boxes.nth(n).check()
    phone.locator("button:has-text('Send the ticked people')").click()
    phone.wait_for_selector("#depart")
    assert _fits(phone)
    phone.locator("#depart").click()
    phone.wait_for_selector("text=has departed")
    assert _board_line(board, yangliu.pk) == ["30", *recount(yangliu.pk)] == [
        "30", "30", "0", "0", "0",
    ]  # fmt: skip

    # They arrive at 中北镇's muster point and work the four lanes in groups of seven.
    [callup] = CallUp.objects.filter(batch__quota__sending_town=yangliu)
    sent = list(callup.musters.select_related("staff").order_by("staff__name"))
    for muster in sent:
        actions.check_in(None, callup, muster.staff.worker_code)
    teams = []
    for group, each in enumerate(lane.site.lanes.order_by("name")):
        members = [m.staff for m in sent[group * 7 : group * 7 + 7]]
        team = actions.form_team(None, zhongbei, f"杨柳青镇第{group + 1}组", members[0], members)
        roles = {m.pk: (DutyRole.SAMPLER if i < 2 else DutyRole.ORDER_KEEPER) for i, m in
                 enumerate(members)}  # fmt: skip
        roles[members[2].pk] = DutyRole.REGISTRAR
        actions.assign_team(None, team, lane=each, roles=roles)
        teams.append(team)
    assert _board_line(board, yangliu.pk) == ["30", *recount(yangliu.pk)] == [
        "30", "30", "30", "28", "0",
    ]  # fmt: skip
    phone.reload()
    assert phone.locator("#people li[data-state=on_duty]").count() == 28

    # Home is refused while they work, and nobody is marked; after the stand-down it is not.
    phone.locator("#all-home").click()
    phone.wait_for_selector("text=Still at work")
    assert not Muster.objects.filter(returned_at__isnull=False).exists()
    for team in teams:
        actions.stand_down(None, team)
    phone.reload()
    phone.locator("#all-home").click()
    phone.wait_for_selector("text=30 back home safe")
    assert _fits(phone)
    assert phone.locator("#people li[data-state=returned]").count() == 30
    assert _board_line(board, yangliu.pk) == ["30", *recount(yangliu.pk)] == [
        "30", "30", "30", "0", "30",
    ]  # fmt: skip
    assert Muster.objects.filter(status=MusterStatus.ARRIVED).count() == 0
    board.goto(f"{base}/district/report/?day={timezone.localdate():%Y-%m-%d}")
    assert (
        "0 people sent are not yet back home" in board.locator("#report-unaccounted").inner_text()
    )
