"""The special-needs workflow and every bad input the issue names."""

import datetime as dt

import pytest
from django.utils import timezone

from doorstep.assistance import actions, queries
from doorstep.assistance.actions import Duplicate, NeedError, Who
from doorstep.assistance.models import NeedCounter, Request, Source, Status
from doorstep.testing import make_campaign, make_household, make_resident, valid_id


@pytest.fixture
def person(community):  # type: ignore[no-untyped-def]
    resident = make_resident(make_household(), "李考生")
    make_campaign(resident.community)
    return resident


def soon(hours: float = 20) -> dt.datetime:
    return timezone.now() + dt.timedelta(hours=hours)


def register(user, who, kind="graduate_exam", needed_by=None, **kw):  # type: ignore[no-untyped-def]
    return actions.register(
        user, who, kind=kind, needed_by=needed_by or soon(), source=Source.WORKER, **kw
    )


def test_the_whole_way_from_registered_to_done(worker, person):
    request = register(worker, Who(resident=person), destination="天津大学考点")
    assert (request.status, request.priority, request.campaign is not None) == (
        "registered",
        1,
        True,
    )
    actions.log_contact(worker, request, "no_answer")
    with pytest.raises(NeedError, match="Log a call that reached"):
        actions.verify(worker, request)
    actions.log_contact(worker, request, "reached", "考试8点开始")
    actions.verify(worker, request)
    actions.arrange(worker, request, "volunteer_car", "天津大学考点", single_tube=True)
    actions.finish(worker, request)
    request.refresh_from_db()
    assert request.status == Status.DONE
    assert (request.verified_by, request.arranged_by, request.closed_by) == (worker, worker, worker)
    assert request.verified_at and request.arranged_at and request.closed_at and request.single_tube
    done = NeedCounter.objects.get(community=request.community, status="done")
    assert done.count == 1
    assert (
        not NeedCounter.objects.filter(status__in=["registered", "verified", "arranged"])
        .exclude(count=0)
        .exists()
    )


def test_arranging_before_verifying_is_refused(worker, person):
    request = register(worker, Who(resident=person))
    with pytest.raises(NeedError, match="Verify the request first"):
        actions.arrange(worker, request, "escort", "医院")
    with pytest.raises(NeedError, match="Only an arranged request"):
        actions.finish(worker, request)


def test_a_decline_needs_the_reason_the_resident_is_told(worker, person):
    request = register(worker, Who(resident=person))
    with pytest.raises(NeedError, match="Give the reason"):
        actions.decline(worker, request, "  ")
    actions.decline(worker, request, "考试已取消")
    request.refresh_from_db()
    assert (request.status, request.decline_reason) == ("declined", "考试已取消")
    with pytest.raises(NeedError, match="already closed"):
        actions.decline(worker, request, "again")


def test_a_need_by_time_in_the_past_is_refused_except_for_an_emergency(worker, person):
    with pytest.raises(NeedError, match="is in the past"):
        register(worker, Who(resident=person), needed_by=timezone.now() - dt.timedelta(hours=1))
    urgent = register(
        worker,
        Who(resident=person),
        kind="emergency",
        needed_by=timezone.now() - dt.timedelta(hours=1),
    )
    assert urgent.needed_by >= urgent.registered_at  # an emergency is needed now


def test_an_unknown_kind_and_an_unknown_person_code_are_refused(worker, person):
    with pytest.raises(NeedError, match="is not a kind of need"):
        register(worker, Who(resident=person), kind="picnic")
    with pytest.raises(NeedError, match="No resident has the person code"):
        actions.find_person("K7QM9XD4P")


def test_the_same_need_twice_offers_to_merge(worker, person):
    first = register(worker, Who(resident=person), details="考研")
    with pytest.raises(Duplicate) as caught:
        register(worker, Who(resident=person), details="准考证在家")
    assert caught.value.existing == first
    merged = actions.merge(worker, first, "准考证在家", soon(10))
    assert "准考证在家" in merged.details and merged.needed_by < first.needed_by
    assert Request.objects.count() == 1
    # Another kind of need for the same person is its own request.
    register(worker, Who(resident=person), kind="medication")


