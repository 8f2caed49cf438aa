"""A city's deployment on one machine: HAProxy at the edge in front of several ``doorstep serve``
nodes, PgBouncer in front of the Patroni cluster, and a standby for the residents' reads.

What runs, on free loopback ports under one folder (``city.json`` holds the ports and pids)::

    devices, staff ──┐                       ┌─ lane1 ─┐
                     ├─ HAProxy :edge ───────┤  lane2  ├─ PgBouncer ─ HAProxy :pg_primary ─ primary
    residents ───────┘  (classes, limits)    └─ res1 ──┘  (transaction   HAProxy :pg_standby ─ replicas
                                                           pooling)

- **The edge** (HAProxy) classes each request: the residents' pages (``/status/``,
  ``/status/me/``, ``/needs/ask/``) go to the residents' nodes, devices' ``/api/`` and every
  signed-in page to the lane nodes. A resident's address may make ``RESIDENTS_PER_10S``
  requests in ten seconds (a stick table); beyond, the edge answers 429 with a page that says
  what to do, before anything reaches Python. The residents' nodes take ``RESIDENT_SLOTS``
  requests at once each, and a request that waits more than 2 s for one is answered 503 with
  the same kind of page: a flood of residents queues at the edge, never in a lane's process.
  A device's request is idempotent (its events carry their UUIDs), so the edge sends it again
  to another node when its node dies mid-request; a page's form is sent again only when it
  never reached a node.
- **Hostile clients** are cut at the edge: the whole request head within 5 s (a slow client is
  answered 408 and closed), at most 64 headers in a 16 KB buffer (400 beyond), at most
  ``CONNECTIONS_PER_ADDRESS`` connections at once from one address, a body up to 15 KB read by
  the edge before a node sees the request, a bigger one without a device's token held to
  ``UPLOAD_SLOTS`` of each lane node's threads. Residents' paths are matched percent-decoded,
  and each node refuses what is not its class (``DOORSTEP_NODE_ROLE``, core.middleware.Edge).
- **The pooler** (PgBouncer, transaction pooling) keeps the database's connections few however
  many nodes and threads there are; it reaches the primary through HAProxy, which asks each
  node's Patroni who is primary (``/primary``) every second and cuts the sessions of a node
  that stops being it. The residents' nodes read through it from a replica (``/replica``).
  Doorstep runs with ``DOORSTEP_PGBOUNCER=1`` there (no prepared statements, no server-side
  cursors).
- **The residents' nodes** run only on CPU time nothing else wants (SCHED_IDLE, ``chrt
  --idle``): on one machine, lanes first.
  On the city's machines they are machines of their own (docs/operators-guide.md).

Like ``cluster``, this is a tool around the application: it imports nothing of Doorstep's apps.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import pwd
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from doorstep.ha import drill
from doorstep.ha.backup import Backups
from doorstep.ha.cluster import Cluster, Missing, NotReady, _alive, free_ports

STATE = "city.json"
EDGE_PAGES = Path(__file__).parent / "edge"
DOORSTEP = str(Path(sys.executable).parent / "doorstep")
PROGRAMS = {"haproxy": "haproxy", "pgbouncer": "pgbouncer"}

# The edge's limits (documented in docs/operators-guide.md, "The edge").
RESIDENTS_PER_10S = 20  # requests from one address to the residents' pages in 10 s
CONNECTIONS_PER_ADDRESS = 200  # a site's lanes share their operator's address
STAFF_PER_10S = 600  # requests from one address to staff pages in 10 s (devices not counted)
RESIDENT_SLOTS = 4  # requests a residents' node serves at once (its threads)
# A lane node's threads, shared out by the edge: devices, staff pages, and big uploads (a slow
# one holds its thread), with one left over for the health check.
DEVICE_SLOTS = 4
STAFF_SLOTS = 2
UPLOAD_SLOTS = 1
LANE_THREADS = DEVICE_SLOTS + STAFF_SLOTS + UPLOAD_SLOTS + 1
# HAProxy asks each app node every second; three failures take it out, two passes put it back.
CHECKS = """    option httpchk
    http-check send meth GET uri /healthz/ ver HTTP/1.1 hdr Host edge-health-check
    http-check expect status 200
    default-server inter 1s fall 3 rise 2 observe layer4 error-limit 2 on-error mark-down"""
# PgBouncer: server connections per database (primary and standby); clients beyond wait.
POOL_SIZE = 20


def check_installed() -> None:
    missing = [package for program, package in PROGRAMS.items() if _program(program) is None]
    if missing:
        raise Missing(
            f"The city layout needs {', '.join(missing)}: apt-get install {' '.join(missing)}"
        )


def _program(name: str) -> str | None:
    return shutil.which(name) or shutil.which(name, path="/usr/sbin")


@dataclass
class App:
    """One ``doorstep serve`` node: ``lanes`` (devices and staff) or ``residents``."""

    name: str
    kind: str
    port: int
    pid: int | None = None


@dataclass
class City:
    root: Path
    edge: int  # HAProxy's HTTP front
    pg_primary: int  # HAProxy: to whichever node is primary
    pg_standby: int  # HAProxy: to a replica
    pooler: int  # PgBouncer
    apps: list[App]
    haproxy_pid: int | None = None
    pgbouncer_pid: int | None = None
    home: str = ""
    demo: bool = False
    archive: bool = True
    extra_env: dict[str, str] = field(default_factory=dict)

    # Building ---------------------------------------------------------------------------------

    @classmethod
    def create(
        cls, root: Path, *, lanes: int = 2, residents: int = 1, archive: bool = True
    ) -> City:
        """A new city's folder, its database cluster's configuration and its own (nothing is
        started). With ``archive``, every database node archives its WAL into a pgBackRest
        repository under the cluster's folder (``ha.backup``), and a full backup is taken
        when the city starts."""
        check_installed()
        root = root.resolve()
        if (root / STATE).exists():
            raise FileExistsError(f"A city already lives in {root}; remove it first.")
        root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            # The database's processes run as postgres, which must enter the city's folder.
            root.chmod(0o711)
        if archive:
            Backups.create_cluster(root / "db")
        else:
            Cluster.create(root / "db")
        ports = free_ports(4 + lanes + residents)
        apps = [App(f"lane{n + 1}", "lanes", ports[4 + n]) for n in range(lanes)]
        apps += [App(f"res{n + 1}", "residents", ports[4 + lanes + n]) for n in range(residents)]
        city = cls(root, ports[0], ports[1], ports[2], ports[3], apps, home=str(root / "home"))
        city.archive = archive
        Path(city.home).mkdir(parents=True, exist_ok=True)
        city.save()
        return city

    @classmethod
    def load(cls, root: Path) -> City:
        state = json.loads((root.resolve() / STATE).read_text())
        state["root"] = Path(state["root"])
        state["apps"] = [App(**a) for a in state["apps"]]
        return cls(**state)

    def save(self) -> None:
        state = asdict(self)
        state["root"] = str(self.root)
        (self.root / STATE).write_text(json.dumps(state, indent=2))

    @property
    def cluster(self) -> Cluster:
        return Cluster.load(self.root / "db")

    def app(self, name: str) -> App:
        for app in self.apps:
            if app.name == name:
                return app
        raise KeyError(f"No node {name!r}; the nodes are {', '.join(a.name for a in self.apps)}.")

    # Configuration ----------------------------------------------------------------------------

    def haproxy_config(self) -> str:
        cluster = self.cluster
        pages = EDGE_PAGES
        lanes = [a for a in self.apps if a.kind == "lanes"]
        residents = [a for a in self.apps if a.kind == "residents"]

        def servers(apps: list[App], slots: int) -> str:
            return "\n".join(
                f"    server {a.name} 127.0.0.1:{a.port} check maxconn {slots}" for a in apps
            )

        def databases() -> str:
            return "\n".join(
                f"    server {n.name} 127.0.0.1:{n.port} check port {n.api}" for n in cluster.nodes
            )

        # Two open files a connection (client and server side), within this machine's limit.
        maxconn = min(9000, (resource.getrlimit(resource.RLIMIT_NOFILE)[1] - 200) // 2)
        return f"""# Written by doorstep.ha.city: the edge, and the way to the database's primary.
