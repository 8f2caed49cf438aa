"""``{% load timeline %}``: a step's time as a person reads it on the phone."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format

register = template.Library()


@register.filter
def when(value: object) -> str:
    """``14:05`` today (local time), ``12-06 14:05`` on another day; empty for none (or for
    what the template resolved to nothing: a step not reached yet has no ``at``)."""
    if not isinstance(value, dt.datetime):
        return ""
    local = timezone.localtime(value)
    today = timezone.localdate()
    return date_format(local, "H:i" if local.date() == today else "m-d H:i")
