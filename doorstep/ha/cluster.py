"""Build, run, kill and remove a three-node PostgreSQL cluster managed by Patroni and etcd, on
free loopback ports under one folder.

Each node is a Patroni process with its PostgreSQL; etcd holds the leader key. Patroni's
timeouts are set for a short write outage (``ttl`` 10 s: a dead leader's key expires within it;
``loop_wait`` 1 s; ``retry_timeout`` 3 s), and in the synchronous mode (the default) with
``synchronous_mode_strict``: the primary commits only once a synchronous standby has the
commit, so an acknowledged write survives the primary's loss, and after a failover the third
node becomes the new primary's synchronous standby. ``synchronous=False`` builds the
asynchronous control the failover benchmark compares against.

Killing a node kills what a dead machine would take with it: its Patroni and its postmaster's
whole process group (the backends), with SIGKILL. What the cluster is (folder, ports, pids) is
written to ``cluster.json`` in its folder, so a later command finds it again.

PostgreSQL refuses to run as root: as root, the processes run as the ``postgres`` user and the
folder is given to them; otherwise they run as the current user.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psycopg

# What each program is in Debian's packages, for the message when one is missing.
PACKAGES = {"patroni": "patroni", "etcd": "etcd-server"}
STATE = "cluster.json"


class Missing(RuntimeError):
    """A program the cluster needs is not installed."""


class NotReady(RuntimeError):
    """The cluster did not reach the state asked for in time."""


def postgres_bin() -> Path:
    """The newest PostgreSQL's programs from Debian's packages."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: p.parent)
    if not found:
        raise Missing("PostgreSQL's server is not installed: apt-get install postgresql")
    return found[-1].parent


def check_installed() -> None:
    missing = [package for program, package in PACKAGES.items() if shutil.which(program) is None]
    if missing:
        raise Missing(
            f"The highly available database needs {', '.join(missing)}: "
            f"apt-get install {' '.join(missing)}"
        )
    postgres_bin()


def default_dir() -> Path:
    """Where ``doorstep ha`` puts a cluster: a drill's data, not the campaign's (that lives on
    the database machines). In the temporary folder, which the ``postgres`` user can reach
    when we are root (Doorstep's own home is private to its user)."""
    return Path(tempfile.gettempdir()) / f"doorstep-ha-{pwd.getpwuid(os.geteuid()).pw_name}"


def _reachable_by_postgres(path: Path) -> None:
    """As root the cluster runs as ``postgres``, which must be able to enter every folder above
    the cluster's."""
    entry = pwd.getpwnam("postgres")
    for folder in [path, *path.parents]:
        if not folder.exists():
            continue
        info = folder.stat()
        if info.st_uid != entry.pw_uid and not info.st_mode & 0o001:
            raise PermissionError(
                f"The cluster's processes run as the postgres user, which cannot enter {folder} "
                f"(mode {info.st_mode & 0o777:o}). Choose a folder it can reach, for example "
                f"--dir {default_dir()}."
            )


