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
VERSION = 3
# The worker keeps a page only when its response says so: a page of personal data that is not
# made for the stairwell (the untested list, say) never lands on a phone's disk.
HEADER = "X-Doorstep-Offline"


@dataclass(frozen=True)
class Boot:
    """What ``core/_offline.html`` gives its script."""

    cache: str
    worker: str  # the worker's URL, whose path is at or above ``scope``
    scope: str


def cache_name(family: str) -> str:
    return f"doorstep-{family}-v{VERSION}"


def boot(family: str, worker: str, scope: str) -> Boot:
    return Boot(cache_name(family), worker, scope)


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
        },
        content_type="application/javascript",
    )
    response["Cache-Control"] = "no-cache"
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
