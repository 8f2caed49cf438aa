"""Hand-written SQL for the one hot path (the ingest engine), on PostgreSQL and SQLite, through
Django's connection and so inside the caller's transaction.

The ORM builds and compiles every statement in Python; on the scan path that was a quarter of
the time (issue 16's profile). Here each statement is one fixed text per shape:

* lists of keys go in as one array (``= ANY(%s::text[])``) on PostgreSQL, so the text does not
  change with their number and PostgreSQL keeps the statement prepared on the connection (set
  ``DOORSTEP_PG_PREPARE=0`` behind a pooler in transaction mode); SQLite gets ``IN (...)``;
* a ``Read`` sends several SELECTs as one statement, each part's rows coming back as a JSON
  array, so a batch's look-ups cost one round trip whatever its size;
* rows go in with multi-row statements (``core.bulk``).

Statements run through the connection's error wrapper (a duplicate key is Django's
``IntegrityError``) and are logged like the ORM's, so query-count tests count them.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import time
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper

Row = tuple[Any, ...]


def database() -> BaseDatabaseWrapper:
    """This thread's connection (``django.db.connection`` looks it up again on every use)."""
    return connections[DEFAULT_DB_ALIAS]


@functools.cache
def postgres() -> bool:
    return database().vendor == "postgresql"


def adapt(value: Any) -> Any:
    """A parameter as the database takes it: SQLite stores UUIDs as hex and datetimes as
    Django's text; PostgreSQL's driver adapts both itself."""
    if postgres():
        return value
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, dt.datetime):
        return database().ops.adapt_datetimefield_value(value)
    return value


def any_of(column: str, values: Collection[Any], kind: str) -> tuple[str, list[Any]]:
    """``column`` is one of ``values`` (of SQL type ``kind``), as a condition and its params."""
    if postgres():
        return f"{column} = ANY(%s::{kind}[])", [list(values)]
    if not values:
        return "0 = 1", []
    return f"{column} IN ({', '.join(['%s'] * len(values))})", [adapt(v) for v in values]


def moment(value: Any) -> dt.datetime | None:
    """A timestamp as it comes back in JSON or from SQLite: ISO text, UTC when it has no zone."""
    if value is None or isinstance(value, dt.datetime):
        return value
    moment = dt.datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def fetch(sql: str, params: Sequence[Any] = ()) -> list[Row]:
    return _run(sql, params, rows=True)


def execute(sql: str, params: Sequence[Any] = ()) -> None:
    _run(sql, params, rows=False)


def executemany(sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """One statement for many rows: on PostgreSQL the driver sends them in one pipeline."""
    db = database()
    with db.cursor() as cursor:
        cursor.executemany(sql, rows)


def array(values: Sequence[Any]) -> str:
    """A list as the text of a PostgreSQL array, for a parameter cast to its type
    (``%s::bigint[]``). The driver's own list adaptation works out each list's element type in
    Python, which was a fifth of a scan's time on the driver's side; this is a join."""
    return "{" + ",".join(map(_element, values)) + "}"


def _element(value: Any) -> str:
    if value is None:
        return "NULL"
    if value is True or value is False:
        return "t" if value else "f"
    if isinstance(value, int | float):
        return str(value)
    text = value.isoformat() if isinstance(value, dt.datetime | dt.date) else str(value)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _run(sql: str, params: Sequence[Any], *, rows: bool) -> list[Row]:
    db = database()
    if not postgres():
        with db.cursor() as cursor:
            cursor.execute(sql, params)
            return list(cursor.fetchall()) if rows else []
    params = [array(p) if isinstance(p, list) else p for p in params]
    db.ensure_connection()
    started = time.monotonic()
    with db.wrap_database_errors, psycopg.Cursor(db.connection) as raw:
        raw.execute(sql, params, prepare=settings.PG_PREPARE)  # type: ignore[arg-type]
        found = list(raw.fetchall()) if rows else []
    if db.queries_logged:
        db.queries_log.append({"sql": sql, "time": f"{time.monotonic() - started:.3f}"})
    return found


@dataclass
class Part:
    """One SELECT of a ``Read``: its columns are named so that both databases can build each
    row as a JSON array. ``lock`` adds PostgreSQL's ``FOR UPDATE`` on that table alias (SQLite
    writers hold the whole database already)."""

    name: str
    columns: Sequence[str]
    body: str  # FROM ... WHERE ... [ORDER BY ...]
    params: list[Any] = field(default_factory=list)
    lock: str = ""

    def select(self) -> str:
        aliased = ", ".join(f"{c} AS c{i}" for i, c in enumerate(self.columns))
        lock = f" FOR UPDATE OF {self.lock}" if self.lock and postgres() else ""
        return f"SELECT {aliased} {self.body}{lock}"


@dataclass
class Read:
    """Several SELECTs sent as one statement, with shared ``WITH`` clauses; ``run`` returns
    each part's rows by name."""

    prelude: list[tuple[str, str, list[Any]]] = field(default_factory=list)
    parts: list[Part] = field(default_factory=list)

    def with_(self, name: str, sql: str, params: list[Any] | None = None) -> None:
        self.prelude.append((name, sql, params or []))

    def add(self, part: Part) -> None:
        self.parts.append(part)

    def run(self) -> dict[str, list[list[Any]]]:
        if not self.parts:
            return {}
        pg = postgres()
        selects, params = [], []
        for name, sql, values in self.prelude:
            selects.append(f"{name} AS ({sql})")
            params += values
        prelude = f"WITH {', '.join(selects)} " if selects else ""
        columns = []
        for part in self.parts:
            cells = ", ".join(f"t.c{i}" for i in range(len(part.columns)))
            rows = (
                f"coalesce(json_agg(json_build_array({cells})), '[]'::json)"
                if pg
                else f"json_group_array(json_array({cells}))"
            )
            columns.append(f"(SELECT {rows} FROM ({part.select()}) AS t) AS {part.name}")
            params += part.params
        found = fetch(f"{prelude}SELECT {', '.join(columns)}", params)[0]
        return {
            part.name: value if pg else json.loads(value)
            for part, value in zip(self.parts, found, strict=True)
        }
