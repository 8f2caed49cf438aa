import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from doorstep.core.roles import Role
from doorstep.sampling import queries
from doorstep.sampling.models import Box, QueueReport, Site, Tube, TubeMember
from doorstep.testing import client_for, make_lane, make_lane_team, make_user, valid_id

pytestmark = pytest.mark.django_db


def scan(client, lane, code, **extra):  # type: ignore[no-untyped-def]
    """The lane page's scan form without JavaScript: answered at once, 400 when refused."""
    return client.post(reverse("sampling:lane", args=[lane.pk]), {"code": code, **extra})


def test_the_lane_page_opens_a_tube_fills_it_and_seals_it(lane_world, registrar):
    client, lane, people = client_for(registrar), lane_world["lane"], lane_world["people"]
    html = client.get(reverse("sampling:lane", args=[lane.pk])).content.decode()
    assert "Scan a new tube&#x27;s barcode" in html or "Scan a new tube's barcode" in html
    scan(client, lane, "2112250001", pool="10")
    for person in people[:7]:
        response = scan(client, lane, person.person_code)
    html = response.content.decode()
    assert response.status_code == 200
    assert '<div class="stat" id="tube-fill">7/10</div>' in html
    assert people[6].masked_name in html and people[6].name not in html
    assert '<div class="stat" id="lane-today">7</div>' in html
    sealed = client.post(
        reverse("sampling:lane", args=[lane.pk]), {"action": "seal"}
    ).content.decode()
    assert Tube.objects.get().status == "sealed"
    assert "Scan a new tube" in sealed and "1 tube sealed here today" in sealed


def test_errors_are_spoken_in_plain_words(lane_world, registrar):
    client, lane, people = client_for(registrar), lane_world["lane"], lane_world["people"]
    scan(client, lane, "2112250001", pool="1")
    scan(client, lane, people[0].person_code)
    full = scan(client, lane, people[1].person_code).content.decode()
    assert "already holds 1 people. Seal it and open a new tube" in full
    new_tube = scan(client, lane, "2112250002").content.decode()
    assert (
        "Tube 2112250001 is still open (1 people). Seal it before starting a new tube." in new_tube
    )
    nothing = scan(client, lane, "").content.decode()
    assert "Nothing was scanned" in nothing
    mistyped = scan(client, lane, "K7QM9XD4Z")
    assert mistyped.status_code == 400
    assert "K7Q-M9X-D4Z is not a valid person code" in mistyped.content.decode()


def test_a_walk_in_is_registered_from_the_lane_page(lane_world, registrar):

    client, lane = client_for(registrar), lane_world["lane"]
    scan(client, lane, "2112250001", pool="10")
    html = client.post(
        reverse("sampling:lane", args=[lane.pk]),
        {"action": "walk_in", "name": "过路人", "id_number": valid_id(555), "phone": "13900001111"},
    ).content.decode()
    assert "walk-in" in html and "过*人" in html
    assert TubeMember.objects.get().walk_in is not None


def test_the_order_keeper_reports_the_queue_and_the_site_shows_a_wait_band(
    lane_world, registrar, worker
):
    client, lane = client_for(registrar), lane_world["lane"]
    client.post(reverse("sampling:queue", args=[lane.pk]), {"waiting": "60"})
    assert QueueReport.objects.get().waiting == 60
    # No scans in the last 30 minutes: the planning figure of 85 people an hour applies.
    wait = queries.site_waits([lane.site])[lane.site_id]
    assert (wait.minutes, wait.band) == (42, "busy")
    html = client_for(worker).get(reverse("sampling:sites")).content.decode()
    assert "busy" in html and "about 42 min (60 waiting)" in html
    bad = client.post(reverse("sampling:queue", args=[lane.pk]), {"waiting": "lots"}, follow=True)
    assert "as a number" in bad.content.decode()


def test_the_wait_comes_from_the_lanes_recent_throughput(lane_world, registrar):
    lane = lane_world["lane"]
    client = client_for(registrar)
    scan(client, lane, "2112250001", pool="10")
    for person in lane_world["people"][:10]:
        scan(client, lane, person.person_code)
    client.post(reverse("sampling:lane", args=[lane.pk]), {"action": "seal"})
    scan(client, lane, "2112250002", pool="10")
    for person in lane_world["people"][10:12]:
        assert scan(client, lane, person.person_code).status_code == 200
    client.post(reverse("sampling:queue", args=[lane.pk]), {"waiting": "40"})
    # 12 people in 30 minutes is 0.4 a minute: 40 waiting is 100 minutes, jammed.
    wait = queries.site_waits([lane.site], timezone.now() + dt.timedelta(minutes=1))[lane.site_id]
    assert (wait.minutes, wait.band) == (100, "jammed")


