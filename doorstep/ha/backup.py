"""Backups of a ``Cluster`` with pgBackRest, and the drill that restores one.

What it builds, all under one folder (``<cluster>/backup`` unless given), owned by the user the
cluster's PostgreSQL runs as (``postgres`` when we are root), because pgBackRest must run as
that user and write its repository, logs and locks as them:

- ``pgbackrest.conf``, written here and always passed with ``--config`` (the machine's
  ``/etc/pgbackrest.conf`` is never read);
- ``repo/``: the repository (one stanza, ``doorstep``): full backups and the WAL archive;
- ``log/``, ``lock/``, ``spool/``: pgBackRest's own.

Every node's PostgreSQL pushes each finished WAL segment into the repository
(``archive_command``; a standby archives nothing until it is promoted, so a new primary after a
failover goes on archiving), and switches segment at least every ``archive_timeout`` seconds
(10): without that a quiet evening fills a 16 MB segment in hours, and a loss of every node
would lose all of it; with it, acknowledged work is in the archive within about 10 s plus the
push (the RPO).

A restore goes into a fresh data folder and starts there as a standalone PostgreSQL on a free
port, outside Patroni: ``Restored`` stops and removes it. ``restore_drill`` measures the
backup, the RPO and the RTO for the benchmark and ``doorstep ha restore``.
"""

from __future__ import annotations

import bz2
import contextlib
import datetime as dt
import gzip
import json
import os
import pwd
import shlex
import shutil
import signal
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from doorstep.ha.cluster import (
    Cluster,
    Missing,
    NotReady,
    _alive,
    _reachable_by_postgres,
    _tree,
    free_ports,
    postgres_bin,
)

STANZA = "doorstep"
PGBACKREST = "pgbackrest"
RESTORED = "restored.json"
INSTALL = "The backups need pgBackRest: apt-get install pgbackrest"


def check_installed() -> str:
    """pgBackRest's program, or ``Missing`` naming the package."""
    found = shutil.which(PGBACKREST)
    if found is None:
        raise Missing(INSTALL)
    return found


