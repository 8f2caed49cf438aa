import datetime as dt

import pytest
from django.utils import timezone

from doorstep.core import codes
from doorstep.testing import make_community, make_lane, make_staff, make_town, make_unit
from doorstep.workforce import actions, queries
from doorstep.workforce.models import (
    CallUp,
    Duty,
    DutyCounter,
    EndReason,
    Muster,
    MusterStatus,
    PlaceKind,
    Purpose,
    Team,
    TeamStatus,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def unit(community):
    return make_unit(town=community.town)


@pytest.fixture
def callup(unit, community, commander):
    return actions.create_callup(
        commander,
        unit,
        requested=3,
        purpose=Purpose.DOOR_TO_DOOR,
        community=community,
        muster_point="居委会门前",
        muster_at=timezone.now(),
    )


def _arrive(commander, callup, *people):
    for p in people:
        actions.check_in(commander, callup, p.worker_code)


def test_a_check_in_records_the_arrival_and_counts_it(commander, callup, unit):
    staff = make_staff(unit)
    result = actions.check_in(commander, callup, staff.worker_code.lower())
    callup.refresh_from_db()
    assert result.first_time and "checked in" in result.message
    assert (callup.arrived_count, callup.first_arrival_at is not None) == (1, True)
    assert Muster.objects.get(callup=callup, staff=staff).checked_in_by == commander


def test_scanning_twice_is_harmless(commander, callup, unit):
    staff = make_staff(unit)
    actions.check_in(commander, callup, staff.worker_code)
    again = actions.check_in(commander, callup, staff.worker_code)
    callup.refresh_from_db()
    assert not again.first_time and "already checked in" in again.message
    assert callup.arrived_count == 1


def test_a_code_with_a_wrong_check_character_is_not_a_worker_code(commander, callup, unit):
    code = make_staff(unit).worker_code
    wrong = code[:-1] + ("0" if code[-1] != "0" else "1")
    with pytest.raises(actions.WorkforceError, match="not a worker code"):
        actions.check_in(commander, callup, wrong)


def test_an_unknown_code_says_so(commander, callup):

    body = "ABCDEFG"
    with pytest.raises(actions.WorkforceError, match="No worker in"):
        actions.check_in(commander, callup, body + codes.check_character(body))


def test_someone_of_another_unit_is_sent_to_their_own_call_up(commander, callup, community):
    other = make_staff(make_unit("大寺镇", town=community.town), name="李四")
    with pytest.raises(actions.WorkforceError, match="李四 is from 大寺镇"):
        actions.check_in(commander, callup, other.worker_code)
    assert callup.musters.count() == 0


def test_a_named_call_up_refuses_people_not_named_and_says_where_they_are_called(
    commander, unit, community
):
    named, other = make_staff(unit), make_staff(unit, name="王五")
    at = timezone.now()
    listed = actions.create_callup(
        commander,
        unit,
        named=[named],
        purpose=Purpose.DOOR_TO_DOOR,
        community=community,
        muster_point="A",
        muster_at=at,
    )
    actions.create_callup(
        commander,
        unit,
        named=[other],
        purpose=Purpose.DOOR_TO_DOOR,
        community=community,
        muster_point="B口",
        muster_at=at,
    )
    with pytest.raises(
        actions.WorkforceError, match="王五 is not on this call-up; they are called to B口"
    ):
        actions.check_in(commander, listed, other.worker_code)
    assert listed.requested == 1


def test_no_shows_are_marked_and_a_late_arrival_undoes_it(commander, unit, community):
    late = make_staff(unit)
    callup = actions.create_callup(
        commander,
        unit,
        named=[late],
        purpose=Purpose.DOOR_TO_DOOR,
        community=community,
        muster_point="A",
        muster_at=timezone.now(),
    )
    assert actions.mark_no_show(commander, callup, [late.pk]) == 1
    callup.refresh_from_db()
    assert callup.no_show_count == 1
    actions.check_in(commander, callup, late.worker_code)
    callup.refresh_from_db()
    assert (callup.no_show_count, callup.arrived_count) == (0, 1)


def test_a_team_is_formed_only_from_people_who_have_checked_in(commander, callup, unit):
    here, absent = make_staff(unit), make_staff(unit, name="缺席者")
    _arrive(commander, callup, here)
    with pytest.raises(actions.WorkforceError, match="缺席者 have not checked in yet"):
        actions.form_team(commander, callup.town, "第1组", here, [here, absent])


def test_a_team_needs_a_leader(commander, callup, unit):
    with pytest.raises(actions.WorkforceError, match="leader"):
        actions.form_team(commander, callup.town, "第1组", None, [make_staff(unit)])


def test_a_person_is_in_one_team_at_a_time(commander, callup, unit):
    a, b = make_staff(unit), make_staff(unit, name="赵六")
    _arrive(commander, callup, a, b)
    actions.form_team(commander, callup.town, "第1组", a, [a, b])
    with pytest.raises(actions.WorkforceError, match="赵六 \\(第1组\\)"):
        actions.form_team(commander, callup.town, "第2组", b, [b])


def _team(commander, callup, unit, n=3, name="第1组", skills=""):
    people = [make_staff(unit, skills=skills) for _ in range(n)]
    _arrive(commander, callup, *people)
    return actions.form_team(commander, callup.town, name, people[0], people), people


def test_door_to_door_the_leader_leads_and_the_others_canvass(commander, callup, unit, community):
    team, people = _team(commander, callup, unit)
    actions.assign_team(commander, team, community=community)
    roles = dict(Duty.objects.values_list("staff_id", "role"))
    assert roles == {
        people[0].pk: "team_leader",
        people[1].pk: "canvasser",
        people[2].pk: "canvasser",
    }
    counter = DutyCounter.objects.get(
        kind=PlaceKind.COMMUNITY, place_id=community.pk, role="canvasser"
    )
    assert counter.on_duty == 2


def test_at_a_lane_everyone_needs_a_role(commander, callup, unit, community):
    team, people = _team(commander, callup, unit)
    lane = make_lane(community)
    with pytest.raises(actions.WorkforceError, match="Give everyone a lane role"):
        actions.assign_team(commander, team, lane=lane, roles={people[0].pk: "sampler"})
    assert not Duty.objects.exists()


def test_a_lane_without_a_registrar_is_flagged(commander, callup, unit, community):
    team, people = _team(commander, callup, unit)
    lane = make_lane(community)
    actions.assign_team(
        commander,
        team,
        lane=lane,
        roles={p.pk: "sampler" if i == 0 else "order_keeper" for i, p in enumerate(people)},
    )
    status = {s.lane.pk: s for s in queries.lanes_status(community.town_id)}[lane.pk]
    assert status.missing == ["registrar"]
    assert status.counts == {"sampler": 1, "order_keeper": 2}


def test_a_person_on_duty_elsewhere_is_refused_naming_where(commander, callup, unit, community):
    team, people = _team(commander, callup, unit)
    actions.assign_team(commander, team, community=community)
    # Someone put the same person in a second team behind the first team's back.

    second = Team.objects.create(town=community.town, name="第2组", leader=people[1])
    second.members.set([people[1]])
    with pytest.raises(actions.WorkforceError, match=f"{people[1].name} at {community.name} since"):
        actions.assign_team(
            commander, second, lane=make_lane(community), roles={people[1].pk: "sampler"}
        )
    assert Duty.objects.filter(team=second).count() == 0


def test_a_hand_over_closes_and_opens_duties_at_the_same_instant(
    commander, callup, unit, community
):
    day, _ = _team(commander, callup, unit, name="白班", skills=",sampler,")
    night, _ = _team(commander, callup, unit, name="夜班", skills=",registrar,")
    lane = make_lane(community)
    actions.assign_team(
        commander, day, lane=lane, roles={p.pk: "sampler" for p in day.members.all()}
    )
    actions.hand_over(commander, day, night)
    closed = Duty.objects.filter(team=day)
    opened = Duty.objects.filter(team=night)
    assert {d.end_reason for d in closed} == {EndReason.HANDOVER}
    assert {d.ended_at for d in closed} == {d.started_at for d in opened}
    assert {d.role for d in opened} == {"registrar"}  # by skill
    counts = dict(
        DutyCounter.objects.filter(kind=PlaceKind.LANE, place_id=lane.pk).values_list(
            "role", "on_duty"
        )
    )
    assert counts == {"sampler": 0, "registrar": 3}
    day.refresh_from_db()
    assert day.status == TeamStatus.FORMED


def test_a_stood_down_person_cannot_check_in_again_to_the_same_call_up(
    commander, callup, unit, community
):
    team, people = _team(commander, callup, unit)
    actions.assign_team(commander, team, community=community)
    assert actions.stand_down(commander, team) == 3
    assert not Duty.objects.filter(ended_at__isnull=True).exists()
    assert (
        DutyCounter.objects.get(
            kind=PlaceKind.COMMUNITY, place_id=community.pk, role="canvasser"
        ).on_duty
        == 0
    )
    with pytest.raises(actions.WorkforceError, match="stood down at"):
        actions.check_in(commander, callup, people[1].worker_code)


def test_who_is_where_shows_hours_and_flags_past_12(commander, callup, unit, community):
    team, people = _team(commander, callup, unit)
    actions.assign_team(commander, team, community=community)
    Duty.objects.filter(staff=people[0]).update(started_at=timezone.now() - dt.timedelta(hours=13))
    [place] = queries.who_is_where(community.town_id)
    long = {on.duty.staff_id: on.long for on in place.duties}
    assert long == {people[0].pk: True, people[1].pk: False, people[2].pk: False}


def test_unit_contributions_add_up_person_hours(commander, callup, unit, community):
    team, _people = _team(commander, callup, unit)
    actions.assign_team(commander, team, community=community)
    now = timezone.now()
    Duty.objects.update(started_at=now - dt.timedelta(hours=2))
    [row] = queries.unit_contributions(community.town_id, now=now)
    assert (row.name, row.people, row.person_hours, row.on_duty) == (unit.name, 3, 6.0, 3)


def test_the_muster_board_says_how_long_it_took_to_assemble(commander, callup, unit):
    people = [make_staff(unit) for _ in range(2)]
    _arrive(commander, callup, *people)
    CallUp.objects.filter(pk=callup.pk).update(created_at=timezone.now() - dt.timedelta(minutes=28))
    callup.refresh_from_db()
    board = queries.muster_board(callup)
    assert (board.asked, board.arrived, board.missing, board.minutes_to_assemble) == (3, 2, 1, 28)


def test_a_call_up_needs_a_destination_and_people(commander, unit):
    with pytest.raises(actions.WorkforceError, match="community"):
        actions.create_callup(
            commander,
            unit,
            requested=5,
            purpose=Purpose.DOOR_TO_DOOR,
            muster_point="A",
            muster_at=timezone.now(),
        )
    with pytest.raises(actions.WorkforceError, match="at least one"):
        actions.create_callup(
            commander,
            unit,
            requested=0,
            purpose=Purpose.DOOR_TO_DOOR,
            community=make_community(),
            muster_point="A",
            muster_at=timezone.now(),
        )


def test_a_place_in_another_town_is_refused(commander, callup, unit):
    team, _ = _team(commander, callup, unit)
    elsewhere = make_community("外镇社区", town=make_town("外镇"))
    with pytest.raises(actions.WorkforceError, match="another town"):
        actions.assign_team(commander, team, community=elsewhere)
    assert Muster.objects.filter(status=MusterStatus.ARRIVED).count() == 3


def test_the_database_itself_refuses_a_second_open_duty(commander, callup, unit, community):
    from django.db import IntegrityError, transaction

    team, people = _team(commander, callup, unit)
    actions.assign_team(commander, team, community=community)
    duty = Duty.objects.filter(staff=people[0]).get()
    duty.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        duty.save()
