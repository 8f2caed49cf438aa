"""What people and devices send, before it is trusted: numbers in ASCII digits only and within
a database's integer, text that a database can store.

``str.isdigit()`` is true for "²" and "٣", which ``int()`` then refuses or reads; a number past
64 bits is a server error on SQLite (``OverflowError``) wherever Django does not catch it (an
``__in`` lookup, as a form's list of choices makes); a form field with a NUL byte, or a JSON
string with a lone surrogate ("\\ud800"), fails at the database (PostgreSQL refuses NUL in text;
neither database stores a lone surrogate) as a server error. ``is_number`` is the one bound:
every id read from input passes it, directly or through ``IdChoice`` and ``IdChoices``.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError


def is_number(raw: str) -> bool:
    """A whole number written in ASCII digits, small enough for a database's integer."""
    return raw.isascii() and raw.isdigit() and len(raw) <= 18


def number(raw: object) -> int:
    """A form's or query's id as a number; 0 (nobody's id) for anything else."""
    return int(raw) if isinstance(raw, str) and is_number(raw) else 0


def _check_ids(field: forms.ModelChoiceField, values: list[object]) -> None:
    """Django's own "not one of the choices", before any query, for what is not a number."""
    for value in values:
        if value not in field.empty_values and not is_number(str(value)):
            raise ValidationError(
                field.error_messages["invalid_choice"],
                code="invalid_choice",
                params={"value": str(value)[:20]},
            )


class IdChoice(forms.ModelChoiceField):
    """A choice of one row by id, refused as a wrong choice unless the id is a number
    (``is_number``) before any query."""

    def to_python(self, value: Any) -> Any:
        _check_ids(self, [value])
        return super().to_python(value)


class IdChoices(forms.ModelMultipleChoiceField):
    """A choice of rows by id, each refused as a wrong choice unless it is a number
    (``is_number``) before any query."""

    def _check_values(self, value: Any) -> Any:
        _check_ids(self, list(value))
        return super()._check_values(value)  # type: ignore[misc]


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
