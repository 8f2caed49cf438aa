"""The envelope around the events and results: tokens, JSON, limits, the lanes list, OpenAPI."""

import json

import pytest
from django.core.management import call_command
from django.test import Client

from doorstep.api.actions import issue_token
from doorstep.api.models import ApiToken, digest
from doorstep.core.roles import Role
from doorstep.testing import make_user
from doorstep.testing.lanes import Device

pytestmark = pytest.mark.django_db


def test_a_missing_or_unknown_token_is_401(lane_world):
    client = Client()
    assert client.post("/api/v1/events", "{}", content_type="application/json").status_code == 401
    response = client.post(
        "/api/v1/events",
        "{}",
        content_type="application/json",
        headers={"Authorization": "Bearer nope"},
    )
    assert response.status_code == 401
    assert "doorstep create-token" in response.json()["error"]


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("not json", "not JSON"),
        ('{"events": 3}', "envelope"),
        ("[1, 2]", "envelope"),
        ('{"evens": []}', "envelope"),
    ],
)
def test_a_body_that_is_not_the_envelope_is_400(lane_world, body, says):
    response = lane_world["registrar"].post("events", body)
    assert response.status_code == 400
    assert says in response.json()["error"]


def test_more_than_a_thousand_events_is_413_and_nothing_is_applied(lane_world):
    d = lane_world["registrar"]
    events = [
        d.event("tube.open", lane=lane_world["lane"].code, tube=f"T{n:07d}") for n in range(1001)
    ]
    response = d.post("events", {"events": events})
    assert response.status_code == 413
    assert "At most 1000 items per request" in response.json()["error"]


def test_the_lab_may_not_scan_at_lanes_nor_registrars_send_results(lane_world):
    assert lane_world["registrar"].post("results", {"results": []}).status_code == 403
    answer = lane_world["lab"].send(
        lane_world["lab"].event("tube.open", lane=lane_world["lane"].code, tube="2112250001")
    )
    assert answer[0]["error"]["code"] == "forbidden"


def test_the_lanes_list_shows_what_the_token_may_work_with_its_pool(lane_world):
    response = lane_world["registrar"].client.get(
        "/api/v1/lanes", headers={"Authorization": f"Bearer {lane_world['registrar'].token}"}
    )
    lanes = response.json()
    assert response.status_code == 200
    assert {lane["code"] for lane in lanes} == {
        lane_world["lane"].code,
        *[lane.code for lane in lane_world["lane"].site.lanes.all()],
    }
    assert lanes[0]["site"] == "广场采样点" and lanes[0]["pool"] in {"10", "household"}


def test_create_token_prints_a_token_that_works_and_stores_only_its_digest(registrar, capsys):
    call_command("create_token", registrar.username, label="1号通道")
    token = capsys.readouterr().out.strip()
    stored = ApiToken.objects.get()
    assert stored.key_digest == digest(token) and token not in stored.key_digest
    response = Client().get("/api/v1/lanes", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


def test_the_models_old_name_still_issues_a_token_for_the_benchmarks(registrar, lane_world):
    # bench/ scripts call ApiToken.issue; it is the action under its old name.
    stored, token = ApiToken.issue(registrar, label="bench", lane=lane_world["lane"])
    row = ApiToken.objects.get(key_digest=digest(token))
    assert (row.pk, row.user, row.label, row.lane) == (
        stored.pk,
        registrar,
        "bench",
        lane_world["lane"],
    )


def test_create_token_for_an_unknown_user_says_what_to_do():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No active user called 'ghost'"):
        call_command("create_token", "ghost")


def test_the_openapi_document_describes_the_contract():
    document = json.loads(Client().get("/api/v1/openapi.json").content)
    assert {"/api/v1/events", "/api/v1/results", "/api/v1/lanes"} <= set(document["paths"])
    assert "413" in document["paths"]["/api/v1/events"]["post"]["responses"]


def test_messages_come_in_chinese_unless_the_device_asks_for_english(lane_world):
    d = lane_world["registrar"]
    event = d.event("tube.add", tube="NOSUCH0001", person=lane_world["people"][0].person_code)
    chinese = d.client.post(
        "/api/v1/events",
        json.dumps({"events": [event]}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {d.token}"},
    ).json()["results"][0]["error"]["message"]
    assert chinese == "采样管NOSUCH0001尚未开管。请先扫管，再扫人。"
    assert "was never opened" in d.send(event)[0]["error"]["message"]


@pytest.mark.parametrize(
    ("who", "scan", "results"),
    [
        ("commander", "accepted", 403),  # scans anywhere in the town; results are the lab's
        ("registrar on duty", "accepted", 403),
        ("registrar off duty", "forbidden", 403),
        ("lab", "forbidden", 200),  # receives and results, scans nothing
        ("worker", 403, 403),  # no device work at all
        ("canvasser", 403, 403),
    ],
)
def test_the_api_by_role_and_duty(
    lane_world, commander, worker, canvasser, lab, who, scan, results
):
    users = {
        "commander": commander,
        "registrar on duty": lane_world["registrar_user"],
        "registrar off duty": make_user(Role.REGISTRAR, lane_world["lane"].site.community),
        "lab": lab,
        "worker": worker,
        "canvasser": canvasser,
    }
    device = Device(issue_token(users[who])[1])
    opening = device.event("tube.open", lane=lane_world["lane"].code, tube="2112250042", pool=10)
    response = device.post("events", {"events": [opening]})
    if isinstance(scan, int):
        assert response.status_code == scan
    else:
        [answer] = response.json()["results"]
        assert answer.get("error", {}).get("code", answer["status"]) == scan
    sent = device.post("results", {"results": [{"tube": "NOSUCH", "result": "negative"}]})
    assert sent.status_code == results
