"""Issuing a bearer token: the api app's one write.

The token itself is shown once, to whoever asked for it (``doorstep create-token``, the tests'
devices, the simulator); only its SHA-256 is kept (``models.digest``).
"""

from __future__ import annotations

import secrets

# The module, not its names: ``models`` imports this module for ``ApiToken.issue``.
from doorstep.api import models
from doorstep.core.models import User
from doorstep.sampling.models import Lane


def issue_token(
    user: User, label: str = "", lane: Lane | None = None
) -> tuple[models.ApiToken, str]:
    token = "ds_" + secrets.token_urlsafe(32)
    found = models.ApiToken.objects.create(
        user=user, key_digest=models.digest(token), label=label, lane=lane
    )
    return found, token
