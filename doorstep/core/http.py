from __future__ import annotations

import json
from urllib.parse import urlsplit

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseRedirect
from django.http.request import RawPostDataException
from django.urls import Resolver404, resolve
from django.utils.http import url_has_allowed_host_and_scheme

from doorstep.core.models import User
from doorstep.core.roles import Can


class AuthedRequest(HttpRequest):
    """The request of a view behind ``login_required``: its user is a signed-in User."""

    user: User


def require(user: User, capability: Can) -> None:
    """403 for a signed-in user whose role lacks the capability."""
    if not user.can(capability):
        raise PermissionDenied(capability.value)


class NotJson(ValueError):
    """A request that should carry JSON does not."""


def json_body(request: HttpRequest) -> object:
    """The request's JSON body. A body that is not JSON, and a form post (whose body a
    middleware may already have read as a form), are ``NotJson``, never a server error."""
    if request.content_type != "application/json":
        raise NotJson(request.content_type)
    try:
        return json.loads(request.body)
    except (ValueError, UnicodeDecodeError, RawPostDataException) as exc:
        raise NotJson(str(exc)[:80]) from None


def own_path(request: HttpRequest, raw: object) -> str | None:
    """A redirect target that came from input (``next``), if it is a page of this site: a path
    (no scheme, no host, not ``//``) that the URL conf resolves. Anything else is None, so the
    caller falls back to a page of its own: ``redirect("²")`` would look "²" up as a view name
    (a server error), and ``https://elsewhere`` would send the user off the site."""
    if not isinstance(raw, str) or not raw.startswith("/") or raw.startswith("//"):
        return None
    if "\\" in raw or not raw.isprintable():
        return None
    if not url_has_allowed_host_and_scheme(
        raw, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return None
    try:
        resolve(urlsplit(raw).path)
    except Resolver404:
        return None
    return raw


def redirect_back(request: HttpRequest, raw: object, fallback: str) -> HttpResponseRedirect:
    """To ``raw`` if it is one of this site's pages (``own_path``), else to ``fallback``."""
    return HttpResponseRedirect(own_path(request, raw) or fallback)
