"""pretix's check-in redeem, measured the way `bench/events.py` measures Doorstep's scan, so the
two can be put side by side: Doorstep ÷ pretix.

    .venv/bin/python bench/pretix.py [--seconds 10] [--tickets 20000]

pretix (a widely used Django ticketing system) redeeming a ticket at a door is the nearest thing
to one lane scan: look the code up, check it against the list's rules, write the check-in, answer
the scanner. This script

* installs pretix and granian in a venv of their own (``~/.cache/doorstep-bench/pretix-venv``,
  or ``BENCH_PRETIX_VENV``), reused when present: pretix pins its own Django and dozens of
  libraries, which must not meet Doorstep's. Every dependency installs from a wheel on
  Python ≥ 3.11, so no system library is needed;
* builds pretix on PostgreSQL in the database ``bench_pretix``, dropped and made again on each
  run from a migrated template (``bench_pretix_migrated``, remade when pretix's version
  changes): pretix's 459 migrations take over two minutes, the copy a second;
* configures it as a small production install without Redis or a Celery broker (so its
  background tasks, such as the webhook notice after a check-in, run inside the request and are
  counted), mail to nowhere, DEBUG off;
* makes one organizer, event, admission product and check-in list, ``--tickets`` paid orders of
  one ticket each (`bench/pretix_setup.py`, run by pretix's interpreter) and a team API token
  allowed to check in;
* serves it as `doorstep serve` serves Doorstep: granian, WSGI, 2 workers of 4 threads;
* drives 8 scanners with wrk (`bench/pretix_redeem.lua`), each redeeming its own tickets one
  request at a time on its own connection (``POST /api/v1/organizers/{org}/checkinrpc/redeem/``,
  the call pretixSCAN makes), after a short warm-up on other tickets.

Figures: redeems/s, p50 and p99, and CPU-seconds per redeem from ``/proc`` (`bench/cpu.py`: the
server's process tree and the PostgreSQL backends of ``bench_pretix``), divided by the check-ins
the database holds after the phase. Every answer must say ``"status": "ok"`` (each ticket is
redeemed once); others are counted and the first is shown. If pretix cannot be installed or
served, the figure is reported as not measured, with why, and the script exits 0.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cpu import Meter, tree
from cpu import seconds as cpu_seconds

HERE = Path(__file__).resolve().parent
VENV = Path(
    os.environ.get("BENCH_PRETIX_VENV", Path.home() / ".cache" / "doorstep-bench" / "pretix-venv")
)
# The release measured; another (BENCH_PRETIX="pretix==…") rebuilds the template database.
PRETIX = os.environ.get("BENCH_PRETIX", "pretix==2026.8.0")
PG_ADMIN = os.environ.get("BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
DATABASE = "bench_pretix"
TEMPLATE = "bench_pretix_migrated"
SCANNERS = 8
WARM_UP_SECONDS = 3


class NotMeasured(Exception):
    """Why pretix's figure could not be taken."""


def _run(argv: list[str], *, env: dict[str, str] | None = None, what: str) -> str:
    # From /tmp: in bench/, "import pretix" would find this file instead of pretix.
    done = subprocess.run(argv, env=env, capture_output=True, text=True, cwd="/tmp")
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        said = [line for line in lines if line.startswith("ERROR")] or lines[-3:]
        raise NotMeasured(f"{what} failed: {' | '.join(said)[-400:]}")
    return done.stdout


def installed() -> str:
    """pretix's version in its venv, installing it (with granian) first when missing."""
    python = VENV / "bin" / "python"
    probe = [str(python), "-c", "import granian, pretix; print(pretix.__version__)"]
    if python.exists():
        found = subprocess.run(probe, capture_output=True, text=True)
        if found.returncode == 0 and PRETIX.endswith("==" + found.stdout.strip()):
            return found.stdout.strip()
    print(f"installing {PRETIX} and granian into {VENV} (once) ...", flush=True)
    _run([sys.executable, "-m", "venv", str(VENV)], what="creating pretix's venv")
    _run([str(python), "-m", "pip", "install", "-q", PRETIX, "granian>=2,<3"], what="pip install")
    return _run(probe, what="importing pretix").strip()


