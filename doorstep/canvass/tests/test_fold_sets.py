"""The counters' fold, set-based: the door-to-door counters it moves equal a recount from the
rows whatever the households' states (exempt, nobody home once or twice, notified, a member
moved out, households completed by the last member), its statements are as many for forty
people as for one, a fold killed with SIGKILL half-way leaves nothing counted twice or lost,
and in a server a scan reaches the dashboard's counters within the stated freshness."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from doorstep.canvass import actions as canvass
from doorstep.canvass import counters
from doorstep.canvass.models import BuildingTask, Coverage, HouseholdState
from doorstep.canvass.outcomes import record
from doorstep.core import sql
from doorstep.sampling import tally
from doorstep.sampling.models import RoundSample, Scope, Tally, TubeMember
from doorstep.testing import make_door_team, make_household, make_resident, server_env, tap
from doorstep.testing.lanes import sealed_tube

FIGURES = (
    "households",
    "residents",
    "sampled",
    "covered",
    "with_outcome",
    "notified",
    "nobody_home",
    "exempt",
)
COVERAGE = (*(f for f in FIGURES if f != "nobody_home"), "revisits", "phone_calls")
# The fold of any number of people in one round: the lock, the moves, the samples marked, the
# home stops, the door-to-door counters (buildings, communities), the households now complete
# (two reads by index), those with a state and those without, and buildings and communities
# again once a household is complete.
FOLD_BUDGET = {"postgresql": 14, "sqlite": 15}  # with the savepoint and its release


def _counters(campaign_id: int) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    tasks = list(
        BuildingTask.objects.filter(campaign_id=campaign_id)
        .order_by("building_id")
        .values_list("building_id", *FIGURES)
    )
    coverage = list(
        Coverage.objects.filter(campaign_id=campaign_id)
        .order_by("community_id")
        .values_list("community_id", *COVERAGE)
    )
    return tasks, coverage


def _recounted(campaign_id: int) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    buildings = BuildingTask.objects.filter(campaign_id=campaign_id).values_list(
        "building_id", flat=True
    )
    with transaction.atomic():  # as its callers do: it locks the rows it counts
        counters.recount(campaign_id, list(buildings))
    return _counters(campaign_id)


@pytest.fixture
def held(settings, monkeypatch):  # type: ignore[no-untyped-def]
    """As in a server, the scans commit and leave their moves; the test folds when it says."""
    settings.FOLD_INLINE = False
    monkeypatch.setattr(tally, "fold_soon", lambda: None)


def _street(world: dict[str, Any], leader) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Taps on 12号楼 (one person a household) and 13号楼 (the 王 family of two, a neighbour)."""
    campaign, people, family = world["campaign"], world["people"], world["family"]
    make_door_team(family[0].community, "第2组", leader)
    taps = {
        people[0]: [tap(people[0].household, "exempt", exempt_reason="vaccinated")],
        people[1]: [tap(people[1].household, "nobody_home")],
        people[2]: [tap(people[2].household, "nobody_home") for _ in range(2)],
        people[3]: [tap(people[3].household, "notified")],
        family[0]: [tap(family[0].household, "nobody_home")],
    }
    held = None
    for person, done in taps.items():
        task = BuildingTask.objects.get(campaign=campaign, building=person.household.unit.building)
        if held != task.pk:
            if held is not None:  # a team holds one building at a time
                canvass.release(leader, BuildingTask.objects.get(pk=held))
            canvass.claim(leader, task)
            held = task.pk
        for one in done:
            record(leader, BuildingTask.objects.get(pk=task.pk), [one])
    return world


@pytest.mark.django_db
def test_the_fold_moves_the_door_to_door_counters_as_a_recount_counts_them(
    lane_world, leader, held
):
    world = _street(lane_world, leader)
    campaign, people, family = world["campaign"], world["people"], world["family"]
    # A second household member who moved out: the household is complete without her.
    make_resident(people[4].household, "搬走的人", moved_out=True)
    sealed_tube(world["registrar"], world["lane"], people[:6], code="2112250001")
    sealed_tube(world["registrar"], world["lane"], family[:1], code="2112250002", pool="household")
    tally.fold(wait=True)
    first = _counters(campaign.pk)
    assert first == _recounted(campaign.pk)
    # The last member of the 王 household, nobody home until now: complete, covered, off the
    # revisit list.
    sealed_tube(world["registrar"], world["lane"], family[1:], code="2112250003", pool="household")
    tally.fold(wait=True)
    second = _counters(campaign.pk)
    assert second == _recounted(campaign.pk)
    state = HouseholdState.objects.get(campaign=campaign, household=family[0].household)
    assert state.all_sampled and state.follow_up == ""
    community = Coverage.objects.get(campaign=campaign)
    assert community.sampled == 8 and community.phone_calls == 0 and community.revisits == 0
    assert first[1] != second[1]


@pytest.mark.django_db
def test_a_fold_takes_as_many_statements_for_forty_people_as_for_one(lane_world, held):
    world = _street_of_forty(lane_world)
    spent = []
    for first, people in ((1, world["one"]), (2, world["forty"])):
        for n in range(0, len(people), 10):  # tubes of 10 (12号楼 is controlled)
            code = f"21122{first}{n:04d}"
            sealed_tube(world["registrar"], world["lane"], people[n : n + 10], code=code)
        with CaptureQueriesContext(connection) as queries:
            tally.fold(wait=True)
        spent.append(len(queries.captured_queries))
    assert spent[0] == spent[1] <= FOLD_BUDGET[connection.vendor], spent
    assert Coverage.objects.get(campaign=world["campaign"]).sampled == 41


