"""A city's deployment under a city's trouble: residents flooding the status pages while lanes
sample, an app machine dying, hostile clients at the edge, the database's primary dying.

One city for the module (``doorstep.ha.city``): HAProxy at the edge, two lane nodes and one
residents' node (``doorstep serve``), PgBouncer in transaction pooling, a three-node Patroni
cluster behind it; a demo town with a drill site whose lanes have device tokens. Scanners post
through the edge as the lane page's outbox does (a request not answered is sent again with the
same events). Timings are not asserted (the benchmark ``bench/city.py`` measures them): these
tests hold what must never happen: a lane's event refused or lost, a resident's request
reaching Python beyond its limit, a hostile client holding a connection.

Runs in ``make test-ha``; fails, never skips, when HAProxy, PgBouncer, Patroni or etcd is
missing (``.ci/run`` installs them).
"""

from __future__ import annotations

import http.client
import json
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from doorstep.ha import drill
from doorstep.ha.city import RESIDENTS_PER_10S, STAFF_PER_10S, City

pytestmark = pytest.mark.ha


@pytest.fixture(scope="module")
def city() -> Iterator[tuple[City, drill.Town]]:
    root = Path(tempfile.mkdtemp(prefix="doorstep-city-test-"))
    built = City.create(root)
    built.demo = True
    towns: list[drill.Town] = []
    try:
        built.start(
            timeout=90,
            prepare=lambda c: towns.append(
                drill.prepare(c.cluster, Path(c.home), residents=1500, lanes=8)
            ),
        )
        yield built, towns[0]
    finally:
        built.remove()
        shutil.rmtree(root, ignore_errors=True)


def _devices(city: City, town: drill.Town, prefix: str, tubes: int) -> list[drill.Device]:
    """Four scanners posting one event a request, five requests a second each."""
    return [
        drill.Device(
            city.edge,
            town.tokens[lane],
            drill.tube_batches(town, lane, f"{prefix}{n}", tubes, 1),
            pace=5,
        )
        for n, lane in enumerate(town.lanes[:4])
    ]


def _look_ups(city: City, count: int) -> list[tuple[str, str]]:
    """``count`` residents' right pairs (person code, document tail)."""
    script = (
        "import json;from doorstep.territory.models import Resident;"
        f"print(json.dumps([[r.person_code, r.id_number[-6:]] for r in Resident.objects.order_by('pk')[:{count}]]))"
    )
    rows = json.loads(drill.doorstep(["shell", "-c", script], city.direct_env()).splitlines()[-1])
    return [(code, tail) for code, tail in rows]


def _attempts(city: City) -> int:
    with city.cluster.connect(database="doorstep") as connection:
        (count,) = connection.execute("SELECT count(*) FROM core_attempt").fetchone()  # type: ignore[misc]
    return int(count)


