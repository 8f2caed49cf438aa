"""Door to door through one engine: a batch of taps costs the statements of one tap (set-based
writes), and the building page offers the outcome buttons exactly where the engine records a
tap (one rule, ``canvass.rules.may_record``, asked by both)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from doorstep.canvass import actions as canvass
from doorstep.canvass.models import BuildingTask, HouseholdState, TaskStatus, Visit
from doorstep.canvass.outcomes import record
from doorstep.core.roles import Role
from doorstep.sampling.models import RoundSample
from doorstep.testing import (
    client_for,
    make_building,
    make_campaign,
    make_door_team,
    make_household,
    make_resident,
    make_user,
    tap,
)

pytestmark = pytest.mark.django_db

# One tap or twenty: the fold's lock, the claim locked, the households, the UUIDs, the states
# locked, the visits, the states made, the counters (building and community), the lease, and
# the team and savepoint around them.
TAP_BUDGET = {"postgresql": 14, "sqlite": 13}


def _homes(task: BuildingTask, n: int) -> list:  # type: ignore[type-arg]
    building = task.building
    homes = [make_household(building, f"9{k:02d}") for k in range(n)]
    for home in homes:
        make_resident(home, "住户")
    return homes


def test_twenty_taps_cost_the_statements_of_one(street, leader):
    task = street["task"]
    canvass.claim(leader, task)
    homes = _homes(task, 21)
    spent = []
    for batch in ([tap(homes[0])], [tap(h, "nobody_home") for h in homes[1:]]):
        with CaptureQueriesContext(connection) as queries:
            answers = record(leader, BuildingTask.objects.get(pk=task.pk), batch)
        assert {a.status for a in answers} == {"accepted"}
        spent.append(len(queries.captured_queries))
    assert spent[0] == spent[1] <= TAP_BUDGET[connection.vendor], spent
    assert Visit.objects.filter(task=task).count() == 21


@pytest.mark.parametrize(
    "case", ["open", "mine", "lapsed", "theirs", "done, my team", "done, a worker", "done, no team"]
)
def test_the_page_offers_the_buttons_exactly_where_the_engine_records(
    case, street, leader, community
):
    task, rival = street["task"], street["rival_leader"]
    user = leader
    if case in ("mine", "lapsed", "done, my team", "done, a worker", "done, no team"):
        canvass.claim(leader, task)
    if case == "theirs":
        canvass.claim(rival, task)
    if case == "lapsed":
        BuildingTask.objects.filter(pk=task.pk).update(
            expires_at=timezone.now() - dt.timedelta(minutes=1)
        )
    if case.startswith("done"):
        BuildingTask.objects.filter(pk=task.pk).update(status=TaskStatus.DONE)
    if case == "done, a worker":
        user = make_user(Role.COMMUNITY_WORKER, community)
    if case == "done, no team":
        user = make_user(Role.CANVASSER, community)  # of no team on duty here
    page = client_for(user).get(reverse("canvass:task", args=[task.pk]))
    offered = 'name="outcome"' in page.content.decode()
    answer = record(user, BuildingTask.objects.get(pk=task.pk), [tap(street["households"][0])])[0]
    assert offered == (answer.status == "accepted"), (case, answer)


def test_a_batch_of_taps_made_over_a_long_morning_renews_the_lease_as_it_goes(street, leader):
    """Each accepted tap renews the claim, for the batch's next taps too: an outbox sent once
    at the end of the morning holds taps made long after the first lease would have run out,
    as the same taps sent one by one do."""
    task = street["task"]
    start = timezone.now() - dt.timedelta(hours=3)
    canvass.claim(leader, task, now=start)
    homes = _homes(task, 6)
    taps = [
        tap(h, at=(start + dt.timedelta(minutes=20 * n)).isoformat()) for n, h in enumerate(homes)
    ]
    answers = record(leader, BuildingTask.objects.get(pk=task.pk), taps)
    assert [a.status for a in answers] == ["accepted"] * 6


def test_a_batch_after_a_move_reads_the_states_the_recount_made(community, leader):
    """A household moved out makes the building be counted again, which first folds what the
    lanes left: a neighbour whose only member's sample was not folded yet gets a state then. The
    batch's next tap on that neighbour finds it, as tap by tap it would (found by review: the
    batch inserted a second state and failed whole)."""
    building = make_building(community, "12号楼", position=12)
    moving = make_household(building, "101")
    make_resident(moving, "甲")
    neighbour = make_household(building, "102")
    alone = make_resident(neighbour, "乙")
    campaign = make_campaign(community)
    make_door_team(community, "第2组", leader)
    task = BuildingTask.objects.get(campaign=campaign, building=building)
    canvass.claim(leader, task)
    # A lane's scan has committed her sample; the server's folding thread has not run yet.
    RoundSample.objects.create(
        campaign=campaign,
        resident=alone,
        community_id=alone.community_id,
        sampled_at=timezone.now(),
    )
    answers = record(
        leader,
        BuildingTask.objects.get(pk=task.pk),
        [tap(moving, "moved_out"), tap(neighbour, "notified")],
    )
    assert [a.status for a in answers] == ["accepted", "accepted"]
    state = HouseholdState.objects.get(campaign=campaign, household=neighbour)
    assert state.outcome == "notified" and state.all_sampled
