from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from doorstep.core.models import User
from doorstep.core.roles import Can


class AuthedRequest(HttpRequest):
    """The request of a view behind ``login_required``: its user is a signed-in User."""

    user: User


def require(user: User, capability: Can) -> None:
    """403 for a signed-in user whose role lacks the capability."""
    if not user.can(capability):
        raise PermissionDenied(capability.value)
