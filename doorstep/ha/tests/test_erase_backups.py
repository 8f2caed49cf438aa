"""After an erase, the backups hold the erased people only until the date the certificate names.

A one-node cluster archiving its WAL into a pgBackRest repository kept by time
(``repo1-retention-full-type=time``, one day) and compressed with gzip, which the scan reads.
People with names, document numbers, phones and person codes are written and analysed (so
that the planner's statistics hold their values too), then a full backup. The erase is stood in
for by plain SQL, as the erase engine does it on PostgreSQL: the rows deleted, the tables and
the statistics rewritten (VACUUM FULL: a plain VACUUM leaves the deleted bytes in the files),
the WAL segment closed. A second full backup follows.

The repository is then scanned, decompressed, for every identifier: they are in the first
backup and in WAL archived before the second backup, and nowhere else, and
``closing.backups.horizon`` names exactly the first backup as holding the data and the second
one's stop + 1 day as the moment it expires. pgBackRest's own expire reads the real clock, so
the rule is applied at that moment by ``closing.backups.expire(now)`` (``pgbackrest expire
--set`` with the archive retention of the full backups left): the repository then holds none
of the identifiers, in backups or archived WAL.

Runs in ``make test-ha``; fails, never skips, when pgBackRest is missing.
"""

from __future__ import annotations

import datetime as dt
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import override_settings
from django.utils import timezone

from doorstep.closing import backups as horizons
from doorstep.ha import drill
from doorstep.ha.backup import Backups, scan_repository

pytestmark = pytest.mark.ha

PEOPLE = 60


@pytest.fixture
def repository() -> Iterator[Backups]:
    # Under the temporary folder itself: as root the cluster runs as postgres, which cannot
    # enter pytest's private tmp_path.
    root = Path(tempfile.mkdtemp(prefix="doorstep-ha-erase-"))
    built = Backups.create_cluster(root, synchronous=False, size=1, retention_days=1, compress="gz")
    try:
        built.cluster.start(timeout=90)
        built.setup()
        built.cluster.create_database()
        yield built
    finally:
        built.cluster.remove()
        shutil.rmtree(root, ignore_errors=True)


def _people() -> list[tuple[str, str, str, str]]:
    """Names, document numbers, phones and person codes no other run or file holds."""
    tag = secrets.token_hex(3).upper()
    return [
        (f"张{tag}{n:02d}", f"1101{_digits(10)}{n:02d}X", f"139{_digits(8)}", f"P{tag}{n:03d}")
        for n in range(PEOPLE)
    ]


def _digits(count: int) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(count))


def test_the_erased_people_stay_only_in_the_backups_the_horizon_names_until_they_expire(
    repository: Backups,
) -> None:
    started = time.monotonic()
    people = _people()
    needles = {value for person in people for value in person}
    with repository.cluster.connect(database="doorstep") as connection:
        connection.execute(
            "CREATE TABLE resident (id serial PRIMARY KEY, name text, document text UNIQUE, "
            "phone text, code text UNIQUE, community text)"
        )
        with connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO resident (name, document, phone, code, community) "
                "VALUES (%s, %s, %s, %s, 'kept')",
                people,
            )
        connection.execute(
            "INSERT INTO resident (community) SELECT 'kept' FROM generate_series(1, 40)"
        )
        connection.execute("ANALYZE resident")  # the statistics hold sample values too
    repository.backup("full")
    held = repository.newest_backup()["label"]

    # The erase, as the engine does it on PostgreSQL.
    with repository.cluster.connect(database="doorstep") as connection:
        connection.execute("DELETE FROM resident WHERE name IS NOT NULL")
        connection.execute("VACUUM FULL resident")
        connection.execute("ANALYZE resident")
        connection.execute("VACUUM FULL pg_statistic")
    repository.archive_now()  # the erase's WAL segment is closed and archived
    erased = timezone.now()
    time.sleep(1.1)  # pgBackRest's times are whole seconds: the next backup starts after
    repository.backup("full")
    clean = repository.newest_backup()
    assert clean["label"] != held

    with override_settings(
        DOORSTEP_PGBACKREST_STANZA="doorstep",
        DOORSTEP_PGBACKREST_CONFIG=str(repository.config),
        DOORSTEP_BACKUP_RETENTION_DAYS=1,
    ):
        horizon = horizons.horizon(erased)
        assert horizon.holding == (held,)
        assert horizon.clean_full == clean["label"]
        stop = dt.datetime.fromtimestamp(clean["timestamp"]["stop"], dt.UTC)
        assert horizon.last_copy_expires == stop + dt.timedelta(days=1)

        found = scan_repository(repository.repo, needles)
        wal = {path: hits for path, hits in found.items() if path.startswith("archive/")}
        in_backups = {path for path in found if path.startswith("backup/")}
        # The positive control: the scan reads pgBackRest's files (every identifier is in
        # the first backup), and the WAL of the writes is archived.
        assert set().union(*found.values()) == needles
        assert {path.split("/")[2] for path in in_backups} == {held}, sorted(in_backups)
        assert wal, "the archived WAL of the writes holds the identifiers"
        assert all(Path(path).name[:24] < clean["archive"]["start"] for path in wal), sorted(wal)

        # A second before the moment nothing is due; at it, the held set and its WAL go.
        assert horizons.expire(horizon.last_copy_expires) == []
        assert horizons.expire(horizon.last_copy_expires + dt.timedelta(seconds=1)) == [held]
        assert scan_repository(repository.repo, needles) == {}
        after = horizons.horizon(erased)
        assert after.holding == () and not after.held
        assert [c.label for c in after.copies] == [clean["label"]]
    # The clean backup and its WAL remain usable: the newest is a restore point.
    assert repository.newest_backup()["label"] == clean["label"]
    print(f"erase-backups test: {time.monotonic() - started:.1f} s after the cluster started")


