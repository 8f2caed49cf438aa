"""Where the apps above sampling plug into the ingest engine.

The engine must know whether a person awaits a retest (their next tube is that retest), and a
box count that disagrees must raise an alert; both belong to the lab, which sits above
sampling. Rather than the engine importing the lab, the lab registers its implementations
here once, in ``LabConfig.ready``. Without them the engine runs with no retests and no alerts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class OpenOrder:
    """A retest a person awaits: their next single tube answers it."""

    id: int
    original_tube_id: int
    original_code: str


class RetestBook(Protocol):
    def open_orders(
        self,
        campaign_ids: Collection[int],
        resident_ids: Collection[int],
        walk_in_ids: Collection[int],
    ) -> dict[tuple[int, str, int], OpenOrder]:
        """Open orders keyed by (campaign, "resident" or "walk_in", person id)."""
        ...

    def take(self, takes: Sequence[tuple[int, int, int]]) -> bool:
        """Mark each (order, retest tube, original pool) sampled; False when another writer took
        one of the orders first (the engine then plays the batch again)."""
        ...


class CustodyWatch(Protocol):
    def disagreed(
        self, box_id: int, campaign_id: int, community_id: int, counted: int, at: dt.datetime
    ) -> None:
        """A hand count disagreed with the tubes scanned into a box."""
        ...


class _NoRetests:
    def open_orders(
        self,
        campaign_ids: Collection[int],
        resident_ids: Collection[int],
        walk_in_ids: Collection[int],
    ) -> dict[tuple[int, str, int], OpenOrder]:
        return {}

    def take(self, takes: Sequence[tuple[int, int, int]]) -> bool:
        return True


class _NoCustody:
    def disagreed(
        self, box_id: int, campaign_id: int, community_id: int, counted: int, at: dt.datetime
    ) -> None:
        return None


retests: RetestBook = _NoRetests()
custody: CustodyWatch = _NoCustody()


def register(*, retest_book: RetestBook, custody_watch: CustodyWatch) -> None:
    global retests, custody
    retests, custody = retest_book, custody_watch
