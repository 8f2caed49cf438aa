"""Hostile and heavy files uploaded through `doorstep serve`: the worker's peak memory and CPU.

    .venv/bin/python bench/uploads.py [--backend sqlite|postgresql] [--only NAME]

Each file of issue 27, at the size it was sent, goes to the page it was sent to (the roster, the
staff list, the lab's results) and to the others, as a signed-in user would send it; beside them,
a legal 200,000-row roster as XLSX and as CSV (a dry run: read, checked and written in a
transaction that is rolled back), and the most work a file can ask of the reader within the
limits: every row full of empty cells, each with its reference, so it passes the packing check.
For each upload: the answer, the server worker's peak memory above what it held before (the
kernel's high-water mark, reset before each upload), its CPU seconds and the wall time, against
the budget in docs/security.md: +200 MB; 15 CPU-seconds to refuse or read a hostile file, 60 to
check the largest legal roster. Each file gets a fresh server with one worker process and one
thread, so the figures are that upload's alone. Exits 1 if any upload is a server error or goes
over its budget.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import django
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import DOORSTEP, PG_BENCH, ROOT, environment, fresh_pg, roster_rows

sys.path.insert(0, str(ROOT))
# The bombs are the test kit's, which needs Django set up (here only to build files, so in debug
# mode; the server below is not: debug keeps every query in memory).
SERVER_ENV = dict(os.environ)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "doorstep.settings")
os.environ.setdefault("DOORSTEP_DEBUG", "1")
django.setup()

from doorstep.testing import bombs  # noqa: E402
from doorstep.testing.rosters import HEADER  # noqa: E402

BUDGET_MB = 200
HOSTILE_CPU_S = 15.0
LEGAL_CPU_S = 60.0
PASSWORD = "doorstep-demo"
STAFF = ["单位", "姓名", "手机号"]
RESULTS = ["tube", "result"]
# page, the user who uploads there, its header
PAGES = {
    "roster": ("/territory/roster/", "worker", HEADER),
    "staff": ("/workforce/staff/import/", "commander", STAFF),
    "results": ("/lab/results/", "lab", RESULTS),
}


def column(n: int) -> str:
    name = ""
    n += 1
    while n:
        n, rest = divmod(n - 1, 26)
        name = chr(65 + rest) + name
    return name


def full_grid(rows: int = 200_000, columns: int = 50, values: bool = False) -> bytes:
    """Every row full to the last column of empty styled cells (or of numbers): the most cells
    the limits let a sheet hold, each with its reference, so the packing ratio stays near
    Excel's. With values, each cell is two elements, past the workbook's element budget."""
    letters = [column(c) for c in range(columns)]
    cell = '<c r="{c}{{0}}"><v>{n}</v></c>' if values else '<c r="{c}{{0}}" s="1"/>'
    template = "".join(cell.format(c=c, n=n) for n, c in enumerate(letters))

    body = (f'<row r="{r}">{template.format(r)}</row>'.encode() for r in range(2, rows + 2))
    return bombs.workbook(bombs.sheet(body))


def legal_roster(rows: int, kind: str) -> bytes:
    """A roster of the worker's own community that passes every check (a dry run reads and
    checks it all, and writes nothing)."""
    people = [("阳光里社区", *row[1:]) for row in roster_rows(rows)]
    if kind == "csv":
        return ("\n".join([",".join(HEADER), *(",".join(p) for p in people)]) + "\n").encode()
    text = [
        "".join(f'<c t="inlineStr"><is><t>{v}</t></is></c>' if v else "" for v in p) for p in people
    ]
    return bombs.workbook(
        bombs.sheet(f'<row r="{n + 2}">{cells}</row>'.encode() for n, cells in enumerate(text))
    )


def wrong_everywhere(header: list[str], rows: int = 200_000) -> bytes:
    """Every row wrong in every column the page reads (about 20 MB of CSV)."""
    line = ",".join("𠀀技𠀀技𠀀" for _ in header).encode()
    return b"\n".join([",".join(header).encode(), *[line] * rows]) + b"\n"


# name, the file for a page's header, the pages it goes to
FILES: list[tuple[str, Callable[[list[str]], bytes], tuple[str, ...]]] = [
    ("27M cells in one row", lambda h: bombs.wide_row(header=h), ("roster", "staff", "results")),
    ("21M styles", lambda h: bombs.styles(header=h), ("results", "roster")),
    ("24M shared strings", lambda h: bombs.shared_strings(header=h), ("staff", "roster")),
    ("400,000 zip entries", lambda h: bombs.many_entries(), ("roster",)),
    ("20,000 sheets", lambda h: bombs.many_sheets(), ("roster",)),
    ("400,000 entries (zip64)", lambda h: bombs.zip64_directory(), ("roster",)),
    ("one 8 KB string x 2M cells", lambda h: bombs.amplifier(header=h), ("roster", "staff")),
    ("1M empty rows", lambda h: bombs.tall(header=h), ("roster",)),
    ("10M nested elements", lambda h: bombs.deep(header=h), ("roster",)),
    ("400 MB tag", lambda h: bombs.long_tag(header=h), ("roster",)),
    ("45 MB of commas", lambda h: bombs.csv_row(header=h), ("roster", "staff", "results")),
    ("200,000 rows all wrong", wrong_everywhere, ("roster", "staff", "results")),
    ("a 100 MB comment", lambda h: bombs.long_comment(header=h), ("roster",)),
    ("zip64 decoy, 400,000 entries", lambda h: bombs.zip64_directory(decoy=True), ("roster",)),
    ("45 MB quoted field", lambda h: bombs.csv_quote(header=h), ("roster",)),
    ("every cell of 200,001x50", lambda h: full_grid(), ("roster",)),
    ("200,001x50 numbers", lambda h: full_grid(values=True), ("roster",)),
    ("200,000-row roster (xlsx)", lambda h: legal_roster(200_000, "xlsx"), ("roster",)),
    ("200,000-row roster (csv)", lambda h: legal_roster(200_000, "csv"), ("roster",)),
]
LEGAL = {"200,000-row roster (xlsx)", "200,000-row roster (csv)"}


@dataclass
class Upload:
    name: str
    page: str
    size: int
    status: int
    answer: str
    peak_mb: float
    cpu_s: float
    wall_s: float
    cpu_budget: float = HOSTILE_CPU_S

    @property
    def within(self) -> bool:
        return (
            self.status in (200, 400)
            and self.peak_mb <= BUDGET_MB
            and self.cpu_s <= self.cpu_budget
        )


class Server:
    """`doorstep serve` with one worker process and one thread, on a demo database."""

    def __init__(self, env: dict[str, str]) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        log = open(Path(env["DOORSTEP_HOME"]) / "serve.log", "ab")  # noqa: SIM115 (the server's)
        self.process = subprocess.Popen(
            [
                DOORSTEP,
                "serve",
                "--port",
                str(self.port),
                "--workers",
                "1",
                "--threads",
                "1",
                "--demo",
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.base = f"http://127.0.0.1:{self.port}"
        for _ in range(200):
            try:
                requests.get(self.base + "/login/", timeout=1)
                return
            except requests.ConnectionError:
                time.sleep(0.1)
        self.stop()
        raise SystemExit("doorstep serve did not start (see serve.log)")

    def pids(self) -> list[int]:
        """The server and every process under it."""
        found, todo = [], [self.process.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            try:
                children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            except OSError:
                continue
            todo.extend(int(c) for c in children)
        return found

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=30)


def status(pid: int, field: str) -> int:
    text = Path(f"/proc/{pid}/status").read_text()
    found = re.search(rf"^{field}:\s+(\d+) kB", text, re.M)
    return int(found.group(1)) if found else 0


def cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def sign_in(server: Server, username: str) -> requests.Session:
    session = requests.Session()
    page = session.get(server.base + "/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token, "no sign-in form"
    answer = session.post(
        server.base + "/login/",
        data={"csrfmiddlewaretoken": token.group(1), "username": username, "password": PASSWORD},
        headers={"Referer": server.base + "/login/"},
    )
    assert "/login/" not in answer.url, f"{username} could not sign in"
    return session


def upload(server: Server, session: requests.Session, path: str, data: bytes) -> Upload:
    pids = server.pids()
    before: dict[int, tuple[int, float]] = {}
    for pid in pids:
        Path(f"/proc/{pid}/clear_refs").write_text("5")  # the high-water mark starts again
        before[pid] = (status(pid, "VmRSS"), cpu(pid))
    form = session.get(server.base + path)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
    assert token, f"no form at {path}"
    started = time.perf_counter()
    answer = session.post(
        server.base + path,
        data={"csrfmiddlewaretoken": token.group(1), "dry_run": "1"},
        files={"file": ("upload.xlsx", data)},
        headers={"Referer": server.base + path},
        timeout=600,
    )
    wall = time.perf_counter() - started
    peak = max(status(pid, "VmHWM") - before[pid][0] for pid in pids) / 1024
    spent = sum(cpu(pid) - before[pid][1] for pid in pids)
    said = re.search(r'class="alert (?:bad|ok)"[^>]*>\s*(?:<strong>)?([^<]{5,300})', answer.text)
    row = re.search(r'<ul class="errors">\s*<li>([^<]{5,300})', answer.text)
    said = row or said
    return Upload(
        "",
        path,
        len(data),
        answer.status_code,
        said.group(1).strip() if said else "",
        peak,
        spent,
        wall,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--only", default="", help="only the files whose name holds this")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="doorstep-uploads-"))
    if args.backend == "postgresql":
        fresh_pg()
        env = environment(home, PG_BENCH)
    else:
        env = environment(home)
    if "DOORSTEP_DEBUG" not in SERVER_ENV:
        del env["DOORSTEP_DEBUG"]
    env["PYTHONPATH"] = str(ROOT)
    subprocess.run(
        [DOORSTEP, "demo", "--residents", "2000", "--no-serve"],
        env=env,
        check=True,
        capture_output=True,
    )
    results: list[Upload] = []
    for name, make, pages in FILES:
        if args.only and args.only not in name:
            continue
        server = Server(env)  # a fresh worker: its high-water mark is this file's alone
        try:
            sessions = {u: sign_in(server, u) for u in ("worker", "commander", "lab")}
            for page in pages:
                path, user, header = PAGES[page]
                result = upload(server, sessions[user], path, make(list(header)))
                result.name = name
                result.cpu_budget = LEGAL_CPU_S if name in LEGAL else HOSTILE_CPU_S
                results.append(result)
                print(
                    f"{name:<28} {page:<8} {result.size / 2**20:6.1f} MB  HTTP {result.status}"
                    f"  +{result.peak_mb:6.1f} MB  {result.cpu_s:5.2f} CPU-s  {result.wall_s:5.2f} s"
                    f"  {'ok' if result.within else 'OVER'}  {result.answer[:90]}",
                    flush=True,
                )
        finally:
            server.stop()
    print(
        f"\nbudget ({args.backend}): +{BUDGET_MB} MB a file; {HOSTILE_CPU_S:.0f} CPU-seconds to"
        f" refuse or read a hostile one, {LEGAL_CPU_S:.0f} to check the largest legal roster"
    )
    over = [r for r in results if not r.within]
    if over:
        raise SystemExit(f"{len(over)} upload(s) over the budget or a server error")


if __name__ == "__main__":
    main()
