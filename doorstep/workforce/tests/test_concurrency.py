"""The same person assigned to two lanes at the same instant from two threads: exactly one wins."""

import threading

import pytest
from django.db import connection
from django.utils import timezone, translation

from doorstep.core.roles import Role
from doorstep.testing import make_community, make_lane, make_staff, make_unit, make_user
from doorstep.workforce import actions
from doorstep.workforce.models import Duty, Purpose, Team


@pytest.mark.django_db(transaction=True)
def test_two_commanders_putting_one_person_on_two_lanes_at_once_gets_exactly_one_duty():
    community = make_community()
    commander = make_user(Role.COMMANDER, town=community.town)
    unit = make_unit(town=community.town)
    person = make_staff(unit, name="抢手")
    callup = actions.create_callup(
        commander,
        unit,
        requested=1,
        purpose=Purpose.DOOR_TO_DOOR,
        community=community,
        muster_point="A",
        muster_at=timezone.now(),
    )
    actions.check_in(commander, callup, person.worker_code)
    first = make_lane(community, "一号点", lanes=1)
    second = make_lane(community, "二号点", lanes=1)
    # Two teams holding the same person: the team rule is bypassed on purpose, so that only
    # the duty constraint stands between them.
    teams = []
    for name in ("甲", "乙"):
        team = Team.objects.create(town=community.town, name=name, leader=person)
        team.members.set([person])
        teams.append(team)

    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def assign(team, lane):
        try:
            barrier.wait(timeout=10)
            with translation.override("en"):  # each thread has its own language
                actions.assign_team(commander, team, lane=lane, roles={person.pk: "sampler"})
            outcomes.append("ok")
        except actions.WorkforceError as exc:
            with translation.override("en"):
                outcomes.append(str(exc))
        finally:
            connection.close()

    threads = [
        threading.Thread(target=assign, args=(t, lane))
        for t, lane in zip(teams, (first, second), strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert sorted(o == "ok" for o in outcomes) == [False, True], outcomes
    refusal = next(o for o in outcomes if o != "ok")
    assert "抢手 at" in refusal
    assert Duty.objects.filter(staff=person, ended_at__isnull=True).count() == 1
