"""What the readers share: the errors, the columns a caller reads, the limits, and the sink that
keeps only what the caller reads while checking every limit as the rows arrive."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO

from django.conf import settings
from django.utils.translation import gettext as _

MB = 2**20
# What an import reads: the file's bytes, or a binary file (read in chunks, never whole).
Source = bytes | IO[bytes]
# Control characters no spreadsheet writes in text: PostgreSQL refuses NUL, and an XLSX export
# cannot hold any of them.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
MEMO = 10_000
TITLE_ROWS = 5  # rows of title a file may have above its header
MAX_ERRORS = 1_000  # problems an import keeps before it stops checking
SHOWN = 60  # characters of a bad value a problem shows  # values a column's memo keeps (see ``Sink._shared``)


class TableFileError(ValueError):
    """The file as a whole cannot be read: nothing in it was checked row by row."""


@dataclass(frozen=True)
class Column:
    key: str
    header_zh: str
    header_en: str
    required: bool
    aliases: tuple[str, ...] = ()


@dataclass
class RowError:
    row: int
    column: str
    value: str
    message: str

    def __post_init__(self) -> None:
        if len(self.value) > SHOWN:  # enough to find the cell, never a whole cell per row
            self.value = self.value[:SHOWN] + "…"

    def as_line(self) -> str:
        shown = f" «{self.value}»" if self.value else ""
        return _("row %(row)d, %(column)s%(value)s: %(message)s") % {
            "row": self.row,
            "column": self.column,
            "value": shown,
            "message": self.message,
        }


class RowErrors(list[RowError]):
    """A file's problems as an import finds them, the first ``MAX_ERRORS`` kept: a file wrong
    on every row must hold neither a message per row nor the time to write them all. Imports
    stop checking rows once it is ``full`` and say where (``stopped_at``)."""

    def __init__(self) -> None:
        super().__init__()
        self.total = 0
        self.rows: set[int] = set()
        self.stopped_at: int | None = None

    def append(self, error: RowError) -> None:
        self.total += 1
        self.rows.add(error.row)
        if len(self) < MAX_ERRORS:
            super().append(error)

    @property
    def full(self) -> bool:
        return self.total >= MAX_ERRORS

    def stop(self, row: int) -> bool:
        """Whether checking stops after ``row``: it does once the list is full."""
        if self.full:
            self.stopped_at = row
        return self.full


def bad_rows_summary(errors: RowErrors) -> str:
    if errors.stopped_at is not None:
        return _(
            "At least %(count)d bad rows by row %(row)d, where checking stopped: nothing was imported. Fix them and import the file again."
        ) % {"count": len(errors.rows), "row": errors.stopped_at}
    return _("%(count)d bad row(s): nothing was imported. Fix them and import the file again.") % {
        "count": len(errors.rows)
    }


def header_key(text: str) -> str:
    return text.strip().lower().replace(" ", "").replace("*", "").replace("（", "(").split("(")[0]


@dataclass
class Header:
    """Where each known column is in a row, how the file spells it, and what was ignored."""

    positions: dict[str, int]
    spelled: dict[str, str]
    ignored: list[str]


def _names(columns: Sequence[Column]) -> dict[str, str]:
    """Each way a header may name a column, as ``header_key`` reads it, and the column's key."""
    return {header_key(n): c.key for c in columns for n in (c.header_zh, c.header_en, *c.aliases)}


