"""CPU-seconds of the processes that did the work, read from /proc: what a phase costs the
machine, which on a shared 2-core box says more than requests per second.

    meter = Meter(server_pid, dsn="postgresql://...")   # or dsn="" on SQLite
    ... the phase ...
    spent = meter.read()        # Spent(server=..., database=..., lost_backends=...)

* the server: the process and every descendant (granian's workers and their threads, the
  counters' folding thread included), live at the start or the end of the phase, plus the
  children they reaped;
* PostgreSQL: the backends connected to the benchmark's database (``pg_stat_activity``), live
  at the start or the end. A backend that ended during the phase took its CPU with it: the count
  is reported (``lost_backends``), so a figure that misses work says so. The server keeps its
  connections open (``CONN_MAX_AGE``), so on a steady run none ends. PostgreSQL's own helpers
  (WAL writer, checkpointer) are not counted; the backends write the WAL of their commits.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name is in parentheses and may hold spaces: split after its closing one.
    return text[text.rindex(")") + 2 :].split()


def seconds(pid: int, *, children: bool = False) -> float:
    """User and system CPU of one process (with ``children``: and of the children it reaped)."""
    fields = _stat(pid)
    if fields is None:
        return 0.0
    # Fields 14-17 of proc(5) (utime, stime, cutime, cstime), counted from the state (3rd).
    used = int(fields[11]) + int(fields[12])
    if children:
        used += int(fields[13]) + int(fields[14])
    return used / TICK


def tree(root: int) -> set[int]:
    """``root`` and its live descendants."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) is not None:
            parents.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo += parents.get(pid, [])
    return found


def backends(dsn: str) -> set[int]:
    """The PostgreSQL backends connected to ``dsn``'s database, this reader's own left out."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT pid FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return {pid for (pid,) in rows}


@dataclass
class Spent:
    server: float
    database: float
    lost_backends: int

    @property
    def total(self) -> float:
        return self.server + self.database

    def per(self, units: int) -> str:
        """Milliseconds of CPU per unit of work: server + database = total."""
        if units <= 0:
            return "no work done"
        ms = 1000 / units
        text = (
            f"{self.server * ms:.3f} server + {self.database * ms:.3f} database "
            f"= {self.total * ms:.3f} ms CPU"
        )
        if self.lost_backends:
            text += f" ({self.lost_backends} database backends ended during the phase: not counted)"
        return text


class Meter:
    def __init__(self, server_pid: int, dsn: str = "", sqlite: Path | None = None) -> None:
        """``dsn``: the PostgreSQL database whose backends count; ``sqlite``: the database file
        on SQLite (whose work is done inside the server's processes), for readers that wait on
        it."""
        self.server_pid, self.dsn, self.sqlite = server_pid, dsn, sqlite
        self.server = self._server()
        self.database = self._database()

    def _server(self) -> dict[int, float]:
        return {pid: seconds(pid, children=True) for pid in tree(self.server_pid)}

    def _database(self) -> dict[int, float]:
        if not self.dsn:
            return {}
        return {pid: seconds(pid) for pid in backends(self.dsn)}

    def read(self) -> Spent:
        """CPU spent since the meter was made (or last read), and start again from here."""
        server, database = self._server(), self._database()
        spent = Spent(
            server=sum(now - self.server.get(pid, 0.0) for pid, now in server.items()),
            database=sum(now - self.database.get(pid, 0.0) for pid, now in database.items()),
            lost_backends=len(set(self.database) - set(database)),
        )
        self.server, self.database = server, database
        return spent
