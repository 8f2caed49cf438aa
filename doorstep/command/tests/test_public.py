"""The public site status and the resident's own look-up: no login, no personal data, and the
look-up answers only someone holding both the person code and the phone's last four digits."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from doorstep.command import public, views
from doorstep.core import alerts
from doorstep.sampling.actions import report_queue
from doorstep.territory import secret
from doorstep.testing import client_for, make_lane, make_lane_short_of_a_registrar
from doorstep.testing.lanes import post as post_results
from doorstep.testing.lanes import sealed_tube


def look(client: Client, code: str, document: str, address: str = "10.0.0.1"):  # type: ignore[no-untyped-def]
    """The public look-up: the person code and the last six characters of the document."""
    return client.post(
        reverse("command:me"), {"code": code, "document": document}, REMOTE_ADDR=address
    )


def test_the_site_list_needs_no_login_and_shows_the_wait_band(lane_world, registrar, client):
    lane = lane_world["lane"]
    report_queue(registrar, lane, 60)  # 60 waiting at the planned 85/h: about 42 min, busy
    jammed = make_lane(lane.site.community, site_name="星河湾采样点", lanes=1)
    report_queue(registrar, jammed, 100)
    response = client.get(reverse("command:status"), headers={"Accept-Language": "en"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "广场采样点" in page and "星河湾采样点" in page
    assert "site-status band-busy" in page and "site-status band-jammed" in page
    # The fixture's lane has its team on duty (a sampler among them); the other has nobody.
    assert "1 of 2 lanes staffed now" in page
    # Nobody's name or number is on the public page.
    assert all(p.name not in page for p in lane_world["people"])


def test_a_server_process_reads_the_site_list_once_per_interval(lane_world, client, settings):
    """A flood of residents costs the database one read per interval per process: within it,
    the page is served from what was read (a new site shows at the next read)."""
    views._status_read.clear()
    settings.PUBLIC_STATUS_SECONDS = 60
    with CaptureQueriesContext(connection) as first:
        client.get(reverse("command:status"))
    make_lane(lane_world["lane"].site.community, site_name="新开采样点", lanes=1)
    with CaptureQueriesContext(connection) as again:
        page = client.get(reverse("command:status")).content.decode()
    assert len(again) < len(first) and "新开采样点" not in page
    views._status_read.clear()
    assert "新开采样点" in client.get(reverse("command:status")).content.decode()
    views._status_read.clear()


def test_the_site_list_costs_the_same_queries_for_more_sites(lane_world, registrar, client):
    report_queue(registrar, lane_world["lane"], 10)
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("command:status"))
    for n in range(3):
        report_queue(
            registrar, make_lane(lane_world["lane"].site.community, site_name=f"第{n}采样点"), 5
        )
    with CaptureQueriesContext(connection) as four:
        client.get(reverse("command:status"))
    assert len(four) == len(one)


def test_a_resident_sees_that_they_were_sampled_and_the_result(lane_world, client):
    person = lane_world["people"][0]
    sealed_tube(lane_world["registrar"], lane_world["lane"], lane_world["people"][:3])
    response = look(client, person.person_code, person.id_number[-6:])
    page = response.content.decode()
    assert response.status_code == 200 and 'id="my-status"' in page
    assert "广场采样点" in page
    assert "not back yet" in page or "尚未出来" in page
    post_results(lane_world, {"tube": "2112250001", "result": "negative"})
    page = look(client, person.person_code, person.id_number[-6:]).content.decode()
    assert "negative" in page or "阴性" in page
    assert person.name not in page


def test_a_positive_pool_tells_the_resident_to_stay_home(lane_world, client):
    person = lane_world["people"][0]
    sealed_tube(lane_world["registrar"], lane_world["lane"], lane_world["people"][:3])
    post_results(lane_world, {"tube": "2112250001", "result": "positive"})
    found = public.look_up(person.person_code, person.id_number[-6:], "10.0.0.2")
    assert (found.error, found.state, found.stay_home) == ("", "retest_home", True)


def test_someone_not_yet_sampled_is_sent_to_the_site_list(lane_world, client):
    person = lane_world["people"][5]
    found = public.look_up(person.person_code, person.id_number[-6:], "10.0.0.3")
    assert found.error == "" and found.sampled_at is None
    page = look(client, person.person_code, person.id_number[-6:]).content.decode()
    assert reverse("command:status") in page


def test_a_wrong_document_and_a_wrong_code_get_the_same_answer(lane_world):
    person, other = lane_world["people"][0], lane_world["people"][1]
    wrong_tail = public.look_up(person.person_code, "00000X", "10.0.0.4")
    wrong_code = public.look_up(other.person_code[:-1] + "0", person.id_number[-6:], "10.0.0.5")
    unknown = public.look_up("K7QM9XD4P", person.id_number[-6:], "10.0.0.6")
    # A malformed tail says no more than a wrong one (territory/tests/test_secret.py).
    short = public.look_up(person.person_code, "12a", "10.0.0.7")
    # The phone's last four digits, shown on masked pages, are no longer the key.
    phone = public.look_up(person.person_code, person.phone[-4:], "10.0.0.8")
    answers = {
        (f.code, f.error, f.round_name) for f in (wrong_tail, wrong_code, unknown, short, phone)
    }
    assert len(answers) == 1 and answers.pop()[:1] == ("no_match",)


def test_five_wrong_tails_pause_the_code_then_429(lane_world, client):
    person = lane_world["people"][0]
    for _ in range(secret.BY_CODE.tries):
        assert look(client, person.person_code, "00000X").status_code == 200
    response = look(client, person.person_code, person.id_number[-6:])
    assert response.status_code == 429
    assert 'id="my-status"' not in response.content.decode()
    # From the same address, another person is still served.
    other = lane_world["people"][1]
    assert (
        'id="my-status"' in look(client, other.person_code, other.id_number[-6:]).content.decode()
    )


def test_one_person_code_cannot_be_guessed_from_many_addresses(lane_world, client):
    person = lane_world["people"][0]
    for n in range(secret.BY_CODE.tries):
        look(client, person.person_code, f"{n:06d}", address=f"10.1.0.{n}")
    response = look(client, person.person_code, person.id_number[-6:], address="10.2.0.1")
    assert response.status_code == 429


@pytest.mark.parametrize("name", ["command:status", "command:me"])
def test_the_public_pages_refuse_other_methods(name, client):
    method = client.put if name == "command:me" else client.post
    assert method(reverse(name)).status_code == 405


def test_a_lane_without_a_registrar_is_not_open_to_residents(lane_world, client):
    other = lane_world["lane"].site.lanes.exclude(pk=lane_world["lane"].pk).get()
    make_lane_short_of_a_registrar(other)  # a sampler alone: nobody can scan people in
    [status] = public.site_statuses()
    assert (status.lanes, status.lanes_open) == (2, 1)
    page = client.get(reverse("command:status"), headers={"Accept-Language": "en"}).content.decode()
    assert "1 of 2 lanes staffed now" in page


def test_the_band_residents_see_is_the_one_the_commander_is_alerted_about(
    lane_world, registrar, client
):
    """Past the 20-minute target the commander is told to act: residents are not told "free"."""
    campaign, lane = lane_world["campaign"], lane_world["lane"]
    report_queue(registrar, lane, 31)  # 31 waiting at 85/h: about 22 min
    [status] = public.site_statuses()
    assert (status.wait.minutes, status.wait.band) == (22, "busy")
    assert [a.kind for a in alerts.current(campaign, timezone.now()) if a.kind == "long_wait"]
    report_queue(registrar, lane, 28)  # about 20 min: the target, free, no alert
    [status] = public.site_statuses()
    assert (status.wait.minutes, status.wait.band) == (20, "free")
    assert not [a for a in alerts.current(campaign, timezone.now()) if a.kind == "long_wait"]


def test_a_site_says_where_it_is_and_when_it_opens_and_help_is_one_tap_away(
    community, client, commander
):
    client_for(commander).post(
        reverse("sampling:site_create"),
        {
            "community": community.pk,
            "name": "北门采样点",
            "lanes": "2",
            "address": "小区北门广场",
            "opens_at": "07:00",
            "closes_at": "21:30",
            "serves": "everyone",
        },
    )
    page = client.get(reverse("command:status"), headers={"Accept-Language": "en"}).content.decode()
    assert "小区北门广场" in page and "Open 07:00–21:30" in page
    assert "Closed now" in page  # nobody is on duty at its lanes yet
    ask = reverse("assistance:ask")
    assert f'href="{ask}"' in page
    form = client.get(ask, headers={"Accept-Language": "en"}).content.decode()
    # The form asks what is needed: nothing is chosen for the resident (not "emergency").
    assert '<option value="">' in form and "selected" not in form.split('name="kind"')[1][:400]
