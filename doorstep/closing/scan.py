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
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from django.db import connection

_RUN = re.compile(r"[0-9A-Z]+")
# What people put between the parts of a number: "138 0013 8000", "138-0013-8000",
# "+86 138…", "110105 19491231 002X", the person code's printed "K7Q-M9X-D4P".
_SEPARATORS = re.compile(r"[\s\-.·/_()+,，、]+")
_SPACE = re.compile(r"\s+")
TEXT_TYPES = {
    "CharField",
    "TextField",
    "JSONField",
    "SlugField",
    "EmailField",
    "GenericIPAddressField",
}


def number_form(value: str) -> str:
    """A number as the matcher keeps it: full-width folded (NFKC), upper-case, letters and
    digits only."""
    return "".join(_RUN.findall(unicodedata.normalize("NFKC", value or "").upper()))


def name_form(value: str) -> str:
    """A name as the matcher keeps it: NFKC, case-folded, no spaces ("John  Smith" and
    "john smith" are one name; so are "张 三" and "张三")."""
    return _SPACE.sub("", unicodedata.normalize("NFKC", value or "").casefold())


@dataclass
class Matcher:
    """What to look for: numbers (document numbers, phones, person codes) and names.

    A number is found inside any run of letters and digits of a text once the text is folded
    (NFKC, upper-case) and the separators people write inside numbers are dropped; a name inside
    the folded text without spaces. Both are found as windows of their own lengths, so
    "联系张三(13800138000)家属" yields both."""

    numbers: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)

    def add_number(self, value: str) -> None:
        value = number_form(value)
        if len(value) >= 6:
            self.numbers.add(value)

    def add_name(self, value: str) -> None:
        value = name_form(value)
        if len(value) >= 2:
            self.names.add(value)

    def __len__(self) -> int:
        return len(self.numbers) + len(self.names)

    def forget(self) -> None:
        """The sets changed: lengths are read again."""
        self.__dict__.pop("_lengths", None)

    def _lengths_of(self) -> tuple[list[int], list[int]]:
        if "_lengths" not in self.__dict__:
            self.__dict__["_lengths"] = (
                sorted({len(n) for n in self.numbers}),
                sorted({len(n) for n in self.names}),
            )
        return self.__dict__["_lengths"]  # type: ignore[no-any-return]

    def found(self, text: str) -> tuple[str, str] | None:
        """The first identifier in ``text`` as (kind, value), kind "number" or "name"."""
        if not text:
            return None
        number_lengths, name_lengths = self._lengths_of()
        if self.numbers:
            folded = _SEPARATORS.sub("", unicodedata.normalize("NFKC", text).upper())
            for run in _RUN.findall(folded):
                hit = _window(run, number_lengths, self.numbers)
                if hit is not None:
                    return "number", hit
        if self.names:
            hit = _window(name_form(text), name_lengths, self.names)
            if hit is not None:
                return "name", hit
        return None


def _window(text: str, lengths: list[int], values: set[str]) -> str | None:
    size = len(text)
    for length in lengths:
        if length > size:
            break
        for start in range(0, size - length + 1):
            piece = text[start : start + length]
            if piece in values:
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
    # Numbers and codes found, per table.column: the erase refuses to finish on any.
    where: Counter[str] = field(default_factory=Counter)
    # Names found in kept text (a place or a word that is also someone's name): recorded.
    names: Counter[str] = field(default_factory=Counter)

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
                            counter = hits.where if hit[0] == "number" else hits.names
                            counter[f"{table}.{column}"] += 1
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


# Lines longer than this are read in pieces: memory stays bounded whatever the file.
_CHUNK = 1 << 20


def file_lines(handle: IO[bytes]) -> Iterator[bytes]:
    """A file's lines in bounded pieces."""
    while piece := handle.readline(_CHUNK):
        yield piece