def _street_of_forty(world: dict[str, Any]) -> dict[str, Any]:
    """Forty people in twenty households of two across the world's 12号楼, each household
    completed by this tube (so that every door-to-door statement has work), and one more."""
    building = world["people"][0].household.unit.building
    forty = [
        make_resident(home, f"住户{n}{m}")
        for n in range(20)
        for home in [make_household(building, f"9{n:02d}")]
        for m in range(2)
    ]
    counters.recount(world["campaign"].pk, [building.pk])
    return {**world, "one": world["people"][:1], "forty": forty}


@pytest.mark.django_db(transaction=True)
def test_a_fold_killed_half_way_counts_nothing_twice_and_loses_nothing(lane_world, leader, held):
    world = _street(lane_world, leader)
    campaign, people = world["campaign"], world["people"]
    sealed_tube(world["registrar"], world["lane"], people[:8], code="2112250001")
    assert RoundSample.objects.filter(folded=False).count() == 8
    mid = Path(connection.settings_dict["NAME"]).parent / f"mid-fold-{os.getpid()}"
    mid.unlink(missing_ok=True)
    script = (
        "import time,pathlib;from doorstep.sampling import hooks,tally;"
        f"hooks.register_folder(lambda sampled: (pathlib.Path({str(mid)!r}).touch(), "
        "time.sleep(60)));tally.fold(wait=True)"
    )
    folder = subprocess.Popen(
        [str(Path(sys.executable).parent / "doorstep"), "shell", "-c", script],
        env=server_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        for _ in range(600):  # the other process has moved the counters and not committed
            if mid.exists() or folder.poll() is not None:
                break
            time.sleep(0.05)
        assert mid.exists(), "the folding process never reached the middle of its fold"
    finally:
        os.killpg(folder.pid, signal.SIGKILL)
        folder.wait()
        mid.unlink(missing_ok=True)
    assert RoundSample.objects.filter(folded=False).count() == 8  # rolled back with it
    tally.fold(wait=True)
    assert RoundSample.objects.filter(folded=False).count() == 0
    assert _counters(campaign.pk) == _recounted(campaign.pk)
    people_counted = Tally.objects.get(
        campaign=campaign, scope=Scope.CAMPAIGN, place_id=campaign.pk
    ).people
    assert people_counted == TubeMember.objects.count() == 8


@pytest.mark.django_db(transaction=True)
def test_in_a_server_a_scan_reaches_the_dashboards_counters_within_the_freshness_stated(
    lane_world, settings
):
    """The dashboard reads ``Tally``; a server folds on its own timer (``FOLD_DELAY``), off the
    request. The freshness promised on the dashboard (``tally.FRESHNESS_SECONDS``) is the bound:
    nothing here folds but the server's own folding thread."""
    settings.FOLD_INLINE = False
    campaign = lane_world["campaign"]
    sealed_tube(lane_world["registrar"], lane_world["lane"], lane_world["people"][:3])
    committed = time.monotonic()
    counted = 0
    while time.monotonic() - committed < tally.FRESHNESS_SECONDS:
        found = Tally.objects.filter(
            campaign=campaign, scope=Scope.CAMPAIGN, place_id=campaign.pk
        ).first()
        counted = found.people if found else 0
        if counted == 3:
            break
        time.sleep(0.05)
    assert counted == 3, f"the counters showed {counted} of 3 after {tally.FRESHNESS_SECONDS} s"
    assert Coverage.objects.get(campaign=campaign).sampled == 3
    assert tally.folder_gone()


@pytest.mark.django_db(transaction=True)
def test_a_steady_run_of_taps_holding_the_folds_lock_does_not_starve_the_folding_thread(
    lane_world, settings
):
    """Every door-to-door batch holds the fold's lock, and PostgreSQL refuses a try while
    anyone waits for it: two phones tapping in turn leave it never free. The folding thread
    then queues for its turn, so the counters still move within the freshness stated (found by
    review). On SQLite the lock is the database's one writer and there is nothing to starve."""
    settings.FOLD_INLINE = False
    campaign = lane_world["campaign"]
    stop = threading.Event()

    def phone() -> None:
        try:
            while not stop.is_set():
                with transaction.atomic():
                    tally.hold()
                    time.sleep(0.15)
        finally:
            connection.close()

    # On SQLite a tap's transaction holds the database's one writer, which the scan needs too.
    phones = [threading.Thread(target=phone) for _ in range(2 if sql.postgres() else 0)]
    for p in phones:
        p.start()
    try:
        time.sleep(0.3)
        sealed_tube(lane_world["registrar"], lane_world["lane"], lane_world["people"][:3])
        committed = time.monotonic()
        counted = 0
        while time.monotonic() - committed < tally.FRESHNESS_SECONDS + 1:
            found = Tally.objects.filter(
                campaign=campaign, scope=Scope.CAMPAIGN, place_id=campaign.pk
            ).first()
            counted = found.people if found else 0
            if counted == 3:
                break
            time.sleep(0.05)
    finally:
        stop.set()
        for p in phones:
            p.join()
    assert counted == 3, f"the counters showed {counted} of 3 while taps held the lock in turn"
    assert tally.folder_gone()
