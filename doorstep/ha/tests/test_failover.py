"""The database machine dies mid-run and nothing acknowledged is lost.

A three-node cluster (Patroni, etcd, a synchronous standby) on free loopback ports, Doorstep
served against it with a URL that lists every node, scanners posting batches and single events
and a resident watching the public status page. The primary's node is killed (its Patroni and
its PostgreSQL, SIGKILL). Then: every event the server answered is on the new primary; a replay
of every device's whole log creates nothing; the counters equal a count of the rows; no page
answered a server error (a 503 with Retry-After during the switch is the promise); the cluster
is synchronous again. Before the kill, the status page is read from a standby while it is
fresh, and from the primary as soon as that standby stops replaying.

Runs in ``make test`` (``make test-ha``), not in the SQLite and PostgreSQL suites: it builds its
own database machines. It fails, never skips, when Patroni or etcd is missing (``.ci/run``
installs them).
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from doorstep.ha import drill
from doorstep.ha.cluster import Cluster

pytestmark = pytest.mark.ha


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    # Under the temporary folder itself: as root the cluster runs as postgres, which cannot
    # enter pytest's private tmp_path.
    root = Path(tempfile.mkdtemp(prefix="doorstep-ha-test-"))
    built = Cluster.create(root)
    try:
        built.start(timeout=90)
        yield built
    finally:
        built.remove()
        shutil.rmtree(root, ignore_errors=True)


def _reading_from_standby(cluster: Cluster) -> bool:
    standby = next(n for n in cluster.standbys() if n not in cluster.sync_standbys())
    with cluster.connect(standby, "doorstep") as connection:
        row = connection.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'doorstep-standby'"
        ).fetchone()
    return bool(row and row[0])


def test_killing_the_primary_mid_run_loses_nothing_acknowledged(cluster: Cluster) -> None:
    home = Path(tempfile.mkdtemp(prefix="doorstep-ha-home-"))
    town = drill.prepare(cluster, home, residents=600, lanes=8)
    server = drill.serve(town.env, home / "serve.log")
    try:
        _the_status_page_reads_a_fresh_standby_and_leaves_a_stale_one(cluster, town, server)
        start = drill.counters_agree(town.env)  # the demo's own morning is counted already
        devices = [
            drill.Device(
                server.port, town.tokens[lane], drill.tube_batches(town, lane, f"HA{n}", 8, size)
            )
            for n, (lane, size) in enumerate(zip(town.lanes, [12, 12, 1, 1], strict=False))
        ]
        pages = drill.Pages(server.port)
        stop = threading.Event()
        threads = drill.run_all([*devices, pages], stop)
        drill.until(
            lambda: sum(len(d.acknowledged) for d in devices) >= 120, 30, "no load before the kill"
        )
        old = cluster.primary()
        assert old is not None
        killed_at = time.monotonic()
        cluster.kill(old)
        before = sum(len(d.acknowledged) for d in devices)
        drill.until(
            lambda: sum(len(d.acknowledged) for d in devices) >= before + 120,
            60,
            "writes did not come back after the primary died",
        )
        stop.set()
        for thread in threads:
            thread.join(timeout=40)
        silence = drill.longest_silence(devices, killed_at, time.monotonic())

        acknowledged = set().union(*(d.acknowledged for d in devices))
        found, total = drill.stored(cluster, acknowledged)
        assert acknowledged - found == set(), "an acknowledged event was lost"
        assert not [r for d in devices for r in d.refused], [d.refused[:2] for d in devices]
        statuses, accepted_again = drill.replay(server.port, devices)
        assert statuses <= {"accepted", "duplicate"}
        _found, total_after = drill.stored(cluster, acknowledged)
        assert total_after == total + accepted_again  # only what was never answered is new
        statuses, accepted_again = drill.replay(server.port, devices)
        assert (statuses, accepted_again) == ({"duplicate"}, 0)
        end = drill.counters_agree(town.env)
        moved = {k: end[k] - start[k] for k in end}
        assert moved["members"] == moved["sampled"] == moved["counter"] > 0, moved
        assert set(pages.statuses) <= {200, 503} and pages.without_retry_after == 0, pages.statuses
        assert 200 in pages.statuses
        assert silence < 30, f"writes stopped for {silence:.1f} s"
        cluster.wait_healthy(30, size=2)  # a synchronous standby again, on the third node
        assert cluster.primary() is not old
    finally:
        server.kill()
        shutil.rmtree(home, ignore_errors=True)


def _the_status_page_reads_a_fresh_standby_and_leaves_a_stale_one(
    cluster: Cluster, town: drill.Town, server: drill.Server
) -> None:
    page = _status_page(server)
    assert page.count("演练采样点") >= 1
    assert _reading_from_standby(cluster), "the status page did not read from the standby"
    standby = next(n for n in cluster.standbys() if n not in cluster.sync_standbys())
    with cluster.connect(standby, "doorstep") as connection:
        connection.execute("SELECT pg_wal_replay_pause()")
    try:
        script = (
            "from doorstep.territory.models import Community;"
            "from doorstep.sampling.actions import create_site;"
            "create_site(Community.objects.order_by('pk')[0], '新开采样点', lanes=1)"
        )
        drill.doorstep(["shell", "-c", script], {**town.env, "DATABASE_STANDBY_URL": ""})
        # The standby has not replayed the new site; within the lag bound (2 s) and the
        # verdict's second the page is read from the primary and shows it.
        drill.until(
            lambda: "新开采样点" in _status_page(server), 15, "a stale standby was still read"
        )
    finally:
        with cluster.connect(standby, "doorstep") as connection:
            connection.execute("SELECT pg_wal_replay_resume()")


def _status_page(server: drill.Server) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/status/", timeout=10) as page:
        return page.read().decode()