def test_a_flood_of_residents_is_shed_at_the_edge_and_no_lane_notices(
    city: tuple[City, drill.Town],
) -> None:
    built, town = city
    pairs = _look_ups(built, 40)
    devices = _devices(built, town, "FL", 6)
    # Forty residents looking themselves up every 2 s (under the limit), forty reloading the
    # status page every 2 s, and five scripts hammering it from their own addresses, eight
    # connections each (over the limit).
    residents = [
        drill.Resident(built.edge, drill.resident_address(n), 2.0, lookup=pairs[n])
        for n in range(40)
    ]
    residents += [
        drill.Resident(built.edge, drill.resident_address(100 + n), 2.0) for n in range(40)
    ]
    hammers = [
        drill.Resident(built.edge, drill.resident_address(200 + n % 5), 0.1) for n in range(40)
    ]
    attempts_before = _attempts(built)
    stop = threading.Event()
    threads = drill.run_all([*devices, *residents, *hammers], stop)
    for thread in threads[: len(devices)]:
        thread.join(timeout=120)
    stop.set()
    for thread in threads:
        thread.join(timeout=40)

    # Every lane event answered and taken, none refused, none sent twice for want of an answer.
    assert all(d.sent == len(d.requests) for d in devices), [d.sent for d in devices]
    assert sum(d.failures for d in devices) == 0
    assert not [r for d in devices for r in d.refused]
    acknowledged = set().union(*(d.acknowledged for d in devices))
    found, _total = drill.stored(built.cluster, acknowledged)
    assert found == acknowledged

    # The hammering scripts were cut at the edge with its page, never a server error.
    hammered = {k: sum(h.statuses.get(k, 0) for h in hammers) for k in (200, 429)}
    seen = [r.statuses for r in [residents[0], residents[-1], hammers[0]]]
    assert hammered[429] > 0, seen
    assert sum(h.edge_pages for h in hammers) >= hammered[429]
    # ... and each got through no more than its limit per ten seconds (and the window's edge).
    seconds = max(1.0, (time.monotonic() - min(d.answered[0].at for d in devices)))
    by_address: dict[str, int] = {}
    for h in hammers:
        by_address[h.address] = by_address.get(h.address, 0) + h.statuses.get(200, 0)
    per_window = max(by_address.values()) / max(1.0, seconds / 10)
    assert per_window <= RESIDENTS_PER_10S * 2, per_window
    everyone = [*residents, *hammers]
    assert {k for r in everyone for k in r.statuses} <= {200, 429, 503}
    # A 503 is the edge's own page (the residents' node full), never Python's.
    assert sum(r.statuses.get(503, 0) for r in everyone) <= sum(r.edge_pages for r in everyone)
    # The residents within the limit were answered, their look-ups found.
    assert sum(r.statuses.get(200, 0) for r in residents) > 0
    # Right pairs write nothing that stays on the primary.
    assert _attempts(built) == attempts_before
    # The look-ups read from the standby (through PgBouncer).
    standby = [n for n in built.cluster.standbys()]
    reading = 0
    for node in standby:
        with built.cluster.connect(node, "doorstep") as connection:
            (count,) = connection.execute(  # type: ignore[misc]
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'doorstep-standby'"
            ).fetchone()
            reading += int(count)
    assert reading > 0, "the residents' node did not read from a standby"


def test_an_app_node_killed_mid_run_loses_nothing_and_its_work_moves(
    city: tuple[City, drill.Town],
) -> None:
    built, town = city
    devices = _devices(built, town, "NK", 3)
    stop = threading.Event()
    threads = drill.run_all(devices, stop)
    drill.until(
        lambda: sum(len(d.acknowledged) for d in devices) >= 40, 60, "no load before the kill"
    )
    victim = built.app("lane1")
    built.kill_app(victim)
    built.wait_edge({"devices": {"lane2"}}, 15)
    for thread in threads:
        thread.join(timeout=120)
    stop.set()
    assert all(d.sent == len(d.requests) for d in devices), [d.sent for d in devices]
    acknowledged = set().union(*(d.acknowledged for d in devices))
    found, _total = drill.stored(built.cluster, acknowledged)
    assert found == acknowledged
    assert not [r for d in devices for r in d.refused]
    # The edge sent again what the dead node held: a scanner saw at most its request in flight.
    assert all(d.failures <= 1 for d in devices), [d.failures for d in devices]
    # Back: the edge sends to it again.
    built.start_app(victim)
    built.wait_app(victim)
    built.wait_edge({"devices": {"lane1", "lane2"}}, 30)


