"""Hand-written SQL for the one hot path (the ingest engine), on PostgreSQL and SQLite, through
Django's connection and so inside the caller's transaction.

The ORM builds and compiles every statement in Python; on the scan path that was a quarter of
the time (issue 16's profile). Here each statement is one fixed text per shape:

* lists of keys go in as one array (``= ANY(%s::text[])``) on PostgreSQL, so the text does not
  change with their number and PostgreSQL keeps the statement prepared on the connection (set
  ``DOORSTEP_PG_PREPARE=0`` behind a pooler in transaction mode); SQLite gets ``IN (...)``;
* a ``Read`` sends several SELECTs as one statement, each part's rows coming back as a JSON
  array, so a batch's look-ups cost one round trip whatever its size;
* rows go in with multi-row statements (``core.bulk``);
* column names come from declarations (``Table``, ``Derived``) resolved against the models
  when declared, so a renamed field fails at import, not in the first scan.

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
from django.core.exceptions import FieldDoesNotExist
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model

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


class ColumnError(LookupError):
    """Hand-written SQL names a column its model does not have (``Table``) or a ``WITH`` clause
    does not declare (``Derived``): raised where the SQL is declared, not when it first runs."""


class _Columns:
    """A declaration's columns as attributes, ``"alias.column"`` each: the good names are set
    when declared, so looking one up on the scan path is a plain attribute read; any other
    name comes through ``__getattr__``, which raises."""

    def __init__(self, owner: Table | Derived) -> None:
        self._owner = owner

    def __getattr__(self, name: str) -> str:
        if name.startswith("__"):
            raise AttributeError(name)
        raise self._owner.unknown(name)


class Table:
    """A model's table as hand-written SQL names it, under an alias: ``tube = Table(Tube,
    "tube")``, then ``str(tube)`` is ``"sampling_tube tube"`` for a FROM or a JOIN and
    ``tube.c.campaign_id`` is ``"tube.campaign_id"``, the column the model's field
    ``campaign`` has now (a field is named by its name or its attname).

    Every column is resolved through the model's ``_meta`` when the table is declared (at
    import), so a field renamed in the model fails there, naming the model and the field, and
    a column renamed under a field (``db_column``) follows without a change here. Only real
    columns are attributes: a reverse relation or a many-to-many has none."""

    def __init__(self, model: type[Model], alias: str) -> None:
        self.model = model
        self.alias = alias
        self.name = model._meta.db_table
        self.c = _Columns(self)
        for column in model._meta.concrete_fields:
            for name in {column.name, column.attname}:
                setattr(self.c, name, f"{alias}.{column.column}")

    def __str__(self) -> str:
        return f"{self.name} {self.alias}"

    def __repr__(self) -> str:
        return f"Table({self.model.__name__}, {self.alias!r})"

    def columns(self, *names: str) -> list[str]:
        """Several columns, in order (a SELECT list)."""
        return [getattr(self.c, name) for name in names]

    def unknown(self, name: str) -> ColumnError:
        meta = self.model._meta
        try:
            meta.get_field(name)
        except FieldDoesNotExist:
            problem = "has no field"
        else:
            problem = "has no column for the field"
        return ColumnError(
            f"{meta.label} {problem} “{name}” (hand-written SQL names {self.alias}.{name}): "
            f"name one of its fields as the model has it now ({_some(meta)}), or change the "
            "SQL that reads it."
        )


class Derived:
    """Rows a read makes for itself (a ``WITH`` clause), under its name and an alias: its
    columns are the names it declares, and nothing else. ``select`` gives each its value, so
    a clause's SELECT list and the names others read it by come from one declaration."""

    def __init__(self, name: str, alias: str, columns: Sequence[str]) -> None:
        self.name = name
        self.alias = alias
        self.names = tuple(columns)
        self.c = _Columns(self)
        for column in self.names:
            setattr(self.c, column, f"{alias}.{column}")

    def __str__(self) -> str:
        return self.name if self.alias == self.name else f"{self.name} {self.alias}"

    def __repr__(self) -> str:
        return f"Derived({self.name!r}, {self.alias!r})"

    def columns(self, *names: str) -> list[str]:
        """Several columns, in order (a SELECT list)."""
        return [getattr(self.c, name) for name in names]

    def select(self, *values: str) -> str:
        """A SELECT list giving the declared columns, in order, these values."""
        if len(values) != len(self.names):
            raise ColumnError(
                f"{self.name} declares {len(self.names)} columns ({', '.join(self.names)}) "
                f"but its SELECT gives {len(values)}: give each a value, in order."
            )
        return ", ".join(f"{v} AS {n}" for v, n in zip(values, self.names, strict=True))

    def unknown(self, name: str) -> ColumnError:
        return ColumnError(
            f"{self.name} declares no column “{name}” (hand-written SQL names "
            f"{self.alias}.{name}): its columns are {', '.join(self.names)}; name one of "
            "them, or declare it."
        )


def _some(meta: Any) -> str:
    return ", ".join(f.name for f in meta.concrete_fields)