def map_header(row: Sequence[str], columns: Sequence[Column], number: int = 1) -> Header:
    lookup = _names(columns)
    positions: dict[str, int] = {}
    spelled: dict[str, str] = {}
    ignored: list[str] = []
    for index, title in enumerate(row):
        key = lookup.get(header_key(title))
        if key is None:
            if title:
                ignored.append(title)
            continue
        if key in positions:
            raise TableFileError(
                _("Two columns are headed «%(a)s» and «%(b)s»; keep one of them.")
                % {"a": spelled[key], "b": title}
            )
        positions[key] = index
        spelled[key] = title
    missing = [c for c in columns if c.required and c.key not in positions]
    if missing:
        raise TableFileError(
            _(
                "The header row (row %(row)d) lacks the column(s) %(columns)s. Use the template's headers; a title above them is fine."
            )
            % {
                "row": number,
                "columns": ", ".join(f"{c.header_zh} / {c.header_en}" for c in missing),
            }
        )
    return Header(positions, spelled, ignored)


@dataclass(frozen=True)
class Limits:
    """What one import may read. A real town's roster fits the defaults with room to spare; a
    file that needs more is refused whole, with what to do, as soon as it needs more.

    ``unzipped`` bounds a workbook's parts together, and its first sheet with ``cell_bytes`` a
    cell; ``strings`` the shared
    strings; ``part`` every other part read (styles, the list of sheets, relations); ``entries``
    the files in the archive; ``ratio`` how much any part read may unpack to per byte packed;
    ``text`` the memory the kept cells' strings may take, whatever the file's shape; ``elements``
    the XML elements of all the parts read together, which is what the parse costs."""

    rows: int
    columns: int
    cell: int
    unzipped: int
    strings: int = 64 * MB
    part: int = 10 * MB
    entries: int = 1_000
    ratio: int = 100
    text: int = 96 * MB  # the kept cells' strings, in memory (a 200,000-row roster: about 42)
    elements: int = 12_000_000  # XML elements in the parts read (200,000 rows x 10: about 6M)
    cell_bytes: int = 200  # the XML a cell may take, on average, in the first sheet

    @classmethod
    def from_settings(cls) -> Limits:
        return cls(
            rows=settings.TABLE_MAX_ROWS,
            columns=settings.TABLE_MAX_COLUMNS,
            cell=settings.TABLE_MAX_CELL,
            unzipped=settings.TABLE_MAX_UNZIPPED,
            strings=settings.TABLE_MAX_STRINGS,
            part=settings.TABLE_MAX_PART,
            entries=settings.TABLE_MAX_ENTRIES,
            ratio=settings.TABLE_MAX_RATIO,
            text=settings.TABLE_MAX_TEXT,
            elements=settings.TABLE_MAX_ELEMENTS,
        )

    @property
    def cells(self) -> int:
        """Cells a sheet may hold in all, empty ones included: every row full to the last column."""
        return (self.rows + 1) * self.columns

    @property
    def sheet(self) -> int:
        """Bytes the first sheet may unpack to: every cell full, within ``unzipped``."""
        return min(self.unzipped, self.cells * self.cell_bytes)

    @property
    def record(self) -> int:
        """Characters one CSV record may take: every column full, quoted, with its separator."""
        return self.columns * (self.cell + 3) + 2


@dataclass
class Sheet:
    """A file's header and its non-empty rows under it, each with its row number as Excel shows
    it. A row holds only the caller's columns, in the order of ``header.positions``."""

    header: Header
    rows: list[tuple[int, tuple[str, ...]]] = field(default_factory=list)

    def drain(self) -> Iterator[tuple[int, tuple[str, ...]]]:
        """The rows in order, each let go once handed over: a caller that builds rows of its
        own from these never holds both whole."""
        rows, self.rows = self.rows, []
        rows.reverse()
        while rows:
            yield rows.pop()


def too_many_rows(limits: Limits) -> TableFileError:
    return TableFileError(
        _(
            "The file has more than %(rows)s rows. Split it (by community, for example) and import each part; rows beyond your data, even empty-looking ones, count: delete them in Excel."
        )
        % {"rows": f"{limits.rows:,}"}
    )


def too_long(row: int, column: int, length: int, limits: Limits) -> TableFileError:
    return TableFileError(
        _(
            "Row %(row)d, column %(column)d holds %(length)s characters; a cell may hold at most %(limit)s. Check that the right file was chosen."
        )
        % {
            "row": row,
            "column": column + 1,
            "length": f"{length:,}",
            "limit": f"{limits.cell:,}",
        }
    )