@dataclass
class Backups:
    """pgBackRest's repository for ``cluster``, in ``folder``."""

    cluster: Cluster
    folder: Path

    @classmethod
    def folder_for(cls, root: Path) -> Path:
        return root.resolve() / "backup"

    @classmethod
    def archive_command(cls, root: Path) -> str:
        """The ``archive`` to give ``Cluster.create(root, archive=...)`` so that its every node
        pushes its WAL into the repository under ``root``."""
        check_installed()
        config = cls.folder_for(root) / "pgbackrest.conf"
        return (
            f"{PGBACKREST} --config={shlex.quote(str(config))} --stanza={STANZA} "
            "--pg1-path='{data}' archive-push %p"
        )

    @classmethod
    def create_cluster(
        cls,
        root: Path,
        *,
        synchronous: bool = True,
        size: int = 3,
        retention_days: int | None = None,
        compress: str = "lz4",
    ) -> Backups:
        """A new cluster whose every node archives into a new repository (nothing is started;
        ``cluster.start()`` then ``setup()``). ``retention_days`` and ``compress``: see
        ``write_config``."""
        archive = cls.archive_command(root)
        cluster = Cluster.create(root, synchronous=synchronous, size=size, archive=archive)
        backups = cls(cluster, cls.folder_for(cluster.root))
        backups.write_config(retention_days=retention_days, compress=compress)
        return backups

    @classmethod
    def of(cls, cluster: Cluster) -> Backups:
        """The repository of a cluster built with ``archive_command`` (its configuration is
        written if it is not yet)."""
        if cluster.archive is None:
            raise Missing(
                f"The cluster in {cluster.root} does not archive its WAL: build it with "
                "`doorstep ha up --archive`."
            )
        backups = cls(cluster, cls.folder_for(cluster.root))
        if not backups.config.exists():
            backups.write_config()
        return backups

    # The repository ---------------------------------------------------------------------------

    @property
    def config(self) -> Path:
        return self.folder / "pgbackrest.conf"

    @property
    def repo(self) -> Path:
        return self.folder / "repo"

    def write_config(self, *, retention_days: int | None = None, compress: str = "lz4") -> None:
        """pgBackRest's configuration. ``retention_days``: full backups are kept by time, as
        the erase's certificate counts them (``doorstep.closing.backups``): a backup set goes
        at the first expire after a newer full backup is that many days old; None: the two
        newest full backups are kept. ``compress``: pgBackRest's ``compress-type`` (lz4, gz,
        zst, bz2, none)."""
        retention = (
            ["repo1-retention-full-type=time", f"repo1-retention-full={retention_days}"]
            if retention_days is not None
            else ["repo1-retention-full=2"]
        )
        lines = [
            "[global]",
            f"repo1-path={self.repo}",
            *retention,
            f"log-path={self.folder / 'log'}",
            f"lock-path={self.folder / 'lock'}",
            f"spool-path={self.folder / 'spool'}",
            "log-level-console=warn",
            "log-level-file=info",
            # lz4: a tenth of gzip's time for a little more space; a full backup of a town
            # is seconds, not a minute.
            f"compress-type={compress}",
            "process-max=2",
            # The backup starts with an immediate checkpoint instead of waiting for the next
            # one (checkpoint_timeout, 5 minutes).
            "start-fast=y",
            # How long backup and check wait for a WAL segment to reach the archive.
            "archive-timeout=60",
            "",
            f"[{STANZA}]",
            f"pg1-socket-path={self.cluster.root}",
            "pg1-user=postgres",
            "",
        ]
        for sub in ("", "repo", "log", "lock", "spool"):
            (self.folder / sub).mkdir(parents=True, exist_ok=True)
        self.config.write_text("\n".join(lines))
        _give(self.folder)

    def run(self, *args: str, timeout: float = 600) -> str:
        """pgBackRest with our configuration, as the cluster's user; its output, or
        ``RuntimeError`` with what it said."""
        argv = [check_installed(), f"--config={self.config}", f"--stanza={STANZA}", *args]
        user = self.cluster._user()
        env = dict(os.environ)
        if user:
            env["HOME"] = pwd.getpwuid(user["user"]).pw_dir
        done = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=self.folder,
            env=env,
            check=False,
            **user,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"{' '.join(argv)} failed ({done.returncode}):\n{done.stdout}{done.stderr}"
                f"(pgBackRest's log: {self.folder / 'log'})"
            )
        return done.stdout

    def _primary_options(self) -> list[str]:
        primary = self.cluster.primary()
        if primary is None:
            raise NotReady(f"No primary in {self.cluster.root}: see `doorstep ha status`.")
        return [f"--pg1-path={self.cluster._data(primary)}", f"--pg1-port={primary.port}"]

    def setup(self) -> None:
        """The stanza, and a check that the primary's WAL reaches the archive."""
        self.run(*self._primary_options(), "stanza-create")
        self.run(*self._primary_options(), "check")

    def backup(self, kind: str = "full") -> float:
        """A backup taken from the primary; the seconds it took."""
        started = time.monotonic()
        self.run(*self._primary_options(), f"--type={kind}", "backup")
        return time.monotonic() - started

    def info(self) -> dict[str, Any]:
        """pgBackRest's ``info`` of the stanza (its JSON)."""
        stanzas = json.loads(self.run("--output=json", "info"))
        return dict(stanzas[0]) if stanzas else {}

    def newest_backup(self) -> dict[str, Any]:
        backups = self.info().get("backup", [])
        if not backups:
            raise NotReady(f"No backup in {self.repo} yet: `doorstep ha backup` takes one.")
        return dict(backups[-1])

    def archive_now(self, timeout: float = 60) -> str:
        """Close the current WAL segment and wait until the archiver has pushed it: everything
        committed before the call is then in the repository. The segment's name."""
        with self.cluster.connect() as connection:
            (segment,) = connection.execute(  # type: ignore[misc]
                "SELECT pg_walfile_name(pg_switch_wal())"
            ).fetchone()
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                (done, failed) = connection.execute(  # type: ignore[misc]
                    "SELECT last_archived_wal, last_failed_wal FROM pg_stat_archiver"
                ).fetchone()
                # Names of one timeline sort in WAL order.
                if done and done[8:] >= segment[8:]:
                    return str(segment)
                time.sleep(0.1)
        raise NotReady(
            f"WAL segment {segment} was not archived within {timeout:.0f} s (last failed: "
            f"{failed}); see the nodes' logs in {self.cluster.root} and {self.folder / 'log'}."
        )

    # Restoring --------------------------------------------------------------------------------

    def restore(
        self,
        into: Path,
        target: dt.datetime | None = None,
        *,
        repo: Path | None = None,
        timeout: float = 300,
    ) -> Restored:
        """Restore into the fresh folder ``into`` the newest backup taken before ``target`` and
        replay the archive up to ``target`` (None: the newest backup, and all the archive), then start it as a standalone PostgreSQL on a free
        port and wait until it takes writes. ``repo``: another copy of the repository."""
        if into.exists() and any(into.iterdir()):
            raise FileExistsError(f"{into} is not empty: restore into a fresh folder.")
        if os.geteuid() == 0:
            _reachable_by_postgres(into.parent)
        into.mkdir(mode=0o700, parents=True, exist_ok=True)
        _give(into)
        started = time.monotonic()
        repo_option = [f"--repo1-path={repo}"] if repo else []
        fetch = shlex.join(
            [
                check_installed(),
                f"--config={self.config}",
                f"--stanza={STANZA}",
                f"--pg1-path={into}",
                *repo_option,
            ]
        )
        how = ["--type=default"]  # the whole archive, then promote
        if target is not None:
            stamp = target.astimezone(dt.UTC).isoformat(sep=" ")
            how = ["--type=time", f"--target={stamp}", "--target-action=promote"]
        self.run(
            *repo_option,
            f"--pg1-path={into}",
            *how,
            f'--recovery-option=restore_command={fetch} archive-get %f "%p"',
            "restore",
            timeout=timeout,
        )
        restored = Restored(into, free_ports(1)[0], self.cluster)
        restored.start(timeout)
        restored.seconds = time.monotonic() - started
        return restored

    def remember(self, restored: Restored) -> None:
        """Note a restored copy left running, for ``doorstep ha restore --remove`` and
        ``doorstep ha down``."""
        state = {"data": str(restored.data), "port": restored.port, "pid": restored.pid}
        (self.folder / RESTORED).write_text(json.dumps(state))

    def remembered(self) -> Restored | None:
        try:
            state = json.loads((self.folder / RESTORED).read_text())
        except FileNotFoundError:
            return None
        return Restored(Path(state["data"]), state["port"], self.cluster, state["pid"])

    def forget(self) -> None:
        (self.folder / RESTORED).unlink(missing_ok=True)


