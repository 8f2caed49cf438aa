"""Keyed digests of values the database must match but never show: the address or person code a
rate limit counts, the document number an audit entry records.

HMAC-SHA256 under the server's secret key (Django's ``salted_hmac``, salted by kind): a copy of
the database or of the audit log alone cannot reverse a digest by trying every address (2^32)
or every document number (about 10^11). Someone holding the key can still ask "was this number
asked about?" by computing its digest (``digest("document", number)`` in ``doorstep shell``).
"""

from __future__ import annotations

from django.utils.crypto import salted_hmac


def digest(kind: str, value: str) -> str:
    return salted_hmac(f"doorstep.{kind}", value, algorithm="sha256").hexdigest()
