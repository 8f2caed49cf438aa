"""Fifty leaders press "claim" on the same building at the same instant, twenty times over:
each time exactly one team gets it, and every other leader is told who holds it and offered the
nearest free building. Runs on SQLite and on PostgreSQL (the suite runs on both)."""

import threading

import pytest
from django.db import connection
from django.utils import translation

from doorstep.canvass import actions
from doorstep.canvass.models import BuildingTask, Coverage, FeedPost, TaskStatus
from doorstep.core.roles import Role
from doorstep.testing import (
    make_building,
    make_campaign,
    make_community,
    make_door_team,
    make_user,
)

LEADERS = 50
ROUNDS = 20


@pytest.mark.django_db(transaction=True)
def test_fifty_leaders_claiming_one_building_at_once_leaves_exactly_one_winner():
    community = make_community()
    for n in range(1, ROUNDS + 2):
        make_building(community, f"{n}号楼", position=n)
    campaign = make_campaign(community)
    leaders = [make_user(Role.TEAM_LEADER, community) for _ in range(LEADERS)]
    teams = {make_door_team(community, f"第{n}组", u, size=1).pk: u for n, u in enumerate(leaders)}
    assert len(teams) == LEADERS

    for round_ in range(1, ROUNDS + 1):
        task = BuildingTask.objects.get(campaign=campaign, building__name=f"{round_}号楼")
        barrier = threading.Barrier(LEADERS)
        won: list[object] = []
        lost: list[actions.ClaimTaken] = []
        failed: list[BaseException] = []

        def press(user, task=task, barrier=barrier, won=won, lost=lost, failed=failed):  # type: ignore[no-untyped-def]
            try:
                barrier.wait(timeout=30)
                with translation.override("en"):
                    won.append(actions.claim(user, task))
            except actions.ClaimTaken as refused:
                lost.append(refused)
            except BaseException as exc:  # reported by the assertion below
                failed.append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=press, args=(u,)) for u in leaders]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)

        assert failed == [], failed
        assert (len(won), len(lost)) == (1, LEADERS - 1), round_
        winner = BuildingTask.objects.select_related("team").get(pk=task.pk)
        assert winner.status == TaskStatus.CLAIMED
        assert {str(r) for r in lost} == {str(lost[0])}
        assert lost[0].holder == winner.team.name
        assert f"{round_}号楼 is being canvassed by {winner.team.name}" in str(lost[0])
        # The nearest free building is a neighbour (the lower one on a tie: released last round).
        assert lost[0].next_task is not None
        nearest = round_ + 1 if round_ == 1 else round_ - 1
        assert lost[0].next_task.building.name == f"{nearest}号楼"
        assert FeedPost.objects.filter(task=task, kind="claimed").count() == 1
        assert Coverage.objects.get(campaign=campaign).buildings_claimed == 1
        # The winner finishes with it, so that its team may claim again next round.
        actions.release(teams[winner.team_id], winner)
