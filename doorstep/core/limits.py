"""Rate limits kept in the database, so that they hold across server processes.

``allow`` counts a try under each key (an address, a person code, a user) of one kind and says
whether every key is still under its limit in the window. Keys are stored as SHA-256 digests.
Tries older than the window are deleted as new ones come in.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from doorstep.core.models import Attempt


@dataclass(frozen=True)
class Limit:
    kind: str
    tries: int
    window: dt.timedelta

    @property
    def minutes(self) -> int:
        return int(self.window.total_seconds() // 60)

    def refusal(self) -> str:
        """What a person who tried too often is told."""
        return _("Too many tries. Wait %(minutes)d minutes, or ask your community worker.") % {
            "minutes": self.minutes
        }


def _digest(kind: str, key: str) -> str:
    return hashlib.sha256(f"{kind}:{key}".encode()).hexdigest()


def allow(limit: Limit, keys: Sequence[str], now: dt.datetime | None = None) -> bool:
    """Whether each of ``keys`` may try once more now; when it may, the try is counted."""
    now = now or timezone.now()
    since = now - limit.window
    Attempt.objects.filter(kind=limit.kind, at__lt=since).delete()
    digests = [_digest(limit.kind, key) for key in keys if key]
    tries = dict(
        Attempt.objects.filter(kind=limit.kind, key_digest__in=digests, at__gte=since)
        .values("key_digest")
        .annotate(n=Count("id"))
        .values_list("key_digest", "n")
    )
    if any(tries.get(d, 0) >= limit.tries for d in digests):
        return False
    Attempt.objects.bulk_create([Attempt(kind=limit.kind, key_digest=d, at=now) for d in digests])
    return True
