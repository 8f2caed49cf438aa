import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from doorstep.core.roles import Role
from doorstep.testing import client_for, make_lane, make_lane_team, make_user

pytestmark = pytest.mark.django_db


def test_signing_in_lands_on_the_home_page(community):
    make_user(Role.COMMUNITY_WORKER, community, username="qian", password="walk-the-stairs-6")
    response = Client().post(
        reverse("login"), {"username": "qian", "password": "walk-the-stairs-6"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_a_wrong_password_says_what_to_do(community):
    make_user(Role.COMMUNITY_WORKER, community, username="qian", password="walk-the-stairs-6")
    response = Client(headers={"accept-language": "en"}).post(
        reverse("login"), {"username": "qian", "password": "nope"}
    )
    assert "do not match" in response.content.decode()
    response = Client(headers={"accept-language": "zh-CN"}).post(
        reverse("login"), {"username": "qian", "password": "nope"}
    )
    assert "用户名和密码不匹配" in response.content.decode()


@pytest.mark.parametrize(
    ("role", "words"),
    [
        (Role.DISTRICT_COMMANDER, "every town's round on the district board"),
        (Role.COMMANDER, "set the zones"),
        (Role.COMMUNITY_WORKER, "import the resident list"),
        (Role.TEAM_LEADER, "pick the next building"),
        (Role.CANVASSER, "every household gets the letter"),
        (Role.REGISTRAR, "scan the tube"),
        (Role.LAB, "tube and box codes only"),
        (Role.ADMIN, "audit log"),
    ],
)
def test_the_home_page_tells_each_role_what_to_do_next(community, role, words):
    user = make_user(role, community)
    html = client_for(user).get(reverse("home")).content.decode()
    assert words in html


def test_the_lab_gets_no_link_to_residents(community):
    html = (
        client_for(make_user(Role.LAB, town=community.town)).get(reverse("home")).content.decode()
    )
    assert reverse("territory:residents") not in html


def test_the_interface_is_chinese_by_default_and_english_on_request(community):
    client = Client()
    client.force_login(make_user(Role.COMMUNITY_WORKER, community))
    from django.utils import translation

    with translation.override(None):
        html = client.get(reverse("home")).content.decode()
        assert 'lang="zh-hans"' in html
        assert "导入名册" in html  # "Import a roster"
        client.post(reverse("set_language"), {"language": "en", "next": "/"})
        html = client.get(reverse("home")).content.decode()
    assert 'lang="en"' in html
    assert "Import a roster" in html


def test_the_audit_log_lists_entries_for_admins(admin_user, worker, resident):
    client_for(worker).post(
        reverse("territory:resident_reveal", args=[resident.pk]), {"reason": "phone about a retest"}
    )
    html = client_for(admin_user).get(reverse("core:audit")).content.decode()
    assert "phone about a retest" in html and worker.username in html


@pytest.mark.parametrize("url", ["login", "admin:login"])
def test_sign_in_is_throttled_after_five_wrong_passwords_even_for_the_right_one(community, url):
    make_user(Role.ADMIN, community, username="qian", password="walk-the-stairs-6")
    client = Client(headers={"accept-language": "en"})
    for _ in range(5):
        client.post(reverse(url), {"username": "qian", "password": "guess"})
    locked = client.post(reverse(url), {"username": "qian", "password": "walk-the-stairs-6"})
    assert locked.status_code == 429
    assert "Wait 15 minutes and try again" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    # From another address the same colleague can still sign in: nobody locks others out.
    other = Client(REMOTE_ADDR="10.9.9.9")
    assert (
        other.post(
            reverse("login"), {"username": "qian", "password": "walk-the-stairs-6"}
        ).status_code
        == 302
    )


@pytest.mark.parametrize("url", ["login", "admin:login"])
def test_one_address_cannot_try_one_password_against_every_username(community, url):
    make_user(Role.ADMIN, community, username="qian", password="walk-the-stairs-6")
    spray = Client(REMOTE_ADDR="10.7.7.7", headers={"accept-language": "en"})
    for n in range(settings.SIGN_IN_ADDRESS_FAILURES - 1):
        answer = spray.post(reverse(url), {"username": f"user{n}", "password": "123456"})
        assert answer.status_code == 200, n  # one wrong password each: no username is locked
    last = spray.post(reverse(url), {"username": "user-last", "password": "123456"})
    assert last.status_code == 429
    locked = spray.post(reverse(url), {"username": "qian", "password": "walk-the-stairs-6"})
    assert locked.status_code == 429
    assert "for many usernames from this network" in locked.content.decode()
    assert "_auth_user_id" not in spray.session
    # The colleague signs in from elsewhere: an address's lock is that address's alone.
    other = Client(REMOTE_ADDR="10.9.9.9")
    signed_in = other.post(reverse("login"), {"username": "qian", "password": "walk-the-stairs-6"})
    assert signed_in.status_code == 302


def test_signing_in_between_tries_does_not_start_the_address_count_again(community):
    make_user(Role.CANVASSER, community, username="zhou", password="walk-the-stairs-7")
    client = Client(REMOTE_ADDR="10.7.7.8")
    for n in range(settings.SIGN_IN_ADDRESS_FAILURES - 1):
        client.post(reverse("login"), {"username": f"user{n}", "password": "123456"})
    # Whoever holds one account signs in with it, and out again...
    assert (
        client.post(
            reverse("login"), {"username": "zhou", "password": "walk-the-stairs-7"}
        ).status_code
        == 302
    )
    client.post(reverse("logout"))
    # ...and the next wrong password is still the address's last.
    client.post(reverse("login"), {"username": "user-last", "password": "123456"})
    again = client.post(reverse("login"), {"username": "zhou", "password": "walk-the-stairs-7"})
    assert again.status_code == 429


def test_a_registrar_opens_their_own_lane_from_the_start_page(community):
    site = make_lane(community, "体育场采样点", lanes=4).site
    lanes = {lane.name: lane for lane in site.lanes.all()}
    registrar = make_user(Role.REGISTRAR, community)
    client = client_for(registrar)
    assert 'id="no-lane"' in client.get(reverse("home")).content.decode()
    make_lane_team(lanes["3号通道"], registrar)
    html = client.get(reverse("home")).content.decode()
    assert reverse("sampling:lane", args=[lanes["3号通道"].pk]) in html
    assert reverse("sampling:lane", args=[lanes["1号通道"].pk]) not in html
    assert client.get(reverse("sampling:lane", args=[lanes["3号通道"].pk])).status_code == 200
