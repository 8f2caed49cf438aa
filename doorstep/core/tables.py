"""Reading a spreadsheet someone made in Excel: XLSX, or CSV in UTF-8 or GBK, into rows of text.

Shared by every import (roster, staff). A file that cannot be read as a whole raises
``TableFileError`` with one message; row-level problems are ``RowError``s that the caller
collects, so a report can name every bad row at once.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _
from openpyxl import load_workbook


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

    def as_line(self) -> str:
        shown = f" «{self.value}»" if self.value else ""
        return _("row %(row)d, %(column)s%(value)s: %(message)s") % {
            "row": self.row,
            "column": self.column,
            "value": shown,
            "message": self.message,
        }


def bad_rows_summary(errors: Sequence[RowError]) -> str:
    return _("%(count)d bad row(s): nothing was imported. Fix them and import the file again.") % {
        "count": len({e.row for e in errors})
    }


def header_key(text: str) -> str:
    return text.strip().lower().replace(" ", "").replace("*", "").replace("（", "(").split("(")[0]


@dataclass
class Header:
    """Where each known column is in the file, how the file spells it, and what was ignored."""

    positions: dict[str, int]
    spelled: dict[str, str]
    ignored: list[str]


def map_header(row: Sequence[str], columns: Sequence[Column]) -> Header:
    lookup = {header_key(n): c.key for c in columns for n in (c.header_zh, c.header_en, *c.aliases)}
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
            _("The header row (row 1) lacks the column(s) %(columns)s. Use the template's headers.")
            % {"columns": ", ".join(f"{c.header_zh} / {c.header_en}" for c in missing)}
        )
    return Header(positions, spelled, ignored)


@dataclass
class Table:
    """The non-empty rows of a file's first sheet, each with its row number as Excel shows it
    (the header is the first). Empty rows are counted, never kept."""

    rows: list[tuple[int, list[str]]]


@dataclass(frozen=True)
class Limits:
    """What one import may read: a real town's roster fits (200,000 rows by default)."""

    rows: int
    columns: int
    cell: int
    unzipped: int

    @classmethod
    def from_settings(cls) -> Limits:
        return cls(
            rows=settings.TABLE_MAX_ROWS,
            columns=settings.TABLE_MAX_COLUMNS,
            cell=settings.TABLE_MAX_CELL,
            unzipped=settings.TABLE_MAX_UNZIPPED,
        )


def data_rows(table: Table) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and the non-empty rows under it, each with its row number as Excel shows it."""
    if not table.rows:
        raise TableFileError(_("The file is empty. Fill in the template and upload it again."))
    (_number, header), *numbered = table.rows
    if not numbered:
        raise TableFileError(_("The file has a header row but nothing under it."))
    return header, numbered


def cell_text(value: object) -> str:
    """What a person sees in the cell, as text; numbers keep the damage Excel did to them."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value).upper()
    return str(value).strip()


def read_table(data: bytes, filename: str = "", limits: Limits | None = None) -> Table:
    """The file's first sheet as text, within ``limits`` (the settings' by default): a file
    that declares or holds more rows, columns or characters than allowed is refused whole, with
    what to do, before its rows are built."""
    limits = limits or Limits.from_settings()
    if not data or not data.strip():
        raise TableFileError(_("The file is empty. Fill in the template and upload it again."))
    if data[:4] == b"PK\x03\x04":
        return _read_xlsx(data, limits)
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise TableFileError(
            _(
                "This is an old Excel 97-2003 (.xls) file. In Excel choose Save As → Excel Workbook (.xlsx) and upload that."
            )
        )
    if b"\x00" in data[:4096]:
        raise TableFileError(
            _(
                "This file is neither CSV nor XLSX. Upload the roster as an Excel workbook (.xlsx) or a CSV file."
            )
        )
    return _read_csv(data, limits)


def _too_many_rows(limits: Limits) -> TableFileError:
    return TableFileError(
        _(
            "The file has more than %(rows)s rows. Split it (by community, for example) and import each part; rows beyond your data, even empty-looking ones, count: delete them in Excel."
        )
        % {"rows": f"{limits.rows:,}"}
    )