def fresh_database(version: str, env: dict[str, str]) -> None:
    """``bench_pretix`` anew, copied from the migrated template (made first when it is missing
    or was migrated by another pretix)."""
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        made = admin.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            (TEMPLATE,),
        ).fetchone()
        admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        if made is not None and made[0] == version:
            admin.execute(f'CREATE DATABASE "{DATABASE}" TEMPLATE "{TEMPLATE}"')
            return
        print(f"migrating pretix {version} (once; over two minutes) ...", flush=True)
        admin.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE}"')
        admin.execute(f'CREATE DATABASE "{TEMPLATE}"')
        migrate = [str(VENV / "bin" / "python"), "-m", "pretix", "migrate", "-v0"]
        _run(migrate, env={**env, "PRETIX_DATABASE_NAME": TEMPLATE}, what="pretix migrate")
        admin.execute(f"COMMENT ON DATABASE \"{TEMPLATE}\" IS '{version}'")
        admin.execute(f'CREATE DATABASE "{DATABASE}" TEMPLATE "{TEMPLATE}"')


def configure(folder: Path, port: int) -> dict[str, str]:
    """pretix.cfg for a small production install, and the environment that points at it."""
    (folder / "data").mkdir()
    server = urlsplit(PG_ADMIN)
    (folder / "pretix.cfg").write_text(
        "[pretix]\n"
        f"instance_name=bench\nurl=http://127.0.0.1:{port}\ndatadir={folder / 'data'}\n"
        "currency=EUR\necb_rates=false\n"
        "[database]\n"
        f"backend=postgresql\nname={DATABASE}\nuser={server.username or 'postgres'}\n"
        f"host={server.hostname or '127.0.0.1'}\nport={server.port or 5432}\n"
        "[django]\n"
        "secret=bench-only-" + "p" * 40 + "\ndebug=false\n"
        # Nothing listens on port 1: mail is refused at once instead of leaving the machine.
        "[mail]\nhost=127.0.0.1\nport=1\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PRETIX_"))}
    env["PRETIX_CONFIG_FILE"] = str(folder / "pretix.cfg")
    return env


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    argv = [str(VENV / "bin" / "granian"), "--interface", "wsgi", "--host", "127.0.0.1"]
    argv += ["--port", str(port), "--workers", "2", "--blocking-threads", "4", "--no-ws"]
    argv += ["pretix.wsgi:application"]
    env = {**env, "DJANGO_SETTINGS_MODULE": "pretix.settings"}
    with log.open("wb") as out:
        server = subprocess.Popen(
            argv, env=env, stdout=out, stderr=out, start_new_session=True, cwd=log.parent
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise NotMeasured(f"granian ended at start: {log.read_text()[-300:]}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request("GET", "/api/v1/")
            connection.getresponse().read()
            connection.close()
            return server
        except OSError:
            time.sleep(0.3)
    stop(server)
    raise NotMeasured("pretix did not answer within 60 s")


def stop(server: subprocess.Popen[bytes]) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def redeem(
    port: int, tickets: list[str], seconds: float, folder: Path, token: str, setup: dict
) -> dict:
    """wrk: ``SCANNERS`` connections, each redeeming its own share of ``tickets`` in turn."""
    folder.mkdir()
    share = len(tickets) // SCANNERS
    for n in range(SCANNERS):
        (folder / f"{n}.txt").write_text("\n".join(tickets[n * share : (n + 1) * share]) + "\n")
    path = f"/api/v1/organizers/{setup['organizer']}/checkinrpc/redeem/"
    argv = ["wrk", f"-t{SCANNERS}", f"-c{SCANNERS}", f"-d{max(1, round(seconds))}s"]
    argv += ["--timeout", "30s", "-s", str(HERE / "pretix_redeem.lua")]
    argv += [f"http://127.0.0.1:{port}", "--", str(folder), path, token, str(setup["list"])]
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode != 0:
        raise NotMeasured(f"wrk failed: {done.stderr.strip()[-300:]}")
    *_, example, figures = done.stdout.strip().splitlines()
    return {**json.loads(figures), "example": example}


def idle(server: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    """Wait until the server has finished the requests wrk left in flight when it stopped (its
    processes use no CPU for half a second), so each phase's work is counted in that phase."""

    def used() -> float:
        return sum(cpu_seconds(pid, children=True) for pid in tree(server.pid))

    deadline, before = time.monotonic() + timeout, used()
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = used()
        if now - before < 0.02:
            return
        before = now
    raise NotMeasured(f"pretix was still busy {timeout:.0f} s after the load stopped")


def checkins(dsn: str) -> int:
    import psycopg

    with psycopg.connect(dsn) as connection:
        row = connection.execute("SELECT count(*) FROM pretixbase_checkin").fetchone()
    return int(row[0]) if row else 0


def measure(seconds: float = 10.0, tickets: int = 20_000) -> dict:
    """pretix's redeem figures (see the module's docstring), or ``{"not_measured": why}``."""
    try:
        return _measure(seconds, tickets)
    except NotMeasured as why:
        return {"not_measured": str(why)}
    # Whatever went wrong, events.py still prints Doorstep's figures, and this one says why not.
    except Exception as error:
        return {"not_measured": f"{type(error).__name__}: {error}"}


def _measure(seconds: float, tickets: int) -> dict:
    if subprocess.run(["which", "wrk"], capture_output=True).returncode != 0:
        raise NotMeasured("wrk is not installed (apt-get install wrk)")
    version = installed()
    dsn = PG_ADMIN.rsplit("/", 1)[0] + "/" + DATABASE
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="bench-pretix-") as temp:
        folder = Path(temp)
        env = configure(folder, port)
        fresh_database(version, env)
        python = str(VENV / "bin" / "python")
        made = _run(
            # -P: bench/ stays off the path, for the same reason as the working directory.
            [
                python,
                "-P",
                str(HERE / "pretix_setup.py"),
                str(tickets),
                str(folder / "secrets.txt"),
            ],
            env=env,
            what="creating pretix's event and orders",
        )
        setup = json.loads(made.strip().splitlines()[-1])
        secrets = (folder / "secrets.txt").read_text().split()
        warm, measured = secrets[: tickets // 10], secrets[tickets // 10 :]
        server = serve(port, env, folder / "server.log")
        try:
            redeem(port, warm, WARM_UP_SECONDS, folder / "warm", setup["token"], setup)
            idle(server)
            before = checkins(dsn)
            meter = Meter(server.pid, dsn)
            run = redeem(port, measured, seconds, folder / "run", setup["token"], setup)
            idle(server)
            spent = meter.read()
            stored = checkins(dsn) - before
        finally:
            stop(server)
    per = 1000 / stored if stored else 0.0
    return {
        "version": version,
        "cpu_ms_per_request": spent.total * per,
        "server_ms": spent.server * per,
        "database_ms": spent.database * per,
        "lost_backends": spent.lost_backends,
        "rate": run["ok"] / run["seconds"],
        "p50_ms": run["p50_us"] / 1000,
        "p99_ms": run["p99_us"] / 1000,
        "ok": run["ok"],
        "failed": run["failed"],
        "first_failure": run["example"],
        "stored": stored,
        "exhausted": bool(run["exhausted"]),
        "seconds": run["seconds"],
    }


def load() -> str:
    return "load " + " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--tickets", type=int, default=20_000)
    args = parser.parse_args()
    print(f"pretix check-in redeem, {SCANNERS} scanners one request at a time ({load()})")
    got = measure(args.seconds, args.tickets)
    if "not_measured" in got:
        print(f"pretix: not measured: {got['not_measured']}")
        return
    print(f"  pretix {got['version']}, granian 2 workers x 4 threads, PostgreSQL, no Redis")
    print(f"  redeems/s: {got['rate']:.0f} over {got['seconds']:.1f} s ({load()})")
    print(f"  latency: p50 {got['p50_ms']:.1f} ms, p99 {got['p99_ms']:.1f} ms")
    print(
        f"  CPU per redeem: {got['server_ms']:.3f} server + {got['database_ms']:.3f} database"
        f" = {got['cpu_ms_per_request']:.3f} ms"
        + (f" ({got['lost_backends']} backends ended: not counted)" if got["lost_backends"] else "")
    )
    print(
        f"  answers: {got['ok']} ok, {got['failed']} not ok; check-ins stored: {got['stored']}"
        f" (the ok answers and up to {SCANNERS} in flight when wrk stopped)"
    )
    if not got["ok"] <= got["stored"] <= got["ok"] + SCANNERS:
        print("  the check-ins stored do not match the ok answers: the figures are suspect")
    if got["failed"]:
        print(f"  first answer not ok: {got['first_failure']}")
    if got["exhausted"]:
        print("  a scanner ran out of tickets: run with more --tickets")


if __name__ == "__main__":
    main()
