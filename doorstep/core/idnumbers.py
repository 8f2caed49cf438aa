"""Mainland resident ID numbers (GB 11643) and phone numbers: validation and normalisation.

Each check returns the normalised value or raises ``InvalidValue`` with a message that says what
is wrong and how to fix it, in the words a community worker with a spreadsheet understands.
"""

from __future__ import annotations

import datetime as dt
import re

from django.utils.translation import gettext as _

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"

_SCIENTIFIC = re.compile(r"^\d(\.\d+)?E\+?\d+$", re.IGNORECASE)


class InvalidValue(ValueError):
    pass


def id_check_character(first17: str) -> str:
    return CHECK[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


def normalise_resident_id(raw: str) -> str:
    value = raw.strip().replace(" ", "").upper()
    if _SCIENTIFIC.match(value):
        raise InvalidValue(
            _(
                "Excel turned this ID number into scientific notation and lost its last digits. "
                "Format the column as Text and type the number again."
            )
        )
    if value.endswith(".0"):
        raise InvalidValue(
            _(
                "This ID number was stored as a number (it ends in .0), so its last digits may be "
                "wrong. Format the column as Text and type the number again."
            )
        )
    if len(value) != 18:
        raise InvalidValue(
            _(
                "A resident ID has 18 characters; this one has %(count)d. Check for a missing or extra digit."
            )
            % {"count": len(value)}
        )
    if not value[:17].isdigit() or not (value[17].isdigit() or value[17] == "X"):
        raise InvalidValue(
            _("A resident ID is 17 digits followed by a digit or X; this one has other characters.")
        )
    try:
        dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise InvalidValue(
            _("Characters 7-14 of an ID number are the date of birth; %(date)s is not a date.")
            % {"date": value[6:14]}
        ) from None
    expected = id_check_character(value[:17])
    if value[17] != expected:
        raise InvalidValue(
            _(
                "The last character does not match the other 17 (check character). "
                "One of the characters was probably mistyped: compare it with the ID card."
            )
        )
    return value


def normalise_other_document(raw: str) -> str:
    value = raw.strip().replace(" ", "").upper()
    if value.endswith(".0") or _SCIENTIFIC.match(value):
        raise InvalidValue(
            _(
                "This document number was stored as a number. Format the column as Text and type it again."
            )
        )
    if not 5 <= len(value) <= 20 or not value.isalnum():
        raise InvalidValue(
            _("A document number has 5 to 20 letters and digits; check what was typed.")
        )
    return value


def normalise_phone(raw: str) -> str:
    value = re.sub(r"[\s\-()]", "", raw.strip())
    if value.startswith("+86"):
        value = value[3:]
    elif value.startswith("0086"):
        value = value[4:]
    if value.endswith(".0"):
        value = value[:-2]
    if not value.isdigit() or len(value) != 11 or not value.startswith("1"):
        raise InvalidValue(
            _("A mobile number has 11 digits and starts with 1; this one has %(count)d characters.")
            % {"count": len(value)}
            if value.isdigit()
            else _(
                "A mobile number has 11 digits and starts with 1; remove letters and other signs."
            )
        )
    return value
