"""The sender's answers to what a network does, on real sockets: a gateway that drops the
connection has not got the message (tried again); one that takes the request and never answers
may have it (never resent); a sender taken for dead by another still settles what it sent."""

from __future__ import annotations

import datetime as dt
import socket
import threading
from collections.abc import Iterator

import pytest
from django.utils import timezone

from doorstep.core import clocks
from doorstep.notices import actions, gateway, sender
from doorstep.notices.models import Message, MessageState
from doorstep.testing import make_community
from doorstep.testing.lanes import post, sealed_tube

pytestmark = pytest.mark.django_db


@pytest.fixture
def full_backlog() -> Iterator[str]:
    """A port that listens but never accepts, its backlog full: a connect times out."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    fillers = []
    for _ in range(8):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
        fillers.append(s)
    yield f"http://127.0.0.1:{port}/cgi-bin/sendsms?username=u&password=p"
    for s in [*fillers, server]:
        s.close()


@pytest.fixture
def silent() -> Iterator[str]:
    """A gateway that reads the request and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            conn.recv(65536)
            held.append(conn)

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/cgi-bin/sendsms?username=u&password=p"
    server.close()
    for c in held:
        c.close()


def test_a_gateway_that_cannot_be_connected_to_has_not_got_the_message(full_backlog):
    answer = gateway.send(full_backlog, "13812341234", "x", "http://d/", timeout=0.5)
    assert answer.outcome == gateway.UNAVAILABLE, answer


def test_a_gateway_that_took_the_request_and_never_answered_may_have_it(silent):
    answer = gateway.send(silent, "13812341234", "x", "http://d/", timeout=0.5)
    assert answer.outcome == gateway.UNKNOWN, answer


def _queued(n: int) -> list[Message]:
    community = make_community()
    now = timezone.now()
    return Message.objects.bulk_create(
        [
            Message(
                community=community,
                kind="home_visit",
                phone=f"138{i:08d}",
                text="x",
                queued_at=now,
                next_try_at=now,
            )
            for i in range(n)
        ]
    )


def test_a_message_taken_for_stuck_while_its_sender_still_tries_is_not_lost():
    [message] = _queued(1)
    now = timezone.now()
    [claimed] = sender._claim(now, 1)
    # Another sender's pass, long after: it takes the message for stuck (never to be resent)...
    assert sender._unstick(now + sender.STUCK) == 1
    # ...but the first sender's try finds the gateway down: it never had the message.
    actions.retry(claimed.pk, "unreachable", now, dt.timedelta(0))
    message.refresh_from_db()
    assert message.state == MessageState.QUEUED
    assert [m.pk for m in sender._claim(now + dt.timedelta(seconds=1), 5)] == [message.pk]


def test_a_slow_gateway_gives_the_rest_of_its_pass_back_untried(silent, monkeypatch):
    _queued(3)
    monkeypatch.setattr(sender, "PASS_LIMIT", 0.3)
    monkeypatch.setattr(gateway, "send", _slow(gateway.send, silent))
    report = sender.send_due(url=silent)
    assert report.unknown == 1  # the one try it made: the gateway may have it
    assert sorted(Message.objects.values_list("state", "attempts")) == [
        (MessageState.QUEUED, 0),
        (MessageState.QUEUED, 0),
        (MessageState.UNKNOWN, 1),
    ]


def _slow(send, url):  # type: ignore[no-untyped-def]
    def one(sendsms_url, phone, text, dlr_url, timeout=10.0):  # type: ignore[no-untyped-def]
        return send(url, phone, text, dlr_url, timeout=0.5)

    return one


def test_a_sender_that_died_mid_pass_loses_only_the_one_it_was_sending():
    messages = _queued(3)
    now = timezone.now()
    claimed = sender._claim(now, 3)
    assert sender._going_out(claimed[0], now)  # its request was out when the process died
    assert sender._unstick(now + sender.STUCK) == 3
    states = dict(Message.objects.values_list("pk", "state"))
    assert states[messages[0].pk] == MessageState.UNKNOWN  # the gateway may have it: not resent
    assert [states[m.pk] for m in messages[1:]] == [MessageState.QUEUED] * 2  # never tried


def test_a_gateway_url_that_is_no_url_strands_nothing_and_the_door_sweep_still_runs(
    lane_world, caplog
):
    people = lane_world["people"][:2]
    pool = sealed_tube(lane_world["registrar"], lane_world["lane"], people)
    post(lane_world, {"tube": pool.code, "result": "positive"})
    later = timezone.now() + clocks.TELL_WITHIN
    report = sender.send_due(now=later, url="127.0.0.1:13013/cgi-bin/sendsms?password=secret")
    assert report.to_door == 2 and report.retry == 2
    assert set(Message.objects.values_list("state", flat=True)) == {MessageState.QUEUED}
    assert "secret" not in caplog.text