def free_ports(count: int) -> list[int]:
    """``count`` distinct free ports on loopback (all held open until all are chosen)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for s in sockets:
            s.close()


@dataclass
class Node:
    name: str
    port: int  # PostgreSQL
    api: int  # Patroni's REST API
    pid: int | None = None  # Patroni's process


@dataclass
class Cluster:
    root: Path
    nodes: list[Node]
    etcd_client: int
    etcd_peer: int
    synchronous: bool = True
    etcd_pid: int | None = None
    ttl: int = 10
    loop_wait: int = 1
    retry_timeout: int = 3
    scope: str = field(default="doorstep")
    # WAL archiving (``backup.Backups`` sets it): the archive_command, in which ``{data}``
    # stands for the node's data folder. None: no archiving, as before.
    archive: str | None = None
    archive_timeout: int = 10

    # Building ---------------------------------------------------------------------------------

    @classmethod
    def create(
        cls, root: Path, *, synchronous: bool = True, size: int = 3, archive: str | None = None
    ) -> Cluster:
        """A new cluster's folder and configuration (nothing is started). ``archive``: an
        archive_command for every node (``{data}`` is the node's data folder)."""
        check_installed()
        root = root.resolve()
        if (root / STATE).exists():
            raise FileExistsError(f"A cluster already lives in {root}; remove it first.")
        if os.geteuid() == 0:
            _reachable_by_postgres(root.parent)
        root.mkdir(parents=True, exist_ok=True)
        ports = free_ports(2 + 2 * size)
        nodes = [Node(f"node{n + 1}", ports[2 + n], ports[2 + size + n]) for n in range(size)]
        cluster = cls(root, nodes, ports[0], ports[1], synchronous=synchronous, archive=archive)
        for node in nodes:
            cluster._config(node).write_text(json.dumps(cluster._patroni(node), indent=2))
        cluster._give_to_user(root)
        cluster.save()
        return cluster

    @classmethod
    def load(cls, root: Path) -> Cluster:
        state = json.loads((root.resolve() / STATE).read_text())
        state["root"] = Path(state["root"])
        state["nodes"] = [Node(**n) for n in state["nodes"]]
        return cls(**state)

    def save(self) -> None:
        state = asdict(self)
        state["root"] = str(self.root)
        (self.root / STATE).write_text(json.dumps(state, indent=2))

    def _config(self, node: Node) -> Path:
        return self.root / f"{node.name}.yml"

    def _data(self, node: Node) -> Path:
        return self.root / node.name

    def _patroni(self, node: Node) -> dict[str, Any]:
        """Patroni's configuration for ``node`` (JSON is YAML, which Patroni reads)."""
        dcs: dict[str, Any] = {
            "ttl": self.ttl,
            "loop_wait": self.loop_wait,
            "retry_timeout": self.retry_timeout,
            "maximum_lag_on_failover": 1 << 20,
            "postgresql": {
                "use_pg_rewind": True,
                "parameters": {
                    "synchronous_commit": "on",
                    "wal_log_hints": "on",
                    "max_wal_senders": 10,
                    "max_replication_slots": 10,
                    "max_connections": 200,
                    # A standby whose primary died retries its stream every 0.5 s, not 5 s:
                    # in strict synchronous mode the new primary's commits wait for it.
                    "wal_retrieve_retry_interval": "500ms",
                },
            },
        }
        if self.synchronous:
            dcs |= {
                "synchronous_mode": True,
                "synchronous_mode_strict": True,
                "synchronous_node_count": 1,
            }
        return {
            "scope": self.scope,
            "name": node.name,
            "log": {"level": "WARNING"},
            "restapi": {
                "listen": f"127.0.0.1:{node.api}",
                "connect_address": f"127.0.0.1:{node.api}",
            },
            "etcd3": {"host": f"127.0.0.1:{self.etcd_client}"},
            "bootstrap": {
                "dcs": dcs,
                "initdb": [{"encoding": "UTF8"}, {"locale": "C.UTF-8"}],
                "pg_hba": [
                    "local all all trust",
                    "host replication all 127.0.0.1/32 trust",
                    "host all all 127.0.0.1/32 trust",
                ],
            },
            "postgresql": {
                "listen": f"127.0.0.1:{node.port}",
                "connect_address": f"127.0.0.1:{node.port}",
                "data_dir": str(self._data(node)),
                "bin_dir": str(postgres_bin()),
                "pgpass": str(self.root / f"{node.name}.pgpass"),
                "authentication": {
                    "superuser": {"username": "postgres"},
                    "replication": {"username": "postgres"},
                },
                "parameters": {"unix_socket_directories": str(self.root), **self._archiving(node)},
            },
        }

    def _archiving(self, node: Node) -> dict[str, Any]:
        """Every node archives once it is the primary (a standby with ``archive_mode`` on
        archives nothing), so a new primary after a failover goes on archiving; the WAL
        segment is switched at least every ``archive_timeout`` seconds, which bounds how much
        acknowledged work a loss of every node loses."""
        if self.archive is None:
            return {}
        return {
            "archive_mode": "on",
            "archive_command": self.archive.replace("{data}", str(self._data(node))),
            "archive_timeout": self.archive_timeout,
        }

    # Processes --------------------------------------------------------------------------------

    @staticmethod
    def _user() -> dict[str, Any]:
        """Who the cluster's processes run as: ``postgres`` when we are root."""
        if os.geteuid() != 0:
            return {}
        entry = pwd.getpwnam("postgres")
        return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}

    def _give_to_user(self, path: Path) -> None:
        if os.geteuid() == 0:
            entry = pwd.getpwnam("postgres")
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def _spawn(self, argv: list[str], log: str) -> int:
        user = self._user()
        env = dict(os.environ)
        if user:
            env["HOME"] = pwd.getpwuid(user["user"]).pw_dir
        with open(self.root / log, "ab") as out:
            process = subprocess.Popen(
                argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.root,
                env=env,
                start_new_session=True,  # its own process group, like a machine of its own
                **user,
            )
        return process.pid

    def start(self, timeout: float = 120) -> None:
        """Start etcd and every node, and wait until the cluster is healthy."""
        self.start_etcd()
        for node in self.nodes:
            self.start_node(node)
        self.wait_healthy(timeout)

    def start_etcd(self) -> None:
        client, peer = f"http://127.0.0.1:{self.etcd_client}", f"http://127.0.0.1:{self.etcd_peer}"
        self.etcd_pid = self._spawn(
            [
                "etcd",
                "--name",
                "doorstep",
                "--data-dir",
                str(self.root / "etcd"),
                "--listen-client-urls",
                client,
                "--advertise-client-urls",
                client,
                "--listen-peer-urls",
                peer,
                "--initial-advertise-peer-urls",
                peer,
                "--initial-cluster",
                f"doorstep={peer}",
                "--log-level",
                "warn",
            ],
            "etcd.log",
        )
        self.save()
        self._wait(lambda: _http_ok(f"{client}/health"), 30, "etcd did not start (etcd.log)")

    def start_node(self, node: Node) -> None:
        node.pid = self._spawn(["patroni", str(self._config(node))], f"{node.name}.log")
        self.save()

    def kill(self, node: Node) -> None:
        """What a dead machine does: its Patroni and its PostgreSQL, every process of both,
        gone at once (SIGKILL). PostgreSQL's children each lead a process group of their own,
        so killing the postmaster's group would leave its backends and WAL senders running."""
        doomed = _tree(node.pid) | _tree(self._postmaster(node))
        for pid in doomed:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        node.pid = None
        self.save()

    def _postmaster(self, node: Node) -> int | None:
        try:
            return int((self._data(node) / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self) -> None:
        """Stop every node (Patroni stops its PostgreSQL), then etcd; kill what lingers."""
        for node in self.nodes:
            if node.pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(node.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and any(_alive(n.pid) for n in self.nodes):
            time.sleep(0.1)
        for node in self.nodes:
            self.kill(node)
        if self.etcd_pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.etcd_pid, signal.SIGKILL)
            self.etcd_pid = None
        self.save()

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    # Reading its state ------------------------------------------------------------------------

    def members(self) -> list[dict[str, Any]]:
        """Patroni's view of the cluster (from the first node whose API answers)."""
        for node in self.nodes:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{node.api}/cluster", timeout=1
                ) as answer:
                    return list(json.load(answer)["members"])
            except (OSError, urllib.error.URLError, ValueError, KeyError):
                continue
        return []

    def node(self, name: str) -> Node:
        return next(n for n in self.nodes if n.name == name)

    def primary(self) -> Node | None:
        for member in self.members():
            if member.get("role") == "leader" and member.get("state") == "running":
                return self.node(member["name"])
        return None

    def sync_standbys(self) -> list[Node]:
        return [
            self.node(m["name"])
            for m in self.members()
            if m.get("role") == "sync_standby" and m.get("state") in {"running", "streaming"}
        ]

    def standbys(self) -> list[Node]:
        return [
            self.node(m["name"])
            for m in self.members()
            if m.get("role") in {"replica", "sync_standby"}
            and m.get("state") in {"running", "streaming"}
        ]

    def healthy(self, size: int | None = None) -> bool:
        """A primary, ``size`` nodes running in all, and a synchronous standby when asked."""
        members = self.members()
        running = [m for m in members if m.get("state") in {"running", "streaming"}]
        if len(running) < (size or len(self.nodes)) or self.primary() is None:
            return False
        return not self.synchronous or bool(self.sync_standbys())

    def wait_healthy(self, timeout: float = 120, size: int | None = None) -> None:
        self._wait(
            lambda: self.healthy(size),
            timeout,
            f"the cluster in {self.root} was not healthy within {timeout:.0f} s "
            f"(see its *.log files): {self.members()}",
        )

    def wait_primary(self, timeout: float = 60, other_than: Node | None = None) -> Node:
        found: list[Node] = []

        def elected() -> bool:
            primary = self.primary()
            if primary is not None and primary is not other_than:
                found.append(primary)
                return True
            return False

        self._wait(elected, timeout, f"no new primary within {timeout:.0f} s: {self.members()}")
        return found[-1]

    @staticmethod
    def _wait(done: Any, timeout: float, message: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if done():
                return
            time.sleep(0.2)
        raise NotReady(message)

    # Connecting -------------------------------------------------------------------------------

    def url(self, database: str = "doorstep", **options: str) -> str:
        """A DATABASE_URL listing every node; libpq connects to whichever is the primary."""
        hosts = ",".join(f"127.0.0.1:{n.port}" for n in self.nodes)
        query = "&".join(
            f"{k}={v}" for k, v in {"target_session_attrs": "read-write", **options}.items()
        )
        return f"postgres://postgres@{hosts}/{database}?{query}"

    def node_url(self, node: Node, database: str = "doorstep") -> str:
        return f"postgres://postgres@127.0.0.1:{node.port}/{database}"

    def connect(
        self, node: Node | None = None, database: str = "postgres"
    ) -> psycopg.Connection[Any]:
        """A connection to ``node``, or to the primary."""
        if node is None:
            return psycopg.connect(self.url(database, connect_timeout="3"), autocommit=True)
        return psycopg.connect(
            host="127.0.0.1", port=node.port, user="postgres", dbname=database, autocommit=True
        )

    def create_database(self, name: str = "doorstep") -> None:
        with self.connect() as connection:
            exists = connection.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [name]
            ).fetchone()
            if exists is None:
                connection.execute(f'CREATE DATABASE "{name}"')


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as answer:
            return bool(answer.status == 200)
    except (OSError, urllib.error.URLError):
        return False


def _alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A child of ours that died stays a zombie until reaped.
    with contextlib.suppress(ChildProcessError):
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    return True


def _tree(pid: int | None) -> set[int]:
    """``pid`` and every process descended from it, read from /proc."""
    if pid is None:
        return set()
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat[stat.rindex(")") + 2 :].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        current = todo.pop()
        if current not in found:
            found.add(current)
            todo += children.get(current, [])
    return found