def test_a_commander_opens_a_site_with_lanes(commander, community):
    client = client_for(commander)
    response = client.post(
        reverse("sampling:site_create"),
        {
            "community": community.pk,
            "name": "星河湾小学采样点",
            "lanes": "3",
            "opens_at": "07:00",
            "closes_at": "22:00",
            "serves": "everyone",
        },
    )
    assert response.status_code == 302
    site = Site.objects.get(name="星河湾小学采样点")
    assert site.lanes.count() == 3 and site.opens_at == dt.time(7, 0)
    again = client.post(
        reverse("sampling:site_create"),
        {"community": community.pk, "name": "星河湾小学采样点", "lanes": "3"},
    )
    assert again.status_code == 400 and "already has a site called" in again.content.decode()
    bad = client.post(
        reverse("sampling:site_create"),
        {"community": community.pk, "name": "x", "lanes": "2", "opens_at": "7am"},
    )
    assert "HH:MM" in bad.content.decode()
    # A name longer than the column holds is refused in words, on every database.
    long = client.post(
        reverse("sampling:site_create"),
        {"community": community.pk, "name": "长" * 101, "lanes": "2"},
    )
    assert long.status_code == 400
    assert "at most 100 characters: shorten it" in long.content.decode()
    assert not Site.objects.filter(name__startswith="长").exists()


def test_boxes_are_packed_sealed_and_handed_over_from_the_site_page(lane_world, registrar):
    client, lane = client_for(registrar), lane_world["lane"]
    scan(client, lane, "2112250001", pool="1")
    scan(client, lane, lane_world["people"][0].person_code)
    client.post(reverse("sampling:lane", args=[lane.pk]), {"action": "seal"})
    url = reverse("sampling:boxes", args=[lane.site_id])
    # The box is scanned once; then each tube goes into it, with a running count.
    opened = client.post(url, {"action": "box", "box": "box001"})
    assert opened.status_code == 200 and 'id="packing-box">BOX001<' in opened.content.decode()
    added = client.post(url, {"action": "add", "box": "BOX001", "tube": "2112250001"})
    html = added.content.decode()
    assert added.status_code == 200 and 'id="packing-count">1<' in html
    assert 'name="box" value="BOX001"' in html and "<li>2112250001</li>" in html
    # The answer names the tube that went in, not just "done".
    assert 'role="status">2112250001 is in BOX001.<' in html
    # Scanning the same box again takes it up where it was left.
    again = client.post(url, {"action": "box", "box": "BOX001"}).content.decode()
    assert 'id="packing-count">1<' in again
    wrong = client.post(url, {"action": "seal", "box": "BOX001", "count": "2"})
    assert (
        wrong.status_code == 400 and "2 tubes counted but 1 were scanned" in wrong.content.decode()
    )
    sealed = client.post(url, {"action": "seal", "box": "BOX001", "count": "1"})
    assert sealed.status_code == 200 and 'id="packing-box"' not in sealed.content.decode()
    handed = client.post(
        url, {"action": "handoff", "box": "BOX001", "count": "1", "courier": "李师傅"}
    )
    assert "In transit" in handed.content.decode()


def test_the_lane_codes_print_with_a_qr_each(lane_world, registrar):
    html = (
        client_for(registrar)
        .get(reverse("sampling:lane_codes", args=[lane_world["lane"].site_id]))
        .content.decode()
    )
    assert html.count("<svg") == lane_world["lane"].site.lanes.count()


