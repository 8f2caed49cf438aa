"""Per-process caches with a short expiry, for the few look-ups every device request repeats
(its token, its user's lanes on duty, a lane by code, the round running in a community).

A cached answer is at most ``settings.CACHE_SECONDS`` old (``DOORSTEP_CACHE_SECONDS``, 5 by
default): a revoked token, a registrar taken off a lane or a round just closed stops working
within that time on every server process. 0 turns the caches off (the test suite's default,
so that a test sees its own changes at once). Each process has its own caches; nothing is
shared between processes or kept across restarts.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from django.conf import settings

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

# A bound on each cache's size: a deployment has a few thousand devices, lanes and rounds.
MAX_ENTRIES = 20_000

_caches: list[Ttl] = []  # type: ignore[type-arg]

# The clock of the expiry (tests move it).
clock = time.monotonic


class Ttl(Generic[K, V]):
    def __init__(self, name: str) -> None:
        self.name = name
        self._entries: dict[K, tuple[float, V]] = {}
        _caches.append(self)

    def get(self, key: K, load: Callable[[], V]) -> V:
        seconds = settings.CACHE_SECONDS
        if seconds <= 0:
            return load()
        now = clock()
        found = self._entries.get(key)
        if found is not None and found[0] > now:
            return found[1]
        value = load()
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[key] = (now + seconds, value)
        return value

    def forget(self, key: K) -> None:
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()


def clear_all() -> None:
    for cache in _caches:
        cache.clear()