def test_a_walk_in_needs_a_valid_document_and_a_phone(worker, community):
    with pytest.raises(NeedError, match="document number"):
        actions.walk_in("王某", "123", "13800001111")
    with pytest.raises(NeedError, match="phone"):
        actions.walk_in("王某", valid_id(), "")
    who = actions.walk_in("王某", valid_id(), "13800001111")
    request = register(worker, who, community=community, kind="dialysis")
    assert request.walk_in_name == "王某" and request.resident is None


def test_emergencies_and_births_go_to_the_top(worker, person, community):
    exam = register(worker, Who(resident=person), needed_by=soon(2))
    other = make_resident(make_household(), "孕妇")
    birth = register(worker, Who(resident=other), kind="pregnancy", needed_by=soon(30))
    assert list(queries.queue([community.pk])) == [birth, exam]
    assert queries.counts([community.pk]) == queries.Counts(open=2, urgent=1)


def test_a_request_is_overdue_past_its_target(worker, person, community):
    request = register(worker, Who(resident=person), needed_by=soon(48))
    now = timezone.now()
    assert queries.overdue([request], now) == []
    assert queries.overdue([request], now + dt.timedelta(hours=2, minutes=1)) == [request]
    urgent = register(worker, Who(resident=make_resident(make_household(), "急")), kind="emergency")
    assert queries.timer(urgent, now).target == dt.timedelta(minutes=10)
    assert queries.overdue([urgent], now + dt.timedelta(minutes=11)) == [urgent]


def test_an_emergency_is_not_overdue_the_moment_it_is_registered(worker, community):
    """Needed "now" (its need-by is its registration): late only past its 10-minute target."""
    urgent = actions.register(
        worker,
        Who(resident=make_resident(make_household(), "急")),
        kind="emergency",
        needed_by=None,  # as the form sends it: an emergency is needed now
        source=Source.WORKER,
    )
    assert urgent.needed_by <= urgent.registered_at + dt.timedelta(seconds=1)
    for seconds in (1, 60, 599):
        later = urgent.registered_at + dt.timedelta(seconds=seconds)
        assert queries.overdue([urgent], later) == [], seconds
    assert queries.overdue([urgent], urgent.registered_at + dt.timedelta(minutes=10, seconds=1))
    # A need-by that was ahead at registration still makes it late once it passes.
    exam = register(worker, Who(resident=make_resident(make_household(), "考")), needed_by=soon(1))
    assert queries.overdue([exam], exam.needed_by + dt.timedelta(seconds=1)) == [exam]
    # A need whose time had passed when it reached the list (a tap that waited for signal) is
    # late at once: only what is needed "now" waits for its step target.
    late = register(
        worker, Who(resident=make_resident(make_household(), "迟")), needed_by=soon(-0.05)
    )
    assert queries.overdue([late], late.registered_at + dt.timedelta(seconds=1)) == [late]


def test_verifying_names_the_household_member(worker, community):
    home = make_household(room="301")
    a, b = make_resident(home, "甲"), make_resident(home, "乙")
    request = register(worker, Who(household=home), community=community)
    actions.log_contact(worker, request, "reached")
    outsider = make_resident(make_household(room="502"), "丙")
    with pytest.raises(NeedError, match="does not live in the household"):
        actions.verify(worker, request, outsider)
    actions.verify(worker, request, b)
    request.refresh_from_db()
    assert request.resident == b and a != b


def test_a_medical_need_is_not_blocked_by_a_missing_result(worker, person):
    request = register(worker, Who(resident=person), kind="dialysis", needed_by=soon(3))
    actions.log_contact(worker, request, "reached")
    actions.verify(worker, request)
    actions.arrange(
        worker, request, "ambulance", "第一中心医院"
    )  # no tube, no result: still arranged
    request.refresh_from_db()
    assert request.status == "arranged" and request.medical
