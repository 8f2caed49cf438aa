"""A failover drill against ``doorstep serve``: scanners post through the server while a node
is killed, resending what was not answered with the same UUIDs, as the lane page's outbox
does; afterwards every answered event must be in the database once, a replay of every
device's whole log must create nothing, and the counters must equal a count of the rows.

Used by the failover test (one kill, in ``make test``) and ``bench/failover.py`` (the long
runs and the asynchronous control). It drives Doorstep from outside, through its commands and
its HTTP API, like a deployment would be.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import http.client
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from doorstep.ha.cluster import Cluster, free_ports

DOORSTEP = str(Path(sys.executable).parent / "doorstep")
# The drills' secret key: every process of one drill (commands, server nodes) must share it.
SECRET_KEY = "drill-only-" + "d" * 40
POOL = 10
DRILL_SITE = "演练采样点"

Event = dict[str, object]


def doorstep(args: list[str], env: dict[str, str], timeout: float = 600) -> str:
    done = subprocess.run(
        [DOORSTEP, *args], env=env, capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0:
        raise RuntimeError(f"doorstep {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


@dataclass
class Town:
    """A demo town on the cluster, with a drill site whose every lane has a device token."""

    env: dict[str, str]
    lanes: list[str]
    tokens: dict[str, str]
    people: list[str]  # person codes nobody has scanned, in 10-in-1 or 20-in-1 zones

    def take(self, n: int) -> list[str]:
        if n > len(self.people):
            raise RuntimeError(f"the demo town has {len(self.people)} people left; {n} needed")
        taken, self.people = self.people[:n], self.people[n:]
        return taken


def environment(cluster: Cluster, home: Path, standby: bool = True) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOORSTEP_", "DATABASE_"))}
    env |= {
        "DOORSTEP_HOME": str(home),
        "DOORSTEP_SECRET_KEY": SECRET_KEY,
        "DATABASE_URL": cluster.url("doorstep"),
    }
    standbys = [n for n in cluster.standbys() if n not in cluster.sync_standbys()]
    if standby and standbys:
        env["DATABASE_STANDBY_URL"] = cluster.node_url(standbys[0])
    return env


def prepare(cluster: Cluster, home: Path, residents: int = 800, lanes: int = 12) -> Town:
    """Migrate, build a demo town, open a drill site with ``lanes`` lanes, a token for each."""
    home.mkdir(parents=True, exist_ok=True)
    cluster.create_database("doorstep")
    env = environment(cluster, home)
    doorstep(["migrate", "-v0"], env)
    doorstep(["demo", "--residents", str(residents), "--no-serve"], env)
    script = (
        "import json;from doorstep.api.actions import issue_token;from doorstep.core.models import User;"
        "from doorstep.territory.models import Community, Resident;"
        "from doorstep.campaigns.models import CampaignBuilding;"
        "from doorstep.sampling.actions import create_site;"
        "from doorstep.sampling.models import RoundSample;"
        "u=User.objects.get(username='registrar');u.communities.set(Community.objects.all());"
        "c=Community.objects.order_by('pk')[0];"
        f"lanes=list(create_site(c, {DRILL_SITE!r}, lanes={lanes}).lanes.order_by('pk'));"
        "open_=CampaignBuilding.objects.filter(campaign__status='active',campaign__is_drill=False,campaign__town_id=c.town_id,zone__in=['prevention','controlled']).values('building_id');"
        "people=list(Resident.objects.filter(household__unit__building_id__in=open_,moved_out=False)"
        ".exclude(pk__in=RoundSample.objects.filter(campaign__status='active').values('resident_id')).values_list('person_code',flat=True));"
        "print(json.dumps([[l.code for l in lanes],{l.code: issue_token(u, lane=l)[1] for l in lanes},people]))"
    )
    codes, tokens, people = json.loads(doorstep(["shell", "-c", script], env).splitlines()[-1])
    return Town(env, codes, tokens, people)


def tube_batches(town: Town, lane: str, prefix: str, tubes: int, size: int) -> list[list[Event]]:
    """``tubes`` tubes of ten at ``lane`` (open, people, seal), cut into requests of ``size``
    events (1: one event a request)."""
    at = dt.datetime.now(dt.UTC).isoformat()
    events: list[Event] = []
    for n in range(tubes):
        # 12 characters or more: never a person's or a worker's code by chance.
        tube = f"{prefix}T{n:08d}"
        events.append({"type": "tube.open", "lane": lane, "tube": tube, "pool": POOL})
        events += [{"type": "tube.add", "tube": tube, "person": p} for p in town.take(POOL)]
        events.append({"type": "tube.seal", "tube": tube})
    for event in events:
        event |= {"id": str(uuid.uuid4()), "at": at}
    return [events[i : i + size] for i in range(0, len(events), size)]


# The server ---------------------------------------------------------------------------------


@dataclass
class Server:
    port: int
    process: subprocess.Popen[bytes]

    def kill(self) -> None:
        """SIGKILL to the server and its workers (its own process group)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


