"""What people and devices send, before it is trusted: numbers in ASCII digits only, text that
a database can store.

``str.isdigit()`` is true for "²" and "٣", which ``int()`` then refuses or reads; a form field
with a NUL byte, or a JSON string with a lone surrogate ("\\ud800"), fails at the database
(PostgreSQL refuses NUL in text; neither database stores a lone surrogate) as a server error.
"""

from __future__ import annotations

from typing import Any


def is_number(raw: str) -> bool:
    """A whole number written in ASCII digits, small enough for a database's integer."""
    return raw.isascii() and raw.isdigit() and len(raw) <= 18


def number(raw: object) -> int:
    """A form's or query's id as a number; 0 (nobody's id) for anything else."""
    return int(raw) if isinstance(raw, str) and is_number(raw) else 0


def is_text(value: Any) -> bool:
    """Whether every string in ``value`` (a string, or JSON lists and objects of them) can be
    stored: encodable as UTF-8 and free of NUL."""
    if isinstance(value, str):
        if "\x00" in value:
            return False
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True
    if isinstance(value, dict):
        return all(is_text(k) and is_text(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return all(is_text(v) for v in value)
    return True
