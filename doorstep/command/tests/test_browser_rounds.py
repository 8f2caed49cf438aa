"""Rounds and zones in real Chromium: a commander with two rounds running chooses one from the
switcher; on the Zones page a building that may lift is lifted by the rule, one that may not
is refused until a reason is given, and both changes show in the building's history."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from doorstep.campaigns import actions
from doorstep.campaigns.models import CampaignBuilding, Zone
from doorstep.core.roles import Role
from doorstep.testing import (
    make_building,
    make_campaign,
    make_community,
    make_household,
    make_resident,
    make_user,
    sign_in,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_commander_switches_rounds_and_lifts_by_the_rule(live_server, browser, community):
    other = make_community("新村社区", town=community.town)
    clear = make_building(community, "1号楼", position=1)
    recent = make_building(community, "2号楼", position=2)
    make_building(other, "9号楼", position=9)
    for building in (clear, recent):
        make_household(building, "101")
    round1 = make_campaign(community, name="第1轮")
    # 1号楼: a positive nine days ago and nobody on the roster left untested since.
    actions.positive_found(
        round1.pk, [clear.pk], "2112190001", timezone.now() - dt.timedelta(days=9)
    )
    make_resident(make_household(recent, "102"))
    actions.positive_found(round1.pk, [recent.pk], "2112190002", timezone.now())
    actions.close_round(None, round1, confirmed=True)
    here = make_campaign(community, name="第2轮(阳光里)")
    make_campaign(other, name="第2轮(新村)")
    make_user(Role.COMMANDER, town=community.town, username="boss", password="pass-boss-1")

    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in(page, live_server.url, "boss", "pass-boss-1")
    page.goto(f"{live_server.url}/canvass/")
    switcher = page.locator(".round-switcher")
    assert switcher.locator("li").count() == 2
    switcher.get_by_text("第2轮(阳光里)").click()
    page.wait_for_url(f"**/canvass/{here.pk}/**")

    page.goto(f"{live_server.url}/command/{here.pk}/zones/")
    rows = page.locator("[data-testid=lift-table] tbody tr")
    assert rows.count() == 2
    assert page.locator(f"#building-{clear.pk}").get_attribute("data-can-lift") == "yes"
    assert page.locator(f"#building-{recent.pk}").get_attribute("data-can-lift") == "no"
    page.locator(f"#building-{clear.pk} input[type=checkbox]").check()
    page.get_by_role("button", name="Lift the chosen buildings one level").click()
    page.wait_for_selector("text=1 buildings lifted one level.")
    assert CampaignBuilding.objects.get(campaign=here, building=clear).zone == Zone.CONTROLLED

    page.locator(f"#building-{recent.pk} input[type=checkbox]").check()
    page.get_by_role("button", name="Lift the chosen buildings one level").click()
    page.wait_for_selector("text=give a reason to lift anyway")
    assert CampaignBuilding.objects.get(campaign=here, building=recent).zone == Zone.SEALED
    page.locator(f"#building-{recent.pk} input[type=checkbox]").check()
    page.fill("#reason", "区指挥部决定")
    page.get_by_role("button", name="Lift the chosen buildings one level").click()
    page.wait_for_selector("text=1 buildings lifted one level.")
    row = page.locator(f"#building-{recent.pk}")
    row.locator("summary").click()
    assert "区指挥部决定" in row.inner_text()
    assert CampaignBuilding.objects.get(campaign=here, building=recent).zone == Zone.CONTROLLED
