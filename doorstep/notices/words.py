"""What each message says, once. Short: a Chinese text message is one part up to 70
characters (UCS-2), so each fits in one with a signature of up to 10 characters and an
11-digit hotline (``tests/test_words.py`` holds that); the link to the person's own page
comes on top when the public address is set. Never a name or a document number: a phone is
often shared, and a message can be read over a shoulder.

Written in the resident's language (``Resident.language``), through gettext like every other
word of Doorstep.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from doorstep.notices.models import Kind

# One UCS-2 part; a longer message goes as several parts, which carriers charge and some
# phones show out of order.
ONE_PART = 70


def _when(at: dt.datetime | None) -> str:
    """A start time as a text says it: the local day and minute, "12月8日08:40"."""
    if at is None:
        return ""
    local = timezone.localtime(at)
    return _("%(month)d/%(day)d %(time)s") % {
        "month": local.month,
        "day": local.day,
        "time": local.strftime("%H:%M"),
    }


def _body(
    kind: str, at_door: bool, place: str, hotline: str, when: dt.datetime | None = None
) -> str:
    call = _("Call %(hotline)s.") % {"hotline": hotline} if hotline else ""
    if kind == Kind.POOL_POSITIVE:
        text = (
            _("Your pooled test needs a retest: stay home, a sampler comes to your door.")
            if at_door
            else _("Your pooled test needs a retest: go to %(place)s for it, then stay home.")
            % {"place": place or _("any site")}
        )
    elif kind == Kind.HOUSEHOLD_POSITIVE:
        text = _("Someone in your home tested positive: all stay home, we will call you.")
    elif kind == Kind.INVALID:
        text = (
            _("Your sample could not be tested: a sampler comes to your door to redo it.")
            if at_door
            else _("Your sample could not be tested: please be sampled again at %(place)s.")
            % {"place": place or _("any site")}
        )
    elif kind == Kind.RETEST_NEGATIVE:
        text = _("Your retest is negative. Thank you for staying home.")
    elif kind == Kind.SEAL_LIFTED:
        text = _("The stay-home order on %(place)s is lifted.") % {"place": place}
    elif kind == Kind.HOME_VISIT:
        text = _("Your building is sampled at home: wait at your door, do not queue outside.")
    elif kind == Kind.START_TIME:
        text = (
            _("Your community samples from %(when)s at %(place)s; please do not come earlier.")
            % {"when": _when(when), "place": place}
            if place
            else _("Your community samples from %(when)s; please do not come earlier.")
            % {"when": _when(when)}
        )
    else:  # pragma: no cover - every kind is above
        raise ValueError(kind)
    return f"{text}{call}"


def fits_one_part(
    kind: str, *, signature: str, hotline: str, place: str, when: dt.datetime | None = None
) -> bool:
    """Whether a message of ``kind`` naming ``place`` fits one part in Chinese (the language
    with the tighter limit)."""
    text = message(
        kind, language="zh-hans", signature=signature, hotline=hotline, place=place, when=when
    )
    return len(text) <= ONE_PART


def message(
    kind: str,
    *,
    language: str,
    signature: str,
    hotline: str = "",
    at_door: bool = False,
    place: str = "",
    when: dt.datetime | None = None,
) -> str:
    """The text of a message of ``kind``, in ``language``, signed ``【signature】`` first as
    Chinese carriers require, then the link to the person's own page if there is one.
    ``when``: the time a start-time message tells."""
    with translation.override(language):
        text = f"【{signature}】{_body(kind, at_door, place, hotline, when)}"
        if settings.PUBLIC_URL:
            text += " " + settings.PUBLIC_URL.rstrip("/") + "/status/me/"
    return text
