"""One engine, whatever the batch, door to door: a generated sequence of taps on one building,
recorded as one batch (the outbox's replay) and as one tap a call (a phone online), gives the
same answers, the same rows and the same counters, and the counters equal a recount.

The sequences mix every outcome (nobody home again and again, exempt with each reason, notified,
refused, moved out and back, home sampling, special needs), invalid taps (an unknown outcome, an
exempt tap without its reason, a special need without its kind, a bad time, a note too long, a
household of another building or of none, an id that is no UUID), replays of an earlier tap
(the same UUID with the same payload, and with another), and double taps (the same outcome on
the same household again, within two minutes or later). The building's households differ in
what the counters make of them: one person alone, part or all of a household sampled, a member
moved out. Each run happens inside a transaction that is rolled back, so every example starts
from the same building."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from doorstep.assistance.models import Request
from doorstep.canvass import actions as canvass
from doorstep.canvass import counters
from doorstep.canvass.models import BuildingTask, Coverage, HouseholdState, Visit
from doorstep.canvass.outcomes import Tap, record
from doorstep.core.models import User
from doorstep.sampling import tally
from doorstep.sampling.actions import record_sampled
from doorstep.sampling.models import HomeStop
from doorstep.territory.models import Community, Resident
from doorstep.testing import (
    make_building,
    make_campaign,
    make_door_team,
    make_household,
    make_resident,
)

pytestmark = pytest.mark.django_db

# Household slots: the building's five, a household of another building, and an id that is
# no household.
HOUSEHOLDS = 7
OUTCOMES = ["notified", "nobody_home", "nobody_home", "refused", "home_sampling",
            "special_need", "moved_out", "exempt", "exempt", "dancing"]  # fmt: skip
REASONS = ["tested_elsewhere", "vaccinated", "isolating", "other", "", "bogus"]
NEEDS = ["dialysis", "elderly_alone", "", "spa"]
# Seconds since the tap before: within the double tap's two minutes, or past them.
GAPS = [0, 30, 90, 150, 900]
FIGURES = ("status", "households", "residents", "sampled", "covered", "with_outcome",
           "notified", "nobody_home", "exempt")  # fmt: skip
COVERAGE = ("buildings", "buildings_claimed", "buildings_done", "households", "residents",
            "sampled", "covered", "with_outcome", "notified", "exempt", "revisits",
            "phone_calls")  # fmt: skip


@pytest.fixture
def building(community: Community, leader: User) -> dict[str, Any]:
    """12号楼 in a running round, claimed by the leader's team: 101 one person alone; 102 two,
    one of them sampled; 201 three; 202 two, both sampled; 301 one, and one moved out before the
    round. 13号楼 has a household of its own."""
    b12 = make_building(community, "12号楼", position=12)
    rooms = [("101", 1), ("102", 2), ("201", 3), ("202", 2), ("301", 1)]
    households = [make_household(b12, room) for room, _n in rooms]
    people = [
        [make_resident(h, f"居民{h.room}{n}") for n in range(count)]
        for h, (_room, count) in zip(households, rooms, strict=True)
    ]
    make_resident(households[4], "搬走的人", moved_out=True)
    other = make_household(make_building(community, "13号楼", position=13), "101")
    make_resident(other, "邻居")
    campaign = make_campaign(community)
    record_sampled(campaign.pk, [people[1][0], *people[3]], timezone.now())
    tally.fold(wait=True)
    make_door_team(community, "第2组", leader)
    task = BuildingTask.objects.get(campaign=campaign, building=b12)
    canvass.claim(leader, task)
    return {"campaign": campaign, "task": task, "households": [*households, other]}


@st.composite
def sequences(draw: st.DrawFn) -> list[tuple[Any, ...]]:
    kinds = st.sampled_from(["tap"] * 6 + ["replay", "conflict", "double", "bad_id"])
    steps: list[tuple[Any, ...]] = []
    for _ in range(draw(st.integers(1, 20))):
        kind = draw(kinds)
        if kind == "tap":
            steps.append(
                (
                    kind,
                    draw(st.integers(0, HOUSEHOLDS - 1)),
                    draw(st.sampled_from(OUTCOMES)),
                    draw(st.sampled_from(REASONS)),
                    draw(st.sampled_from(NEEDS)),
                    # A note, none, or one too long; a tap time, none (the server's), or not one.
                    draw(st.sampled_from(["", "", "门口贴了告知书", "长" * 501])),
                    draw(st.sampled_from(["at", "at", "at", "", "bad"])),
                    draw(st.sampled_from(GAPS)),
                )
            )
        else:
            steps.append((kind, draw(st.integers(0, 30)), draw(st.sampled_from(GAPS))))
    return steps


def taps(world: dict[str, Any], steps: list[tuple[Any, ...]], now: dt.datetime) -> list[Tap]:
    households = [h.pk for h in world["households"]] + [0]
    at = now - dt.timedelta(hours=3)
    made: list[Tap] = []
    for kind, *args in steps:
        at += dt.timedelta(seconds=args[-1])
        if kind == "tap":
            slot, outcome, reason, need, note, when, _gap = args
            tap = Tap(
                id=str(uuid.uuid4()),
                household=str(households[slot]),
                outcome=outcome,
                exempt_reason=reason,
                need_kind=need,
                need_by=(at + dt.timedelta(days=1)).isoformat() if need == "dialysis" else "",
                note=note,
                at={"at": at.isoformat(), "": "", "bad": "昨天"}[when],
            )
        elif made and kind == "replay":
            tap = made[args[0] % len(made)]
        elif made and kind == "conflict":
            earlier = made[args[0] % len(made)]
            other = "refused" if earlier.outcome != "refused" else "notified"
            tap = Tap(**{**vars(earlier), "outcome": other})
        elif made and kind == "double":
            # The last tap again, as a second press of the same button makes it.
            tap = Tap(**{**vars(made[-1]), "id": str(uuid.uuid4()), "at": at.isoformat()})
        else:
            tap = Tap(id="not-a-uuid", household=str(households[0]), outcome="notified")
        made.append(tap)
    return made


def counted(campaign_id: int) -> dict[str, list[tuple[Any, ...]]]:
    return {
        "tasks": sorted(
            BuildingTask.objects.filter(campaign_id=campaign_id).values_list(
                "building_id", *FIGURES
            )
        ),
        "coverage": sorted(
            Coverage.objects.filter(campaign_id=campaign_id).values_list("community_id", *COVERAGE)
        ),
    }


def state(campaign_id: int) -> dict[str, Any]:
    """Everything a tap writes, without ids that differ between two runs."""
    return {
        **counted(campaign_id),
        "visits": sorted(
            Visit.objects.values_list(
                "client_uuid", "household_id", "outcome", "exempt_reason", "need_kind",
                "need_by", "note", "tapped_at", "recorded_at", "team_id", "recorded_by_id",
                "task_id",
            )
        ),
        "households": sorted(
            HouseholdState.objects.values_list(
                "household_id", "outcome", "exempt_reason", "misses", "last_visit__client_uuid",
                "all_sampled", "task_id", "community_id",
            )
        ),
        "lease": sorted(BuildingTask.objects.values_list("building_id", "team_id", "expires_at")),
        "home_stops": sorted(
            HomeStop.objects.values_list(
                "task__building_id", "household_id", "resident_id", "reason", "created_at",
                "done_at", "cancelled_at",
            )
        ),
        "moved_out": sorted(Resident.objects.filter(moved_out=True).values_list("pk", flat=True)),
        "needs": sorted(
            Request.objects.values_list(
                "household_id", "resident_id", "kind", "needed_by", "details", "status",
                "visit__client_uuid",
            )
        ),
    }  # fmt: skip


def run(world: dict[str, Any], made: list[Tap], now: dt.datetime, how: str) -> tuple[Any, Any]:
    """``how``: the taps as one batch, or one a call (each with the task read afresh, as each
    request reads it). Returns the answers and the rows, then the counters as a recount counts
    them; all rolled back."""
    task_id, user = world["task"].pk, world["task"].claimed_by
    with transaction.atomic():
        if how == "singles":
            answers = [
                a
                for tap in made
                for a in record(user, BuildingTask.objects.get(pk=task_id), [tap], now)
            ]
        else:
            answers = record(user, BuildingTask.objects.get(pk=task_id), made, now)
        found = state(world["campaign"].pk)
        buildings = BuildingTask.objects.filter(campaign=world["campaign"])
        counters.recount(
            world["campaign"].pk, list(buildings.values_list("building_id", flat=True))
        )
        recounted = counted(world["campaign"].pk)
        transaction.set_rollback(True)
    said = [(a.id, a.status, a.code, a.household, a.outcome) for a in answers]
    return said, (found, recounted)  # fmt: skip


@given(steps=sequences())
# Moved out and back: the building is counted again from the rows each time.
@example(steps=[("tap", 2, "moved_out", "", "", "", "at", 0),
                ("tap", 2, "nobody_home", "", "", "", "at", 30)])  # fmt: skip
# Nobody home twice (a phone call next), then sampled at home; a replay and a double tap.
@example(steps=[("tap", 1, "nobody_home", "", "", "", "at", 0), ("double", 0, 30),
                ("tap", 1, "nobody_home", "", "", "", "at", 150), ("replay", 0, 0),
                ("tap", 1, "home_sampling", "", "", "", "at", 0), ("conflict", 0, 0)])  # fmt: skip
@settings(
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_a_batch_of_taps_and_its_taps_one_by_one_give_the_same_answers_rows_and_counters(
    building: dict[str, Any], steps: list[tuple[Any, ...]]
) -> None:
    now = timezone.now()
    made = taps(building, steps, now)
    single_answers, (single_state, single_recount) = run(building, made, now, "singles")
    answers, (batch_state, batch_recount) = run(building, made, now, "batch")
    assert answers == single_answers
    for name, rows in batch_state.items():
        assert rows == single_state[name], name
    assert counted_of(batch_state) == batch_recount
    assert counted_of(single_state) == single_recount


def counted_of(found: dict[str, Any]) -> dict[str, Any]:
    return {name: found[name] for name in ("tasks", "coverage")}


def test_the_generator_reaches_every_answer_the_issue_names(building: dict[str, Any]) -> None:
    """The differential test is only as good as its mixes: one hand-made sequence shows the
    answers it is meant to reach do occur (accepted, a replay, a double tap, a conflict, an
    invalid tap, a household of another building)."""
    steps = [("tap", 0, "nobody_home", "", "", "", "at", 0), ("double", 0, 30),
             ("replay", 0, 0), ("conflict", 0, 0), ("tap", 5, "notified", "", "", "", "at", 0),
             ("tap", 2, "exempt", "", "", "", "at", 0), ("bad_id", 0, 0),
             ("tap", 3, "moved_out", "", "", "", "at", 0),
             ("tap", 4, "special_need", "", "dialysis", "", "at", 0)]  # fmt: skip
    now = timezone.now()
    answers, _state = run(building, taps(building, steps, now), now, "batch")
    assert [(status, code) for _id, status, code, *_ in answers] == [
        ("accepted", ""), ("duplicate", ""), ("duplicate", ""), ("rejected", "conflict"),
        ("rejected", "wrong_building"), ("rejected", "invalid"), ("rejected", "invalid"),
        ("accepted", ""), ("accepted", ""),
    ]  # fmt: skip
