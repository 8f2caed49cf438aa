"""A 2xx means committed: the server is killed with SIGKILL in the middle of a load run and
started again; every event it answered is in the database, and replaying the client's whole
log creates nothing twice. Runs against `doorstep serve` on the test database (PostgreSQL or
SQLite, whichever the suite runs on)."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from django.utils import timezone

from doorstep.sampling.models import DeviceEvent, Tube, TubeMember
from doorstep.testing import make_household, make_resident, server_env

DOORSTEP = str(Path(sys.executable).parent / "doorstep")
BATCHES = 40


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [DOORSTEP, "serve", "--port", str(port), "--workers", "1"],
        env=server_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: SIGKILL reaches the workers too
    )
    # Ready means a worker answers HTTP, not that the port accepts: the listener can take a
    # connection before its worker is up, and a request sent then is reset.
    for _ in range(400):
        client = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            client.request("GET", "/api/v1/openapi.json")
            if client.getresponse().status == 200:
                return process
        except (OSError, http.client.HTTPException):
            pass
        finally:
            client.close()
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    raise AssertionError("doorstep serve did not start")


def post(port: int, token: str, events: list[dict[str, object]]) -> list[dict[str, object]]:
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    client.request(
        "POST",
        "/api/v1/events",
        json.dumps({"events": events}),
        {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Accept-Language": "en",
        },
    )
    response = client.getresponse()
    body = response.read()
    assert response.status == 200, body[:300]
    return json.loads(body)["results"]


@pytest.mark.django_db(transaction=True)
def test_a_server_killed_mid_run_loses_no_acknowledged_event_and_replays_create_nothing_twice(
    lane_world,
):
    lane = lane_world["lane"]
    token = lane_world["registrar"].token
    building = lane_world["people"][0].household.unit.building
    people = [
        make_resident(make_household(building, f"{n // 10 + 1}{n % 10:02d}", "9单元"))
        for n in range(BATCHES * 10)
    ]
    at = timezone.now().isoformat()
    log: list[list[dict[str, object]]] = []
    for b in range(BATCHES):
        code = f"21122570{b:02d}"
        batch: list[dict[str, object]] = [
            {
                "id": str(uuid.uuid4()),
                "type": "tube.open",
                "at": at,
                "lane": lane.code,
                "tube": code,
                "pool": 10,
            }
        ]
        batch += [
            {
                "id": str(uuid.uuid4()),
                "type": "tube.add",
                "at": at,
                "tube": code,
                "person": p.person_code,
            }
            for p in people[b * 10 : b * 10 + 10]
        ]
        batch.append({"id": str(uuid.uuid4()), "type": "tube.seal", "at": at, "tube": code})
        log.append(batch)

    port = free_port()
    server = start(port)
    acknowledged: list[str] = []
    sent = [0]

    def load() -> None:
        for batch in log:
            sent[0] += 1
            try:
                answers = post(port, token, batch)
            except (OSError, http.client.HTTPException):
                return  # the server is gone
            acknowledged.extend(
                str(a["id"]) for a in answers if a["status"] in {"accepted", "duplicate"}
            )

    client = threading.Thread(target=load)
    client.start()
    while len(acknowledged) < 5 * 12 and client.is_alive():
        time.sleep(0.01)
    os.killpg(server.pid, signal.SIGKILL)
    server.wait(timeout=10)
    client.join(timeout=60)
    assert 5 * 12 <= len(acknowledged) < BATCHES * 12, "the kill must land mid-run"

    server = start(port)
    try:
        stored = {str(u) for u in DeviceEvent.objects.values_list("client_uuid", flat=True)}
        assert set(acknowledged) <= stored, "an acknowledged event was lost"
        # The client replays everything it ever sent, acknowledged or not.
        first = [post(port, token, batch) for batch in log]
        again = [post(port, token, batch) for batch in log]
    finally:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)

    statuses = {a["status"] for answers in first for a in answers}
    assert statuses <= {"accepted", "duplicate"}, first
    assert {a["status"] for answers in again for a in answers} == {"duplicate"}
    tubes = Tube.objects.filter(code__startswith="21122570")
    assert tubes.count() == BATCHES
    assert set(tubes.values_list("status", "member_count")) == {("sealed", 10)}
    assert TubeMember.objects.filter(tube__in=tubes).count() == BATCHES * 10
    assert DeviceEvent.objects.count() == BATCHES * 12