@dataclass
class Restored:
    """A restored PostgreSQL, standalone on loopback (not part of any Patroni cluster)."""

    data: Path
    port: int
    cluster: Cluster
    pid: int | None = None
    seconds: float = 0.0  # restore command + recovery until it took writes

    def start(self, timeout: float = 300) -> None:
        """Start it with what the restored configuration must not keep: Patroni's port and
        synchronous standbys, and archiving into the cluster's repository."""
        overrides = {
            "port": str(self.port),
            "listen_addresses": "127.0.0.1",
            "unix_socket_directories": str(self.data),
            "hba_file": str(self.data / "pg_hba.conf"),
            "ident_file": str(self.data / "pg_ident.conf"),
            "archive_mode": "off",
            "synchronous_standby_names": "",
            "primary_conninfo": "",
            "cluster_name": "doorstep-restored",
        }
        argv = [str(postgres_bin() / "postgres"), "-D", str(self.data)]
        for name, value in overrides.items():
            argv += ["-c", f"{name}={value}"]
        user = self.cluster._user()
        with open(self.data.parent / f"{self.data.name}.log", "ab") as out:
            process = subprocess.Popen(
                argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.data,
                start_new_session=True,
                **user,
            )
        self.pid = process.pid
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                break
            with contextlib.suppress(psycopg.Error), self.connect("postgres") as connection:
                row = connection.execute("SELECT pg_is_in_recovery()").fetchone()
                if row is not None and not row[0]:
                    return
            time.sleep(0.1)
        self.stop()
        raise NotReady(
            f"The restored PostgreSQL in {self.data} stopped or did not take writes within "
            f"{timeout:.0f} s "
            f"(see {self.data.parent / f'{self.data.name}.log'})."
        )

    def connect(self, database: str = "doorstep") -> psycopg.Connection[Any]:
        return psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user="postgres",
            dbname=database,
            autocommit=True,
            connect_timeout=3,
        )

    def url(self, database: str = "doorstep") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        """A fast shutdown (SIGINT); whatever lingers after 20 s is killed."""
        if self.pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGINT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and _alive(self.pid):
            time.sleep(0.1)
        for pid in _tree(self.pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        self.pid = None

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.data, ignore_errors=True)
        (self.data.parent / f"{self.data.name}.log").unlink(missing_ok=True)


def scan_repository(repo: Path, needles: Iterable[str]) -> dict[str, set[str]]:
    """Every file of a pgBackRest repository (backups, archived WAL, manifests) that holds one
    of ``needles`` (as UTF-8), decompressed as pgBackRest wrote it (gz and bz2 here, lz4 and
    zst through their programs): relative path -> the needles found in it."""
    wanted = {needle: needle.encode() for needle in needles}
    found: dict[str, set[str]] = {}
    for path in sorted(p for p in repo.rglob("*") if p.is_file() and not p.is_symlink()):
        data = _decompressed(path)
        hits = {needle for needle, raw in wanted.items() if raw in data}
        if hits:
            found[str(path.relative_to(repo))] = hits
    return found


def _decompressed(path: Path) -> bytes:
    if path.suffix == ".gz":
        return gzip.decompress(path.read_bytes())
    if path.suffix == ".bz2":
        return bz2.decompress(path.read_bytes())
    program = {".lz4": "lz4", ".zst": "zstd"}.get(path.suffix)
    if program is None:
        return path.read_bytes()
    if shutil.which(program) is None:
        raise Missing(f"{path} is {program}-compressed: apt-get install {program} to read it")
    return subprocess.run([program, "-dc", str(path)], capture_output=True, check=True).stdout


