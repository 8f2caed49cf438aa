"""Rate limits kept in the database, so that they hold across server processes.

``take`` counts a try under each key (an address, a person code, a user), each with its own
limit, and says whether every key was still under its limit; when one was not, nothing is
counted and the answer says how long until a try is free. ``give_back`` uncounts a try that
turned out to be no failure (a right look-up pair): a limit then counts failures only, while
requests sent all at once still cannot slip past it together. ``allow`` is ``take`` for one
limit over several keys. Keys are stored as SHA-256 digests. Tries older than their window
are deleted as new ones come in.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import DEFAULT_DB_ALIAS
from django.db.models import Count, Min
from django.utils import timezone
from django.utils.translation import gettext as _

from doorstep.core.digests import digest
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


@dataclass(frozen=True)
class Taken:
    """What ``take`` did: the tries it counted, or how long until the fullest key is free."""

    ids: list[int] = field(default_factory=list)
    wait: dt.timedelta | None = None

    @property
    def allowed(self) -> bool:
        return self.wait is None

    @property
    def wait_minutes(self) -> int:
        """The wait in whole minutes, rounded up (at least 1)."""
        seconds = self.wait.total_seconds() if self.wait is not None else 0
        return max(1, math.ceil(seconds / 60))


def _digest(kind: str, key: str) -> str:
    return digest(f"limit.{kind}", key)


def take(tries: Sequence[tuple[Limit, str]], now: dt.datetime | None = None) -> Taken:
    """Count one try now under each ``(limit, key)``, unless that makes any key go past its
    limit: then count none, and say how long until that key has a try free again.

    The try is written first and the keys counted after, so that of requests sent all at once
    no more than the limit get through: the n-th to be written counts at least n."""
    now = now or timezone.now()
    wanted = [(limit, _digest(limit.kind, key)) for limit, key in tries if key]
    for limit in {limit for limit, _d in wanted}:
        Attempt.objects.filter(kind=limit.kind, at__lt=now - limit.window).delete()
    ids = [Attempt.objects.create(kind=limit.kind, key_digest=d, at=now).pk for limit, d in wanted]
    wait: dt.timedelta | None = None
    for limit, key_digest in wanted:
        # Counted on the primary, where the try was just written, even in a view whose other
        # reads go to a standby (core.standby): a standby may not have it yet.
        seen = (
            Attempt.objects.using(DEFAULT_DB_ALIAS)
            .filter(kind=limit.kind, key_digest=key_digest, at__gte=now - limit.window)
            .aggregate(n=Count("id"), oldest=Min("at"))
        )
        if seen["n"] > limit.tries:
            free_at = seen["oldest"] + limit.window - now
            wait = free_at if wait is None else max(wait, free_at)
    if wait is None:
        return Taken(ids=ids)
    Attempt.objects.filter(pk__in=ids).delete()
    return Taken(wait=wait)


def give_back(taken: Taken) -> None:
    """Uncount the tries ``take`` counted: what was tried turned out not to be a failure."""
    if taken.ids:
        Attempt.objects.filter(pk__in=taken.ids).delete()


def allow(limit: Limit, keys: Sequence[str], now: dt.datetime | None = None) -> bool:
    """Whether each of ``keys`` may try once more now; when it may, the try is counted."""
    return take([(limit, key) for key in keys], now).allowed