global
    maxconn {maxconn}
    stats socket {self.root}/haproxy.sock mode 600 level admin
    # At most 64 headers in a 16 KB buffer: a bigger request head is answered 400.
    tune.bufsize 16384
    tune.http.maxhdr 64
    log stdout format short local0 warning

defaults
    log global
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    # The whole request head (and a body that fits the buffer) within 5 s: a slow client is
    # answered 408 and closed.
    timeout http-request 5s
    timeout http-keep-alive 10s
    timeout queue 5s
    timeout check 2s
    # What the edge answers itself, in words a resident can act on (doorstep/ha/edge/).
    errorfile 408 {pages}/408.http
    errorfile 503 {pages}/503.http

# --- the edge ------------------------------------------------------------------------------

cache assets
    # Scripts and styles, cached at the edge: a flood's page loads never reach a node for them.
    total-max-size 32
    max-object-size 1048576
    max-age 600
    process-vary on

# Keyed by address: an IPv4 address, or an IPv6 client's /64 (what one subscriber gets).
backend per_address
    stick-table type ipv6 size 200k expire 2m store conn_cur

backend residents_rate
    stick-table type ipv6 size 200k expire 1m store http_req_rate(10s)

backend staff_rate
    stick-table type ipv6 size 200k expire 1m store http_req_rate(10s)

