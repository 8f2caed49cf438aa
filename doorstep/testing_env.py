"""Pytest plugin loaded before Django is set up: test-only environment defaults, and the
PostgreSQL server a run on PostgreSQL uses when it is given none.

``pytest --postgres`` runs the suite on PostgreSQL: on the server ``DATABASE_URL`` names, or,
when it names none, on a throwaway server started for this run alone (``initdb`` into a
temporary folder, a free port on loopback, the server programs Debian installs under
``/usr/lib/postgresql/*/bin``, found as ``doorstep.ha`` finds them). The server is owned by a
small keeper process of its own (``python -m doorstep.testing_env``) that stops it and removes
its folder as soon as the run lets go of it: at the end, when tests fail, on Ctrl+C, and even
when the run is killed outright (the keeper reads a pipe from the run and sees it close).

PostgreSQL refuses to run as root: as root, ``initdb`` and the server run as the ``postgres``
user, which owns the folder, as ``doorstep.ha`` runs its clusters.

This module lives beside the settings rather than in ``doorstep.testing``: it runs before Django
is set up, and that package's builders import the models.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO, Any

import psycopg
import pytest

from doorstep.ha.cluster import Cluster, _reachable_by_postgres, free_ports, postgres_bin

if "DOORSTEP_HOME" not in os.environ:
    os.environ["DOORSTEP_HOME"] = tempfile.mkdtemp(prefix="doorstep-test-")
os.environ.setdefault("DOORSTEP_SECRET_KEY", "doorstep-tests-only-key-" + "x" * 40)
# Tests read the public status right after changing it (command.views keeps it 5 s otherwise).
os.environ.setdefault("DOORSTEP_PUBLIC_STATUS_SECONDS", "0")
# Playwright runs its own event loop in the test thread; the ORM calls made around it are
# synchronous and safe in tests.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
# A test sees its own changes at once: the per-process caches of device look-ups (core.ttl) are
# off unless a test turns them on.
os.environ.setdefault("DOORSTEP_CACHE_SECONDS", "0")

# Throwaway data: nothing is forced to disk, which makes the suite quicker.
SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
}
READY_SECONDS = 60


class ServerFailed(RuntimeError):
    """The throwaway server could not be made or did not answer."""


class Throwaway:
    """A PostgreSQL server for one test run, held by its keeper process until ``stop``."""

    def __init__(self, keeper: subprocess.Popen[str], url: str, port: int, root: Path) -> None:
        self.keeper, self.url, self.port, self.root = keeper, url, port, root

    @classmethod
    def start(cls) -> Throwaway:
        keeper = subprocess.Popen(
            [sys.executable, "-m", "doorstep.testing_env"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            # Its own session: Ctrl+C in the terminal reaches the run, which then lets go of
            # the server in order, and not the keeper.
            start_new_session=True,
        )
        assert keeper.stdout is not None
        answer = keeper.stdout.readline().split()
        keeper.stdout.close()
        if answer[:1] != ["ready"]:
            keeper.wait()
            why = " ".join(answer[1:]) or f"the keeper ended with status {keeper.returncode}"
            raise ServerFailed(f"The throwaway PostgreSQL did not start: {why}")
        port, root = int(answer[1]), Path(answer[2])
        return cls(keeper, f"postgres://postgres@127.0.0.1:{port}/doorstep", port, root)

    def stop(self) -> None:
        """Let go: the keeper stops the server and removes its folder; wait until it has."""
        if self.keeper.stdin is not None and not self.keeper.stdin.closed:
            self.keeper.stdin.close()
        self.keeper.wait()


# The keeper ----------------------------------------------------------------------------------


def _as_postgres() -> dict[str, Any]:
    """Who the server runs as (``postgres`` when we are root), and its environment."""
    user = Cluster._user()
    env = dict(os.environ)
    if user:
        env["HOME"] = pwd.getpwuid(user["user"]).pw_dir
    return {**user, "env": env}


def _answers(port: int) -> bool:
    try:
        with psycopg.connect(
            host="127.0.0.1", port=port, user="postgres", dbname="postgres", connect_timeout=2
        ):
            return True
    except psycopg.OperationalError:
        return False


def _postmaster(root: Path, port: int, log: IO[bytes]) -> subprocess.Popen[bytes]:
    options = [arg for name, value in SETTINGS.items() for arg in ("-c", f"{name}={value}")]
    where = ["-D", str(root / "data"), "-p", str(port), "-k", str(root)]
    return subprocess.Popen(
        [str(postgres_bin() / "postgres"), *where, *options],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=root,
        start_new_session=True,
        **_as_postgres(),
    )


def _shut(server: subprocess.Popen[bytes] | None) -> None:
    """Fast shutdown (clients disconnected), then immediate, then SIGKILL."""
    if server is None:
        return
    for how, wait in ((signal.SIGINT, 30), (signal.SIGQUIT, 10), (signal.SIGKILL, 10)):
        if server.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            server.send_signal(how)
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.wait(wait)


def keep(stdin: IO[str], stdout: IO[str]) -> None:
    """Make and start the server, say ``ready PORT FOLDER``, hold it until ``stdin`` closes,
    then stop it and remove its folder. A failure is said as ``failed WHY``."""
    root = Path(tempfile.mkdtemp(prefix="doorstep-pg-"))
    server: subprocess.Popen[bytes] | None = None
    # A SIGTERM to the keeper itself also stops the server and removes the folder.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    try:
        try:
            as_postgres = _as_postgres()
            if as_postgres.get("user") is not None:
                try:
                    _reachable_by_postgres(root.parent)
                except PermissionError as exc:
                    raise ServerFailed(
                        f"{exc.args[0].split('. ')[0]}: set TMPDIR to a folder it can reach"
                    ) from exc
                os.chown(root, as_postgres["user"], as_postgres["group"])
            initdb = [str(postgres_bin() / "initdb"), "-D", str(root / "data"), "-U", "postgres"]
            subprocess.run(
                [*initdb, "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"],
                check=True,
                capture_output=True,
                cwd=root,
                **as_postgres,
            )
            with open(root / "postgres.log", "ab") as log:
                for _attempt in range(3):  # a port chosen free may be taken before it is bound
                    port = free_ports(1)[0]
                    server = _postmaster(root, port, log)
                    deadline = time.monotonic() + READY_SECONDS
                    while server.poll() is None and time.monotonic() < deadline:
                        if _answers(port):
                            break
                        time.sleep(0.1)
                    if server.poll() is None:
                        break
            if server is None or server.poll() is not None or not _answers(port):
                tail = (root / "postgres.log").read_text(errors="replace")[-500:]
                raise ServerFailed(f"the server did not answer: {tail}")
        except Exception as exc:  # said to the run, which has no other way to hear it
            detail = getattr(exc, "stderr", b"") or b""
            stdout.write(f"failed {exc} {detail.decode(errors='replace')}".replace("\n", " "))
            stdout.write("\n")
            stdout.flush()
            return
        stdout.write(f"ready {port} {root}\n")
        stdout.flush()
        stdout.close()
        while stdin.read(4096):
            pass
    finally:
        _shut(server)
        shutil.rmtree(root, ignore_errors=True)


# The plugin ----------------------------------------------------------------------------------

_server: list[Throwaway] = []


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--postgres",
        action="store_true",
        help="run on PostgreSQL: the server DATABASE_URL names, or else a throwaway one of "
        "its own, started for this run and removed at its end",
    )


@pytest.hookimpl(wrapper=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> Any:
    """Before Django reads its settings: point DATABASE_URL at the throwaway server."""
    if early_config.known_args_namespace.postgres and not os.environ.get("DATABASE_URL"):
        server = Throwaway.start()
        _server.append(server)
        early_config.add_cleanup(server.stop)
        os.environ["DATABASE_URL"] = server.url
    return (yield)


def pytest_report_header(config: pytest.Config) -> str | None:
    if not _server:
        return None
    server = _server[0]
    return f"database: a throwaway PostgreSQL on 127.0.0.1:{server.port} in {server.root}"


if __name__ == "__main__":
    keep(sys.stdin, sys.stdout)
