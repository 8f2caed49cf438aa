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

from django.utils.translation import gettext as _


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


def data_rows(table: list[list[str]]) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and the non-empty rows under it, each with its row number as Excel shows it."""
    rows = list(table)
    skipped = 0
    while rows and not any(rows[0]):
        rows.pop(0)
        skipped += 1
    if not rows:
        raise TableFileError(_("The file is empty. Fill in the template and upload it again."))
    numbered = [(n, r) for n, r in enumerate(rows[1:], start=2 + skipped) if any(r)]
    if not numbered:
        raise TableFileError(_("The file has a header row but nothing under it."))
    return rows[0], numbered


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


def read_table(data: bytes, filename: str = "") -> list[list[str]]:
    """All rows of the file's first sheet as text, header first."""
    if not data or not data.strip():
        raise TableFileError(_("The file is empty. Fill in the template and upload it again."))
    if data[:4] == b"PK\x03\x04":
        return _read_xlsx(data)
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
    return _read_csv(data)


def _read_xlsx(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

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
        return [[cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


def _read_csv(data: bytes) -> list[list[str]]:
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
    return [
        [cell.strip() for cell in row] for row in csv.reader(io.StringIO(text), delimiter=delimiter)
    ]
