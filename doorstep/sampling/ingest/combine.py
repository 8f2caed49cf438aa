"""Group commit: the requests that reach one server process at the same moment are applied as
one batch, in one transaction, and each is answered with its own events' answers once that
transaction has committed.

A request's fixed cost (its transaction, the batch's read, a statement per kind of row, the
commit's flush to disk) is most of what a single scan costs; eight devices each sending one
scan at a time paid it eight times over. Here the first request to arrive leads: it takes
every request waiting at that moment (up to ``MAX_EVENTS`` events) and applies them together
with ``ingest.apply_jobs``. Requests that arrive meanwhile wait; when the leader is done, the
first of them leads the next batch. Nobody waits on a timer: a request alone is applied at
once, and the more requests arrive together, the more each batch carries.

What a device is told does not change: the answers are those of the requests applied one after
another, each event checked as its own sender's (a registrar's lanes and duty hold inside a
combined batch), and ``accepted`` still means committed. A batch whose transaction fails for
a reason the engine does not retry is applied again one request at a time, so one request's
failure is its own; when the database is not answering, every request of the batch is told.

Only requests whose senders see the same towns share a batch (``world.read_scope``); in a
deployment for one town that is every registrar. Threads of one process combine; processes do
not (each has its own leader). Switched off with ``DOORSTEP_GROUP_COMMIT=0``.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

from django.db import InterfaceError, OperationalError
from django.utils import timezone

from doorstep.core.models import User
from doorstep.sampling.ingest import Answer, Job, apply_jobs, world
from doorstep.sampling.rules import MAX_EVENTS


@dataclass(eq=False)
class _Waiting:
    job: Job
    scope: Hashable
    done: threading.Event = field(default_factory=threading.Event)
    lead: bool = False
    answers: list[Answer] | None = None
    error: BaseException | None = None


@dataclass
class Stats:
    """What the combiner has done since the process started (the benchmark reads it)."""

    batches: int = 0
    requests: int = 0


class Combiner:
    def __init__(self, max_events: int = MAX_EVENTS) -> None:
        self.max_events = max_events
        self.stats = Stats()
        self._lock = threading.Lock()
        self._queues: dict[Hashable, list[_Waiting]] = {}
        self._leading: set[Hashable] = set()

    def apply(
        self,
        user: User,
        events: Sequence[object],
        now: dt.datetime | None = None,
        *,
        token_lane: int | None = None,
    ) -> list[Answer]:
        """``ingest.apply``, with the requests of the same moment committed together."""
        now = now or timezone.now()
        me = _Waiting(Job.of(user, events, now, token_lane), world.read_scope(user, token_lane))
        with self._lock:
            self._queues.setdefault(me.scope, []).append(me)
            if me.scope not in self._leading:
                self._leading.add(me.scope)
                me.lead = True
        if not me.lead:
            me.done.wait()
        if me.lead:  # the first to come, or handed the lead by the batch before
            self._lead(me.scope)
        if me.error is not None:
            raise me.error
        assert me.answers is not None
        return me.answers

    def _lead(self, scope: Hashable) -> None:
        """Apply the waiting requests, this one first (a leader is always first in its queue),
        then hand the lead to the first request that came meanwhile."""
        batch = self._take(scope)
        try:
            self._run(batch)
        finally:
            for waiting in batch:
                waiting.lead = False
                if waiting.answers is None and waiting.error is None:
                    waiting.error = RuntimeError("the batch was interrupted")
            with self._lock:
                queue = self._queues.get(scope)
                following: _Waiting | None = None
                if queue:
                    queue[0].lead = True
                    following = queue[0]
                else:
                    self._queues.pop(scope, None)
                    self._leading.discard(scope)
            for waiting in batch:
                waiting.done.set()
            if following is not None:
                following.done.set()

    def _take(self, scope: Hashable) -> list[_Waiting]:
        """The waiting requests of this scope, oldest first, up to ``max_events`` events (the
        first one whatever its size)."""
        with self._lock:
            queue = self._queues[scope]
            taken, events = 0, 0
            for waiting in queue:
                size = len(waiting.job.parsed)
                if taken and events + size > self.max_events:
                    break
                taken, events = taken + 1, events + size
            batch, self._queues[scope] = queue[:taken], queue[taken:]
            self.stats.batches += 1
            self.stats.requests += taken
        return batch

    @staticmethod
    def _run(batch: list[_Waiting]) -> None:
        try:
            for waiting, answers in zip(batch, apply_jobs([w.job for w in batch]), strict=True):
                waiting.answers = answers
            return
        except (OperationalError, InterfaceError) as exc:
            # The database is not answering: nothing was committed, every request is told so.
            for waiting in batch:
                waiting.error = exc
            return
        except Exception as exc:
            if len(batch) == 1:
                batch[0].error = exc
                return
        # One request at a time, so that whatever failed fails only its own request.
        for waiting in batch:
            try:
                waiting.answers = apply_jobs([waiting.job])[0]
            except Exception as exc:
                waiting.error = exc


combiner = Combiner()
