"""Pages that keep working without signal: the lane page, and the door-to-door pages.

One service worker (``core/sw.js``) serves a family of pages: the pages under ``pages`` come from
the network when there is one and from the cache when there is not (what the phone last saw),
and the static files from the cache at once, refreshed behind. A page joins by including
``core/_offline.html`` with ``offline.boot(...)`` in its context: the script registers the worker
and puts the page and its files in the cache on its first load, so the first reload without
signal already works; it says how old a page from the cache is, and that a form which needs the
server (a claim) cannot be sent without signal.

What a page writes while offline is the page's own outbox (device events, door-to-door taps),
sent and answered one by one when the connection returns; the worker never caches a POST.

Every page kept offline names its town (``TOWN`` on the response, ``Boot.town`` for the page's
script), and so does what the phone writes for it: when a town's personal data is erased
(``doorstep.closing``), the server names the erased towns (``ERASED``) on every offline page and
on the worker's script, and the worker and the page's script delete what the phone holds of
those towns (pages in the caches, the lane outbox in IndexedDB, the claim, lane and tap records
in localStorage) and nothing of the others: a surge worker's unsent taps in another town stay.
``core`` knows no town: the views name it, ``closing.middleware`` says which are erased.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

# Raise it when the worker's logic changes: the new worker drops the old caches.
# 4: every page kept names its town; copies from before (which did not) are dropped.
VERSION = 4
# The worker keeps a page only when its response says so: a page of personal data that is not
# made for the stairwell (the untested list, say) never lands on a phone's disk.
HEADER = "X-Doorstep-Offline"
# The town an offline page belongs to (the lane's, the building's: a surge worker's phone holds
# pages of towns that are not their own). Kept with the cached copy, read when a town is erased.
TOWN = "X-Doorstep-Town"
# The erased towns' ids ("3,7"), on every offline page and on the worker's script: the phone's
# next contact with the server (closing.middleware).
ERASED = "X-Doorstep-Erased"
# On the worker's script: the server names the erased towns on it too (the phone asks it when
# it cannot read a page's answer, a redirect to the sign-in page, say).
WORKER = "X-Doorstep-Worker"


@dataclass(frozen=True)
class Boot:
    """What ``core/_offline.html`` gives its script."""

    cache: str
    worker: str  # the worker's URL, whose path is at or above ``scope``
    scope: str
    town: int | None = None  # the page's town: what the phone writes for it is marked with it
    holds: str = ""  # what the page keeps in localStorage under its own name ("lane:12", "task:5")


def cache_name(family: str) -> str:
    return f"doorstep-{family}-v{VERSION}"


def boot(family: str, worker: str, scope: str, town: int | None = None, holds: str = "") -> Boot:
    return Boot(cache_name(family), worker, scope, town, holds)


def of_town(response: HttpResponse, town: int) -> HttpResponse:
    """Name the town an offline page belongs to (the worker keeps it with the copy)."""
    response[TOWN] = str(town)
    return response


def names_towns(response: HttpResponse) -> bool:
    """Whether the phone reads the erased towns from this response: an offline page or the
    worker's script (``closing.middleware`` names them there, and nowhere else: no query for
    the other pages)."""
    return HEADER in response or WORKER in response


def worker(request: HttpRequest, family: str, pages: str) -> HttpResponse:
    """The service worker for ``family``, controlling the pages whose path starts ``pages``."""
    response = render(
        request,
        "core/sw.js",
        {
            "cache": cache_name(family),
            "family": f"doorstep-{family}-",
            "static_prefix": settings.STATIC_URL,
            "pages_prefix": pages,
            "header": HEADER,
            "town_header": TOWN,
            "erased_header": ERASED,
        },
        content_type="application/javascript",
    )
    response["Cache-Control"] = "no-cache"
    response[WORKER] = "1"
    return response


def page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Mark a view's pages as kept for offline use (the worker caches only those)."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if request.method == "GET" and response.status_code == 200:
            response[HEADER] = "1"
        return response

    return wrapped
