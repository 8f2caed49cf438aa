"""A real SMS gateway on this machine: Kannel's ``bearerbox`` and ``smsbox`` with Kannel's fake
SMS centre client, ``fakesmsc``, on free loopback ports under one folder, for the tests, the
demo and the benchmark.

Doorstep talks to it as it talks to a carrier's gateway in production: an HTTP GET to smsbox's
``/cgi-bin/sendsms`` with ``dlr-mask`` and a ``dlr-url``. Only the SMS centre is fake: bearerbox
has an ``smsc = fake`` group instead of the carrier's SMPP one, and ``fakesmsc`` plays the
carrier at the other end of it, writing every message it gets into ``fakesmsc.log``, which
:meth:`Gateway.received` reads back. Nothing here knows Doorstep's tables.

What Kannel 1.4.5 (Debian's ``kannel``, ``kannel-extras``) was found to do, by hand and in
``tests/test_kannel.py``:

Sending
    ``sendsms`` answers ``202`` and ``0: Accepted for delivery`` when the fake SMS centre is
    connected, and ``202`` and ``3: Queued for later delivery`` when it is not (the message
    waits in bearerbox's store and goes out once it is back). Chinese text needs nothing in the
    configuration: ``charset=UTF-8&coding=2`` reaches the SMS centre as UCS-2. Above 70 UCS-2
    characters (160 GSM ones) bearerbox splits the message into parts with a concatenation
    header; :meth:`Gateway.received` joins them again. A wrong password is ``403``
    ``Authorization failed for sendsms``; no ``to`` is ``400`` ``Missing receiver number,
    rejected``; no ``from`` needs the user's ``default-sender`` (else ``400`` ``Sender missing
    and no global set, rejected``), which this configuration sets.

Delivery reports
    ``fakesmsc`` sends none itself, but bearerbox's fake SMS centre driver makes two for every
    message that asks: type ``8`` (accepted by the SMS centre, ``%A`` is ``ACK/``) and type
    ``1`` (delivered, ``%A`` empty), each as one GET of the ``dlr-url`` by smsbox, in either
    order, and often *before* sendsms has answered the request that sent the message: the
    receiver must take a report for a message whose answer it has not recorded yet. A split
    message gets one pair, not one per part. In the URL, ``%d`` is the type, ``%p`` the
    receiver, ``%P`` the sender, ``%A`` the SMS centre's reply, ``%t``/``%T`` the time (text,
    Unix); ``%I`` is *not* the sent message's id (each report carries a different UUID), so
    Doorstep puts its own message id in the ``dlr-url``. Type ``2`` (failed at the phone) never
    comes from the fake SMS centre. If the ``dlr-url`` refuses the connection or answers 503,
    smsbox tries it again, 3 more times 1 s apart here (``http-request-retry``,
    ``http-queue-delay``), then drops the report: the receiver must take the same report twice
    calmly.

A number that fails
    ``Gateway(folder, failing_prefix="1990")`` puts ``denied-prefix = 1990`` on the fake SMS
    centre, so no SMS centre may carry a number starting with it. sendsms then answers ``403``
    and ``Not routable. Do not try again.``, and, when ``dlr-mask`` has bit 2 or 16, one report
    of type ``16`` (``%A`` is ``NACK/no SMSC``) reaches the ``dlr-url``, again possibly before
    the answer. Nothing reaches the SMS centre. (The sendsms-user's own ``denied-prefix`` is not
    enforced by this Kannel: the message went through.)

Outages
    bearerbox stopped (SIGTERM): it tells smsbox to stop, and ``fakesmsc`` exits when its
    connection closes, so ``sendsms`` refuses the connection. bearerbox killed (SIGKILL): smsbox
    closes its HTTP port at once (connection refused), restarts itself (a new pid in the same
    process group) about 10 s later and reconnects if bearerbox is back, or exits with ``PANIC:
    Couldn't connect to the bearerbox``. So smsbox never goes on answering while bearerbox is
    down: the caller sees a refused connection and keeps the message.
    :meth:`Gateway.start` brings back whichever parts are gone. Messages accepted while the SMS
    centre was away (``3: Queued for later delivery``) are kept in bearerbox's store file
    (``store-type = file``), survive a restart of bearerbox, and are delivered exactly once when
    ``fakesmsc`` is back, with their reports.

``fakesmsc``
    ``-m 0`` makes it send no message of its own (mobile-originated); without it, it sends one
    a second for ever (its default, ``-m -1``, is no limit). It prints what it gets on its log at debug level (which is its default):
    ``Got message N: <sender receiver type data>``, ``type`` being ``text`` (GSM text as is),
    ``ucs-2`` (UCS-2 bytes, URL-encoded) or ``udh <header> data <bytes>`` for a part of a split
    message (URL-encoded, the coding not said). A newline in a GSM text message cuts its line
    in two; in UCS-2 it is encoded and safe.

Each part runs in a process group of its own; stopping one signals its whole group (smsbox's
restart forks). What the gateway is (folder, ports, passwords, groups) is written to
``gateway.json``, so ``doorstep sms status|down`` find it again.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

BEARERBOX = "/usr/sbin/bearerbox"
SMSBOX = "/usr/sbin/smsbox"
FAKESMSC = "/usr/lib/kannel/test/fakesmsc"
PARTS = ("bearerbox", "smsbox", "fakesmsc")
STATE = "gateway.json"
CONFIG = "kannel.conf"
INSTALL = "apt-get install kannel kannel-extras"
# The sender a message has when the request names none (a Chinese service number's shape).
SENDER = "10690"

_GOT = re.compile(r"Got message \d+: <(.*)>\s*$")


class Missing(RuntimeError):
    """Kannel's programs are not installed."""


