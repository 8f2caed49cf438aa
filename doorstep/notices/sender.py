"""The sender: takes messages due from the outbox, hands each to the gateway once, and turns
notices not told in time into door visits.

Several senders may run at once (a thread in each ``doorstep serve`` process, and
``doorstep send-messages``): each takes its messages with a claim, one conditional UPDATE
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL), so no message is taken by two. A message taken
and never answered (the sender died in between) is not sent again: after ``STUCK`` it is
*unknown*, and its notice goes to the door at its due time. A gateway that is down leaves
messages queued, tried again with a growing wait (``backoff``), so nothing is lost.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from doorstep.notices import actions, gateway
from doorstep.notices.models import Message, MessageState

log = logging.getLogger("doorstep.notices")

BATCH = 50
# A message held this long by a sender that never said how it went: its sender died.
STUCK = dt.timedelta(minutes=2)
# A pass hands over messages for at most this long (each try may wait 10 s for the gateway),
# then gives the rest back: well inside STUCK, so no live sender's message is taken for stuck.
PASS_LIMIT = 30.0
FIRST_WAIT, LONGEST_WAIT = dt.timedelta(seconds=5), dt.timedelta(minutes=2)


def backoff(attempts: int) -> dt.timedelta:
    """The wait before the next try after ``attempts`` tries: 5 s, 10 s, 20 s... up to 2 min,
    so a gateway back from an outage is tried within 2 minutes."""
    return min(FIRST_WAIT * 2 ** max(attempts - 1, 0), LONGEST_WAIT)


def signature(message_id: int) -> str:
    """What the delivery-report URL of a message carries to prove the gateway sent it."""
    return salted_hmac("doorstep.notices.dlr", str(message_id)).hexdigest()[:32]


def signature_ok(message_id: int, given: str) -> bool:
    return constant_time_compare(signature(message_id), given)


def dlr_url(message_id: int) -> str:
    """The URL Kannel calls with each delivery report (``%d``: its type, ``%A``: its text,
    ``%p``: the number it went to, which must be the message's)."""
    path = reverse("notices:dlr", args=[message_id, signature(message_id)])
    return settings.SMS_CALLBACK_URL.rstrip("/") + path + "?type=%d&reply=%A&to=%p"


def _claim(now: dt.datetime, limit: int) -> list[Message]:
    token = uuid.uuid4()
    due = Message.objects.filter(state=MessageState.QUEUED, next_try_at__lte=now)
    # A read first: on SQLite a write transaction takes the one write lock the lanes need, and
    # most passes find nothing to send.
    if not due.exists():
        return []
    with transaction.atomic():
        if connection.vendor == "postgresql":
            due = due.select_for_update(skip_locked=True)
        ids = list(due.order_by("next_try_at", "pk").values_list("pk", flat=True)[:limit])
        Message.objects.filter(pk__in=ids, state=MessageState.QUEUED).update(
            state=MessageState.SENDING, claim=token, claimed_at=now, sending_at=None
        )
    return list(Message.objects.filter(claim=token).order_by("pk"))


def _going_out(message: Message, now: dt.datetime) -> bool:
    """Marks the one message whose request goes out now; false if it is no longer ours."""
    return bool(
        Message.objects.filter(
            pk=message.pk, claim=message.claim, state=MessageState.SENDING
        ).update(sending_at=now, attempts=F("attempts") + 1)
    )


def _release(ids: list[int]) -> None:
    """Claimed messages this sender will not try: back to the queue, as they were."""
    with transaction.atomic():
        Message.objects.filter(pk__in=ids, state=MessageState.SENDING, sending_at=None).update(
            state=MessageState.QUEUED, claim=None, claimed_at=None
        )


def _unstick(now: dt.datetime) -> int:
    """Messages held by a sender that died: those it never tried go back to the queue; the one
    whose request was out may have reached the gateway, so it is unknown (never resent)."""
    held = Message.objects.filter(state=MessageState.SENDING)
    untried = held.filter(sending_at=None, claimed_at__lte=now - STUCK)
    out = held.filter(sending_at__lte=now - STUCK)
    if not (untried.exists() or out.exists()):
        return 0
    with transaction.atomic():
        back = untried.update(state=MessageState.QUEUED, claim=None, claimed_at=None)
        lost = out.update(
            state=MessageState.UNKNOWN, claim=None, last_reply="sender stopped mid-way"
        )
    return back + lost


@dataclass
class Report:
    accepted: int = 0
    refused: int = 0
    retry: int = 0
    unknown: int = 0
    to_door: int = 0
    replies: list[str] = field(default_factory=list)

    @property
    def handled(self) -> int:
        return self.accepted + self.refused + self.retry + self.unknown


def send_due(now: dt.datetime | None = None, limit: int = BATCH, url: str | None = None) -> Report:
    """One pass: the notices past due go to the door, then messages due are handed to the
    gateway one by one. With no gateway configured, messages wait and only the sweep runs."""
    simulated = now is not None
    now = now or timezone.now()
    url = settings.SMS_URL if url is None else url
    report = Report()
    # First, and whatever happens to the sending: nobody waits past their time to be told.
    report.to_door = actions.escalate_due(now)
    _unstick(now)
    if not url:
        return report
    started = time.monotonic()
    claimed = _claim(now, limit)
    tried = 0
    try:
        for message in claimed:
            if time.monotonic() - started > PASS_LIMIT:
                # A slow gateway: the rest go back to the queue untried.
                break
            tried += 1
            at = now if simulated else timezone.now()
            if not _going_out(message, at):
                continue
            answer = gateway.send(url, message.phone, message.text, dlr_url(message.pk))
            at = now if simulated else timezone.now()
            _settle(message, answer, at, report)
    finally:
        _release([m.pk for m in claimed[tried:]])
    return report


def _settle(message: Message, answer: gateway.Answer, at: dt.datetime, report: Report) -> None:
    if answer.outcome == gateway.ACCEPTED:
        actions.accepted(message.pk, answer.reply, at)
        report.accepted += 1
    elif answer.outcome == gateway.REFUSED:
        log.warning("gateway refused message %s: %s", message.pk, answer.reply)
        actions.refused(message.pk, answer.reply, at)
        report.refused += 1
    elif answer.outcome == gateway.UNAVAILABLE:
        actions.retry(message.pk, answer.reply, at, backoff(message.attempts + 1))
        report.retry += 1
    else:
        log.warning("no answer from the gateway for message %s: %s", message.pk, answer.reply)
        actions.unknown(message.pk, answer.reply, at)
        report.unknown += 1
    report.replies.append(answer.reply)


def run(stop: threading.Event, interval: float = 1.0) -> None:
    """Send until ``stop`` is set: a pass, then a pause unless the pass was full."""
    while not stop.is_set():
        try:
            report = send_due()
        except Exception as error:  # a sender must outlive one bad pass
            # Its type only: the text of some errors holds the gateway's URL and password.
            log.error("sending messages failed (%s); trying again", type(error).__name__)
            report = Report()
        finally:
            close_old_connections()
        if report.handled < BATCH:
            stop.wait(interval)


_thread: threading.Thread | None = None


def start_thread() -> None:
    """The sender in a background thread of this process (``doorstep serve``), once."""
    global _thread
    if _thread is None and settings.SMS_SENDER_THREAD:
        _thread = threading.Thread(
            target=run, args=(threading.Event(),), name="doorstep-sms", daemon=True
        )
        _thread.start()
