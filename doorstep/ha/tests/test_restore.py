"""A backup restored to a point in time holds every event acknowledged before it, none after.

A three-node cluster whose every node archives its WAL into a pgBackRest repository, Doorstep
served against it, a full backup; scanners post events through the server (acknowledged:
answered ``accepted`` or ``duplicate``), a moment T is read from the database's clock with a
second of quiet either side, and more events are posted. Once the WAL is archived, the backup
is restored up to T into a fresh folder and started as a standalone PostgreSQL: it must hold
every event acknowledged before T and none of those acknowledged after it.

Runs in ``make test-ha``. It fails, never skips, when pgBackRest is missing (``.ci/run``
installs it).
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from doorstep.ha import backup, drill
from doorstep.ha.backup import Backups, Restored
from doorstep.ha.cluster import Missing

pytestmark = pytest.mark.ha


@pytest.fixture
def backups() -> Iterator[Backups]:
    # Under the temporary folder itself: as root the cluster runs as postgres, which cannot
    # enter pytest's private tmp_path.
    root = Path(tempfile.mkdtemp(prefix="doorstep-ha-restore-"))
    built = Backups.create_cluster(root)
    try:
        built.cluster.start(timeout=90)
        yield built
    finally:
        built.cluster.remove()
        shutil.rmtree(root, ignore_errors=True)


def test_a_missing_pgbackrest_is_named_with_its_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backup.shutil, "which", lambda program: None)
    with pytest.raises(Missing, match="apt-get install pgbackrest"):
        backup.check_installed()


def test_a_point_in_time_restore_has_what_was_acknowledged_before_it_and_nothing_after(
    backups: Backups,
) -> None:
    cluster = backups.cluster
    home = Path(tempfile.mkdtemp(prefix="doorstep-ha-home-"))
    restored: Restored | None = None
    server: drill.Server | None = None
    try:
        for node in cluster.nodes:  # a standby promoted after a failover goes on archiving
            with cluster.connect(node) as connection:
                row = connection.execute("SHOW archive_command").fetchone()
                assert row is not None and "archive-push" in row[0], node.name
        backups.setup()
        town = drill.prepare(cluster, home, residents=150, lanes=2)
        server = drill.serve(town.env, home / "serve.log")
        backups.backup("full")

        before = _post(server, town, "PB")
        time.sleep(1)
        with cluster.connect() as connection:
            row = connection.execute("SELECT clock_timestamp()").fetchone()
        assert row is not None
        target: dt.datetime = row[0]
        time.sleep(1)
        after = _post(server, town, "PA")
        assert before and after and not before & after
        backups.archive_now()

        restored = backups.restore(cluster.root / "restored", target)
        with restored.connect() as connection:
            found = {
                str(u)
                for (u,) in connection.execute(
                    "SELECT client_uuid FROM sampling_deviceevent "
                    "WHERE client_uuid = ANY(%s::uuid[])",
                    [sorted(before | after)],
                )
            }
        assert before - found == set(), "an event acknowledged before the target is missing"
        assert found & after == set(), "an event acknowledged after the target was restored"
        with restored.connect() as connection:  # the restored copy was promoted: it writes
            connection.execute("CREATE TABLE restored_writes (n int)")
    finally:
        if server is not None:
            server.kill()
        if restored is not None:
            restored.remove()
        shutil.rmtree(home, ignore_errors=True)


def _post(server: drill.Server, town: drill.Town, prefix: str) -> set[str]:
    """Two tubes at each lane, posted in batches until every request is answered; the events
    acknowledged."""
    devices = [
        drill.Device(
            server.port, town.tokens[lane], drill.tube_batches(town, lane, f"{prefix}{n}", 2, 6)
        )
        for n, lane in enumerate(town.lanes)
    ]
    stop = threading.Event()
    threads = drill.run_all(devices, stop)
    for thread in threads:
        thread.join(timeout=60)
    stop.set()
    assert not [r for d in devices for r in d.refused], [d.refused[:2] for d in devices]
    assert all(d.sent == len(d.requests) for d in devices), "a request was never answered"
    return set().union(*(d.acknowledged for d in devices))