class Sink:
    """Rows as a reader finds them. The first non-empty row is the header; under it only the
    caller's columns are kept, so what is held grows with the rows and the caller's columns,
    never with the file's width. Readers ask ``wanted`` before they gather a cell's text."""

    def __init__(self, columns: Sequence[Column], limits: Limits) -> None:
        self.columns = columns
        self.limits = limits
        self.header: Header | None = None
        self._kept: tuple[int, ...] = ()
        self._wanted: frozenset[int] = frozenset()
        self._memos: list[dict[str, str]] = []
        self._names = _names(columns)
        self._titles = 0  # rows of title above the header
        self.rows: list[tuple[int, tuple[str, ...]]] = []
        self.held = 0  # bytes of the text kept, shared strings counted once

    def wanted(self, column: int) -> bool:
        """Whether the cell in ``column`` (from 0) is read; before the header every cell is."""
        return self.header is None or column in self._wanted

    def row(self, number: int, cells: Mapping[int, str]) -> None:
        """One row of the file (empty ones too, for the count), with the cells it was asked for."""
        if number > self.limits.rows + 1 + self._titles:  # the header is row 1, or under a title
            raise too_many_rows(self.limits)
        if not any(cells.values()):
            return
        for column, text in cells.items():
            if len(text) > self.limits.cell:
                raise too_long(number, column, len(text), self.limits)
            if _CONTROL.search(text):
                raise TableFileError(
                    _(
                        "Row %(row)d, column %(column)d holds a control character (such as NUL), which is not text. Open the file in Excel, save it again, and try again."
                    )
                    % {"row": number, "column": column + 1}
                )
        if self.header is None:
            self._read_header(number, cells)
        else:
            kept = zip(self._kept, self._memos, strict=True)
            self.rows.append(
                (number, tuple(self._keep(memo, cells.get(c, "")) for c, memo in kept))
            )
            if self.held > self.limits.text:
                raise TableFileError(
                    _(
                        "By row %(row)d the file's text in the columns an import reads is over %(limit)s MB, more than a roster of %(rows)s rows holds. Split it (by community, for example) and import each part."
                    )
                    % {
                        "row": number,
                        "limit": self.limits.text // MB,
                        "rows": f"{self.limits.rows:,}",
                    }
                )

    def _keep(self, memo: dict[str, str], text: str) -> str:
        """The cell's text as kept: one string for a value its column repeats (a community, a
        building, a document type) while the column has few enough values for that to pay (it
        halves what a roster holds); what a new string takes is counted in ``held``."""
        if not text:
            return text
        shared = memo.get(text)
        if shared is not None:
            return shared
        self.held += sys.getsizeof(text)
        if len(memo) < MEMO:
            memo[text] = text
        return text

    def _read_header(self, number: int, cells: Mapping[int, str]) -> None:
        # The readers have refused any cell beyond the column limit.
        width = 1 + max(c for c, text in cells.items() if text)
        titles = [cells.get(c, "") for c in range(width)]
        if self._titles < TITLE_ROWS and not any(header_key(t) in self._names for t in titles):
            self._titles += 1  # a title above the header ("阳光里社区居民名单"): it names no column
            return
        found = map_header(titles, self.columns, number)
        self._kept = tuple(found.positions.values())
        self._memos = [{} for _ in self._kept]
        self._wanted = frozenset(self._kept)
        found.positions = {key: index for index, key in enumerate(found.positions)}
        self.header = found

    def sheet(self) -> Sheet:
        if self.header is None:
            raise TableFileError(_("The file is empty. Fill in the template and upload it again."))
        if not self.rows:
            raise TableFileError(_("The file has a header row but nothing under it."))
        return Sheet(self.header, self.rows)