def test_the_lane_outbox_endpoint_answers_each_event_and_the_open_tube(lane_world, registrar):
    import json
    import uuid

    client, lane, people = client_for(registrar), lane_world["lane"], lane_world["people"]
    url = reverse("sampling:lane_events", args=[lane.pk])
    at = timezone.now().isoformat()
    batch = [
        {
            "id": str(uuid.uuid4()),
            "type": "tube.open",
            "at": at,
            "lane": lane.code,
            "tube": "2112250001",
        },
        {
            "id": str(uuid.uuid4()),
            "type": "tube.add",
            "at": at,
            "tube": "2112250001",
            "person": people[0].person_code,
        },
    ]
    body = client.post(url, json.dumps({"events": batch}), content_type="application/json").json()
    assert [r["status"] for r in body["results"]] == ["accepted", "accepted"]
    # Opened "by zone": the lane's rule (10 in 1 here), as the page was told when it loaded.
    tube = body["state"]["tube"]
    assert (tube["code"], tube["count"], tube["capacity"], tube["pool"]) == (
        "2112250001",
        1,
        10,
        "10",
    )
    assert tube["members"] == [{"name": people[0].masked_name, "walkIn": False, "again": ""}]
    assert body["state"]["rules"]["laneRule"] == "10"
    assert body["results"][1]["person"] == people[0].masked_name
    assert client.post(url, "nope", content_type="application/json").status_code == 400
    # A form post (multipart: the CSRF middleware reads it as a form first) is named, not a 500.
    form = client.post(url, {"events": "x"})
    assert form.status_code == 400 and "application/json" in form.json()["error"]
    assert client.post(url, '{"events": 1}', content_type="application/json").status_code == 400
    many = json.dumps({"events": [{}] * 1001})
    assert client.post(url, many, content_type="application/json").status_code == 413


def test_the_lane_page_boots_the_offline_app_with_its_state(lane_world, registrar):
    import json
    import re

    client, lane, people = client_for(registrar), lane_world["lane"], lane_world["people"]
    scan(client, lane, "2112250001", pool="10")
    scan(client, lane, people[0].person_code)
    html = client.get(reverse("sampling:lane", args=[lane.pk])).content.decode()
    boot = json.loads(
        re.search(r'<script id="lane-state" type="application/json">(.*?)</script>', html).group(1)
    )
    state = boot["state"]
    assert state["tube"]["code"] == "2112250001"
    assert state["tube"]["codes"] == [people[0].person_code]
    assert [m["name"] for m in state["tube"]["members"]] == [people[0].masked_name]
    assert (
        state["rules"]["messages"]["full"]
        == "Tube {code} already holds {n} people. Seal it and open a new tube for this person."
    )
    assert state["rules"]["personCode"]["alphabet"] == "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    assert "sampling/lane.js" in html


def test_the_service_worker_is_served_from_the_lanes_scope_to_anyone(client):
    response = client.get(reverse("sampling:service_worker"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert (
        "/sampling/lanes/" in response.content.decode() and "/static/" in response.content.decode()
    )


def test_a_registrar_on_a_lane_that_is_not_the_sites_first_opens_a_box_at_their_own(
    lane_world, commander
):
    """Lane 3 of an 11-lane site: the box is opened at 3号通道, where the registrar is on duty,
    not at the lane that sorted first by name (10号通道), which refused them."""
    site = make_lane(lane_world["lane"].site.community, "体育场采样点", lanes=11).site
    lanes = {lane.name: lane for lane in site.lanes.all()}
    registrar = make_user(Role.REGISTRAR, site.community)
    make_lane_team(lanes["3号通道"], registrar)
    assert queries.packing_lane(registrar, site) == lanes["3号通道"]
    answer = client_for(registrar).post(
        reverse("sampling:boxes", args=[site.pk]), {"action": "box", "box": "BOX003"}
    )
    assert answer.status_code == 200
    assert Box.objects.filter(code="BOX003", site=site).exists()
    # In lane order, as people count; a commander's box goes to the first of them.
    assert [lane.name for lane in queries.in_lane_order(site.lanes.all())][:3] == [
        "1号通道",
        "2号通道",
        "3号通道",
    ]
    assert queries.packing_lane(commander, site) == lanes["1号通道"]


def test_a_registrar_on_duty_at_no_lane_of_the_site_is_told_so(lane_world):
    site = make_lane(lane_world["lane"].site.community, "体育场采样点", lanes=2).site
    registrar = make_user(Role.REGISTRAR, site.community)
    answer = client_for(registrar).post(
        reverse("sampling:boxes", args=[site.pk]), {"action": "box", "box": "BOX011"}
    )
    assert "on duty at no lane of 体育场采样点" in answer.content.decode()
    assert not Box.objects.filter(code="BOX011").exists()


def test_without_javascript_the_open_tube_scanned_again_is_sealed(lane_world, registrar):
    lane = lane_world["lane"]
    client = client_for(registrar)
    scan(client, lane, "2112250001", pool="10")
    scan(client, lane, lane_world["people"][0].person_code)
    answer = scan(client, lane, "2112250001")
    assert answer.status_code == 200
    tube = Tube.objects.get(code="2112250001")
    assert (tube.status, tube.member_count) == ("sealed", 1)
