"""Sign-in throttling: django-axes with two limits, on the site's and the admin's sign-in.

- One username from one address: ``AXES_FAILURE_LIMIT`` wrong passwords lock that pair for
  ``AXES_COOLOFF_TIME`` (axes's own count, ``AXES_LOCKOUT_PARAMETERS``). A username alone is
  never locked, so nobody can lock a colleague out from elsewhere, and a right password clears
  the pair's count.
- One address, whatever the usernames: ``SIGN_IN_ADDRESS_FAILURES`` wrong passwords in the same
  window lock the address, so that one address cannot try one password against every username.
  A right password does not clear it (else whoever holds one account could sign in between
  tries to start the count again).

Axes locks when ``get_failures`` reaches ``AXES_FAILURE_LIMIT``, before a password is checked
and after each wrong one. The handler answers with the larger of the pair's count and the
address's count scaled to that limit: ``address * pair_limit // address_limit`` reaches
``pair_limit`` exactly when ``address`` reaches ``address_limit``.
"""

from __future__ import annotations

from typing import Any

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest


def address_failures(request: HttpRequest) -> int:
    """Wrong passwords from the request's address in the window, for any username."""
    return (
        AccessAttempt.objects.filter(
            ip_address=request.axes_ip_address,  # type: ignore[attr-defined]
            attempt_time__gte=get_cool_off_threshold(request),
        ).aggregate(n=Sum("failures_since_start"))["n"]
        or 0
    )


class SignInHandler(AxesDatabaseHandler):
    def get_failures(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        pair = super().get_failures(request, credentials)
        limit, per_address = settings.AXES_FAILURE_LIMIT, settings.SIGN_IN_ADDRESS_FAILURES
        return max(pair, address_failures(request) * limit // per_address)
