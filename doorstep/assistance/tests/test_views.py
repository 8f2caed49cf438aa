"""The special-needs pages with the personas: registering (and its errors), the workflow
buttons, the alarm, the exam-taker list, the trip sheet, the canvasser's tap, the public form."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from doorstep.assistance import actions
from doorstep.assistance.models import Request, Source
from doorstep.canvass.models import BuildingTask, Visit
from doorstep.command import dashboard
from doorstep.territory import secret
from doorstep.testing import client_for, make_campaign, make_household, make_resident
from doorstep.testing.lanes import post as post_results
from doorstep.testing.lanes import sealed_tube


@pytest.fixture
def person(community):  # type: ignore[no-untyped-def]
    resident = make_resident(make_household(), "李考生", phone="13912345678")
    make_campaign(resident.community)
    return resident


def later(hours: float = 20) -> str:
    return timezone.localtime(timezone.now() + dt.timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M")


def test_a_worker_registers_and_bad_input_is_answered(worker, person):
    client = client_for(worker)
    url = reverse("assistance:new")
    base = {
        "person_code": person.person_code,
        "kind": "graduate_exam",
        "needed_by": later(),
        "source": "hotline",
    }
    assert "is in the past" in client.post(url, {**base, "needed_by": later(-3)}).content.decode()
    assert "is not a kind of need" in client.post(url, {**base, "kind": "picnic"}).content.decode()
    assert (
        "No resident has the person code"
        in client.post(url, {**base, "person_code": "K7QM9XD4P"}).content.decode()
    )
    response = client.post(url, base)
    found = Request.objects.get()
    assert response["Location"] == reverse("assistance:detail", args=[found.pk])
    assert found.source == Source.HOTLINE
    again = client.post(url, {**base, "details": "准考证"})
    assert (
        again.status_code == 409
        and reverse("assistance:merge", args=[found.pk]) in again.content.decode()
    )
    client.post(reverse("assistance:merge", args=[found.pk]), {"details": "准考证"})
    found.refresh_from_db()
    assert "准考证" in found.details and Request.objects.count() == 1


def test_the_workflow_buttons_and_an_out_of_order_step(worker, person):
    client = client_for(worker)
    request = actions.register(
        worker,
        actions.Who(resident=person),
        kind="gaokao",
        needed_by=timezone.now() + dt.timedelta(days=1),
        source=Source.WORKER,
    )
    detail = reverse("assistance:detail", args=[request.pk])
    response = client.post(
        reverse("assistance:arrange", args=[request.pk]), {"how": "escort", "place": "一中考点"}
    )
    assert response.status_code == 302
    assert "Verify the request first" in client.get(detail).content.decode()
    client.post(
        reverse("assistance:contact", args=[request.pk]), {"outcome": "reached", "note": "ok"}
    )
    client.post(reverse("assistance:verify", args=[request.pk]))
    client.post(
        reverse("assistance:arrange", args=[request.pk]),
        {"how": "escort", "place": "一中考点", "single_tube": "on"},
    )
    request.refresh_from_db()
    assert (request.status, request.place, request.single_tube) == ("arranged", "一中考点", True)
    trip = client.get(reverse("assistance:trip", args=[request.pk])).content.decode()
    assert "一中考点" in trip and person.masked_name in trip
    assert person.name not in trip and person.id_number not in trip
    client.post(reverse("assistance:decline", args=[request.pk]), {"reason": ""})
    request.refresh_from_db()
    assert request.status == "arranged"
    client.post(reverse("assistance:done", args=[request.pk]))
    request.refresh_from_db()
    assert request.status == "done"


def test_an_emergency_raises_the_alarm_on_the_list_and_the_dashboard(worker, commander, person):
    actions.register(
        worker,
        actions.Who(resident=person),
        kind="graduate_exam",
        needed_by=timezone.now() + dt.timedelta(hours=3),
        source=Source.WORKER,
    )
    page = client_for(worker).get(reverse("assistance:index")).content.decode()
    assert 'id="need-alarm"' not in page
    other = make_resident(make_household(room="202"), "产妇")
    birth = actions.register(
        worker,
        actions.Who(resident=other),
        kind="pregnancy",
        needed_by=timezone.now() + dt.timedelta(hours=30),
        source=Source.HOTLINE,
    )
    page = client_for(worker).get(reverse("assistance:index")).content.decode()
    assert 'id="need-alarm"' in page
    assert page.index('data-kind="pregnancy"') < page.index('data-kind="graduate_exam"')
    alerts = dashboard.alerts(birth.campaign, timezone.now())
    assert [a.url for a in alerts if a.kind == "need_urgent"] == [
        reverse("assistance:detail", args=[birth.pk])
    ]
    panel = (
        client_for(commander)
        .get(reverse("command:panel", args=[birth.campaign.pk, "needs"]))
        .content.decode()
    )
    assert "2 open" in panel and "1 urgent" in panel


def test_the_exam_list_shows_the_latest_result(lane_world, worker):
    person = lane_world["people"][0]
    request = actions.register(
        worker,
        actions.Who(resident=person),
        kind="graduate_exam",
        needed_by=timezone.now() + dt.timedelta(hours=20),
        source=Source.WORKER,
    )
    request.place = "天津大学考点"
    request.save()
    page = client_for(worker).get(reverse("assistance:exams")).content.decode()
    assert "天津大学考点" in page and "No result yet" in page
    tube = sealed_tube(lane_world["registrar"], lane_world["lane"], [person], pool=1)

    post_results(lane_world, {"tube": tube.code, "result": "negative"})
    page = client_for(worker).get(reverse("assistance:exams")).content.decode()
    assert "Negative" in page


def test_a_canvassers_special_need_tap_becomes_a_request(worker, person):

    task = BuildingTask.objects.get(building=person.household.unit.building)
    visit = Visit.objects.create(
        client_uuid="5b0f3c1e-8a52-4c7e-9d5e-0b6a1f1c9a01",
        campaign=task.campaign,
        task=task,
        household=person.household,
        outcome="special_need",
        need_kind="graduate_exam",
        need_by=timezone.now() + dt.timedelta(hours=20),
        note="明早考研",
        tapped_at=timezone.now(),
        recorded_at=timezone.now(),
    )
    request = actions.from_visit(None, visit)
    assert request is not None
    assert (request.source, request.household, request.resident) == (
        "canvasser",
        person.household,
        person,
    )
    assert request.details == "明早考研"


def test_a_resident_asks_with_their_code_and_document(person, client):
    url = reverse("assistance:ask")
    tail = person.id_number[-6:]
    data = {"code": person.person_code, "document": tail, "kind": "dialysis", "needed_by": later(5)}
    assert (
        client.post(url, {**data, "document": "00000X"}, REMOTE_ADDR="10.3.0.1").status_code == 400
    )
    response = client.post(url, data, REMOTE_ADDR="10.3.0.2")
    assert 'id="asked"' in response.content.decode()
    request = Request.objects.get()
    assert (request.source, request.resident, request.registered_by) == ("resident", person, None)
    # Sent twice: merged, not a second request.
    client.post(url, {**data, "details": "周三透析"}, REMOTE_ADDR="10.3.0.3")
    assert Request.objects.count() == 1


def test_the_public_form_is_limited_per_address_even_with_the_right_pair(person, client):
    url = reverse("assistance:ask")
    data = {
        "code": person.person_code,
        "document": person.id_number[-6:],
        "kind": "dialysis",
        "needed_by": later(5),
    }
    for _ in range(actions.NEEDS.tries):
        assert client.post(url, data, REMOTE_ADDR="10.4.0.1").status_code == 200
    refused = client.post(url, data, REMOTE_ADDR="10.4.0.1", HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 429 and "Wait 10 minutes" in refused.content.decode()
    assert Request.objects.count() == 1  # the sends that got through were merged


def test_a_code_paused_by_wrong_tails_on_the_status_look_up_is_paused_here_too(person, client):
    """The documented trade-off: whoever tries wrong tails for a code on any form pauses the
    code on every form; the form then tells the resident to call their community."""
    for n in range(secret.BY_CODE.tries):
        client.post(
            reverse("command:me"),
            {"code": person.person_code, "document": f"{n:05d}X"},
            REMOTE_ADDR=f"10.5.0.{n}",
        )
    data = {"code": person.person_code, "document": person.id_number[-6:], "kind": "dialysis"}
    refused = client.post(
        reverse("assistance:ask"),
        {**data, "needed_by": later(5)},
        REMOTE_ADDR="10.4.0.9",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert refused.status_code == 429
    assert "call your community" in refused.content.decode()
    assert not Request.objects.exists()


def test_a_worker_of_another_community_does_not_see_the_request(worker, outsider, person):
    request = actions.register(
        worker,
        actions.Who(resident=person),
        kind="medication",
        needed_by=timezone.now() + dt.timedelta(hours=20),
        source=Source.WORKER,
    )
    assert (
        client_for(outsider).get(reverse("assistance:detail", args=[request.pk])).status_code == 404
    )
