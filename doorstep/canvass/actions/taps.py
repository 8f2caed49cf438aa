"""The door-to-door engine's writes: ``canvass.outcomes`` plays a batch of taps in memory and
hands what they did to ``store``, in the batch's transaction, a fixed number of statements
whatever the batch's size: the visits in one INSERT, the households' new states in one and
their changed states in one UPDATE, the building's and community's counters moved once.

A tap that changes more than the household (moved out or back, home sampling asked for or no
longer needed) is stored at once, before its own consequences, which then read what it wrote.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence

from doorstep.canvass import counters
from doorstep.canvass.models import BuildingTask, HouseholdState, Visit
from doorstep.sampling.actions import home
from doorstep.territory.models import Household, Resident


def store(
    task: BuildingTask,
    visits: Sequence[Visit],
    new: Sequence[HouseholdState],
    changed: Sequence[HouseholdState],
    deltas: Counter[str],
) -> None:
    """The taps' visits, the households' states they made or changed (each pointing at its
    latest visit, so the visits go first), and the counters' moves summed."""
    Visit.objects.bulk_create(visits)
    HouseholdState.objects.bulk_create(new)
    HouseholdState.objects.bulk_update(
        changed, ["outcome", "exempt_reason", "misses", "last_visit"]
    )
    counters.bump(task, **deltas)


def moved(task: BuildingTask, household: Household, away: bool, now: dt.datetime) -> None:
    """The household was found moved out (``away``), or back: its people leave the roster's
    counts and the untested list (or return to them), the building is counted again from the
    rows, and nobody waits at its door any more (or they wait again)."""
    Resident.objects.filter(household=household).update(moved_out=away)
    counters.recount(task.campaign_id, [task.building_id])
    if away:
        home.moved_out(task.campaign_id, household.pk, now)
    else:
        home.moved_back(task.campaign_id, household, now)


def extend(task: BuildingTask, team_id: int | None, until: dt.datetime) -> None:
    """Activity extends the claim's lease (and revives a lapsed one nobody else has taken)."""
    if team_id is None:
        return  # only a claim's own team records while it is claimed
    BuildingTask.objects.filter(pk=task.pk, team_id=team_id).update(expires_at=until)
