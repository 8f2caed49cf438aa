"""Results: a negative pool clears, a positive pool orders single-tube retests for every member,
the retest loop closes when every member has their own result, corrections keep history."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from doorstep.core import alerts
from doorstep.lab.actions import results
from doorstep.lab.models import CaseSheet, OrderStatus, ResultEntry, RetestOrder
from doorstep.notices import actions as telling
from doorstep.notices.models import Message
from doorstep.sampling.models import Scope, Tally, Tube
from doorstep.testing.lanes import post, sealed_tube, to_the_lab

pytestmark = pytest.mark.django_db


def test_a_negative_pool_clears_its_members(lane_world):
    sealed_tube(lane_world["registrar"], lane_world["lane"], lane_world["people"][:10])
    [answer] = post(lane_world, {"tube": "2112250001", "result": "阴性", "ct": ""})
    assert answer == {"tube": "2112250001", "status": "accepted"}
    assert Tube.objects.get().result == "negative"
    assert not RetestOrder.objects.exists()
    assert alerts.current(Tube.objects.get().campaign, timezone.now(), apps={"lab"}) == []


def test_a_positive_pool_orders_a_single_tube_retest_for_every_member(lane_world):
    sealed_tube(lane_world["registrar"], lane_world["lane"], lane_world["people"][:10])
    post(lane_world, {"tube": "2112250001", "result": "positive", "ct": 31.5})
    orders = RetestOrder.objects.all()
    assert orders.count() == 10
    # 12号楼 is a controlled zone: the retest comes to the door.
    assert {(o.route, o.stay_put, o.status) for o in orders} == {("door_to_door", True, "open")}
    [alert] = alerts.current(orders[0].campaign, timezone.now(), apps={"lab"})
    assert (alert.kind, alert.severity) == ("positive_pool", "bad")
    assert "10" in alert.text and alert.community_id == orders[0].community_id
    campaign = Tally.objects.get(scope=Scope.CAMPAIGN)
    assert (campaign.positive_pools, campaign.retests_open) == (1, 10)


def test_the_retest_loop_closes_when_every_member_has_a_single_tube_result(lane_world):
    d, lane, people = lane_world["registrar"], lane_world["lane"], lane_world["people"][:2]
    pool = sealed_tube(d, lane, people)
    post(lane_world, {"tube": pool.code, "result": "positive"})
    # A retest needs a single tube: a pooled tube refuses the person.
    d.send(d.event("tube.open", lane=lane.code, tube="2112259000", pool=10))
    [refused] = d.send(d.event("tube.add", tube="2112259000", person=people[0].person_code))
    assert refused["error"]["code"] == "single_tube_required"
    assert d.codes(d.event("tube.discard", tube="2112259000")) == ["accepted"]
    first = sealed_tube(d, lane, people[:1], code="2112259001", pool=1)
    second = sealed_tube(d, lane, people[1:], code="2112259002", pool=1)
    assert first.retest_of == pool and second.retest_of == pool
    assert set(RetestOrder.objects.values_list("status", flat=True)) == {OrderStatus.SAMPLED}
    post(lane_world, {"tube": first.code, "result": "negative"})
    assert Tube.objects.get(pk=pool.pk).retest_closed_at is None
    for message in Message.objects.filter(notice__cause_tube=pool):  # both were told
        telling.delivery_report(message, telling.DLR_DELIVERED, "", timezone.now())
    post(lane_world, {"tube": second.code, "result": "positive"})
    assert Tube.objects.get(pk=pool.pk).retest_closed_at is not None
    assert sorted(RetestOrder.objects.values_list("result", flat=True)) == ["negative", "positive"]
    assert Tally.objects.get(scope=Scope.CAMPAIGN).retests_open == 0
    # The positive single tube is a case: the community is told, and the pool's alert is gone
    # (every member's retest is sampled).
    found = alerts.current(pool.campaign, timezone.now(), apps={"lab"})
    sheet = CaseSheet.objects.get(tube=second)
    assert [(a.kind, a.key) for a in found] == [("case_sheet_open", f"case_sheet_open:{sheet.pk}")]


def test_an_invalid_result_orders_a_resample(lane_world):
    sealed_tube(lane_world["registrar"], lane_world["lane"], lane_world["people"][:3])
    post(lane_world, {"tube": "2112250001", "result": "无效"})
    assert set(RetestOrder.objects.values_list("kind", "stay_put")) == {("resample", False)}


def test_resending_is_a_duplicate_and_a_different_result_is_a_conflict(lane_world):
    sealed_tube(lane_world["registrar"], lane_world["lane"], lane_world["people"][:3])
    answers = post(
        lane_world,
        {"tube": "2112250001", "result": "negative"},
        {"tube": "2112250001", "result": "negative"},
        {"tube": "2112250001", "result": "positive"},
    )
    assert [a["status"] for a in answers] == ["accepted", "duplicate", "rejected"]
    assert answers[2]["error"]["code"] == "conflict"
    assert "send a correction with a reason" in answers[2]["error"]["message"]


def test_a_correction_with_a_reason_keeps_the_history_and_moves_the_orders(lane_world):
    sealed_tube(lane_world["registrar"], lane_world["lane"], lane_world["people"][:3])
    post(lane_world, {"tube": "2112250001", "result": "positive"})
    [bare] = post(lane_world, {"tube": "2112250001", "result": "negative", "correction": True})
    assert bare["error"]["code"] == "invalid"
    post(
        lane_world,
        {"tube": "2112250001", "result": "negative", "correction": True, "reason": "复核为阴性"},
    )
    history = list(ResultEntry.objects.values_list("result", "correction_reason"))
    assert history == [("positive", ""), ("negative", "复核为阴性")]
    assert set(RetestOrder.objects.values_list("status", flat=True)) == {OrderStatus.CANCELLED}
    campaign = Tally.objects.get(scope=Scope.CAMPAIGN)
    assert (campaign.positive_pools, campaign.retests_open) == (0, 0)


def test_unknown_or_open_tubes_and_bad_values_are_refused(lane_world):
    d = lane_world["registrar"]
    d.send(d.event("tube.open", lane=lane_world["lane"].code, tube="2112250009"))
    answers = post(
        lane_world,
        {"tube": "NOSUCHTUBE", "result": "negative"},
        {"tube": "2112250009", "result": "negative"},
        {"tube": "2112250009", "result": "maybe"},
        {"tube": "", "result": "negative"},
        {"tube": "2112250009", "result": "negative", "ct": "abc"},
        {"tube": "2112250009", "result": "negative", "tested_at": "2021-02-30T09:00:00"},
        {"tube": "2112250009", "result": "negative", "ct": "NaN"},
        {"tube": "2112250009\x00", "result": "negative"},
        "row",
    )
    assert [a["error"]["code"] for a in answers] == [
        "unknown_tube",
        "tube_open",
        "invalid",
        "invalid",
        "invalid",
        "invalid",
        "invalid",
        "invalid",
        "invalid",
    ]
    assert answers[5]["error"]["message"] == "“tested_at” is not a date and time."
    assert answers[6]["error"]["message"] == "Ct must be between 0 and 100."
    assert "not text" in answers[7]["error"]["message"]
    assert not ResultEntry.objects.exists()


def test_the_results_file_is_checked_whole_before_anything_is_written(lane_world, tmp_path, lab):
    sealed_tube(lane_world["registrar"], lane_world["lane"], lane_world["people"][:2])
    sealed_tube(
        lane_world["registrar"], lane_world["lane"], lane_world["people"][2:4], code="2112250002"
    )
    to_the_lab(lane_world, "2112250001", "2112250002")
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "管码,结果,CT值\n2112250001,阳性,30.1\n2112250002,不知道,\nNOPE,阴性,\n", encoding="gbk"
    )
    with pytest.raises(CommandError, match=r"2 bad row|有 2 行有误"):
        call_command("import_results", str(bad), user=lab.username, stderr=io.StringIO())
    assert not ResultEntry.objects.exists()
    good = tmp_path / "good.csv"
    good.write_text("tube,result\n2112250001,positive\n2112250002,negative\n", encoding="utf-8")
    out = io.StringIO()
    call_command("import_results", str(good), stdout=out)
    assert "2" in out.getvalue() and ResultEntry.objects.count() == 2
    assert RetestOrder.objects.count() == 2


def test_the_lab_api_answers_with_codes_never_names(lane_world):
    sealed_tube(lane_world["registrar"], lane_world["lane"], lane_world["people"][:2])
    response = lane_world["lab"].post(
        "results", {"results": [{"tube": "2112250001", "result": "positive"}]}
    )
    body = response.content.decode()
    assert "居民" not in body and lane_world["people"][0].id_number not in body


def test_parse_row_is_what_the_file_import_uses(lane_world, lab):
    with pytest.raises(results.ResultRefused, match="No tube NOPE"):
        results.parse_row({"tube": "nope", "result": "negative"}, lab)
