"""Telling residents through the real SMS gateway: the issue's targets, measured with Kannel
(bearerbox, smsbox and its fake SMS centre) on this machine and delivery reports coming back to
a real Doorstep server (`doorstep serve`, granian) over loopback.

    .venv/bin/python bench/sms.py [--messages 1000] [--senders 2] [--outage-minutes 10]
                                  [--outage-real-seconds 20] [--json PATH]

A fresh SQLite database in a temporary DOORSTEP_HOME (as `bench/tower_field.py`), one community
with buildings of 20 residents (10 households of 2), a running round, a lane with its registrar
on duty. Tubes are filled, sealed, boxed and received through the device-event engine
(`sampling.ingest`), and results recorded by `lab.actions.results.record`, so the notices and
messages are the ones a real positive pool makes. This process is the only sender
(`notices.sender.send_due`, with the gateway's sendsms URL); the server only takes the delivery
reports (DOORSTEP_SMS_SENDER_THREAD=0). Three parts:

1. A positive pool of 20: 17 with a phone, 1 on the prefix the gateway refuses, 2 with none.
   Real time from the result to the last member told (delivered) or sent to the door, then the
   15-minute sweep (`actions.escalate_due(result + 15 min)`): how each member ended.
2. N messages (positive pools of 20, one result file): the rate the sender hands them to the
   gateway, the time from the result to the last delivery report, CPU-seconds per message of
   this process (sending), of the server (reports) and of Kannel, and duplicates at the fake
   SMS centre. Then, with --senders K > 1, N more with K sender threads at once (the claims).
   Beside it, baselines in the same run: sendsms straight to Kannel (no database), without
   and with delivery reports, one at a time and 4 at a time.
3. An outage: 200 messages queued, bearerbox stopped, the sender run through a *simulated*
   outage (its clock, `send_due(now=...)`, advanced in 5 s steps over --outage-minutes, so the
   backoff schedule is exercised) while bearerbox is really down for at least
   --outage-real-seconds; bearerbox started; the sender goes on (simulated clock) until the
   queue is empty. Lost (never delivered), duplicates at the fake SMS centre, tries, drain time.

Prints a table, writes JSON with --json. Exits 1 if a target is not met. Kannel and the server
are stopped at the end, whatever happens.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
HOME = Path(tempfile.mkdtemp(prefix="doorstep-bench-sms-"))
SERVER_PORT = _free_port()
os.environ["DOORSTEP_HOME"] = str(HOME)
os.environ["DOORSTEP_SECRET_KEY"] = secrets.token_urlsafe(50)
os.environ["DOORSTEP_SMS_CALLBACK_URL"] = f"http://127.0.0.1:{SERVER_PORT}"
os.environ["DOORSTEP_SMS_SENDER_THREAD"] = "0"
os.environ["DOORSTEP_SMS_URL"] = ""
os.environ.pop("DOORSTEP_DEBUG", None)
os.environ.pop("DATABASE_URL", None)
os.environ["DJANGO_SETTINGS_MODULE"] = "doorstep.settings"

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Max, Sum  # noqa: E402
from django.utils import timezone  # noqa: E402

from doorstep.campaigns.models import Campaign  # noqa: E402
from doorstep.core import clocks  # noqa: E402
from doorstep.core.models import User  # noqa: E402
from doorstep.core.roles import Role  # noqa: E402
from doorstep.lab.actions import results  # noqa: E402
from doorstep.notices import actions, sender  # noqa: E402
from doorstep.notices import gateway as sendsms  # noqa: E402
from doorstep.notices.gateway import DLR_MASK  # noqa: E402
from doorstep.notices.models import Message, MessageState, Notice  # noqa: E402
from doorstep.sampling import ingest  # noqa: E402
from doorstep.sampling.models import Lane, Tube  # noqa: E402
from doorstep.smsgw.kannel import PARTS, Gateway  # noqa: E402
from doorstep.smsgw.testing import DlrReceiver  # noqa: E402
from doorstep.territory.models import Community, Resident  # noqa: E402
from doorstep.testing import (  # noqa: E402
    make_building,
    make_campaign,
    make_community,
    make_household,
    make_lane,
    make_lane_team,
    make_resident,
    make_user,
)

FAILING_PREFIX = "1990"
POOL = 20
OUTAGE_MESSAGES = 200
STEP = dt.timedelta(seconds=5)  # the simulated sender's clock ticks
DOORSTEP = str(Path(sys.executable).with_name("doorstep"))
TICKS = os.sysconf("SC_CLK_TCK")


# Processes' CPU ----------------------------------------------------------------------------------


def group_cpu(pgid: int | None) -> float:
    """CPU-seconds (user + system) of the live processes of a process group, from /proc."""
    if pgid is None:
        return 0.0
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[2]) == pgid:
            total += int(fields[11]) + int(fields[12])
    return total / TICKS


@dataclass
class Meters:
    """CPU of this process, of the server and of Kannel, from one moment."""

    server: subprocess.Popen[bytes]
    gateway: Gateway
    wall: float = 0.0
    own: float = 0.0
    served: float = 0.0
    kannel: float = 0.0

    def start(self) -> Meters:
        self.wall, self.own = time.perf_counter(), time.process_time()
        self.served = group_cpu(self.server.pid)
        self.kannel = sum(group_cpu(self.gateway.groups.get(p)) for p in PARTS)
        return self

    def since(self) -> dict[str, float]:
        return {
            "wall_s": time.perf_counter() - self.wall,
            "doorstep_sender_cpu_s": time.process_time() - self.own,
            "doorstep_server_cpu_s": group_cpu(self.server.pid) - self.served,
            "kannel_cpu_s": sum(group_cpu(self.gateway.groups.get(p)) for p in PARTS) - self.kannel,
        }


# The world ---------------------------------------------------------------------------------------


@dataclass
class World:
    community: Community
    campaign: Campaign
    lane: Lane
    registrar: User
    lab: User
    pools: Iterator[list[Resident]]
    tubes: Iterator[str] = field(default_factory=lambda: (f"21122{n:05d}" for n in range(1, 99999)))
    boxes: Iterator[str] = field(default_factory=lambda: (f"SMSBOX{n:04d}" for n in range(1, 9999)))


def phone_of(n: int) -> str:
    return f"138{n:08d}"


def build(pools: int) -> World:
    """A community of ``pools`` buildings of 20 residents (10 households of 2), each with a
    phone of their own, in a running round, and a lane with its registrar on duty."""
    community = make_community()
    everyone: list[list[Resident]] = []
    for b in range(pools):
        building = make_building(community, f"{b + 1}号楼", position=b + 1)
        people = []
        for h in range(POOL // 2):
            household = make_household(building, f"{h // 2 + 1}0{h % 2 + 1}", f"{h // 4 + 1}单元")
            for i in range(2):
                n = b * POOL + h * 2 + i
                people.append(make_resident(household, f"居民{n}", phone=phone_of(n)))
        everyone.append(people)
    campaign = make_campaign(community)
    registrar = make_user(Role.REGISTRAR, community)
    lab = make_user(Role.LAB, town=community.town)
    lane = make_lane(community)
    make_lane_team(lane, registrar)
    return World(community, campaign, lane, registrar, lab, iter(everyone))


def _event(type_: str, **fields: Any) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "type": type_, "at": timezone.now().isoformat(), **fields}


def _accepted(answers: list[dict[str, Any]]) -> None:
    refused = [a for a in answers if a["status"] not in ("accepted", "duplicate")]
    if refused:
        raise SystemExit(f"the device-event engine refused: {refused[:3]}")


def positive_pools(world: World, count: int) -> tuple[list[Tube], dt.datetime]:
    """``count`` pools of 20 filled and sealed at the lane, boxed, received at the lab, and
    found positive in one results file: the tubes and the moment of the result."""
    codes = []
    for _n in range(count):
        people = next(world.pools)
        code = next(world.tubes)
        events = [_event("tube.open", lane=world.lane.code, tube=code, pool=POOL)]
        events += [_event("tube.add", tube=code, person=p.person_code) for p in people]
        events.append(_event("tube.seal", tube=code))
        _accepted(ingest.apply(world.registrar, events))
        codes.append(code)
    box = next(world.boxes)
    events = [_event("box.open", lane=world.lane.code, box=box)]
    events += [_event("box.add", box=box, tube=code) for code in codes]
    events.append(_event("box.seal", box=box, count=len(codes)))
    _accepted(ingest.apply(world.registrar, events))
    _accepted(ingest.apply(world.lab, [_event("box.receive", box=box, count=len(codes))]))
    at = timezone.now()
    answers = results.record(world.lab, [{"tube": c, "result": "positive"} for c in codes], at)
    _accepted(answers)
    return list(Tube.objects.filter(code__in=codes)), at


# Waiting -----------------------------------------------------------------------------------------


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            print(f"  gave up waiting for {what} after {timeout:.0f} s")
            return False
        time.sleep(0.1)
    return True


def received_by_number(gateway: Gateway) -> Counter[str]:
    return Counter(receiver for receiver, _text in gateway.received())


def passes_at(now: dt.datetime, url: str) -> Iterator[sender.Report]:
    """The sender's passes at one tick of its clock: as its thread, another pass at once while
    a pass was full (``sender.run``)."""
    while True:
        report = sender.send_due(now=now, url=url)
        yield report
        if report.handled < sender.BATCH:
            return


class GatewayClock:
    """Wall time the sender spends inside ``gateway.send`` (the HTTP request to smsbox), the
    rest of its time being its own transactions: where a message's time goes."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.calls = 0
        self.lock = threading.Lock()
        self.real = sendsms.send

    def send(self, *args: Any, **kwargs: Any) -> sendsms.Answer:
        started = time.perf_counter()
        try:
            return self.real(*args, **kwargs)
        finally:
            with self.lock:
                self.seconds += time.perf_counter() - started
                self.calls += 1

    def reset(self) -> None:
        with self.lock:
            self.seconds, self.calls = 0.0, 0