def _give(path: Path) -> None:
    """As root, ``path`` and all below it to the ``postgres`` user."""
    if os.geteuid() != 0:
        return
    entry = pwd.getpwnam("postgres")
    for folder, _dirs, files in os.walk(path):
        os.chown(folder, entry.pw_uid, entry.pw_gid)
        for name in files:
            os.chown(Path(folder) / name, entry.pw_uid, entry.pw_gid)


# The drill ------------------------------------------------------------------------------------


def restore_drill(
    cluster: Cluster, backups: Backups | None = None, *, watch: float = 20.0
) -> dict[str, Any]:
    """The restore drill, measured; run it while Doorstep takes events.

    1. A full backup from the primary (``backup_seconds``, ``backup_bytes`` in the repository,
       ``database_bytes`` as PostgreSQL counts them).
    2. For ``watch`` seconds, twice a second, how old the newest archived WAL is
       (``archive_age_max_seconds``): what a loss of every node at that moment would lose is
       at most that, plus the segment in progress.
    3. The loss, at the worst moment (the newest archived WAL is 85% of archive_timeout
       old, just before the next push): the repository is frozen as it is (hard links:
       pgBackRest writes each file once, under a temporary name, and renames it), then the
       newest event the cluster holds is read. Everything the cluster committed that is not in the frozen repository is what
       a loss of every node at that moment loses.
    4. The frozen repository is restored in full (all its WAL) into a fresh folder and started
       as a standalone PostgreSQL: ``rto_seconds`` from the restore command until it takes
       writes. ``rpo_seconds``: how much older the newest restored event is than the newest
       one the cluster held; ``lost_events``: how many of the cluster's events are not there.
    The restored copy and the frozen repository are removed afterwards.
    """
    backups = backups or Backups.of(cluster)
    backup_seconds = backups.backup("full")
    newest = backups.newest_backup()
    ages = _archive_ages(cluster, watch)
    # The loss at the worst moment: just before the archiver's next push.
    _archive_ages(cluster, 3 * cluster.archive_timeout, until=0.85 * cluster.archive_timeout)
    frozen = backups.folder / "frozen"
    shutil.rmtree(frozen, ignore_errors=True)
    subprocess.run(["cp", "-al", str(backups.repo), str(frozen)], check=True)
    restored: Restored | None = None
    try:
        held_newest, held_count = _newest_event(cluster.connect(database="doorstep"))
        restored = backups.restore(cluster.root / "drill-restored", repo=frozen)
        got_newest, got_count = _newest_event(restored.connect())
        rto = restored.seconds
    finally:
        if restored is not None:
            restored.remove()
        shutil.rmtree(frozen, ignore_errors=True)
    rpo = None  # no events: nothing to measure it by
    if held_newest is not None and got_newest is not None:
        rpo = round(max((held_newest - got_newest).total_seconds(), 0.0), 1)
    return {
        "backup_seconds": round(backup_seconds, 1),
        "backup_bytes": int(newest["info"]["repository"]["delta"]),
        "database_bytes": int(newest["info"]["size"]),
        "archive_timeout_seconds": cluster.archive_timeout,
        "archive_age_max_seconds": round(max(ages), 1) if ages else None,
        "rpo_seconds": rpo,
        "lost_events": held_count - got_count,
        "held_events": held_count,
        "rto_seconds": round(rto, 1),
    }


def _archive_ages(cluster: Cluster, seconds: float, until: float | None = None) -> list[float]:
    """How old the newest archived WAL is, twice a second for ``seconds`` (or until it is
    ``until`` seconds old)."""
    ages: list[float] = []
    deadline = time.monotonic() + seconds
    with cluster.connect() as connection:
        while time.monotonic() < deadline:
            row = connection.execute(
                "SELECT extract(epoch FROM clock_timestamp() - last_archived_time) "
                "FROM pg_stat_archiver"
            ).fetchone()
            if row is not None and row[0] is not None:
                ages.append(float(row[0]))
                if until is not None and ages[-1] >= until:
                    break
            time.sleep(0.1 if until is not None else 0.5)
    return ages


def _newest_event(connection: psycopg.Connection[Any]) -> tuple[dt.datetime | None, int]:
    """The newest device event's arrival and how many there are (none before migrations)."""
    with connection:
        table = connection.execute("SELECT to_regclass('sampling_deviceevent')").fetchone()
        if table is None or table[0] is None:
            return None, 0
        row = connection.execute(
            "SELECT max(received_at), count(*) FROM sampling_deviceevent"
        ).fetchone()
    assert row is not None
    return row[0], int(row[1])
