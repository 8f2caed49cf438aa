"""Dates and times as people type them and devices send them.

One reader for all of them, so that no date, however odd, can make a page or an API call fail:
a malformed string, an impossible date (30 February, month 13), or one a server cannot place in
UTC (year 1 at +14:00) is simply not a date and time, and the caller says so in its own words.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.dateparse import parse_datetime

MAX_LENGTH = 40


def parse_moment(raw: object) -> dt.datetime | None:
    """An aware date and time (a time without its offset is in the server's zone), or None."""
    if not isinstance(raw, str) or len(raw) > MAX_LENGTH:
        return None
    try:
        found = parse_datetime(raw.strip())
        if found is None:
            return None
        if timezone.is_naive(found):
            found = timezone.make_aware(found)
        found.astimezone(dt.UTC)
    except (ValueError, OverflowError):
        return None
    return found
