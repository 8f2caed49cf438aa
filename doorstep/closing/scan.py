"""Finding a person's identifiers anywhere: every text column of every table, and files.

The erase proves itself with it. Which tables and columns hold text is read from the database
(Django's introspection), never from a list kept by hand: a table added next year is scanned
the day it exists. A JSON column is parsed and its strings searched, because Django writes JSON
with ``\\uXXXX`` escapes that a byte search would miss.

The search is for identifiers gathered from the rows before they go: names, document numbers,
phones and person codes. Numbers and codes are found as runs of letters and digits; names as
windows of their own lengths over the text, so "张三" is found inside "联系张三家属".
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import connection

_RUN = re.compile(r"[0-9A-Za-z]+")
TEXT_TYPES = {
    "CharField",
    "TextField",
    "JSONField",
    "SlugField",
    "EmailField",
    "GenericIPAddressField",
}
# Reading files: lines longer than this are read in pieces; a file larger than this is read to
# this many bytes and named as not read whole (the certificate says so).
_CHUNK = 1 << 20
FILE_BUDGET = 512 << 20


@dataclass
class Matcher:
    """What to look for. Numbers and codes are kept upper-case without separators; a phone
    written with the country code (8613800000000) is found by its last eleven digits."""

    numbers: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)

    def add_number(self, value: str) -> None:
        value = "".join(_RUN.findall(value or "")).upper()
        if len(value) >= 6:
            self.numbers.add(value)

    def add_name(self, value: str) -> None:
        value = (value or "").strip()
        if len(value) >= 2:
            self.names.add(value)

    def __len__(self) -> int:
        return len(self.numbers) + len(self.names)

    def _lengths(self) -> list[int]:
        if not hasattr(self, "_name_lengths"):
            self._name_lengths = sorted({len(n) for n in self.names})
        return self._name_lengths

    def found(self, text: str) -> str | None:
        """The first identifier in ``text``, or None."""
        if not text:
            return None
        if self.numbers:
            joined = text.upper()
            for run in _RUN.findall(joined):
                if run in self.numbers:
                    return run
                if len(run) > 11 and run[-11:] in self.numbers:
                    return run[-11:]
        if self.names:
            names = self.names
            size = len(text)
            for length in self._lengths():
                for start in range(0, size - length + 1):
                    piece = text[start : start + length]
                    if piece in names:
                        return piece
        return None


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def text_columns() -> list[tuple[str, str, bool]]:
    """Every (table, column, is_json) of the database that can hold text, read from it."""
    found = []
    with connection.cursor() as cursor:
        introspection = connection.introspection
        for table in sorted(introspection.table_names(cursor)):
            for column in introspection.get_table_description(cursor, table):
                try:
                    kind = introspection.get_field_type(column.type_code, column)
                except KeyError:
                    kind = str(column.type_code)
                if kind in TEXT_TYPES or _looks_textual(column.type_code):
                    found.append((table, column.name, kind == "JSONField"))
    return found


def _looks_textual(type_code: object) -> bool:
    # SQLite answers with the declared type (varchar(100), text); PostgreSQL with an oid that
    # get_field_type maps. An unknown declared text type is still text.
    return isinstance(type_code, str) and any(
        word in type_code.lower() for word in ("char", "text", "clob", "json")
    )


@dataclass
class Hits:
    tables: int = 0
    columns: int = 0
    cells: int = 0
    where: Counter[str] = field(default_factory=Counter)
    example: dict[str, str] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.where.values())


def scan_database(matcher: Matcher) -> Hits:
    """Every text cell of every table searched for the identifiers. On PostgreSQL a JSON column
    is read as text of its parsed value; on SQLite it is the stored text, parsed here."""
    hits = Hits()
    columns = text_columns()
    hits.columns = len(columns)
    hits.tables = len({table for table, _c, _j in columns})
    if not len(matcher):
        return hits
    quote = connection.ops.quote_name
    for table, column, is_json in columns:
        expression = quote(column)
        if connection.vendor == "postgresql":
            expression += "::text"
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {expression} FROM {quote(table)} WHERE {quote(column)} IS NOT NULL"
            )
            while rows := cursor.fetchmany(2000):
                for (value,) in rows:
                    hits.cells += 1
                    for text in _cell_texts(value, is_json):
                        hit = matcher.found(text)
                        if hit is not None:
                            key = f"{table}.{column}"
                            hits.where[key] += 1
                            hits.example.setdefault(key, hit)
                            break
    return hits


def _cell_texts(value: object, is_json: bool) -> Iterable[str]:
    if isinstance(value, memoryview | bytes):
        value = bytes(value).decode("utf-8", "replace")
    if not isinstance(value, str):
        value = str(value)
    if is_json or (value[:1] in "{[" and value[-1:] in "}]"):
        try:
            return list(_strings(json.loads(value))) or [value]
        except ValueError:
            return [value]
    return [value]


def file_lines(path: Path) -> Iterator[str]:
    """A file's text, line by line, in bounded pieces, to at most FILE_BUDGET bytes."""
    read = 0
    with path.open("rb") as handle:
        while read < FILE_BUDGET:
            piece = handle.readline(_CHUNK)
            if not piece:
                return
            read += len(piece)
            yield piece.decode("utf-8", "replace")