class NotReady(RuntimeError):
    """The gateway did not reach the state asked for in time."""


def check_installed() -> None:
    missing = [p for p in (BEARERBOX, SMSBOX, FAKESMSC) if not os.access(p, os.X_OK)]
    if missing:
        raise Missing(f"The SMS gateway needs {', '.join(missing)}: {INSTALL}")


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


@dataclass(frozen=True)
class Status:
    """What runs, and bearerbox's own counts (None when its admin page does not answer)."""

    running: dict[str, bool]
    smsc: str | None = None  # the fake SMS centre: "online 12s", "re-connecting"...
    queued: int | None = None  # messages bearerbox holds for the SMS centre
    stored: int | None = None  # messages in its store file (kept across a restart)
    sent: int | None = None  # messages handed to the SMS centre since bearerbox started
    mo_received: int | None = None  # messages the SMS centre sent us (fakesmsc: none)
    dlr_received: int | None = None  # delivery reports from the SMS centre


@dataclass
class Gateway:
    """One gateway in ``folder``. Ports and passwords are chosen when it is made; ``up()``
    writes the configuration and starts it."""

    folder: Path
    failing_prefix: str | None = None
    # The processes die with the one that started them (tests), instead of outliving it (the
    # ``doorstep sms up`` command).
    tied: bool = False
    admin_port: int = 0
    box_port: int = 0
    smsc_port: int = 0
    sendsms_port: int = 0
    username: str = "doorstep"
    password: str = ""
    admin_password: str = ""
    groups: dict[str, int] = field(default_factory=dict)
    _children: dict[str, subprocess.Popen[bytes]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        self.folder = Path(self.folder).resolve()
        if not self.admin_port:
            self._choose_ports()
        self.password = self.password or secrets.token_hex(8)
        self.admin_password = self.admin_password or secrets.token_hex(8)

    def _choose_ports(self) -> None:
        self.admin_port, self.box_port, self.smsc_port, self.sendsms_port = free_ports(4)

    # What callers use --------------------------------------------------------------------------

    @property
    def sendsms_url(self) -> str:
        """What ``DOORSTEP_SMS_URL`` is set to: smsbox's sendsms with the user and password."""
        query = urllib.parse.urlencode({"username": self.username, "password": self.password})
        return f"http://127.0.0.1:{self.sendsms_port}/cgi-bin/sendsms?{query}"

    @property
    def admin_url(self) -> str:
        return f"http://127.0.0.1:{self.admin_port}"

    def send(
        self,
        to: str,
        text: str,
        *,
        dlr_url: str | None = None,
        dlr_mask: int = 31,
        coding: int = 2,
        timeout: float = 10,
    ) -> tuple[int, str]:
        """One sendsms request as Doorstep makes it (UTF-8; UCS-2, or ``coding=0`` for GSM
        text): the HTTP status and body. A refused connection raises
        ``urllib.error.URLError``, as it would for Doorstep."""
        params = {"to": to, "text": text, "charset": "UTF-8", "coding": str(coding)}
        if dlr_url:
            params |= {"dlr-mask": str(dlr_mask), "dlr-url": dlr_url}
        url = f"{self.sendsms_url}&{urllib.parse.urlencode(params)}"
        try:
            with urllib.request.urlopen(url, timeout=timeout) as answer:
                return int(answer.status), answer.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            return int(error.code), error.read().decode("utf-8", "replace")

    # Building and running ------------------------------------------------------------------------

    @classmethod
    def load(cls, folder: Path) -> Gateway:
        state = json.loads((Path(folder).resolve() / STATE).read_text())
        state["folder"] = Path(state["folder"])
        return cls(**state)

    def save(self) -> None:
        state = {
            "folder": str(self.folder),
            "failing_prefix": self.failing_prefix,
            "admin_port": self.admin_port,
            "box_port": self.box_port,
            "smsc_port": self.smsc_port,
            "sendsms_port": self.sendsms_port,
            "username": self.username,
            "password": self.password,
            "admin_password": self.admin_password,
            "groups": self.groups,
        }
        _private(self.folder / STATE, json.dumps(state, indent=2))

    def config(self) -> str:
        """kannel.conf for this gateway. Every port is on loopback; the admin page and the
        sendsms user have passwords of their own; delivery reports are kept in memory
        (``dlr-storage = internal``); messages bearerbox holds are kept in a store file, so a
        restart loses none."""
        root = self.folder
        deny = f"denied-prefix = {self.failing_prefix}\n" if self.failing_prefix else ""
        return (
            "group = core\n"
            f"admin-port = {self.admin_port}\n"
            "admin-interface = 127.0.0.1\n"
            f"admin-password = {self.admin_password}\n"
            f"status-password = {self.admin_password}\n"
            "admin-allow-ip = 127.0.0.1\n"
            f"smsbox-port = {self.box_port}\n"
            "smsbox-interface = 127.0.0.1\n"
            "box-allow-ip = 127.0.0.1\n"
            "dlr-storage = internal\n"
            "store-type = file\n"
            f'store-location = "{root / "store"}"\n'
            f'access-log = "{root / "access.log"}"\n'
            "\n"
            "group = smsc\n"
            "smsc = fake\n"
            "smsc-id = fake\n"
            f"port = {self.smsc_port}\n"
            "our-host = 127.0.0.1\n"
            "connect-allow-ip = 127.0.0.1\n"
            f"{deny}"
            "\n"
            "group = smsbox\n"
            "bearerbox-host = 127.0.0.1\n"
            f"bearerbox-port = {self.box_port}\n"
            f"sendsms-port = {self.sendsms_port}\n"
            "sendsms-interface = 127.0.0.1\n"
            # A delivery report whose URL does not answer is tried again before it is dropped.
            "http-request-retry = 3\n"
            "http-queue-delay = 1\n"
            "\n"
            "group = sendsms-user\n"
            f"username = {self.username}\n"
            f"password = {self.password}\n"
            f"default-sender = {SENDER}\n"
            "concatenation = true\n"
            "max-messages = 10\n"
        )

    def up(self, timeout: float = 30) -> None:
        """Write the configuration and start bearerbox, smsbox and fakesmsc; return once
        sendsms answers and the SMS centre is connected. A port taken between choosing and
        binding (another gateway of a parallel test run) makes it choose again."""
        check_installed()
        if any(self.running(part) for part in PARTS):
            raise FileExistsError(f"A gateway already runs in {self.folder}; stop it first.")
        self.folder.mkdir(parents=True, exist_ok=True)
        for attempt in range(3):
            if attempt:
                self._choose_ports()
            _private(self.folder / CONFIG, self.config())
            self.save()
            try:
                self.start("bearerbox", timeout)
                return
            except NotReady:
                self.down()
                if attempt == 2 or self._started_fine():
                    raise

    def _started_fine(self) -> bool:
        """Whether the last start failed for a reason other than a port in use."""
        log = self.log("bearerbox") + self.log("smsbox")
        return "Address already in use" not in log and "could not create" not in log

    def start(self, part: str = "bearerbox", timeout: float = 40) -> None:
        """Start ``part``, then whichever other part is not running (smsbox and fakesmsc
        cannot outlive bearerbox for long), and wait until the gateway works."""
        if part not in PARTS:
            raise ValueError(f"{part} is not one of {', '.join(PARTS)}")
        if not self.running(part):
            self._spawn(part)
        self._wait(self._ready_or_restart, timeout, "the gateway did not come up")

    def stop(self, part: str, *, kill: bool = False, timeout: float = 20) -> None:
        """Stop ``part``'s process group: SIGTERM (a clean stop: bearerbox then stops smsbox
        and drops fakesmsc), or SIGKILL when ``kill`` (a crash); SIGKILL what is left after
        ``timeout``."""
        pgid = self.groups.get(part)
        if pgid is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL if kill else signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while self.running(part) and time.monotonic() < deadline:
            time.sleep(0.1)
        if self.running(part):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, signal.SIGKILL)
            while self.running(part):
                time.sleep(0.05)
        self.groups.pop(part, None)
        self.save()

    def stop_bearerbox(self, *, kill: bool = False) -> None:
        self.stop("bearerbox", kill=kill)

    def start_bearerbox(self, timeout: float = 40) -> None:
        self.start("bearerbox", timeout)

    def down(self) -> None:
        """Stop every part (the folder, with its logs and store, stays)."""
        for part in reversed(PARTS):
            self.stop(part)

    def remove(self) -> None:
        self.down()
        shutil.rmtree(self.folder, ignore_errors=True)

    def running(self, part: str) -> bool:
        """Whether ``part``'s process group has a live process (a zombie is not one)."""
        child = self._children.get(part)
        if child is not None:
            child.poll()  # reap it if it has ended
        pgid = self.groups.get(part)
        return pgid is not None and bool(_members(pgid))

    def _spawn(self, part: str) -> None:
        conf = str(self.folder / CONFIG)
        argv = {
            # Console logging at info level: one line per request, not a page of debug.
            "bearerbox": [BEARERBOX, "-v", "1", conf],
            "smsbox": [SMSBOX, "-v", "1", conf],
            # At its default (debug) level: that is where it prints what it receives.
            "fakesmsc": [
                FAKESMSC,
                "-H",
                "127.0.0.1",
                "-r",
                str(self.smsc_port),
                "-m",
                "0",
                f"{SENDER} 100 text unused",
            ],
        }[part]
        with open(self.folder / f"{part}.log", "ab") as out:
            child = subprocess.Popen(
                argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.folder,
                start_new_session=True,  # its own process group
                preexec_fn=_die_with_parent if self.tied else None,
            )
        self._children[part] = child
        self.groups[part] = child.pid
        self.save()

    def _ready_or_restart(self) -> bool:
        """One look while waiting: bring back a part that exited (smsbox and fakesmsc exit
        when bearerbox is not there yet), then say whether the gateway works."""
        if not self.running("bearerbox"):
            raise NotReady(f"bearerbox exited; see {self.folder / 'bearerbox.log'}")
        status = self._admin_status()
        if status is None:
            return False  # bearerbox is still starting
        for part in ("smsbox", "fakesmsc"):
            if not self.running(part):
                self._spawn(part)
        boxes = status.findall("boxes/box/type")
        smsc = status.findtext("smscs/smsc/status") or ""
        return (
            any(b.text == "smsbox" for b in boxes)
            and smsc.startswith("online")
            and self._sendsms_answers()
        )

    def _sendsms_answers(self) -> bool:
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{self.sendsms_port}/cgi-bin/sendsms", timeout=2
            ):
                return True
        except urllib.error.HTTPError:
            return True  # "Authorization failed": it answers
        except (OSError, urllib.error.URLError):
            return False

    @staticmethod
    def _wait(done: Callable[[], bool], timeout: float, message: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if done():
                return
            time.sleep(0.2)
        raise NotReady(f"{message} within {timeout:.0f} s")

    # Reading its state ----------------------------------------------------------------------------

    def _admin_status(self) -> ElementTree.Element | None:
        url = f"{self.admin_url}/status.xml?password={self.admin_password}"
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                return ElementTree.fromstring(answer.read())
        except (OSError, urllib.error.URLError, ElementTree.ParseError):
            return None

    def status(self) -> Status:
        running = {part: self.running(part) for part in PARTS}
        page = self._admin_status() if running["bearerbox"] else None
        if page is None:
            return Status(running)
        return Status(
            running,
            smsc=page.findtext("smscs/smsc/status"),
            queued=_int(page.findtext("sms/sent/queued")),
            stored=_int(page.findtext("sms/storesize")),
            sent=_int(page.findtext("sms/sent/total")),
            mo_received=_int(page.findtext("sms/received/total")),
            dlr_received=_int(page.findtext("dlr/received/total")),
        )

    def log(self, part: str) -> str:
        try:
            return (self.folder / f"{part}.log").read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def received(self) -> list[tuple[str, str]]:
        """Every whole message the fake SMS centre got, oldest first, as (receiver, text); a
        split message once its last part is in. Across restarts of fakesmsc (the log is
        appended to)."""
        whole: list[tuple[str, str]] = []
        parts: dict[tuple[str, str, int, int], dict[int, bytes]] = {}
        for line in self.log("fakesmsc").splitlines():
            found = _GOT.search(line)
            if found is None:
                continue
            fields = found.group(1).split(" ")
            if len(fields) < 4:
                continue  # the tail of a GSM text cut by a newline
            sender, receiver, kind = fields[:3]
            if kind == "text":
                whole.append((receiver, " ".join(fields[3:])))
            elif kind == "ucs-2":
                whole.append((receiver, _bytes(fields[3]).decode("utf-16-be", "replace")))
            elif kind == "data":
                whole.append((receiver, _text(_bytes(fields[3]))))
            elif kind == "udh" and len(fields) >= 6:
                header, data = _bytes(fields[3]), _bytes(fields[5])
                concat = _concatenation(header)
                if concat is None:
                    whole.append((receiver, _text(data)))
                    continue
                ref, total, seq = concat
                key = (sender, receiver, ref, total)
                parts.setdefault(key, {})[seq] = data
                if len(parts[key]) == total:
                    pieces = parts.pop(key)
                    joined = b"".join(pieces[n] for n in range(1, total + 1))
                    whole.append((receiver, _text(joined)))
        return whole

    def wait_received(self, receiver: str, count: int = 1, timeout: float = 15) -> list[str]:
        """The texts ``receiver`` got, once there are at least ``count`` (fails after
        ``timeout``)."""
        found: list[str] = []

        def arrived() -> bool:
            found[:] = [text for to, text in self.received() if to == receiver]
            return len(found) >= count

        self._wait(arrived, timeout, f"{count} message(s) did not reach {receiver}")
        return found


def _private(path: Path, text: str) -> None:
    """Write a file only its owner reads: it holds the gateway's passwords."""
    path.write_text(text)
    path.chmod(0o600)


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def _bytes(encoded: str) -> bytes:
    """Kannel's URL encoding: ``+`` is a space byte."""
    return urllib.parse.unquote_to_bytes(encoded.replace("+", " "))


def _text(data: bytes) -> str:
    """The text of a part whose coding fakesmsc does not say. GSM text arrives as printable
    bytes; UCS-2 has a NUL in every ASCII character and, in Chinese, bytes that are no UTF-8
    (0x80-0x9F start no character): so UTF-8 when it reads as such and has no NUL, else
    UCS-2."""
    if b"\x00" not in data:
        with contextlib.suppress(UnicodeDecodeError):
            return data.decode("utf-8")
    return data.decode("utf-16-be", "replace")


def _concatenation(header: bytes) -> tuple[int, int, int] | None:
    """(reference, parts, this part) from a user data header's concatenation element (8- or
    16-bit reference), or None."""
    at = 1
    while at + 1 < len(header):
        element, size = header[at], header[at + 1]
        body = header[at + 2 : at + 2 + size]
        if element == 0x00 and size == 3:
            return body[0], body[1], body[2]
        if element == 0x08 and size == 4:
            return body[0] << 8 | body[1], body[2], body[3]
        at += 2 + size
    return None


def _members(pgid: int) -> list[int]:
    """The live (not zombie) processes of a process group, read from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[2]) == pgid and fields[0] not in {"Z", "X"}:
            found.append(int(entry.name))
    return found


_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the process that started it dies, so a test run
    killed outright leaves no gateway behind."""
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
