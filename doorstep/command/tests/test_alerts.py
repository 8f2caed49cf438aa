"""Alerts as one thing (core.alerts): every kind is raised when its condition starts to hold and
cleared when it stops, read the same by the command screen, the community page and the retests
page; who acknowledged one is kept; a notice (a positive case) goes once acknowledged."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from doorstep.assistance import actions as needs
from doorstep.canvass import actions as canvass
from doorstep.canvass.models import BuildingTask
from doorstep.core import alerts
from doorstep.core.models import AlertAck
from doorstep.lab.actions import cases as case_actions
from doorstep.lab.models import CaseSheet
from doorstep.sampling.actions import report_queue
from doorstep.sampling.models import Tube
from doorstep.testing import (
    client_for,
    make_building,
    make_campaign,
    make_door_team,
    make_household,
    make_resident,
    make_staff,
    make_unit,
)
from doorstep.testing.lanes import post, sealed_tube, to_the_lab
from doorstep.workforce import actions as workforce
from doorstep.workforce.models import DutyRole, Purpose

pytestmark = pytest.mark.django_db


def kinds(campaign, at=None, **only):  # type: ignore[no-untyped-def]
    return sorted(a.kind for a in alerts.current(campaign, at or timezone.now(), **only))


def single_retests(world, members, start=9001):  # type: ignore[no-untyped-def]
    """Each member of a positive pool sampled again in a single tube (their retest)."""
    d, lane = world["registrar"], world["lane"]
    return [
        sealed_tube(d, lane, [p], code=f"211225{start + i}", pool=1) for i, p in enumerate(members)
    ]


def test_a_positive_pool_holds_until_every_member_is_resampled(lane_world):
    campaign, people = lane_world["campaign"], lane_world["people"][:10]
    tube = sealed_tube(lane_world["registrar"], lane_world["lane"], people)
    assert kinds(campaign) == []
    post(lane_world, {"tube": tube.code, "result": "positive"})
    [alert] = alerts.current(campaign, timezone.now())
    assert (alert.kind, alert.severity, alert.critical) == ("positive_pool", "bad", True)
    assert "10 people in 阳光里社区 must stay home" in alert.text
    assert alert.url.endswith(f"#pool-{tube.code}")
    single_retests(lane_world, people[:9])
    [still] = alerts.current(campaign, timezone.now())
    assert "1 people in" in still.text and still.key == alert.key
    single_retests(lane_world, people[9:], start=9100)
    assert kinds(campaign) == []


def test_a_correction_to_negative_clears_the_positive_pool(lane_world):
    campaign = lane_world["campaign"]
    tube = sealed_tube(lane_world["registrar"], lane_world["lane"], lane_world["people"][:3])
    post(lane_world, {"tube": tube.code, "result": "positive"})
    assert kinds(campaign) == ["positive_pool"]
    post(
        lane_world,
        {"tube": tube.code, "result": "negative", "correction": True, "reason": "复核为阴性"},
    )
    assert kinds(campaign) == []


def test_an_invalid_tube_holds_until_its_members_are_sampled_again(lane_world):
    campaign, people = lane_world["campaign"], lane_world["people"][:2]
    tube = sealed_tube(lane_world["registrar"], lane_world["lane"], people)
    post(lane_world, {"tube": tube.code, "result": "invalid"})
    [alert] = alerts.current(campaign, timezone.now())
    assert (alert.kind, alert.severity) == ("invalid", "warn")
    single_retests(lane_world, people)
    assert kinds(campaign) == []


def test_a_positive_single_tube_is_one_alert_its_case_sheet_until_acknowledged(
    lane_world, commander
):
    campaign, person = lane_world["campaign"], lane_world["people"][0]
    tube = sealed_tube(lane_world["registrar"], lane_world["lane"], [person], pool=1)
    post(lane_world, {"tube": tube.code, "result": "positive"})
    # One alert for the case (its sheet), critical until handed over; the seal of the person's
    # controlled building asks the commander apart.
    assert kinds(campaign) == ["case_sheet_open", "sealed_by_result"]
    sheet = CaseSheet.objects.get(tube=tube)
    case_actions.hand_over(commander, sheet, "区流调队")
    [case] = alerts.current(campaign, timezone.now(), apps={"lab"})
    assert (case.kind, case.severity) == ("case_sheet_handed", "warn")
    # Acknowledging the alert on the screen does not clear it: the receiver's word does.
    client_for(commander).post(reverse("command:ack", args=[campaign.pk]), {"key": case.key})
    assert "case_sheet_handed" in kinds(campaign)
    case_actions.acknowledge(commander, CaseSheet.objects.get(pk=sheet.pk), "王队长")
    assert "case_sheet_handed" not in kinds(campaign)


def test_a_positive_pool_without_orders_says_so(lane_world):
    campaign = lane_world["campaign"]
    tube = sealed_tube(lane_world["registrar"], lane_world["lane"], lane_world["people"][:2])
    to_the_lab(lane_world, tube.code)
    # A result written past the lab's loop (by hand, in the database) still raises the alarm.
    Tube.objects.filter(pk=tube.pk).update(result="positive", resulted_at=timezone.now())
    assert kinds(campaign) == ["positive_no_retest"]


def box_with(world, count):  # type: ignore[no-untyped-def]
    d, lane = world["registrar"], world["lane"]
    sealed_tube(d, lane, world["people"][:1], pool=1)
    d.send(
        d.event("box.open", lane=lane.code, box="BOX001"),
        d.event("box.add", box="BOX001", tube="2112250001"),
    )
    return d.codes(d.event("box.seal", box="BOX001", count=count))


def test_a_count_that_disagrees_holds_until_a_count_agrees(lane_world):
    campaign = lane_world["campaign"]
    assert box_with(lane_world, 3) == ["count_mismatch"]
    [alert] = alerts.current(campaign, timezone.now())
    assert (alert.kind, alert.severity) == ("count_mismatch", "bad")
    assert "3 tubes counted at Sealed at the site, 1 scanned" in alert.text
    d = lane_world["registrar"]
    assert d.codes(d.event("box.seal", box="BOX001", count=1)) == ["accepted"]
    assert kinds(campaign) == []
    # At the next hand-off it can disagree again: a new alert (a new key), not the old one.
    assert d.codes(d.event("box.handoff", box="BOX001", count=2, courier="李师傅")) == [
        "count_mismatch"
    ]
    [again] = alerts.current(campaign, timezone.now())
    assert again.kind == "count_mismatch" and again.key != alert.key


def test_a_sealed_tube_in_no_box_warns_at_3_h_is_critical_at_4_h_and_clears_when_boxed(
    lane_world,
):
    campaign, now = lane_world["campaign"], timezone.now()
    tube = sealed_tube(lane_world["registrar"], lane_world["lane"], lane_world["people"][:1])
    assert kinds(campaign, now + dt.timedelta(hours=2, minutes=59)) == []
    [warn] = alerts.current(campaign, now + dt.timedelta(hours=3, minutes=1))
    assert (warn.kind, warn.severity) == ("tube_unboxed", "warn")
    [bad] = alerts.current(campaign, now + dt.timedelta(hours=4, minutes=1))
    assert (bad.kind, bad.severity) == ("tube_unboxed", "bad") and bad.key != warn.key
    d = lane_world["registrar"]
    d.send(
        d.event("box.open", lane=lane_world["lane"].code, box="BOX001"),
        d.event("box.add", box="BOX001", tube=tube.code),
        d.event("box.seal", box="BOX001", count=1),
    )
    # Boxed: the box's clock takes over from the tube's (3 h warning, 4 h critical).
    later = kinds(campaign, now + dt.timedelta(hours=4, minutes=1))
    assert later == ["box_clock"]
    to_the_lab(lane_world, tube.code)
    assert kinds(campaign, now + dt.timedelta(hours=4, minutes=1)) == []


def test_results_late_after_6_h_and_cleared_by_the_result(lane_world):
    campaign, now = lane_world["campaign"], timezone.now()
    tube = sealed_tube(lane_world["registrar"], lane_world["lane"], lane_world["people"][:1])
    to_the_lab(lane_world, tube.code)
    assert kinds(campaign, now + dt.timedelta(hours=5, minutes=59)) == []
    [late] = alerts.current(campaign, now + dt.timedelta(hours=6, minutes=1))
    assert (late.kind, late.community_id) == ("results_late", None)
    post(lane_world, {"tube": tube.code, "result": "negative"})
    assert kinds(campaign, now + dt.timedelta(hours=6, minutes=1)) == []


def test_a_tube_left_open_30_min_until_sealed(lane_world):
    campaign, now, d = lane_world["campaign"], timezone.now(), lane_world["registrar"]
    d.send(d.event("tube.open", lane=lane_world["lane"].code, tube="2112250001"))
    assert kinds(campaign, now + dt.timedelta(minutes=29)) == []
    assert kinds(campaign, now + dt.timedelta(minutes=31)) == ["tube_open"]
    d.send(
        d.event("tube.add", tube="2112250001", person=lane_world["people"][0].person_code),
        d.event("tube.seal", tube="2112250001"),
    )
    assert kinds(campaign, now + dt.timedelta(minutes=31)) == []


def test_a_long_queue_until_a_shorter_report(lane_world, registrar):
    campaign, lane = lane_world["campaign"], lane_world["lane"]
    report_queue(registrar, lane, 80)  # 80 waiting at 85 an hour: about 56 min
    [wait] = alerts.current(campaign, timezone.now())
    assert (wait.kind, wait.severity) == ("long_wait", "bad")
    report_queue(registrar, lane, 5)
    assert kinds(campaign) == []


def test_a_lane_short_of_a_registrar_until_nobody_is_left_short(lane_world):
    campaign, lane = lane_world["campaign"], lane_world["lane"]
    other = lane.site.lanes.exclude(pk=lane.pk).get()
    assert kinds(campaign) == []
    unit = make_unit(town=lane.site.community.town)
    sampler = make_staff(unit, skills=",sampler,")
    callup = workforce.create_callup(
        None,
        unit,
        named=[sampler],
        purpose=Purpose.SAMPLING,
        site=lane.site,
        muster_point="采样点",
        muster_at=timezone.now(),
    )
    workforce.check_in(None, callup, sampler.worker_code)
    team = workforce.form_team(None, lane.site.community.town, "采样2组", sampler, [sampler])
    workforce.assign_team(None, team, lane=other, roles={sampler.pk: DutyRole.SAMPLER})
    [short] = alerts.current(campaign, timezone.now())
    assert (short.kind, short.text) == (
        "lane_short",
        f"{other.site.name} {other.name} has no Registrar.",
    )
    workforce.stand_down(None, team)  # nobody left there: the lane is closed, not short
    assert kinds(campaign) == []


def test_a_long_shift_after_12_h(lane_world):
    campaign = lane_world["campaign"]
    assert kinds(campaign, timezone.now() + dt.timedelta(hours=11)) == []
    assert kinds(campaign, timezone.now() + dt.timedelta(hours=12, minutes=1)) == ["long_shift"]


def test_a_lapsed_claim_until_the_team_claims_again(community, leader):
    make_resident(make_household(make_building(community, "1号楼")))
    campaign = make_campaign(community)
    make_door_team(community, "第2组", leader)
    task = campaign_task(campaign)
    now = timezone.now()
    canvass.claim(leader, task, now - dt.timedelta(hours=2))
    assert "claim_stalled" in kinds(campaign, now)
    canvass.claim(leader, task, now)
    assert "claim_stalled" not in kinds(campaign, now)


def campaign_task(campaign):  # type: ignore[no-untyped-def]
    return BuildingTask.objects.get(campaign=campaign)


def test_buildings_not_started_near_the_deadline(lane_world):
    campaign = lane_world["campaign"]
    assert "not_started" not in kinds(campaign)
    near = campaign.deadline - dt.timedelta(hours=5)
    [alert] = [a for a in alerts.current(campaign, near) if a.kind == "not_started"]
    assert "2 buildings not started" in alert.text


def test_an_emergency_holds_until_done_and_late_requests_until_arranged(
    lane_world, commander, worker
):
    campaign, person = lane_world["campaign"], lane_world["people"][0]
    urgent = needs.register(
        worker, needs.Who(resident=person), kind="emergency", needed_by=None, source="worker"
    )
    assert kinds(campaign) == ["need_urgent"]
    needs.log_contact(worker, urgent, "reached")
    needs.verify(worker, urgent)
    needs.arrange(worker, urgent, "ambulance", "医院")
    needs.finish(worker, urgent)
    assert kinds(campaign) == []
    exam = needs.register(
        worker,
        needs.Who(resident=lane_world["people"][1]),
        kind="dialysis",
        needed_by=timezone.now() + dt.timedelta(hours=1),
        source="worker",
    )
    assert kinds(campaign, timezone.now() + dt.timedelta(hours=2)) == ["need_overdue"]
    needs.log_contact(worker, exam, "reached")
    needs.verify(worker, exam)
    needs.arrange(worker, exam, "volunteer_car", "透析中心")
    assert kinds(campaign) == []


def test_the_three_pages_show_the_same_alerts_each_in_its_scope(
    lane_world, commander, worker, outsider
):
    campaign = lane_world["campaign"]
    tube = sealed_tube(lane_world["registrar"], lane_world["lane"], lane_world["people"][:10])
    post(lane_world, {"tube": tube.code, "result": "positive"})
    [alert] = alerts.current(campaign, timezone.now())
    board = (
        client_for(commander)
        .get(reverse("command:panel", args=[campaign.pk, "alerts"]))
        .content.decode()
    )
    community = (
        client_for(worker)
        .get(reverse("canvass:community", args=[campaign.pk, tube.community_id]))
        .content.decode()
    )
    retests = client_for(worker).get(reverse("lab:retests")).content.decode()
    for page in (board, community, retests):
        assert f'data-key="{alert.key}"' in page and alert.text in page
    assert alerts.for_user(outsider, campaign, timezone.now()) == []
    # An outsider cannot acknowledge an alert they cannot see.
    client_for(outsider).post(reverse("command:ack", args=[campaign.pk]), {"key": alert.key})
    assert not AlertAck.objects.exists()


def test_acknowledged_alerts_stay_listed_below_the_new_ones(lane_world, commander):
    campaign = lane_world["campaign"]
    first = sealed_tube(lane_world["registrar"], lane_world["lane"], lane_world["people"][:2])
    post(lane_world, {"tube": first.code, "result": "positive"})
    [seen] = alerts.current(campaign, timezone.now())
    client_for(commander).post(reverse("command:ack", args=[campaign.pk]), {"key": seen.key})
    second = sealed_tube(
        lane_world["registrar"], lane_world["lane"], lane_world["people"][2:4], code="2112250002"
    )
    post(lane_world, {"tube": second.code, "result": "positive"})
    found = alerts.current(campaign, timezone.now())
    assert [a.key for a in found] == [f"positive:{second.pk}:{second.community_id}", seen.key]
    assert (found[0].acknowledged_by, found[1].acknowledged_by) == ("", commander.username)
    panel = (
        client_for(commander)
        .get(reverse("command:panel", args=[campaign.pk, "alerts"]))
        .content.decode()
    )
    assert panel.count("data-critical") == 1 and f"seen by {commander.username}" in panel
