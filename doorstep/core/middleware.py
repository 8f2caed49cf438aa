"""Middleware of Doorstep's own: limits that must hold before a request's body is read, and
the device API's shorter stack."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve
from django.utils.cache import patch_cache_control
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from doorstep.core.inputs import is_text

# The residents' pages, by the name Django routes them to (whatever the spelling of the path).
RESIDENT_VIEWS = frozenset({"command:status", "command:me", "assistance:ask"})
HEALTH_PATH = "/healthz/"


def trusted_proxies(setting: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """``DOORSTEP_TRUSTED_PROXIES``: addresses or networks, comma separated."""
    found = []
    for item in (part.strip() for part in setting.split(",")):
        if not item:
            continue
        try:
            found.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"DOORSTEP_TRUSTED_PROXIES: {item!r} is not an address or a network "
                "(write 10.0.0.11 or 10.0.0.0/24, comma separated)"
            ) from None
    return tuple(found)


def _address(raw: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(raw.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


class Edge:
    """What a node behind the edge (HAProxy, the city layout) owes it, before anything else:

    - ``/healthz/`` answers "ok" at once: the edge asks every second, under whatever Host, and
      neither the host check nor the database is this process's health.
    - Behind the edge, the client is the address the edge appended last to X-Forwarded-For:
      REMOTE_ADDR is set to it for a request from one of ``DOORSTEP_TRUSTED_PROXIES``, before
      anything reads it (the residents' look-up limits, the sign-in throttle, the audit). Only
      the last entry is believed: the ones before it are whatever the client sent. A request
      from anywhere else keeps its own address, whatever headers it carries.
    - ``DOORSTEP_NODE_ROLE``: a lane node refuses the residents' pages (421), however the
      path was spelled to slip past the edge's classes; a residents' node serves only those.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.proxies = trusted_proxies(settings.TRUSTED_PROXIES)
        self.setting = settings.TRUSTED_PROXIES

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info == HEALTH_PATH:
            return HttpResponse("ok", content_type="text/plain")
        if self.setting != settings.TRUSTED_PROXIES:  # changed by a test
            self.proxies = trusted_proxies(settings.TRUSTED_PROXIES)
            self.setting = settings.TRUSTED_PROXIES
        if self.proxies:
            self._client_address(request)
        if settings.NODE_ROLE:
            refused = self._not_for_this_node(request)
            if refused is not None:
                return refused
        return self.get_response(request)

    def _client_address(self, request: HttpRequest) -> None:
        peer = _address(str(request.META.get("REMOTE_ADDR", "")))
        if peer is None or not any(peer in network for network in self.proxies):
            return
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").rsplit(",", 1)[-1]
        client = _address(forwarded)
        if client is not None:
            request.META["REMOTE_ADDR"] = str(client)

    @staticmethod
    def _not_for_this_node(request: HttpRequest) -> HttpResponse | None:
        try:
            name = resolve(request.path_info).view_name
        except Resolver404:
            return None  # no page: Django's own 404 (or its redirect to the path with a slash)
        wanted = "residents" if name in RESIDENT_VIEWS else "lanes"
        if wanted == settings.NODE_ROLE:
            return None
        return HttpResponse(
            "This server does not take this page; open it through the site's address.",
            status=421,
            content_type="text/plain; charset=utf-8",
        )


class BodyLimit:
    """A request whose declared body is over its limit is answered 413 before any of it is
    read or written to disk (Django's CSRF check reads a POST's form, uploads included, before
    any view runs). Device requests (a bearer token) may carry 10 MB, signed-in pages the
    upload limit, anonymous requests 64 KB: public forms are small."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = self.limit(request)
        if length > limit:
            return self.refuse(request, limit)
        return self.get_response(request)

    @staticmethod
    def limit(request: HttpRequest) -> int:
        if request.META.get("HTTP_AUTHORIZATION", "").startswith("Bearer "):
            return int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        if settings.SESSION_COOKIE_NAME in request.COOKIES:
            return int(settings.UPLOAD_MAX_BYTES)
        return int(settings.ANONYMOUS_MAX_BYTES)

    @staticmethod
    def refuse(request: HttpRequest, limit: int) -> HttpResponse:
        size = f"{limit / 2**20:.0f} MB" if limit >= 2**20 else f"{limit // 1024} KB"
        message = _(
            "This request is larger than the %(size)s the server accepts. Split the file (by community, for example) or send fewer items at a time."
        ) % {"size": size}
        if request.path.startswith("/api/") or "json" in request.META.get("CONTENT_TYPE", ""):
            return JsonResponse({"error": message}, status=413)
        return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")


class TextOnly:
    """A query string or form whose values hold a NUL byte answers 400 with what to do, instead
    of failing at the database later (PostgreSQL refuses NUL in text). Uploaded files and JSON
    bodies are checked where they are read."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        fields = [request.GET]
        if request.method == "POST" and "json" not in request.META.get("CONTENT_TYPE", ""):
            fields.append(request.POST)
        for query in fields:
            for key, values in query.lists():
                if not is_text(key) or not all(is_text(v) for v in values):
                    message = _(
                        "The field «%(field)s» holds a character that is not text (a NUL byte). Remove it, or type the value again."
                    ) % {"field": key[:40].replace("\x00", "")}
                    return HttpResponse(
                        message, status=400, content_type="text/plain; charset=utf-8"
                    )
        return self.get_response(request)


class NoStore:
    """Pages for a signed-in user carry personal data (names, codes, statuses): no browser or
    proxy may keep a copy. Static files and the public pages are untouched."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and "Cache-Control" not in response:
            patch_cache_control(response, no_store=True, private=True)
        return response


class DeviceApi:
    """A device's request (a bearer token, to the API) runs through ``settings.API_MIDDLEWARE``
    instead of the rest of ``MIDDLEWARE``: a device has no session, cookie, CSRF token, HTML
    page or sign-in form, and that stack cost 0.5 ms of the 1 ms a scan request had to itself
    (issue 16). A browser's request to the API (its documentation page) takes the full stack.
    Put it right after ``BodyLimit``, which holds for every request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        chain: Callable[[HttpRequest], HttpResponse] = self._view
        for path in reversed(settings.API_MIDDLEWARE):
            chain = import_string(path)(chain)
        self.device = chain

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(settings.API_PREFIX) and request.META.get(
            "HTTP_AUTHORIZATION", ""
        ).startswith("Bearer "):
            return self.device(request)
        return self.get_response(request)

    @staticmethod
    def _view(request: HttpRequest) -> HttpResponse:
        match = resolve(request.path_info)
        request.resolver_match = match
        return match.func(request, *match.args, **match.kwargs)  # type: ignore[no-any-return]