frontend edge
    mode http
    bind 127.0.0.1:{self.edge}
    maxconn {maxconn}
    option httplog
    option dontlog-normal
    tcp-request connection track-sc0 src,ipmask(32,64) table per_address
    tcp-request connection reject if {{ sc0_conn_cur(per_address) gt {CONNECTIONS_PER_ADDRESS} }}
    # A body that fits the buffer is read by the edge before a node sees the request (and a
    # device's request can then be sent again, below); a bigger one from anyone but a device
    # (a staff upload, or someone posing as one) goes to the uploads backend, which may hold
    # only {UPLOAD_SLOTS} of each node's threads, however slowly it is sent.
    option http-buffer-request
    # The client's address for the residents' limits and the sign-in throttle: whatever the
    # client wrote (either spelling) is dropped, the edge writes what it saw; Doorstep
    # believes only that (DOORSTEP_TRUSTED_PROXIES).
    http-request del-header ^x[-_]forwarded[-_]for$ -m reg
    option forwardfor
    # Paths as Django routes them (percent-decoded): /status%2Fme/ is the residents' too.
    acl residents path,url_dec -m str /status/ /status/me/ /needs/ask/ /status /status/me /needs/ask
    acl devices path_beg /api/
    acl device_token req.hdr(authorization) -m beg "Bearer "
    acl assets path_beg /static/
    acl big req.hdr_val(content-length) gt 15000
    http-request track-sc1 src,ipmask(32,64) table residents_rate if residents
    # Everything else but a device's: generous (a command centre's screens poll from one
    # address), but one address cannot keep the staff slots busy alone.
    http-request track-sc2 src,ipmask(32,64) table staff_rate if !residents !device_token
    http-request deny deny_status 429 if !residents !device_token {{ sc2_http_req_rate(staff_rate) gt {STAFF_PER_10S} }}
    http-request deny deny_status 429 errorfile {pages}/429.http if residents {{ sc1_http_req_rate(residents_rate) gt {RESIDENTS_PER_10S} }}
    # Cached without the query: a random query string cannot make every request a miss.
    http-request set-uri %[path] if assets
    http-request set-var(txn.asset) bool(true) if assets
    http-request cache-use assets if assets
    http-response cache-store assets if {{ var(txn.asset) -m bool }}
    use_backend residents if residents
    use_backend devices if devices device_token
    use_backend uploads if big !device_token
    default_backend staff

