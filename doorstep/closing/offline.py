"""The phones' offline copies of an erased town: the server's side.

A phone keeps the lane page and the door-to-door pages to work without signal (``core.offline``),
with the outboxes of what was scanned or tapped there. When a town's personal data is erased,
what a phone holds of it must go too, and the server cannot reach into a phone: the phone learns
it on its next contact. Every offline page and the service worker's script name the erased
towns (``offline.ERASED``: "3,7"), and a page of an erased town is answered with
``erased_page`` instead; the worker and the page's script then delete what the phone holds of
those towns, and keep what belongs to the others (``core/static/doorstep/offline.js``).

The list is read once per ``settings.CACHE_SECONDS`` per process (``core.ttl``): a phone learns
of an erase at most that long after it; no page pays a query for it in between.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from doorstep.core.ttl import Ttl
from doorstep.territory.models import Closure, ClosureState

_erased: Ttl[str, tuple[int, ...]] = Ttl("erased towns")


def erased_towns() -> tuple[int, ...]:
    """The ids of the towns whose personal data is erased, in order."""
    return _erased.get(
        "all",
        lambda: tuple(
            Closure.objects.filter(state=ClosureState.ERASED)
            .order_by("town_id")
            .values_list("town_id", flat=True)
        ),
    )


def header(erased: tuple[int, ...]) -> str:
    return ",".join(str(town) for town in erased)


def erased_page(request: HttpRequest, town: int, erased: tuple[int, ...]) -> HttpResponse:
    """What a phone is shown for a page of an erased town, in place of the page: its data is
    erased, and this phone's copies are being deleted (its script does it). The browser's own
    cache of the origin goes too (``Clear-Site-Data: "cache"``, where the browser honours it:
    over HTTPS). Not ``"storage"``: that would delete every town's unsent taps and scans on a
    surge worker's phone, which the script keeps."""
    closure = Closure.objects.select_related("town").filter(town_id=town).first()
    response = render(
        request,
        "closing/offline_erased.html",
        {"closure": closure, "erased": header(erased)},
        status=410,
    )
    response["Clear-Site-Data"] = '"cache"'
    response["Cache-Control"] = "no-store, private"
    return response
