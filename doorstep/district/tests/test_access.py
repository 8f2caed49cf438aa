"""Who may see the district's pages: its own commander, and only their own district's towns;
a town's commander and everyone else are refused, as the project's pattern has it."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from doorstep.core.roles import Role
from doorstep.testing import client_for, make_user

pytestmark = pytest.mark.django_db

URLS = [
    reverse("district:board"),
    reverse("district:panel", args=["towns"]),
    reverse("district:panel", args=["alerts"]),
    reverse("district:panel", args=["support"]),
    reverse("district:report"),
    reverse("district:report_xlsx"),
]


@pytest.mark.parametrize("url", URLS)
def test_every_page_is_read_only(district_world, chief, url):
    assert client_for(chief).post(url).status_code == 405


@pytest.mark.parametrize("url", URLS)
def test_the_district_commander_sees_every_page(district_world, chief, url):
    assert client_for(chief).get(url).status_code == 200


@pytest.mark.parametrize("url", URLS)
def test_a_town_commander_and_a_community_worker_are_refused(district_world, town_commander, url):
    worker = make_user(Role.COMMUNITY_WORKER, district_world["zhongbei"]["community"])
    assert client_for(town_commander).get(url).status_code == 403
    assert client_for(worker).get(url).status_code == 403


@pytest.mark.parametrize("url", URLS)
def test_someone_not_signed_in_is_sent_to_sign_in(district_world, url):
    response = Client().get(url)
    assert response.status_code == 302 and "/login" in response["Location"]


@pytest.mark.parametrize("url", URLS)
def test_a_district_commander_without_a_district_finds_nothing(district_world, url):
    assert client_for(make_user(Role.DISTRICT_COMMANDER)).get(url).status_code == 404


def test_another_districts_commander_sees_only_their_own_towns(district_world, other_chief):
    client = client_for(other_chief)
    towns = client.get(reverse("district:panel", args=["towns"])).content.decode()
    assert "北辰镇" in towns
    assert "中北镇" not in towns and "杨柳青镇" not in towns
    report = client.get(reverse("district:report")).content.decode()
    assert "北辰镇" in report and "中北镇" not in report
    campaign = district_world["zhongbei"]["campaign"]
    assert client.get(reverse("command:dashboard", args=[campaign.pk])).status_code == 404


def test_an_unknown_panel_is_not_found(district_world, chief):
    assert client_for(chief).get(reverse("district:panel", args=["nope"])).status_code == 404


def test_only_those_who_see_the_district_have_it_in_the_menu(district_world, chief, town_commander):
    board = reverse("district:board")
    assert f'href="{board}"' in client_for(chief).get(reverse("home")).content.decode()
    assert f'href="{board}"' not in client_for(town_commander).get(reverse("home")).content.decode()
