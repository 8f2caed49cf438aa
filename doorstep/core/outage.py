"""When the database does not answer: a primary that died, a failover under way, a connection
that now reaches a standby. Nothing of the request was committed (its transaction was rolled
back or never began), so the answer is 503 with ``Retry-After``, and the connection is dropped
so that the next request connects again and finds the new primary (libpq's multi-host URL).

Pages get ``503.html``; the device API answers the same in its own JSON (``api.api``); devices
and the door-to-door outbox resend, and replays are ``duplicate``."""

from __future__ import annotations

import sys

from django.db import DatabaseError, InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

RETRY_AFTER_SECONDS = 5
# SQLSTATEs that mean "not the primary (any more)" rather than a fault of the request.
NOT_PRIMARY = {
    "25006",  # read_only_sql_transaction: the connection reaches a standby
    "57P01",  # admin_shutdown: the server is stopping (a demotion)
    "57P02",  # crash_shutdown
    "57P03",  # cannot_connect_now: starting up or in recovery
}


def unavailable(exc: BaseException | None) -> bool:
    """Whether ``exc`` says the database is not there for writes now."""
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    if isinstance(exc, DatabaseError):
        return getattr(exc.__cause__, "sqlstate", None) in NOT_PRIMARY
    return False


def drop_connections() -> None:
    """Close this thread's connections, so that the next use connects afresh."""
    for connection in connections.all(initialized_only=True):
        connection.close()


def message() -> str:
    return _(
        "The database is not answering (it may be switching to its standby); nothing of this request was recorded. Try again in a few seconds: sending the same thing again is safe."
    )


def server_error(request: HttpRequest) -> HttpResponse:
    """Django's ``handler500``: a database outage is a 503 that says what to do; anything else
    the plain 500 page."""
    exc = sys.exc_info()[1]
    if not unavailable(exc):
        return HttpResponse(
            _("Something went wrong on the server; it has been logged. Go back and try again."),
            status=500,
            content_type="text/plain; charset=utf-8",
        )
    drop_connections()
    if "json" in request.headers.get("Accept", "") or request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse({"error": message()}, status=503)
    else:
        # Rendered without the request: its context processors would ask the database again.
        again = request.get_full_path() if request.method == "GET" else "/"
        response = HttpResponse(
            render_to_string("503.html", {"message": message(), "again": again}), status=503
        )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
