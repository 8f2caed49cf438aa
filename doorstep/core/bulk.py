"""Multi-row INSERTs and UPDATEs without building model instances, for the ingest path.

``bulk_create`` builds a model per row and prepares every value through the field, and
``bulk_update`` writes a CASE per column per row; at a hundred rows a request that was most of
the request's time. Here values are converted by column kind and sent in one statement
(``core.sql``): on PostgreSQL one row as plain VALUES, several as one array per column through
``unnest`` (a text that does not change with the number of rows, so it stays prepared); on
SQLite a multi-row VALUES (or ``executemany`` of a one-row UPDATE). What a statement needs of
its model (columns, types, converters, text) is worked out once per process. Nothing runs
``save()``, signals or ``pre_save``: use these only for rows whose every column the caller
gives.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import models

from doorstep.core import sql

# SQLite allows 32,766 parameters a statement; a multi-row VALUES stays under it.
SQLITE_PARAMS = 30_000

Convert = Callable[[Any], Any]


@dataclass(frozen=True)
class _Table:
    """What the statements of one model and list of columns need, once per process."""

    table: str
    names: tuple[str, ...]  # quoted columns
    converters: tuple[Convert | None, ...]
    unnest: str  # PostgreSQL: unnest(%s::type[], ...) AS u(c0, ...)
    picks: tuple[str, ...]  # PostgreSQL: u.c0, u.c1::jsonb, ...


def _converter(field: models.Field[Any, Any], postgres: bool) -> Convert | None:
    kind = field.get_internal_type()
    if kind == "JSONField":
        return json.dumps
    if postgres:
        return None  # the driver adapts UUIDs and aware datetimes itself
    if kind == "UUIDField":
        return lambda v: v.hex
    if kind == "DateTimeField":
        return sql.database().ops.adapt_datetimefield_value  # type: ignore[no-any-return]
    return None


@functools.cache
def _table(model: type[models.Model], columns: tuple[str, ...]) -> _Table:
    db = sql.database()
    postgres = sql.postgres()
    fields = [model._meta.get_field(name) for name in columns]
    types = [str(f.db_type(db)) for f in fields]  # type: ignore[union-attr]
    arrays = ", ".join("%s::text[]" if t == "jsonb" else f"%s::{t}[]" for t in types)
    aliases = ", ".join(f"c{i}" for i in range(len(types)))
    return _Table(
        table=db.ops.quote_name(model._meta.db_table),
        names=tuple(db.ops.quote_name(str(f.column)) for f in fields),  # type: ignore[union-attr]
        converters=tuple(_converter(f, postgres) for f in fields),  # type: ignore[arg-type]
        unnest=f"unnest({arrays}) AS u({aliases})",
        picks=tuple(f"u.c{i}::jsonb" if t == "jsonb" else f"u.c{i}" for i, t in enumerate(types)),
    )


def _convert(table: _Table, rows: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
    if not any(table.converters):
        return [tuple(row) for row in rows]
    return [
        tuple(
            v if c is None or v is None else c(v)
            for v, c in zip(row, table.converters, strict=True)
        )
        for row in rows
    ]


def _write(statement: str, params: Sequence[Any], returning: bool) -> list[sql.Row]:
    if returning:
        return sql.fetch(statement, params)
    sql.execute(statement, params)
    return []


def insert(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    returning: Sequence[str] = (),
) -> list[sql.Row]:
    """INSERT ``rows`` (tuples in the order of ``columns``, given by field name) into ``model``;
    with ``returning``, the inserted rows' values of those columns, one row each."""
    if not rows:
        return []
    table = _table(model, tuple(columns))
    names = ", ".join(table.names)
    back = f" RETURNING {', '.join(returning)}" if returning else ""
    values = _convert(table, rows)
    one = f"({', '.join(['%s'] * len(table.names))})"
    if sql.postgres():
        if len(values) == 1:
            statement = f"INSERT INTO {table.table} ({names}) VALUES {one}{back}"
            return _write(statement, values[0], bool(returning))
        statement = (
            f"INSERT INTO {table.table} ({names}) "
            f"SELECT {', '.join(table.picks)} FROM {table.unnest}{back}"
        )
        return _write(statement, [list(c) for c in zip(*values, strict=True)], bool(returning))
    step = max(1, SQLITE_PARAMS // len(table.names))
    found: list[sql.Row] = []
    for start in range(0, len(values), step):
        chunk = values[start : start + step]
        statement = (
            f"INSERT INTO {table.table} ({names}) VALUES {', '.join([one] * len(chunk))}{back}"
        )
        found += _write(statement, [v for row in chunk for v in row], bool(returning))
    return found


def update(
    model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """UPDATE rows of ``model`` by primary key: each row is (pk, *values of ``columns``)."""
    if not rows:
        return
    table = _table(model, (model._meta.pk.name, *columns))  # type: ignore[union-attr]
    key, *names = table.names
    values = _convert(table, rows)
    if sql.postgres() and len(values) > 1:
        sets = ", ".join(f"{n} = {p}" for n, p in zip(names, table.picks[1:], strict=True))
        sql.execute(
            f"UPDATE {table.table} AS t SET {sets} FROM {table.unnest} WHERE t.{key} = u.c0",
            [list(c) for c in zip(*values, strict=True)],
        )
        return
    sets = ", ".join(f"{n} = %s" for n in names)
    statement = f"UPDATE {table.table} SET {sets} WHERE {key} = %s"
    if len(values) == 1:
        sql.execute(statement, [*values[0][1:], values[0][0]])
        return
    sql.executemany(statement, [(*row[1:], row[0]) for row in values])


def add(
    model: type[models.Model],
    keys: Sequence[str],
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
) -> None:
    """Add to counters: each row is (*values of ``keys``, *amounts for ``columns``), one
    statement for all rows. Rows are applied in the order given: give them in one order for
    every writer (PostgreSQL locks them as it updates them)."""
    if not rows:
        return
    table = _table(model, (*keys, *columns))
    key_names, names = table.names[: len(keys)], table.names[len(keys) :]
    if sql.postgres() and len(rows) > 1:
        sets = ", ".join(
            f"{n} = t.{n} + {p}" for n, p in zip(names, table.picks[len(keys) :], strict=True)
        )
        where = " AND ".join(f"t.{k} = {p}" for k, p in zip(key_names, table.picks, strict=False))
        sql.execute(
            f"UPDATE {table.table} AS t SET {sets} FROM {table.unnest} WHERE {where}",
            [list(c) for c in zip(*rows, strict=True)],
        )
        return
    sets = ", ".join(f"{n} = {n} + %s" for n in names)
    where = " AND ".join(f"{k} = %s" for k in key_names)
    statement = f"UPDATE {table.table} SET {sets} WHERE {where}"
    params = [(*row[len(keys) :], *row[: len(keys)]) for row in rows]
    if len(params) == 1:
        sql.execute(statement, params[0])
    else:
        sql.executemany(statement, params)
