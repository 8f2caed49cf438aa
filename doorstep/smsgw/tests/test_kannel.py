"""The real SMS gateway does what ``doorstep.smsgw.kannel`` says Kannel does: Chinese text
arrives intact, delivery reports reach the ``dlr-url``, a number of the failing prefix is
refused with a report of type 16, and an outage refuses the connection and loses nothing that
was accepted.

Every test uses numbers of its own: the gateway is the session's (``kannel`` fixture).
"""

from __future__ import annotations

import urllib.error
from pathlib import Path

import pytest

from doorstep.smsgw import kannel as kannel_module
from doorstep.smsgw.kannel import Gateway
from doorstep.smsgw.testing import FAILING_PREFIX, DlrReceiver, gateway_for_tests

NOTICE = (
    "居民朋友们：明天上午8点至11点在广场采样点进行全员核酸检测，请携带身份证，佩戴口罩，"
    "保持一米间距。行动不便者请联系社区，如有疑问请拨打社区电话。谢谢配合！"
)


def test_the_gateway_is_up_on_loopback_and_sends_nothing_of_its_own(kannel: Gateway) -> None:
    status = kannel.status()
    assert status.running == {"bearerbox": True, "smsbox": True, "fakesmsc": True}
    assert status.smsc is not None and status.smsc.startswith("online")
    assert status.mo_received == 0  # fakesmsc -m 0: no message from the "phones"
    assert kannel.sendsms_url.startswith(f"http://127.0.0.1:{kannel.sendsms_port}/cgi-bin/")
    assert f"username={kannel.username}&password={kannel.password}" in kannel.sendsms_url


def test_a_second_gateway_runs_beside_the_first(kannel: Gateway, tmp_path: Path) -> None:
    """The SQLite and the PostgreSQL suites each have one, at the same time."""
    other = gateway_for_tests(tmp_path / "other")
    try:
        assert other.sendsms_port != kannel.sendsms_port
        assert other.send("13600000001", "第二个网关") == (202, "0: Accepted for delivery")
        assert other.wait_received("13600000001") == ["第二个网关"]
        assert [to for to, _ in kannel.received()].count("13600000001") == 0
    finally:
        other.down()
    assert not any(other.status().running.values())


def test_chinese_text_arrives_at_the_sms_centre_intact(kannel: Gateway) -> None:
    short = "您好：请于明天8:00到广场采样点 + 核酸 & 100%\n第二行"
    assert kannel.send("13700000001", short) == (202, "0: Accepted for delivery")
    assert kannel.wait_received("13700000001") == [short]


def test_a_long_message_is_split_and_joined_again(kannel: Gateway) -> None:
    """Above 70 UCS-2 characters Kannel sends parts; the fake SMS centre gets both, and
    ``received`` gives the whole text back. GSM text (``coding=0``) likewise."""
    assert len(NOTICE) > 70
    english = "Tomorrow 8-11 am: testing for everyone at the square. Bring your ID. " * 3
    assert kannel.send("13700000002", NOTICE)[0] == 202
    assert kannel.send("13700000003", english, coding=0)[0] == 202
    assert kannel.wait_received("13700000002") == [NOTICE]
    assert kannel.wait_received("13700000003") == [english]
    fakesmsc = kannel.log("fakesmsc")
    assert fakesmsc.count("13700000002 udh ") == fakesmsc.count("13700000003 udh ") == 2


def test_delivery_reports_reach_the_dlr_url(kannel: Gateway) -> None:
    """Accepted by the SMS centre (8), then delivered (1): one of each, carrying the sender's
    own id, whole message split or not."""
    with DlrReceiver() as receiver:
        for n, (number, text) in enumerate([("13700000011", "短信"), ("13700000012", NOTICE)]):
            answer = kannel.send(number, text, dlr_url=receiver.url(message=str(n)))
            assert answer == (202, "0: Accepted for delivery")
            reports = receiver.wait(2, message=str(n))
            assert sorted((r["type"], r["to"], r["reply"]) for r in reports) == [
                ("1", number, ""),
                ("8", number, "ACK/"),
            ]
        assert len(receiver.reports) == 4


def test_a_number_of_the_failing_prefix_is_refused_with_a_report_of_type_16(
    kannel: Gateway,
) -> None:
    number = f"{FAILING_PREFIX}0000001"
    with DlrReceiver() as receiver:
        answer = kannel.send(number, "不会送达", dlr_url=receiver.url(message="7"))
        assert answer == (403, "Not routable. Do not try again.")
        [report] = receiver.wait(1, message="7")
    assert (report["type"], report["to"], report["reply"]) == ("16", number, "NACK/no SMSC")
    kannel.send("13700000021", "after the failure")  # a later message is through
    kannel.wait_received("13700000021")
    assert [to for to, _ in kannel.received()].count(number) == 0


def test_an_outage_refuses_the_connection_and_loses_nothing_accepted(kannel: Gateway) -> None:
    """The SMS centre away: sendsms queues (``3: Queued for later delivery``). bearerbox
    stopped: the connection is refused, so the sender keeps its message. Started again: the
    queued message is delivered, once, and sendsms takes messages again."""
    try:
        kannel.stop("fakesmsc")
        assert kannel.send("13700000031", "排队中") == (202, "3: Queued for later delivery")
        assert kannel.status().queued == 1
        kannel.stop_bearerbox()
        assert not any(kannel.status().running.values())
        with pytest.raises(urllib.error.URLError) as refused:
            kannel.send("13700000032", "网关停了")
        assert isinstance(refused.value.reason, ConnectionRefusedError)
    finally:
        kannel.start_bearerbox()
    assert kannel.send("13700000032", "网关恢复了") == (202, "0: Accepted for delivery")
    assert kannel.wait_received("13700000032") == ["网关恢复了"]
    # The marker went through the same queue after it: a second copy would be in by now.
    assert kannel.wait_received("13700000031") == ["排队中"]
    assert kannel.status().stored == 0


def test_a_machine_without_kannel_fails_with_the_packages_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(kannel_module, "BEARERBOX", str(tmp_path / "no-bearerbox"))
    with pytest.raises(pytest.fail.Exception, match="apt-get install kannel kannel-extras"):
        gateway_for_tests(tmp_path)