backend residents
    mode http
    balance leastconn
    # A resident who waits 2 s for a free slot is told to come back: the queue stays short.
    timeout queue 2s
    errorfile 503 {pages}/503.http
{CHECKS}
    retry-on conn-failure
    option redispatch 1
{servers(residents, RESIDENT_SLOTS)}

backend devices
    mode http
    balance leastconn
{CHECKS}
    # A scanner's batch carries its events' UUIDs: sending it again is safe (a duplicate), so
    # a request whose node died before answering goes to another node. A 503 (the database
    # moving) goes back to the device, which waits as it is told before resending.
    retries 3
    retry-on conn-failure empty-response
    option redispatch 1
    timeout queue 10s
{servers(lanes, DEVICE_SLOTS)}

backend staff
    mode http
    balance leastconn
{CHECKS}
    # A form is sent again only when it never reached a node.
    retry-on conn-failure
    option redispatch 1
    timeout queue 10s
{servers(lanes, STAFF_SLOTS)}

backend uploads
    mode http
    balance leastconn
{CHECKS}
    retry-on conn-failure
    option redispatch 1
    timeout queue 30s
    timeout server 300s
{servers(lanes, UPLOAD_SLOTS)}

# --- the database ----------------------------------------------------------------------------

listen pg_primary
    mode tcp
    bind 127.0.0.1:{self.pg_primary}
    timeout client 30m
    timeout server 30m
    option httpchk OPTIONS /primary
    http-check expect status 200
    # A node that stops being the primary has its sessions cut: nothing writes to a demoted one.
    default-server inter 1s fall 2 rise 1 on-marked-down shutdown-sessions
{databases()}

listen pg_standby
    mode tcp
    bind 127.0.0.1:{self.pg_standby}
    timeout client 30m
    timeout server 30m
    # Every pooled connection to the same replica (the first that answers), so that the lag
    # check (core.standby) and the reads it allows meet the same one.
    balance first
    option httpchk OPTIONS /replica
    http-check expect status 200
    default-server inter 1s fall 2 rise 1 on-marked-down shutdown-sessions
{databases()}
"""

    def pgbouncer_config(self) -> str:
        return f"""; Written by doorstep.ha.city.