class _Collector:
    """Non-empty rows with their numbers, checked against the limits as they are read."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.rows: list[tuple[int, list[str]]] = []

    def add(self, number: int, cells: list[str]) -> None:
        if number > self.limits.rows + 1:  # the header is row 1
            raise _too_many_rows(self.limits)
        if not any(cells):
            return
        for column, text in enumerate(cells):
            if len(text) > self.limits.cell:
                raise TableFileError(
                    _(
                        "Row %(row)d, column %(column)d holds %(length)s characters; a cell may hold at most %(limit)s. Check that the right file was chosen."
                    )
                    % {
                        "row": number,
                        "column": column + 1,
                        "length": f"{len(text):,}",
                        "limit": f"{self.limits.cell:,}",
                    }
                )
        while cells and not cells[-1]:
            cells.pop()
        self.rows.append((number, cells))


def _read_xlsx(data: bytes, limits: Limits) -> Table:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        unzipped = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise TableFileError(
            _(
                "This file looks like a zip archive but is not an Excel workbook (%(error)s). Save it from Excel as .xlsx and try again."
            )
            % {"error": exc.__class__.__name__}
        ) from None
    if unzipped > limits.unzipped:
        raise TableFileError(
            _(
                "This workbook unpacks to %(size)s MB, more than the %(limit)s MB an import may read. Save only the roster's sheet, as .xlsx or CSV, and try again."
            )
            % {"size": unzipped // 2**20, "limit": limits.unzipped // 2**20}
        )
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise TableFileError(
            _(
                "This file looks like a zip archive but is not an Excel workbook (%(error)s). Save it from Excel as .xlsx and try again."
            )
            % {"error": exc.__class__.__name__}
        ) from None
    try:
        sheet = workbook.worksheets[0]
        # The sheet's own <dimension>: a sheet that says it reaches row 1,048,576 would make the
        # reader build every empty row up to there.
        declared_rows, declared_columns = sheet.max_row, sheet.max_column
        if declared_rows is not None and declared_rows > limits.rows + 1:
            raise _too_many_rows(limits)
        if declared_columns is not None and declared_columns > limits.columns:
            raise TableFileError(
                _(
                    "The sheet has %(columns)s columns; an import reads at most %(limit)s. Delete the columns after the roster's own (even empty-looking ones) and save again."
                )
                % {"columns": f"{declared_columns:,}", "limit": limits.columns}
            )
        collector = _Collector(limits)
        # Bounded both ways even when the sheet does not declare its size.
        rows = sheet.iter_rows(max_col=limits.columns, max_row=limits.rows + 2, values_only=True)
        for number, row in enumerate(rows, start=1):
            collector.add(number, [cell_text(v) for v in row])
        return Table(collector.rows)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        if isinstance(exc, TableFileError):
            raise
        raise TableFileError(
            _(
                "This workbook could not be read (%(error)s). Open it in Excel, save it again as .xlsx, and try again."
            )
            % {"error": exc.__class__.__name__}
        ) from None
    finally:
        workbook.close()


def _read_csv(data: bytes, limits: Limits) -> Table:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise TableFileError(
            _(
                "The file's text encoding could not be read (tried UTF-8 and GBK/GB18030). Save it from Excel as .xlsx, or as CSV UTF-8."
            )
        )
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    collector = _Collector(limits)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        for number, row in enumerate(reader, start=1):
            if len(row) > limits.columns:
                row = row[: limits.columns] if not any(row[limits.columns :]) else row
            if len(row) > limits.columns:
                raise TableFileError(
                    _(
                        "Row %(row)d has %(columns)s columns; an import reads at most %(limit)s. Check the separator (comma or tab) and the file."
                    )
                    % {"row": number, "columns": len(row), "limit": limits.columns}
                )
            collector.add(number, [cell.strip() for cell in row])
    except csv.Error as exc:
        raise TableFileError(
            _(
                "Row %(row)d of the CSV file cannot be read (%(error)s): a quote is probably not closed. Save the file from Excel again."
            )
            % {"row": reader.line_num, "error": str(exc)[:80]}
        ) from None
    return Table(collector.rows)
