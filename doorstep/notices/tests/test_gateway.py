"""Telling through the real gateway: Kannel (bearerbox, smsbox) with its fake SMS centre as the
carrier, delivery reports coming back to Doorstep's own server. Never a mock of the gateway."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.urls import reverse
from django.utils import timezone

from doorstep.core import alerts
from doorstep.notices import sender
from doorstep.notices.models import SETTLED, Message, MessageState, Notice
from doorstep.smsgw.testing import FAILING_PREFIX
from doorstep.testing import client_for
from doorstep.testing.lanes import post, sealed_tube

pytestmark = pytest.mark.django_db(transaction=True)


def _wait_for(check, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("gave up waiting")
        time.sleep(0.1)


@pytest.fixture
def reports_here(live_server, settings):  # type: ignore[no-untyped-def]
    """Kannel calls this test's server with each delivery report. Afterwards, the reports
    still on their way are let in before the test's database is emptied: one read there while
    it is truncated deadlocks the flush."""
    settings.SMS_CALLBACK_URL = live_server.url
    yield live_server
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and (
        Message.objects.filter(accepted_at__isnull=False).exclude(state__in=SETTLED).exists()
    ):
        time.sleep(0.1)
    time.sleep(0.5)  # a carrier's report may trail the final one


def test_a_positive_pools_members_are_told_through_kannel_or_at_their_door(
    kannel, reports_here, lane_world, worker
):
    people = lane_world["people"][:4]
    numbers = ["13800130001", "13800130002", f"{FAILING_PREFIX}0130003", ""]
    for person, number in zip(people, numbers, strict=True):
        person.phone = number
        person.save()
    pool = sealed_tube(lane_world["registrar"], lane_world["lane"], people)
    post(lane_world, {"tube": pool.code, "result": "positive"})

    report = sender.send_due(url=kannel.sendsms_url)
    assert (report.accepted, report.refused) == (2, 1)
    # The carrier's delivery reports reach Doorstep: the two members are told by text.
    notices = Notice.objects.filter(cause_tube=pool)
    _wait_for(lambda: notices.filter(told_how="sms").count() == 2)
    for number in numbers[:2]:
        [text] = kannel.wait_received(number)
        assert text == Message.objects.get(phone=number).text
        assert "复检" in text and "居家" in text
    delivered = Message.objects.get(phone=numbers[0])
    assert delivered.state == MessageState.DELIVERED
    assert delivered.queued_at <= delivered.accepted_at  # type: ignore[operator]
    assert delivered.delivered_at is not None
    # The number the gateway refuses, and the member with no phone: door visits at once.
    failed = Message.objects.get(phone=numbers[2])
    assert failed.state == MessageState.FAILED and "Not routable" in failed.last_reply
    at_door = {n.resident_id: n.door_reason for n in notices.filter(told_at=None)}
    assert at_door == {people[2].pk: "failed", people[3].pk: "no_phone"}

    client = client_for(worker)
    page = client.get(reverse("notices:doors"), headers={"Accept-Language": "en"}).content.decode()
    assert page.count('class="door"') == 2
    client.post(reverse("notices:told"), {"notice": [n.pk for n in notices.filter(told_at=None)]})
    assert not notices.filter(told_at=None).exists()
    # Everyone is told; the loop waits only for the retests now.
    pool.refresh_from_db()
    assert pool.retest_closed_at is None


def test_a_gateway_down_mid_way_loses_nothing_and_sends_nothing_twice(
    kannel, reports_here, lane_world
):
    people = lane_world["people"][:10]
    numbers = [f"1380014{i:04d}" for i in range(10)]
    for person, number in zip(people, numbers, strict=True):
        person.phone = number
        person.save()
    pool = sealed_tube(lane_world["registrar"], lane_world["lane"], people)
    post(lane_world, {"tube": pool.code, "result": "positive"})

    first = sender.send_due(url=kannel.sendsms_url, limit=4)
    assert first.accepted == 4
    kannel.stop_bearerbox()
    try:
        now = timezone.now()
        down = sender.send_due(now=now, url=kannel.sendsms_url)
        assert (down.accepted, down.retry) == (0, 6)
        waiting = Message.objects.filter(state=MessageState.QUEUED)
        assert waiting.count() == 6 and all(m.next_try_at > now for m in waiting)
        # Tried again while still down: the wait grows, nothing is lost.
        again = sender.send_due(now=now + dt.timedelta(seconds=6), url=kannel.sendsms_url)
        assert again.retry == 6 and again.accepted == 0
    finally:
        kannel.start_bearerbox()
    back = sender.send_due(now=timezone.now() + sender.LONGEST_WAIT, url=kannel.sendsms_url)
    assert back.accepted == 6
    for number in numbers:
        assert len(kannel.wait_received(number)) == 1
    _wait_for(lambda: Notice.objects.filter(cause_tube=pool, told_how="sms").count() == 10)
    time.sleep(1)  # a duplicate would have arrived by now
    assert all(len([t for r, t in kannel.received() if r == n]) == 1 for n in numbers)


def test_a_wrong_gateway_password_keeps_every_message_waiting_and_says_why(
    kannel, reports_here, lane_world
):
    people = lane_world["people"][:2]
    for person, number in zip(people, ["13800150001", "13800150002"], strict=True):
        person.phone = number
        person.save()
    pool = sealed_tube(lane_world["registrar"], lane_world["lane"], people)
    post(lane_world, {"tube": pool.code, "result": "positive"})
    wrong = kannel.sendsms_url.split("password=")[0] + "password=not-the-password"
    report = sender.send_due(url=wrong)
    assert (report.retry, report.refused) == (2, 0)
    waiting = Message.objects.filter(state=MessageState.QUEUED)
    assert waiting.count() == 2 and all("Authorization" in m.last_reply for m in waiting)
    later = timezone.now() + dt.timedelta(minutes=6)
    [stuck] = [a for a in alerts.current(pool.campaign, later) if a.kind == "gateway_stuck"]
    assert stuck.critical and "Authorization" in stuck.text
    # Put right, they go.
    assert sender.send_due(now=later, url=kannel.sendsms_url).accepted == 2
    # Their delivery reports come to the live server: wait for them, so that none arrives
    # while the test's database is being emptied (a report read there deadlocked the flush).
    _wait_for(lambda: Message.objects.filter(state=MessageState.DELIVERED).count() == 2)