[databases]
doorstep = host=127.0.0.1 port={self.pg_primary} dbname=doorstep
doorstep_standby = host=127.0.0.1 port={self.pg_standby} dbname=doorstep

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {self.pooler}
unix_socket_dir =
auth_type = trust
auth_file = {self.root}/userlist.txt
admin_users = postgres
pool_mode = transaction
max_client_conn = 1000
default_pool_size = {POOL_SIZE}
reserve_pool_size = 5
; After a failover the primary's address answers again within seconds: retry each second,
; not after PgBouncer's default 15 s.
server_login_retry = 1
server_connect_timeout = 3
; A client waiting for a server connection longer than this is told so (the request is
; answered 503 and resent), instead of hanging for PgBouncer's default 120 s.
query_wait_timeout = 10
ignore_startup_parameters = extra_float_digits
logfile = {self.root}/pgbouncer.log
pidfile = {self.root}/pgbouncer.pid
"""

    # Processes --------------------------------------------------------------------------------

    def start(self, timeout: float = 120, prepare: Callable[[City], None] | None = None) -> None:
        """The database cluster, the edge and the pooler; ``prepare`` (a town to serve); then
        every app node, until the edge sees them all."""
        cluster = self.cluster
        cluster.start(timeout=timeout)
        cluster.create_database("doorstep")
        if self.archive:
            backups = Backups.of(cluster)
            backups.setup()
            backups.backup("full")
        self.start_haproxy()
        self.start_pgbouncer()
        self.wait_pooler(60)
        self.migrate()
        if prepare is not None:
            prepare(self)
        for app in self.apps:
            self.start_app(app)
        for app in self.apps:
            self.wait_app(app)
        self.wait_up(timeout=60)

    def wait_up(self, timeout: float = 30) -> None:
        """Until the edge sees every running node, and the primary, up."""
        running = [a for a in self.apps if a.pid is not None]
        primary = self.cluster.primary()
        self.wait_edge(
            {
                "devices": {a.name for a in running if a.kind == "lanes"},
                "residents": {a.name for a in running if a.kind == "residents"},
                "pg_primary": {primary.name} if primary else set(),
            },
            timeout,
        )

    def _spawn(self, argv: list[str], log: str, *, as_postgres: bool = False, **extra: Any) -> int:
        user: dict[str, Any] = {}
        env = dict(extra.pop("env", os.environ))
        if as_postgres and os.geteuid() == 0:
            entry = pwd.getpwnam("postgres")
            user = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
            env["HOME"] = entry.pw_dir
        with open(self.root / log, "ab") as out:
            process = subprocess.Popen(
                argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.root,
                env=env,
                start_new_session=True,
                **user,
                **extra,
            )
        return process.pid

    def start_haproxy(self) -> None:
        config = self.root / "haproxy.cfg"
        config.write_text(self.haproxy_config())
        haproxy = _program("haproxy")
        assert haproxy is not None
        checked = subprocess.run([haproxy, "-c", "-q", "-f", str(config)], capture_output=True)
        if checked.returncode != 0:
            raise NotReady(f"HAProxy refused {config}: {checked.stderr.decode()[-2000:]}")
        self.haproxy_pid = self._spawn([haproxy, "-db", "-f", str(config)], "haproxy.log")
        self.save()
        self._wait_port(self.edge, 20, "HAProxy did not start (haproxy.log)")

    def start_pgbouncer(self) -> None:
        (self.root / "pgbouncer.ini").write_text(self.pgbouncer_config())
        (self.root / "userlist.txt").write_text('"postgres" ""\n')
        if os.geteuid() == 0:
            entry = pwd.getpwnam("postgres")
            for name in ("pgbouncer.ini", "userlist.txt"):
                os.chown(self.root / name, entry.pw_uid, entry.pw_gid)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
            with contextlib.suppress(FileNotFoundError):
                os.chown(self.root / "pgbouncer.log", entry.pw_uid, entry.pw_gid)
        pgbouncer = _program("pgbouncer")
        assert pgbouncer is not None
        self.pgbouncer_pid = self._spawn(
            [pgbouncer, str(self.root / "pgbouncer.ini")], "pgbouncer.out", as_postgres=True
        )
        self.save()
        self._wait_port(self.pooler, 20, "PgBouncer did not start (pgbouncer.log)")

    def wait_pooler(self, timeout: float) -> None:
        """Until a query through PgBouncer reaches the primary."""
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            try:
                with psycopg.connect(self.url(), autocommit=True, connect_timeout=3) as connection:
                    connection.execute("SELECT 1")
                    return
            except psycopg.Error as exc:
                last = exc
                time.sleep(0.3)
        raise NotReady(f"PgBouncer did not reach the primary within {timeout:.0f} s: {last}")

    def env(self) -> dict[str, str]:
        """What every app node runs with."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DOORSTEP_", "DATABASE_"))}
        env |= {
            "DOORSTEP_HOME": self.home,
            "DOORSTEP_SECRET_KEY": drill.SECRET_KEY,
            "DATABASE_URL": self.url(),
            "DATABASE_STANDBY_URL": self.url("doorstep_standby"),
            "DOORSTEP_PGBOUNCER": "1",
            "DOORSTEP_TRUSTED_PROXIES": "127.0.0.1",
            **self.extra_env,
        }
        return env

    def direct_env(self) -> dict[str, str]:
        """For commands that change the schema or build a town: straight to the primary
        (migrations hold a session-long connection, which transaction pooling does not)."""
        env = self.env()
        env.pop("DATABASE_STANDBY_URL")
        env.pop("DOORSTEP_PGBOUNCER")
        env["DATABASE_URL"] = self.cluster.url("doorstep")
        return env

    def url(self, database: str = "doorstep") -> str:
        return f"postgres://postgres@127.0.0.1:{self.pooler}/{database}"

    def migrate(self) -> None:
        _doorstep(["migrate", "-v0"], self.direct_env())

    def start_app(self, app: App) -> None:
        argv = [DOORSTEP, "serve", "--port", str(app.port), "--workers", "1"]
        argv += ["--threads", str(RESIDENT_SLOTS + 1 if app.kind == "residents" else LANE_THREADS)]
        if self.demo:
            argv.append("--demo")
        if app.kind == "residents":
            # On one machine, lanes first: the residents' node runs only on CPU the rest leave
            # idle (SCHED_IDLE). On the city's machines it is a machine of its own.
            argv = ["chrt", "--idle", "0", *argv]
        env = self.env() | {"DOORSTEP_NODE_ROLE": app.kind}
        if app.kind == "residents":
            # The outbox is sent and the counters folded by the lane nodes.
            env |= {"DOORSTEP_SMS_SENDER_THREAD": "0"}
        app.pid = self._spawn(argv, f"{app.name}.log", env=env)
        self.save()

    def wait_app(self, app: App, timeout: float = 60) -> None:
        self._wait_port(app.port, timeout, f"{app.name} did not start ({app.name}.log)")

    def kill_app(self, app: App) -> None:
        """What a dead app machine does: its server and every worker, SIGKILL."""
        if app.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(app.pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(app.pid, 0)
        app.pid = None
        self.save()

    def stop(self) -> None:
        for app in self.apps:
            self.kill_app(app)
        for pid in (self.pgbouncer_pid, self.haproxy_pid):
            if pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)
        self.pgbouncer_pid = self.haproxy_pid = None
        self.save()
        with contextlib.suppress(FileNotFoundError):
            self.cluster.stop()

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    # Reading its state ------------------------------------------------------------------------

    def edge_servers(self) -> list[dict[str, str]]:
        """HAProxy's view of every server it sends to: backend, server, status (UP, DOWN...)."""
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.connect(str(self.root / "haproxy.sock"))
                s.sendall(b"show stat\n")
                data = b""
                while chunk := s.recv(65536):
                    data += chunk
        except OSError:
            return []
        rows = csv.DictReader(io.StringIO(data.decode().lstrip("# ")))
        return [
            {"backend": r["pxname"], "server": r["svname"], "status": r["status"]}
            for r in rows
            if r["svname"] not in {"FRONTEND", "BACKEND"}
        ]

    def wait_edge(self, up: dict[str, set[str]], timeout: float = 30) -> None:
        """Until the edge sees exactly the servers ``up`` names UP in each backend."""
        deadline = time.monotonic() + timeout
        seen: dict[str, set[str]] = {}
        while time.monotonic() < deadline:
            seen = {}
            for row in self.edge_servers():
                if row["status"].startswith("UP"):
                    seen.setdefault(row["backend"], set()).add(row["server"])
            if all(seen.get(backend, set()) == names for backend, names in up.items()):
                return
            time.sleep(0.2)
        raise NotReady(f"the edge did not see {up} within {timeout:.0f} s: {seen}")

    def _wait_port(self, port: int, timeout: float, message: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                return
            time.sleep(0.1)
        raise NotReady(message)

    def alive(self) -> dict[str, bool]:
        found = {"haproxy": _alive(self.haproxy_pid), "pgbouncer": _alive(self.pgbouncer_pid)}
        return found | {a.name: _alive(a.pid) for a in self.apps}


def _doorstep(args: list[str], env: dict[str, str], timeout: float = 900) -> str:
    done = subprocess.run(
        [DOORSTEP, *args], env=env, capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0:
        raise RuntimeError(f"doorstep {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout
