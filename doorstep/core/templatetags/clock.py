"""Template helpers for time on every app's pages: ``{% load clock %}``."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def duration_hm(value: dt.timedelta | None) -> str:
    """``5 h 07 min`` for a timedelta; ``-`` for none."""
    if value is None:
        return "-"
    minutes = int(value.total_seconds() // 60)
    return _("%(h)d h %(m)02d min") % {"h": minutes // 60, "m": minutes % 60}