CLOCK = GatewayClock()
sendsms.send = CLOCK.send  # type: ignore[method-assign]


def drain(url: str, senders: int) -> dict[str, int]:
    """Send until the outbox has nothing queued, with ``senders`` threads each running its own
    ``send_due`` loop (its own database connection): what each outcome counted."""
    totals: Counter[str] = Counter()
    lock = threading.Lock()
    errors: list[BaseException] = []

    def loop() -> None:
        try:
            while True:
                report = sender.send_due(url=url)
                with lock:
                    totals.update(
                        accepted=report.accepted,
                        refused=report.refused,
                        retry=report.retry,
                        unknown=report.unknown,
                        passes=1,
                    )
                if (
                    report.handled == 0
                    and not Message.objects.filter(state=MessageState.QUEUED).exists()
                ):
                    return
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)
        finally:
            connection.close()

    if senders == 1:
        loop()
    else:
        threads = [threading.Thread(target=loop) for _ in range(senders)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    if errors:
        raise errors[0]
    return dict(totals)


# The three parts ---------------------------------------------------------------------------------


def pool_of_20(world: World, gateway: Gateway, meters: Meters) -> dict[str, Any]:
    people = next(world.pools)
    # 2 without a phone, 1 on the prefix the gateway refuses.
    for person in people[:2]:
        person.phone = ""
        person.save(update_fields=["phone"])
    people[2].phone = f"{FAILING_PREFIX}0{people[2].phone[-6:]}"
    people[2].save(update_fields=["phone"])
    world.pools = iter([people, *world.pools])
    meters.start()
    [tube], result_at = positive_pools(world, 1)
    notices = Notice.objects.filter(cause_tube=tube)
    sent = drain(gateway.sendsms_url, 1)
    settled = wait_for(
        lambda: not notices.filter(told_at=None, door_at=None).exists(),
        60,
        "every member told or at the door",
    )
    real = meters.since()
    settled_at = [m for n in notices if (m := n.told_at or n.door_at) is not None]
    last = max(settled_at) if settled_at else None
    # The sweep at the 15-minute mark: whatever is still untold becomes a door visit.
    late = actions.escalate_due(result_at + clocks.TELL_WITHIN)
    ways: Counter[str] = Counter()
    for n in notices:
        ways["sms" if n.told_how == "sms" else f"door ({n.door_reason or 'none'})"] += 1
    swept = [n.told_at or n.door_at for n in notices]
    within = all(m is not None and m - result_at <= clocks.TELL_WITHIN for m in swept)
    expected = {"sms": 17, "door (no_phone)": 2, "door (failed)": 1}
    return {
        "members": notices.count(),
        "sender": sent,
        "real_s_result_to_last_told_or_door": (
            round((last - result_at).total_seconds(), 2) if last else None
        ),
        "settled_without_the_sweep": settled,
        "turned_late_by_the_15_min_sweep": late,
        "ended": dict(ways),
        "all_within_15_min": within,
        "met": within and notices.count() == POOL and dict(ways) == expected,
        "cpu": real,
    }


def thousand(
    world: World, gateway: Gateway, meters: Meters, messages: int, senders: int
) -> dict[str, Any]:
    pools = messages // POOL
    t0 = time.perf_counter()
    tubes, result_at = positive_pools(world, pools)
    made = time.perf_counter() - t0
    outbox = Message.objects.filter(notice__cause_tube__in=tubes)
    numbers = set(outbox.values_list("phone", flat=True))
    queued = outbox.count()
    meters.start()
    CLOCK.reset()
    sent = drain(gateway.sendsms_url, senders)
    sending = meters.since()
    in_http = CLOCK.seconds
    delivered = wait_for(
        lambda: outbox.filter(state=MessageState.DELIVERED).count() == queued,
        120,
        f"{queued} delivery reports",
    )
    until_delivered = meters.since()
    time.sleep(1)  # a duplicate would be in by now
    last = outbox.aggregate(Max("delivered_at"))["delivered_at__max"]
    tries = outbox.aggregate(Sum("attempts"))["attempts__sum"] or 0
    states = Counter(outbox.values_list("state", flat=True))
    got = received_by_number(gateway)
    dup = sum(max(got[n] - 1, 0) for n in numbers)
    missing = sum(1 for n in numbers if got[n] == 0)
    return {
        "senders": senders,
        "messages": queued,
        "pools": pools,
        "seconds_to_make_the_pools_and_result": round(made, 2),
        "sender": sent,
        "gateway_requests": tries,
        "handed_per_s": round(sent.get("accepted", 0) / sending["wall_s"], 1),
        "sending_wall_s": round(sending["wall_s"], 2),
        "ms_per_message_in_the_sendsms_request": round(1000 * in_http / queued, 2),
        "ms_per_message_elsewhere (its transactions)": round(
            1000 * (sending["wall_s"] * senders - in_http) / queued, 2
        ),
        "all_delivered": delivered,
        "states": dict(states),
        "s_result_to_last_delivery": round((last - result_at).total_seconds(), 2) if last else None,
        "s_sending_start_to_last_delivery": round(until_delivered["wall_s"], 2),
        "cpu_ms_per_message": {
            "sender (this process)": round(1000 * sending["doorstep_sender_cpu_s"] / queued, 2),
            "server (delivery reports)": round(
                1000 * until_delivered["doorstep_server_cpu_s"] / queued, 2
            ),
            "kannel (bearerbox+smsbox+fakesmsc)": round(
                1000 * until_delivered["kannel_cpu_s"] / queued, 2
            ),
        },
        "duplicates_at_smsc": dup,
        "never_reached_smsc": missing,
        "met": delivered and dup == 0 and missing == 0 and tries == queued,
    }


_COUNTING = threading.Lock()


def _send_straight(
    gateway: Gateway,
    text: str,
    numbers: list[str],
    receiver: DlrReceiver | None,
    statuses: Counter[int],
) -> None:
    for number in numbers:
        url = receiver.url(n=number) if receiver else None
        status, _body = gateway.send(number, text, dlr_url=url, dlr_mask=DLR_MASK)
        with _COUNTING:
            statuses[status] += 1


def kannel_alone(gateway: Gateway, count: int = 200) -> dict[str, Any]:
    """Baselines: ``count`` sendsms requests straight to Kannel, the same Chinese text, no
    database: without delivery reports, one at a time; with them (Doorstep's dlr-mask, to a bare
    in-process receiver) one at a time, and from 4 threads at once. What the gateway's HTTP
    costs before Doorstep adds anything, and whether it is latency or throughput."""
    text = Message.objects.order_by("pk").values_list("text", flat=True).first() or "测试"
    numbers = iter(range(10**7))
    found: dict[str, Any] = {}
    for label, reports, threads in (
        ("no reports, 1 at a time", False, 1),
        ("reports, 1 at a time", True, 1),
        ("reports, 4 at a time", True, 4),
    ):
        with DlrReceiver() as receiver:
            statuses: Counter[int] = Counter()
            batch = [f"137{next(numbers):08d}" for _ in range(count)]
            workers = [
                threading.Thread(
                    target=_send_straight,
                    args=(
                        gateway,
                        text,
                        batch[k::threads],
                        receiver if reports else None,
                        statuses,
                    ),
                )
                for k in range(threads)
            ]
            started = time.perf_counter()
            for t in workers:
                t.start()
            for t in workers:
                t.join()
            wall = time.perf_counter() - started
            if reports:
                receiver.wait(2 * count, timeout=30)
        found[label] = {
            "statuses": dict(statuses),
            "per_s": round(count / wall, 1),
            "ms_per_request": round(1000 * wall / count, 2),
        }
    return found


def outage(
    world: World, gateway: Gateway, minutes: float, real_down: float, messages: int
) -> dict[str, Any]:
    tubes, result_at = positive_pools(world, messages // POOL)
    outbox = Message.objects.filter(notice__cause_tube__in=tubes)
    numbers = set(outbox.values_list("phone", flat=True))
    queued = outbox.count()
    before = received_by_number(gateway)
    url = gateway.sendsms_url
    gateway.stop_bearerbox()
    stopped = time.perf_counter()
    smsbox_up = gateway.running("smsbox")
    # The sender's own clock through the outage: 5 s steps from now, as its thread would pass.
    start = timezone.now()
    now, passes, retries, accepted_while_down = start, 0, 0, 0
    while now <= start + dt.timedelta(minutes=minutes):
        for report in passes_at(now, url):
            passes += 1
            retries += report.retry
            accepted_while_down += report.accepted + report.unknown
        now += STEP
    sim_loop_real = time.perf_counter() - stopped
    if sim_loop_real < real_down:
        time.sleep(real_down - sim_loop_real)
    really_down = time.perf_counter() - stopped
    tries_down = outbox.aggregate(Sum("attempts"))["attempts__sum"] or 0
    max_tries_down = outbox.aggregate(Max("attempts"))["attempts__max"] or 0
    still_queued = outbox.filter(state=MessageState.QUEUED).count()
    restarting = time.perf_counter()
    gateway.start_bearerbox()
    back_real, back_sim = time.perf_counter(), now
    # The sender goes on at its own pace (simulated clock): messages wait out their backoff.
    last_accept_sim = now
    while outbox.filter(state=MessageState.QUEUED).exists():
        for report in passes_at(now, url):
            passes += 1
            if report.accepted:
                last_accept_sim = now
        now += STEP
        if now - back_sim > dt.timedelta(minutes=30):
            break
    handed_real = time.perf_counter() - back_real
    delivered = wait_for(
        lambda: outbox.filter(state=MessageState.DELIVERED).count() == queued,
        120,
        f"the {queued} messages held through the outage",
    )
    drained_real = time.perf_counter() - back_real
    time.sleep(1)
    after = received_by_number(gateway)
    dup = sum(max(after[n] - before[n] - 1, 0) for n in numbers)
    lost = outbox.exclude(state=MessageState.DELIVERED).count()
    never = sum(1 for n in numbers if after[n] - before[n] == 0)
    late = Notice.objects.filter(cause_tube__in=tubes, door_reason="late").count()
    return {
        "messages": queued,
        "simulated_outage_min": minutes,
        "bearerbox_really_down_s": round(really_down, 1),
        "smsbox_running_while_down": smsbox_up,
        "sender_passes": passes,
        "s_to_restart_bearerbox_until_sendsms_answers": round(back_real - restarting, 1),
        "refused_connections_while_down": retries,
        "handed_while_down": accepted_while_down,
        "queued_when_it_came_back": still_queued,
        "tries_per_message_while_down_max": max_tries_down,
        "tries_while_down_total": tries_down,
        "tries_total": outbox.aggregate(Sum("attempts"))["attempts__sum"],
        "simulated_s_back_to_last_handed": (last_accept_sim - back_sim).total_seconds(),
        "real_s_back_to_all_handed": round(handed_real, 2),
        "real_s_back_to_last_delivery": round(drained_real, 2),
        "lost": lost,
        "never_reached_smsc": never,
        "duplicates_at_smsc": dup,
        "members_sent_to_the_door_late": late,
        "met": delivered and lost == 0 and dup == 0 and never == 0,
        "result_at": result_at.isoformat(),
    }


# Running -----------------------------------------------------------------------------------------


def serve() -> subprocess.Popen[bytes]:
    """`doorstep serve` on the bench's database, taking only the delivery reports: its own
    process group, so the bench stops it and its workers and nothing else."""
    log = open(HOME / "serve.log", "ab")  # noqa: SIM115 (the server's)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [DOORSTEP, "serve", "--host", "127.0.0.1", "--port", str(SERVER_PORT)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    for _ in range(300):
        with (
            contextlib.suppress(OSError),
            socket.create_connection(("127.0.0.1", SERVER_PORT), timeout=0.2),
        ):
            return process
        if process.poll() is not None:
            break
        time.sleep(0.1)
    stop(process)
    raise SystemExit(f"doorstep serve did not start (log: {log.name})")


def stop(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def yes(value: bool) -> str:
    return "met" if value else "NOT MET"


def table(out: dict[str, Any]) -> None:
    p, m, o = out["pool_of_20"], out["messages"], out["outage"]
    print()
    print(f"Telling residents through Kannel 1.4.5 on this machine ({out['machine']})")
    print("| target | measured | |")
    print("|---|---|---|")
    print(
        f"| pool of 20 told within 15 min | last member told/at the door "
        f"{p['real_s_result_to_last_told_or_door']} s after the result (real); "
        f"{', '.join(f'{k}: {v}' for k, v in sorted(p['ended'].items()))}; "
        f"late by the 15-min sweep: {p['turned_late_by_the_15_min_sweep']} | {yes(p['met'])} |"
    )
    for label, k in out["kannel_alone"].items():
        print(
            f"| (baseline) sendsms straight to Kannel, {label} | "
            f"{k['per_s']} requests/s ({k['ms_per_request']} ms each) | |"
        )
    for run in m:
        cpu = "; ".join(f"{k} {v}" for k, v in run["cpu_ms_per_message"].items())
        print(
            f"| {run['messages']:,} messages, {run['senders']} sender(s) | "
            f"{run['handed_per_s']} msg/s handed to the gateway; result to last delivery "
            f"{run['s_result_to_last_delivery']} s; sender wall ms/message: "
            f"{run['ms_per_message_in_the_sendsms_request']} in the sendsms request, "
            f"{run['ms_per_message_elsewhere (its transactions)']} in its transactions; "
            f"CPU ms/message: {cpu}; "
            f"gateway requests {run['gateway_requests']}; duplicates at the SMS centre "
            f"{run['duplicates_at_smsc']}, missing {run['never_reached_smsc']} | "
            f"{yes(run['met'])} |"
        )
    print(
        f"| gateway down {o['simulated_outage_min']:g} min: 0 lost, 0 duplicated | "
        f"{o['messages']} queued; bearerbox really down {o['bearerbox_really_down_s']} s while "
        f"the sender's clock ran {o['simulated_outage_min']:g} simulated min "
        f"({o['refused_connections_while_down']} refused tries, at most "
        f"{o['tries_per_message_while_down_max']} a message); lost {o['lost']}, duplicates "
        f"{o['duplicates_at_smsc']}; back: handed within {o['simulated_s_back_to_last_handed']:g}"
        f" simulated s (backoff), last delivery {o['real_s_back_to_last_delivery']} real s after"
        f" bearerbox came back | {yes(o['met'])} |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1000, help="part 2 (a multiple of 20)")
    parser.add_argument("--senders", type=int, default=2, help="part 2 again with K threads")
    parser.add_argument("--outage-minutes", type=float, default=10.0)
    parser.add_argument("--outage-real-seconds", type=float, default=20.0)
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()

    began = time.perf_counter()

    def step(what: str) -> None:
        print(f"[{time.perf_counter() - began:5.1f} s] {what}", flush=True)

    call_command("migrate", verbosity=0)
    step("migrated")
    runs = 2 if args.senders > 1 else 1
    pools = 1 + runs * (args.messages // POOL) + OUTAGE_MESSAGES // POOL
    t0 = time.perf_counter()
    world = build(pools)
    step(f"built {pools * POOL} residents in {time.perf_counter() - t0:.1f} s ({HOME})")
    gateway = Gateway(HOME / "kannel", failing_prefix=FAILING_PREFIX, tied=True)
    server: subprocess.Popen[bytes] | None = None
    try:
        gateway.up()
        server = serve()
        step("Kannel and the server are up")
        meters = Meters(server, gateway)
        out: dict[str, Any] = {
            "machine": f"{os.cpu_count()} cores, load "
            + " ".join(Path("/proc/loadavg").read_text().split()[:3]),
            "database": "SQLite (WAL), a fresh file",
            "server": "doorstep serve (granian), delivery reports only",
        }
        step("1. a positive pool of 20")
        out["pool_of_20"] = pool_of_20(world, gateway, meters)
        step("2. Kannel alone (baselines)")
        out["kannel_alone"] = kannel_alone(gateway)
        step(f"2. {args.messages} messages, 1 sender")
        out["messages"] = [thousand(world, gateway, meters, args.messages, 1)]
        if args.senders > 1:
            step(f"2b. {args.messages} messages, {args.senders} senders at once")
            out["messages"].append(thousand(world, gateway, meters, args.messages, args.senders))
        step(f"3. an outage of {args.outage_minutes:g} simulated minutes")
        out["outage"] = outage(
            world, gateway, args.outage_minutes, args.outage_real_seconds, OUTAGE_MESSAGES
        )
        out["simulated"] = (
            f"Part 3: the sender's clock (send_due(now=...), 5 s steps) ran "
            f"{args.outage_minutes:g} minutes while bearerbox was really down "
            f"{out['outage']['bearerbox_really_down_s']} s, and went on simulated after it came "
            "back (messages wait out their backoff, at most 2 min, on that clock). Part 1: the "
            "15-minute sweep is escalate_due(result + 15 min), not a real wait. Everything else "
            "is real time."
        )
        out["gateway_status"] = str(gateway.status())
    finally:
        if server is not None:
            stop(server)
        gateway.down()
        step("stopped the server and Kannel")
    out["met"] = (
        out["pool_of_20"]["met"] and all(r["met"] for r in out["messages"]) and out["outage"]["met"]
    )
    table(out)
    print(out["simulated"])
    if args.json:
        args.json.write_text(json.dumps(out, indent=2, ensure_ascii=False, default=str) + "\n")
        print(f"written to {args.json}")
    return 0 if out["met"] else 1


if __name__ == "__main__":
    sys.exit(main())