_CLOSE_ALL = (
    "from doorstep.campaigns.actions import close_round;"
    "from doorstep.campaigns.models import Campaign;"
    "from doorstep.closing import actions;"
    "from doorstep.core.models import User;"
    "from doorstep.territory.models import Town;"
    "u=User.objects.get(username='district');"
    "[close_round(u, c, confirmed=True) for c in Campaign.objects.filter(status='active')];"
    "[(actions.close_response(u, t, 'The outbreak is over'),"
    " actions.set_retention(u, t, 0, 'Erase drill today')) for t in Town.objects.all()];"
    "print('TOWNS', *(t.pk for t in Town.objects.order_by('pk')))"
)


def test_the_demo_erased_by_doorstep_stays_only_in_the_backups_its_certificate_names(
    repository: Backups,
) -> None:
    """The same, end to end: the demo town on the cluster, ``doorstep erase`` on every town
    (its own VACUUM FULL, statistics and WAL switch), and the certificate's backups."""
    home = Path(tempfile.mkdtemp(prefix="doorstep-ha-erase-home-"))
    env = drill.environment(repository.cluster, home, standby=False) | {
        "DOORSTEP_PGBACKREST_STANZA": "doorstep",
        "DOORSTEP_PGBACKREST_CONFIG": str(repository.config),
        "DOORSTEP_BACKUP_RETENTION_DAYS": "1",
    }
    try:
        drill.doorstep(["migrate", "-v0"], env)
        drill.doorstep(["demo", "--residents", "300", "--no-serve"], env)
        with repository.cluster.connect(database="doorstep") as connection:
            numbers = {
                value
                for row in connection.execute(
                    "SELECT id_number, phone, person_code FROM territory_resident "
                    "UNION ALL SELECT id_number, phone, '' FROM sampling_walkin"
                )
                for value in row
                if value
            }
            names = {row[0] for row in connection.execute("SELECT name FROM territory_resident")}
        repository.backup("full")
        held = repository.newest_backup()["label"]

        out = drill.doorstep(["shell", "-c", _CLOSE_ALL], env)
        towns = next(line for line in out.splitlines() if line.startswith("TOWNS")).split()[1:]
        for town in towns:
            drill.doorstep(["erase", "--town", town, "--by", "ha-test"], env)
        repository.archive_now()
        erased = timezone.now()
        time.sleep(1.1)
        repository.backup("full")
        clean = repository.newest_backup()

        with repository.cluster.connect(database="doorstep") as connection:
            certificates = [
                row[0]
                for row in connection.execute(
                    "SELECT body FROM closing_certificate WHERE complete ORDER BY town_id"
                )
            ]
            # Names the erase rightly keeps (staff, users, places) are not the town's people.
            kept_text = " ".join(
                str(row[0])
                for row in connection.execute(
                    "SELECT name FROM workforce_staff UNION ALL SELECT first_name || last_name "
                    "FROM core_user UNION ALL SELECT name FROM territory_building UNION ALL "
                    "SELECT name FROM territory_community UNION ALL SELECT name FROM territory_town"
                )
            )
        assert len(certificates) == len(towns)
        assert all(
            c["database"]["rewritten"] and not c["database"]["refused"] for c in certificates
        )
        # Each certificate names the backup that holds the data, and waits for the next full.
        assert all(held in c["backups"]["holding"] for c in certificates)

        needles = numbers | {name for name in names if name not in kept_text}
        found = scan_repository(repository.repo, needles)
        assert set().union(*found.values()) >= numbers  # the positive control
        in_backups = {path.split("/")[2] for path in found if path.startswith("backup/")}
        assert in_backups == {held}
        wal = [path for path in found if path.startswith("archive/")]
        assert all(Path(path).name[:24] < clean["archive"]["start"] for path in wal), sorted(wal)

        with override_settings(
            DOORSTEP_PGBACKREST_STANZA="doorstep",
            DOORSTEP_PGBACKREST_CONFIG=str(repository.config),
            DOORSTEP_BACKUP_RETENTION_DAYS=1,
        ):
            horizon = horizons.horizon(erased)
            assert horizon.holding == (held,) and horizon.clean_full == clean["label"]
            assert horizons.expire(horizon.last_copy_expires + dt.timedelta(seconds=1)) == [held]
        assert scan_repository(repository.repo, needles) == {}
    finally:
        shutil.rmtree(home, ignore_errors=True)
