"""A person stands at one muster point at a time; arrivals beyond the number asked for are
taken, shown "over by N" and can be sent on; one person can be added to a lane's team in a role,
or moved between lanes, and the lane's "short of" flag and alert clear at once."""

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from doorstep.core import alerts
from doorstep.testing import (
    client_for,
    make_building,
    make_campaign,
    make_lane,
    make_staff,
    make_unit,
)
from doorstep.workforce import actions, queries
from doorstep.workforce.models import (
    CallUp,
    Duty,
    DutyRole,
    EndReason,
    Muster,
    MusterStatus,
    Purpose,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def unit(community):
    return make_unit(town=community.town)


def _callup(commander, unit, community, point, requested=2):
    return actions.create_callup(
        commander,
        unit,
        requested=requested,
        purpose=Purpose.DOOR_TO_DOOR,
        community=community,
        muster_point=point,
        muster_at=timezone.now(),
    )


def test_a_second_check_in_elsewhere_is_refused_with_where_the_person_is(
    commander, unit, community
):
    first = _callup(commander, unit, community, "居委会门前")
    second = _callup(commander, unit, community, "小区北门")
    person = make_staff(unit, name="刘强")
    actions.check_in(commander, first, person.worker_code)
    with pytest.raises(actions.ArrivedElsewhere) as refused:
        actions.check_in(commander, second, person.worker_code)
    assert "刘强 already checked in at" in str(refused.value)
    assert "居委会门前" in str(refused.value) and refused.value.elsewhere.callup == first
    first.refresh_from_db(), second.refresh_from_db()
    assert (first.arrived_count, second.arrived_count) == (1, 0)
    assert not Muster.objects.filter(callup=second, staff=person).exists()


def test_moving_them_takes_them_out_of_the_first_call_up(commander, unit, community):
    first = _callup(commander, unit, community, "居委会门前")
    second = _callup(commander, unit, community, "小区北门")
    person = make_staff(unit)
    actions.check_in(commander, first, person.worker_code)
    moved = actions.check_in(commander, second, person.worker_code, move=True)
    assert moved.first_time
    first.refresh_from_db(), second.refresh_from_db()
    assert (first.arrived_count, second.arrived_count) == (0, 1)
    old = Muster.objects.get(callup=first, staff=person)
    assert (old.status, old.moved_to) == (MusterStatus.MOVED, second)
    board = queries.muster_board(first)
    assert [m.staff for m in board.moved] == [person] and board.arrivals == []


def test_the_database_holds_one_arrival_per_person(commander, unit, community):
    """The rule holds even for a writer that skips the check (two phones at the same instant)."""
    first = _callup(commander, unit, community, "居委会门前")
    second = _callup(commander, unit, community, "小区北门")
    person = make_staff(unit)
    actions.check_in(commander, first, person.worker_code)
    with pytest.raises(IntegrityError), transaction.atomic():
        Muster.objects.create(callup=second, staff=person, status=MusterStatus.ARRIVED)


def test_a_person_on_duty_cannot_be_moved_to_another_call_up(commander, unit, community):
    first = _callup(commander, unit, community, "居委会门前")
    second = _callup(commander, unit, community, "小区北门")
    people = [make_staff(unit) for _ in range(2)]
    for p in people:
        actions.check_in(commander, first, p.worker_code)
    team = actions.form_team(commander, community.town, "第1组", people[0], people)
    actions.assign_team(commander, team, community=community)
    with pytest.raises(actions.WorkforceError, match="Already on duty elsewhere"):
        actions.check_in(commander, second, people[1].worker_code, move=True)


def test_arrivals_beyond_the_number_asked_are_taken_and_shown_over(commander, unit, community):
    callup = _callup(commander, unit, community, "居委会门前", requested=4)
    short = _callup(commander, unit, community, "小区北门", requested=3)
    people = [make_staff(unit) for _ in range(5)]
    for p in people:
        actions.check_in(commander, callup, p.worker_code)
    board = queries.muster_board(CallUp.objects.get(pk=callup.pk))
    assert (board.arrived, board.asked, board.over) == (5, 4, 1)
    assert board.elsewhere == [short]
    html = client_for(commander).get(reverse("workforce:board", args=[callup.pk])).content.decode()
    assert 'id="over"' in html and "over by 1" in html
    extra = Muster.objects.get(callup=callup, staff=people[4])
    response = client_for(commander).post(
        reverse("workforce:send", args=[callup.pk]), {"muster": extra.pk, "to": short.pk}
    )
    assert response.status_code == 302
    callup.refresh_from_db(), short.refresh_from_db()
    assert (callup.arrived_count, short.arrived_count) == (4, 1)
    assert queries.muster_board(callup).over == 0


def test_the_check_in_page_offers_to_move_the_person(commander, unit, community):
    first = _callup(commander, unit, community, "居委会门前")
    second = _callup(commander, unit, community, "小区北门")
    person = make_staff(unit, name="刘强")
    actions.check_in(commander, first, person.worker_code)
    client = client_for(commander)
    url = reverse("workforce:check_in", args=[second.pk])
    refused = client.post(url, {"code": person.worker_code})
    assert refused.status_code == 409
    html = refused.content.decode()
    assert "居委会门前" in html and 'id="move-here"' in html and "Move 刘强 to this call-up" in html
    moved = client.post(url, {"code": person.worker_code, "move": "1"})
    assert moved.status_code == 200 and "checked in" in moved.content.decode()
    assert Muster.objects.get(staff=person, status=MusterStatus.ARRIVED).callup == second


# --- one person at a lane --------------------------------------------------------------------


@pytest.fixture
def short_lane(community, commander):
    """A lane whose team is one sampler: it is short of a registrar."""
    make_building(community)
    campaign = make_campaign(community)
    lane = make_lane(community)
    unit = make_unit(town=community.town)
    callup = _callup(commander, unit, community, "采样点", requested=1)
    sampler = make_staff(unit, skills=",sampler,")
    actions.check_in(commander, callup, sampler.worker_code)
    team = actions.form_team(commander, community.town, "采样1组", sampler, [sampler])
    actions.assign_team(commander, team, lane=lane, roles={sampler.pk: DutyRole.SAMPLER})
    lane.campaign = campaign
    return lane


def _status(lane):
    return next(s for s in queries.lanes_status(lane.site.community.town_id) if s.lane == lane)


def _short_alerts(lane, commander):
    return [
        a.key
        for a in alerts.for_user(commander, lane.campaign, timezone.now())
        if a.kind == "lane_short"
    ]


def test_adding_one_registrar_clears_the_lanes_missing_role(short_lane, commander, community):
    assert _status(short_lane).missing == [DutyRole.REGISTRAR]
    assert _short_alerts(short_lane, commander) == [f"lane_short:{short_lane.pk}:registrar"]
    unit = make_unit(town=community.town)
    callup = _callup(commander, unit, community, "采样点", requested=1)
    clerk = make_staff(unit, skills=",registrar,")
    actions.check_in(commander, callup, clerk.worker_code)
    response = client_for(commander).post(
        reverse("workforce:lane_add", args=[short_lane.pk]),
        {"staff": clerk.pk, "role": DutyRole.REGISTRAR},
    )
    assert response.status_code == 302
    assert _status(short_lane).missing == [] and _short_alerts(short_lane, commander) == []
    duty = Duty.objects.get(staff=clerk, ended_at__isnull=True)
    assert (duty.lane, duty.role) == (short_lane, DutyRole.REGISTRAR)
    page = client_for(commander).get(reverse("workforce:lane_staff", args=[short_lane.pk]))
    assert "short of" not in page.content.decode() and clerk.name in page.content.decode()


def test_a_person_not_checked_in_cannot_be_added(short_lane, commander, community):
    stranger = make_staff(make_unit(town=community.town))
    with pytest.raises(actions.WorkforceError, match="has not checked in yet"):
        actions.add_to_lane(commander, short_lane, stranger, DutyRole.REGISTRAR)
    assert _status(short_lane).missing == [DutyRole.REGISTRAR]


def test_moving_one_person_between_lanes_moves_both_lanes_counts(short_lane, commander, community):
    other = make_lane(community, "二号采样点")  # another site's first lane
    unit = make_unit(town=community.town)
    callup = _callup(commander, unit, community, "采样点", requested=3)
    people = [make_staff(unit) for _ in range(3)]
    for p in people:
        actions.check_in(commander, callup, p.worker_code)
    team = actions.form_team(commander, community.town, "二号组", people[0], people)
    actions.assign_team(
        commander,
        team,
        lane=other,
        roles={
            people[0].pk: DutyRole.SAMPLER,
            people[1].pk: DutyRole.REGISTRAR,
            people[2].pk: DutyRole.REGISTRAR,
        },
    )
    client_for(commander).post(
        reverse("workforce:lane_move", args=[short_lane.pk]),
        {"staff": people[2].pk, "role": DutyRole.REGISTRAR},
    )
    assert _status(short_lane).missing == [] and _status(other).missing == []
    assert (_status(other).counts["registrar"], _status(short_lane).counts["registrar"]) == (1, 1)
    ended = Duty.objects.get(staff=people[2], lane=other)
    assert ended.end_reason == EndReason.MOVED and ended.ended_at is not None
    with pytest.raises(actions.WorkforceError, match="leads"):
        actions.move_to_lane(commander, people[0], short_lane, DutyRole.SAMPLER)