def serve(env: dict[str, str], log: Path, workers: int = 1, port: int | None = None) -> Server:
    port = port or free_ports(1)[0]
    with open(log, "ab") as out:
        process = subprocess.Popen(
            [DOORSTEP, "serve", "--port", str(port), "--workers", str(workers), "--demo"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    for _ in range(300):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return Server(port, process)
        except OSError:
            time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    raise RuntimeError(f"doorstep serve did not start (see {log})")


# Devices ------------------------------------------------------------------------------------


@dataclass
class Answered:
    at: float  # when the answer came (monotonic)
    seconds: float  # from the first try of the request to its answer
    accepted: int


@dataclass
class Device:
    """A scanner: posts its requests in order; a request that fails (no answer, 503) is sent
    again with the same events until it is answered, or until the drill ends."""

    port: int
    token: str
    requests: list[list[Event]]
    pace: float = 0.0  # requests a second (0: each as soon as the last is answered)
    acknowledged: set[str] = field(default_factory=set)
    answered: list[Answered] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    failures: int = 0
    sent: int = 0

    def run(self, stop: threading.Event) -> None:
        connection: http.client.HTTPConnection | None = None
        due = time.monotonic()
        for request in self.requests:
            if self.pace:
                due += 1 / self.pace
                if due > time.monotonic():
                    time.sleep(due - time.monotonic())
            first = time.monotonic()
            body = json.dumps({"events": request})
            while not stop.is_set():
                try:
                    if connection is None:
                        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                    connection.request(
                        "POST",
                        "/api/v1/events",
                        body,
                        {
                            "Authorization": f"Bearer {self.token}",
                            "Content-Type": "application/json",
                        },
                    )
                    response = connection.getresponse()
                    data = response.read()
                except (OSError, http.client.HTTPException):
                    connection = None
                    self.failures += 1
                    time.sleep(0.2)
                    continue
                if response.status != 200:
                    self.failures += 1
                    time.sleep(0.2)
                    continue
                answers = json.loads(data)["results"]
                now = time.monotonic()
                accepted = 0
                for answer in answers:
                    if answer["status"] in {"accepted", "duplicate"}:
                        self.acknowledged.add(str(answer["id"]))
                        accepted += answer["status"] == "accepted"
                    else:
                        self.refused.append(json.dumps(answer, ensure_ascii=False)[:200])
                self.answered.append(Answered(now, now - first, accepted))
                self.sent += 1
                break
            if stop.is_set():
                return


@dataclass
class Pages:
    """Someone watching the public status page while the drill runs: every answer must be a
    page or a 503 that says when to try again, never a server error."""

    port: int
    statuses: list[int] = field(default_factory=list)
    without_retry_after: int = 0

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                connection.request("GET", "/status/")
                response = connection.getresponse()
                response.read()
                self.statuses.append(response.status)
                if response.status == 503 and not response.getheader("Retry-After"):
                    self.without_retry_after += 1
                connection.close()
            except (OSError, http.client.HTTPException):
                self.statuses.append(0)
            time.sleep(0.25)


@dataclass
class Resident:
    """A resident's phone, from an address of its own (one of 127.0.0.0/8): every ``every``
    seconds it opens the public site status, or, with ``lookup`` (a person code and a document
    tail), looks up its own status as the form does (the page, then the form posted with its
    CSRF token). Counts each answer's status, and the 429s and 503s that carry the edge's page
    (what a resident must see when shed) apart from any other."""

    port: int
    address: str
    every: float
    lookup: tuple[str, str] | None = None
    statuses: dict[int, int] = field(default_factory=dict)
    edge_pages: int = 0  # 429/503 answers with the edge's page and a Retry-After
    sent: int = 0
    last: http.client.HTTPResponse | None = None

    def _get(self, connection: http.client.HTTPConnection, path: str, **extra: Any) -> bytes:
        connection.request(extra.pop("method", "GET"), path, **extra)
        response = connection.getresponse()
        data = response.read()
        self.statuses[response.status] = self.statuses.get(response.status, 0) + 1
        self.sent += 1
        if response.status in {429, 503} and response.getheader("Retry-After"):
            self.edge_pages += "查询的人太多了".encode() in data
        if response.getheader("Connection", "").lower() == "close":
            connection.close()
        self.last = response
        return data

    def run(self, stop: threading.Event) -> None:
        due = time.monotonic()
        while not stop.is_set():
            connection = http.client.HTTPConnection(
                "127.0.0.1", self.port, timeout=30, source_address=(self.address, 0)
            )
            try:
                if self.lookup is None:
                    self._get(connection, "/status/")
                else:
                    page = self._get(connection, "/status/me/")
                    token = _csrf(page)
                    cookie = ""
                    if self.last is not None:
                        cookie = self.last.getheader("Set-Cookie", "").split(";", 1)[0]
                    if token and cookie:
                        code, tail = self.lookup
                        self._get(
                            connection,
                            "/status/me/",
                            method="POST",
                            body=f"code={code}&document={tail}&csrfmiddlewaretoken={token}",
                            headers={
                                "Content-Type": "application/x-www-form-urlencoded",
                                "Cookie": cookie,
                                "Referer": f"http://127.0.0.1:{self.port}/status/me/",
                            },
                        )
            except (OSError, http.client.HTTPException):
                self.statuses[0] = self.statuses.get(0, 0) + 1
            finally:
                connection.close()
            due += self.every
            if due > time.monotonic():
                stop.wait(due - time.monotonic())
            else:
                due = time.monotonic()


def _csrf(page: bytes) -> str:
    marker = b'name="csrfmiddlewaretoken" value="'
    start = page.find(marker)
    if start < 0:
        return ""
    start += len(marker)
    return page[start : page.index(b'"', start)].decode()


def resident_address(n: int) -> str:
    """The ``n``-th resident's own loopback address (127.1.0.0 upwards)."""
    return f"127.{1 + n // 64516}.{n // 254 % 254 + 1}.{n % 254 + 1}"


def run_all(runners: list[Any], stop: threading.Event) -> list[threading.Thread]:
    threads = [threading.Thread(target=r.run, args=(stop,), daemon=True) for r in runners]
    for thread in threads:
        thread.start()
    return threads


# Afterwards ---------------------------------------------------------------------------------


def stored(cluster: Cluster, ids: set[str]) -> tuple[set[str], int]:
    """Of ``ids``, those the primary has; and how many device events it holds in all."""
    with cluster.connect(database="doorstep") as connection:
        found = {
            str(u)
            for (u,) in connection.execute(
                "SELECT client_uuid FROM sampling_deviceevent WHERE client_uuid = ANY(%s::uuid[])",
                [sorted(ids)],
            )
        }
        (total,) = connection.execute("SELECT count(*) FROM sampling_deviceevent").fetchone()  # type: ignore[misc]
    return found, int(total)


def doubled(cluster: Cluster) -> int:
    """People in tubes more than once without a reason (a scan applied twice)."""
    with cluster.connect(database="doorstep") as connection:
        (extra,) = connection.execute(
            "SELECT count(*) - count(DISTINCT resident_id) FROM sampling_tubemember "
            "WHERE resident_id IS NOT NULL AND override_reason = ''"
        ).fetchone()  # type: ignore[misc]
    return int(extra)


def replay(port: int, devices: list[Device]) -> tuple[set[str], int]:
    """Every device sends its whole log again: the statuses seen, and events accepted anew."""
    statuses: set[str] = set()
    accepted = 0
    for device in devices:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for request in device.requests:
            connection.request(
                "POST",
                "/api/v1/events",
                json.dumps({"events": request}),
                {"Authorization": f"Bearer {device.token}", "Content-Type": "application/json"},
            )
            response = connection.getresponse()
            answers = json.loads(response.read())["results"]
            statuses |= {a["status"] for a in answers}
            accepted += sum(a["status"] == "accepted" for a in answers)
    return statuses, accepted


def counters_agree(env: dict[str, str]) -> dict[str, int]:
    """After a fold: people in tubes, residents sampled, and the campaign's counter of people
    (the three must be equal)."""
    script = (
        "import json;from django.db.models import Sum;from doorstep.sampling import tally;"
        "from doorstep.sampling.models import RoundSample,Scope,Tally,TubeMember;tally.fold(wait=True);"
        "print(json.dumps({'members':TubeMember.objects.count(),'sampled':RoundSample.objects.filter(campaign__status='active').count(),"
        "'counter':Tally.objects.filter(scope=Scope.CAMPAIGN).aggregate(n=Sum('people'))['n'] or 0}))"
    )
    env = {k: v for k, v in env.items() if k != "DATABASE_STANDBY_URL"}
    return json.loads(doorstep(["shell", "-c", script], env).splitlines()[-1])  # type: ignore[no-any-return]


def longest_silence(devices: list[Device], since: float, until: float) -> float:
    """The longest time, between ``since`` and ``until``, in which no device had an event
    accepted: how long writes stopped."""
    moments = sorted(
        a.at for d in devices for a in d.answered if a.accepted and since <= a.at <= until
    )
    edges = [since, *moments, until]
    return max(b - a for a, b in itertools.pairwise(edges))


def until(done: Any, seconds: float, message: str) -> None:
    """Wait until ``done()`` is true, or fail the drill with ``message`` after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if done():
            return
        time.sleep(0.1)
    raise AssertionError(message)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * q) - 1)] if ordered else float("nan")


def latencies(devices: list[Device], since: float, until: float) -> Iterator[float]:
    for device in devices:
        for answer in device.answered:
            if since <= answer.at < until:
                yield answer.seconds