def test_hostile_clients_are_cut_at_the_edge(city: tuple[City, drill.Town]) -> None:
    built, _town = city
    # A slow client: half a request head, then nothing. Cut within the edge's 5 s (408).
    slow = socket.create_connection(("127.0.0.1", built.edge), timeout=15)
    slow.sendall(b"GET /status/ HTTP/1.1\r\nHost: x\r\n")
    started = time.monotonic()
    answer = slow.recv(4096)
    slow.close()
    assert answer.startswith(b"HTTP/1.1 408"), answer[:80]
    assert time.monotonic() - started < 12
    # Oversized headers: refused by the edge, never sent on.
    big = socket.create_connection(("127.0.0.1", built.edge), timeout=15)
    big.sendall(b"GET /login/ HTTP/1.1\r\nHost: x\r\nX-Junk: " + b"a" * 20000 + b"\r\n\r\n")
    assert big.recv(4096).startswith(b"HTTP/1.1 400")
    big.close()
    many = socket.create_connection(("127.0.0.1", built.edge), timeout=15)
    many.sendall(
        b"GET /login/ HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: 1\r\n" % n for n in range(80))
    )
    many.sendall(b"\r\n")
    assert many.recv(4096).startswith(b"HTTP/1.1 400")
    many.close()
    # Many connections from one address: beyond the limit, closed at once.
    address = drill.resident_address(900)
    held = []
    try:
        for _ in range(220):
            s = socket.socket()
            s.bind((address, 0))
            s.connect(("127.0.0.1", built.edge))
            held.append(s)
        time.sleep(0.5)
        closed = 0
        for s in held:
            s.setblocking(False)
            try:
                closed += s.recv(1) == b""
            except BlockingIOError:
                pass
            except ConnectionResetError:
                closed += 1
        assert closed >= 20 - 1, closed
    finally:
        for s in held:
            s.close()
    # A residents' page spelled to slip past the edge's classes is still a residents' page:
    # served by the residents' node (a lane node would answer 421), and limited per address.
    for path in ["/status%2Fme/", "/%73tatus/", "/status"]:
        with socket.create_connection(("127.0.0.1", built.edge), timeout=15) as spelled:
            spelled.sendall(
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
            )
            head = spelled.recv(4096)
        assert head.startswith((b"HTTP/1.1 200", b"HTTP/1.1 301")), (path, head[:60])
        # One address cannot keep the staff slots busy alone: past its rate, the edge answers 429
    # (a script and style, served from the edge's cache, to keep the nodes out of it).
    statuses: dict[int, int] = {}
    one = http.client.HTTPConnection(
        "127.0.0.1", built.edge, timeout=15, source_address=(drill.resident_address(901), 0)
    )
    for _ in range(STAFF_PER_10S + 20):
        one.request("GET", "/static/notices/notices.css")
        answer = one.getresponse()
        answer.read()
        statuses[answer.status] = statuses.get(answer.status, 0) + 1
        if answer.getheader("Connection", "").lower() == "close":
            one.close()
    one.close()
    assert statuses.get(429, 0) >= 15 and statuses.get(200, 0) >= STAFF_PER_10S - 5, statuses
    # A lane is served meanwhile.
    with socket.create_connection(("127.0.0.1", built.edge), timeout=15) as ok:
        ok.sendall(b"GET /healthz/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        assert ok.recv(4096).startswith(b"HTTP/1.1 200")


def test_the_primary_killed_behind_the_pooler_loses_nothing_acknowledged(
    city: tuple[City, drill.Town],
) -> None:
    built, town = city
    start = drill.counters_agree(built.direct_env())
    devices = _devices(built, town, "PK", 4)
    stop = threading.Event()
    threads = drill.run_all(devices, stop)
    drill.until(
        lambda: sum(len(d.acknowledged) for d in devices) >= 40, 60, "no load before the kill"
    )
    cluster = built.cluster
    old = cluster.primary()
    assert old is not None
    killed_at = time.monotonic()
    cluster.kill(old)
    for thread in threads:
        thread.join(timeout=180)
    stop.set()
    silence = drill.longest_silence(devices, killed_at, time.monotonic())
    assert all(d.sent == len(d.requests) for d in devices), [d.sent for d in devices]
    acknowledged = set().union(*(d.acknowledged for d in devices))
    found, total = drill.stored(cluster, acknowledged)
    assert acknowledged - found == set(), "an acknowledged event was lost"
    refused = [r for d in devices for r in d.refused]
    assert not refused, refused[:3]
    statuses, accepted_again = drill.replay(built.edge, devices)
    assert statuses <= {"accepted", "duplicate"}
    _found, total_after = drill.stored(cluster, acknowledged)
    assert total_after == total + accepted_again
    end = drill.counters_agree(built.direct_env())
    moved = {k: end[k] - start[k] for k in end}
    assert moved["members"] == moved["sampled"] == moved["counter"] > 0, moved
    assert silence < 30, f"writes stopped for {silence:.1f} s"
    assert cluster.primary() is not old
