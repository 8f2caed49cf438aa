"""Mainland resident ID numbers (GB 11643) and phone numbers: validation and normalisation.

Each check returns the normalised value or raises ``InvalidValue`` with a message that says what
is wrong and how to fix it, in the words a community worker with a spreadsheet understands.
"""

from __future__ import annotations

import datetime as dt
import re

import phonenumbers
from django.utils.translation import gettext as _

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"

_SCIENTIFIC = re.compile(r"^[0-9](\.[0-9]+)?E\+?[0-9]+$", re.IGNORECASE)
# ASCII digits only: str.isdigit() also takes "²" and other digits int() cannot read.
_ID_CHARACTERS = re.compile(r"[0-9]{17}[0-9X]")


class InvalidValue(ValueError):
    pass


def id_check_character(first17: str) -> str:
    return CHECK[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


def id_messages() -> dict[str, str]:
    """Why a resident ID is refused, by reason; ``%(count)s`` and ``%(date)s`` are filled in.
    The lane page gets them as templates, so that its offline check says the same words."""
    return {
        "scientific": _(
            "Excel turned this ID number into scientific notation and lost its last digits. "
            "Format the column as Text and type the number again."
        ),
        "number": _(
            "This ID number was stored as a number (it ends in .0), so its last digits may be "
            "wrong. Format the column as Text and type the number again."
        ),
        "length": _(
            "A resident ID has 18 characters; this one has %(count)s. Check for a missing or extra digit."
        ),
        "characters": _(
            "A resident ID is 17 digits followed by a digit or X; this one has other characters."
        ),
        "date": _("Characters 7-14 of an ID number are the date of birth; %(date)s is not a date."),
        "check": _(
            "The last character does not match the other 17 (check character). "
            "One of the characters was probably mistyped: compare it with the ID card."
        ),
        "document_number": _(
            "This document number was stored as a number. Format the column as Text and type it again."
        ),
        "phone_length": _(
            "A mobile number has 11 digits and starts with 1; this one has %(count)s characters."
        ),
        "phone_characters": _(
            "A mobile number has 11 digits and starts with 1; remove letters and other signs."
        ),
        "phone_not_mobile": _(
            "%(number)s is not a mainland mobile number: no carrier gives out numbers that start "
            "with %(prefix)s. Check the digits with the person, or leave the phone empty."
        ),
    }


def _refuse(reason: str, **values: object) -> InvalidValue:
    return InvalidValue(id_messages()[reason] % values)


def normalise_resident_id(raw: str) -> str:
    value = raw.strip().replace(" ", "").upper()
    if _SCIENTIFIC.match(value):
        raise _refuse("scientific")
    if value.endswith(".0"):
        raise _refuse("number")
    if len(value) != 18:
        raise _refuse("length", count=len(value))
    if not _ID_CHARACTERS.fullmatch(value):
        raise _refuse("characters")
    try:
        dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise _refuse("date", date=value[6:14]) from None
    if value[17] != id_check_character(value[:17]):
        raise _refuse("check")
    return value


# Document kinds; ``territory.models.DocumentType`` gives them their names on the pages.
RESIDENT_ID = "resident_id"
PASSPORT = "passport"
HK_MACAU = "hk_macau"
TAIWAN = "taiwan"
OTHER = "other"

# Each kind other than the resident ID is checked by its shape alone (the page's JavaScript
# gets these patterns as data). Passports of every country: 5 to 20 letters and digits (a
# Chinese passport is E or G and 8 more). Permits for HK and Macau: H or M (residents of HK and
# Macau) or C (mainland residents), then 8 characters, and on older cards 2 more digits.
# Taiwan residents' permit: 8 digits, on older cards 10 and a letter.
DOCUMENT_PATTERNS = {
    PASSPORT: r"^[A-Z0-9]{5,20}$",
    HK_MACAU: r"^[HMC][0-9A-Z][0-9]{7}([0-9]{2})?$",
    TAIWAN: r"^[0-9]{8}([0-9]{2}[A-Z]?)?$",
    OTHER: r"^[A-Z0-9]{5,20}$",
}
_COMPILED = {kind: re.compile(pattern) for kind, pattern in DOCUMENT_PATTERNS.items()}
# What people type around a document number: spaces, dashes, the brackets of (B).
_DOCUMENT_NOISE = re.compile(r"[\s\-()（）]")


def document_hint(kind: str) -> str:
    return {
        PASSPORT: _("A passport number has 5 to 20 letters and digits (e.g. E12345678)."),
        HK_MACAU: _(
            "An HK/Macau permit number is H, M or C and 8 more characters (e.g. H12345678), on older cards 10."
        ),
        TAIWAN: _("A Taiwan permit number has 8 digits (older cards: 10 digits and a letter)."),
    }.get(kind, _("A document number has 5 to 20 letters and digits; check what was typed."))


def normalise_document(kind: str, raw: str) -> str:
    """The number of a document of ``kind``, normalised, or InvalidValue saying what is wrong."""
    if kind == RESIDENT_ID:
        return normalise_resident_id(raw)
    if kind not in _COMPILED:
        raise InvalidValue(_("Unknown document type «%(kind)s».") % {"kind": kind[:20]})
    value = _DOCUMENT_NOISE.sub("", raw.strip()).upper()
    if value.endswith(".0") or _SCIENTIFIC.match(value):
        raise _refuse("document_number")
    if not _COMPILED[kind].match(value):
        raise InvalidValue(document_hint(kind))
    return value


def normalise_phone(raw: str) -> str:
    value = re.sub(r"[\s\-()]", "", raw.strip())
    if value.startswith("+86"):
        value = value[3:]
    elif value.startswith("0086"):
        value = value[4:]
    if value.endswith(".0"):
        value = value[:-2]
    digits = re.fullmatch(r"[0-9]+", value) is not None
    if not digits:
        raise _refuse("phone_characters")
    if len(value) != 11 or not value.startswith("1"):
        raise _refuse("phone_length", count=len(value))
    # Which prefixes carriers give out for mobiles changes every year or two: that table is
    # libphonenumber's (kept up to date by Google), not ours.
    number = phonenumbers.parse(value, "CN")
    if not phonenumbers.is_valid_number(number) or phonenumbers.number_type(number) not in _MOBILE:
        raise _refuse("phone_not_mobile", number=value, prefix=value[:3])
    return value


_MOBILE = {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}
