"""Every write of home sampling: the people of a building who must be sampled at their door, as
a task a sampling team claims like a building (the pages and their reads are ``sampling.home``).

Three things put people on it, each through one function here: the door-to-door outcome
"needs home sampling" (``need_home``, from ``canvass.outcomes``), a sealed building (``zoned``,
on every change of a building's zone and every new round, through ``campaigns.hooks``: everyone
of the building not yet sampled, household by household; a lifted seal cancels whoever still
waits), and a positive pool's retest routed door to door (``need_retests``, from
``lab.actions.retests``). They are done when the person is sampled (``sampled_at_home``, from
the counters' fold) or their retest tube is scanned (``retests_taken``, from the ingest engine);
a correction or a changed outcome cancels them. Those called from another writer run in its
transaction.

A claim is a lease held by the team's lane, like a door-to-door claim: one conditional UPDATE
decides who wins, the lease runs ``campaign.claim_lease_minutes`` and every person sampled
extends it. The team works the building from its lane's scan page (a household tube for a
home stop, a single tube for a retest), so nothing about the lane's rules is written twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from doorstep.campaigns.models import CampaignBuilding, CampaignStatus, Zone
from doorstep.core.models import User
from doorstep.sampling.hooks import Sampled
from doorstep.sampling.models import (
    AT_THE_DOOR,
    HomeReason,
    HomeStatus,
    HomeStop,
    HomeTask,
    Lane,
    RoundSample,
)
from doorstep.territory.models import Household, Resident


class HomeError(ValueError):
    """A refusal with a message that says what to do."""


def _lease(task: HomeTask) -> dt.timedelta:
    return dt.timedelta(minutes=task.campaign.claim_lease_minutes)


def _task_for(campaign_id: int, household: Household) -> HomeTask:
    """The building's task (made on first need); a task already closed opens again."""
    building = household.unit.building
    return _building_task(campaign_id, building.pk, building.community_id)


def _building_task(campaign_id: int, building_id: int, community_id: int) -> HomeTask:
    task, created = HomeTask.objects.get_or_create(
        campaign_id=campaign_id,
        building_id=building_id,
        defaults={"community_id": community_id},
    )
    if not created and task.status == HomeStatus.DONE:
        HomeTask.objects.filter(pk=task.pk).update(
            status=HomeStatus.OPEN, lane=None, claimed_by=None, expires_at=None, completed_at=None
        )
        task.status = HomeStatus.OPEN
    return task


# What puts people on a task -----------------------------------------------------------------


def _waiting_at_door(campaign_id: int) -> QuerySet[HomeStop]:
    return HomeStop.objects.filter(
        campaign_id=campaign_id, reason__in=AT_THE_DOOR, done_at=None, cancelled_at=None
    )


def need_home(campaign_id: int, household: Household, now: dt.datetime) -> int:
    """Every member of the household not sampled this round, to sample at home. Each reason
    keeps its own stop (a person waiting because their building is sealed gets one for "needs
    home sampling" too, which outlives a lifted seal); lists count people, not stops."""
    sampled = RoundSample.objects.filter(campaign_id=campaign_id).values("resident_id")
    people = list(
        Resident.objects.filter(household=household, moved_out=False).exclude(pk__in=sampled)
    )
    if not people:
        return 0
    task = _task_for(campaign_id, household)
    waiting = set(
        HomeStop.objects.filter(
            campaign_id=campaign_id, reason=HomeReason.HOME, resident__in=people
        ).values_list("resident_id", flat=True)
    )
    HomeStop.objects.filter(
        campaign_id=campaign_id, reason=HomeReason.HOME, resident__in=people
    ).exclude(cancelled_at=None).update(cancelled_at=None, task=task)
    HomeStop.objects.bulk_create(
        [
            HomeStop(
                task=task,
                campaign_id=campaign_id,
                household=household,
                resident=person,
                reason=HomeReason.HOME,
                created_at=now,
            )
            for person in people
            if person.pk not in waiting
        ]
    )
    return len(people)


def moved_out(campaign_id: int, household_id: int, now: dt.datetime) -> int:
    """The household was found moved out: nobody of it waits at its door any more (a sealed
    building's stops included), so its building can leave the list."""
    return _waiting_at_door(campaign_id).filter(household_id=household_id).update(cancelled_at=now)


def moved_back(campaign_id: int, household: Household, now: dt.datetime) -> int:
    """A household marked moved out is there after all: in a sealed building its people wait
    at their door again."""
    building = household.unit.building_id
    sealed = CampaignBuilding.objects.filter(
        campaign_id=campaign_id, building_id=building, zone=Zone.SEALED
    ).exists()
    return zoned(campaign_id, [building], Zone.SEALED, now) if sealed else 0


def roster_changed(building_ids: Collection[int]) -> None:
    """The territory's hook (a roster imported while rounds run): new residents of a sealed
    building of a running round wait at their door too, and residents now moved out wait no
    more."""
    now = timezone.now()
    sealed: dict[int, list[int]] = {}
    for campaign_id, building_id in CampaignBuilding.objects.filter(
        building_id__in=list(building_ids),
        zone=Zone.SEALED,
        campaign__status=CampaignStatus.ACTIVE,
    ).values_list("campaign_id", "building_id"):
        sealed.setdefault(campaign_id, []).append(building_id)
    for campaign_id, buildings in sorted(sealed.items()):
        zoned(campaign_id, buildings, Zone.SEALED, now)
    HomeStop.objects.filter(
        reason__in=AT_THE_DOOR,
        done_at=None,
        cancelled_at=None,
        resident__moved_out=True,
        household__unit__building_id__in=list(building_ids),
    ).update(cancelled_at=now)


def not_needed(campaign_id: int, household_id: int, now: dt.datetime) -> None:
    """The household no longer needs home sampling (a later outcome says otherwise)."""
    HomeStop.objects.filter(
        campaign_id=campaign_id,
        household_id=household_id,
        reason=HomeReason.HOME,
        done_at=None,
        cancelled_at=None,
    ).update(cancelled_at=now)


def zoned(campaign_id: int, building_ids: list[int], zone: str, at: dt.datetime) -> int:
    """The campaigns hook: these buildings' zone changed to ``zone``. Sealed, every resident
    not yet sampled this round and not already waiting at home gets a stop, in one task per
    building; no longer sealed, whoever still waits because of the seal is cancelled (they may
    come to a site again). Returns the stops made or cancelled."""
    if zone != Zone.SEALED:
        return HomeStop.objects.filter(
            campaign_id=campaign_id,
            reason=HomeReason.SEALED,
            task__building_id__in=building_ids,
            done_at=None,
            cancelled_at=None,
        ).update(cancelled_at=at)
    sampled = RoundSample.objects.filter(campaign_id=campaign_id).values("resident_id")
    sealed_stops = HomeStop.objects.filter(campaign_id=campaign_id, reason=HomeReason.SEALED)
    people = list(
        Resident.objects.filter(household__unit__building_id__in=building_ids, moved_out=False)
        .exclude(pk__in=sampled)
        .exclude(pk__in=sealed_stops.filter(done_at=None, cancelled_at=None).values("resident_id"))
        .values_list(
            "pk",
            "household_id",
            "household__unit__building_id",
            "household__unit__building__community_id",
        )
    )
    if not people:
        return 0
    tasks = {
        building: _building_task(campaign_id, building, community).pk
        for building, community in {(b, c) for _p, _h, b, c in people}
    }
    # Sealed again after a lift: the same stops come back (read by building, not by a list of
    # every resident, which could pass SQLite's limit on a large sealed area).
    earlier = dict(
        sealed_stops.filter(
            household__unit__building_id__in=building_ids, done_at=None
        ).values_list("resident_id", "pk")
    )
    for building, task_id in tasks.items():
        again = [earlier[p] for p, _h, b, _c in people if b == building and p in earlier]
        for start in range(0, len(again), 2000):
            HomeStop.objects.filter(pk__in=again[start : start + 2000]).update(
                cancelled_at=None, task_id=task_id
            )
    HomeStop.objects.bulk_create(
        [
            HomeStop(
                task_id=tasks[building],
                campaign_id=campaign_id,
                household_id=household,
                resident_id=person,
                reason=HomeReason.SEALED,
                created_at=at,
            )
            for person, household, building, _c in people
            if person not in earlier
        ],
        batch_size=2000,
        ignore_conflicts=True,  # another writer sealed them a moment ago: one stop each
    )
    return len(people)


@dataclass(frozen=True)
class DoorRetest:
    order_id: int
    campaign_id: int
    household: Household
    resident_id: int | None
    walk_in_id: int | None


def need_retests(retests: Iterable[DoorRetest], now: dt.datetime) -> int:
    """Retests routed door to door, one stop each in their household's building."""
    stops = [
        HomeStop(
            task=_task_for(r.campaign_id, r.household),
            campaign_id=r.campaign_id,
            household=r.household,
            resident_id=r.resident_id,
            walk_in_id=r.walk_in_id,
            reason=HomeReason.RETEST,
            order_id=r.order_id,
            created_at=now,
        )
        for r in retests
    ]
    HomeStop.objects.bulk_create(stops)
    return len(stops)


def cancel_orders(order_ids: Collection[int], now: dt.datetime) -> None:
    """Retests a correction no longer calls for."""
    if order_ids:
        HomeStop.objects.filter(order_id__in=list(order_ids), done_at=None).update(cancelled_at=now)


def reopen_orders(order_ids: Collection[int]) -> None:
    """Retests to take again (their single tube could not be read)."""
    if not order_ids:
        return
    stops = HomeStop.objects.filter(order_id__in=list(order_ids))
    for stop in stops.select_related("household__unit__building"):
        task = _task_for(stop.campaign_id, stop.household)
        HomeStop.objects.filter(pk=stop.pk).update(done_at=None, cancelled_at=None, task=task)


def sampled_at_home(sampled: Sequence[Sampled]) -> int:
    """The fold's call: people newly sampled (in any tube) whose home stop was waiting are
    done, and the leases of their buildings' tasks run on."""
    if not sampled:
        return 0
    return _done(
        HomeStop.objects.filter(
            campaign_id__in={s.campaign_id for s in sampled},
            resident_id__in={s.resident_id for s in sampled},
            reason__in=AT_THE_DOOR,
        ),
        max(s.at for s in sampled),
    )


def retests_taken(order_ids: Collection[int], at: dt.datetime) -> int:
    """The ingest engine's call, in the scan's transaction: a retest stop is done when the
    person's own single tube answers the order."""
    if not order_ids:
        return 0
    return _done(HomeStop.objects.filter(order_id__in=list(order_ids)), at)


def _done(stops: QuerySet[HomeStop], at: dt.datetime) -> int:
    wanted = stops.filter(done_at=None, cancelled_at=None)
    task_ids = list(wanted.values_list("task_id", flat=True).distinct())
    if not task_ids:
        return 0
    done = wanted.update(done_at=at)
    for task in HomeTask.objects.filter(pk__in=task_ids, status=HomeStatus.CLAIMED).select_related(
        "campaign"
    ):
        HomeTask.objects.filter(pk=task.pk).update(expires_at=at + _lease(task))
    return done


# Claims ---------------------------------------------------------------------------------------


@transaction.atomic
def claim(user: User, task: HomeTask, lane: Lane, now: dt.datetime | None = None) -> HomeTask:
    """The lane's team takes the building's home sampling, unless another team holds it."""
    now = now or timezone.now()
    if task.status == HomeStatus.DONE:
        raise HomeError(_("This building's home sampling is done; nobody is waiting."))
    won = (
        HomeTask.objects.filter(pk=task.pk)
        .filter(
            Q(status=HomeStatus.OPEN)
            | Q(status=HomeStatus.CLAIMED, expires_at__lte=now)
            | Q(status=HomeStatus.CLAIMED, lane=lane)
        )
        .update(
            status=HomeStatus.CLAIMED,
            lane=lane,
            claimed_by=user,
            claimed_at=now,
            expires_at=now + _lease(task),
        )
    )
    task.refresh_from_db()
    if not won:
        assert task.lane is not None
        raise HomeError(
            _("%(lane)s holds this building's home sampling until %(at)s.")
            % {"lane": str(task.lane), "at": timezone.localtime(task.expires_at).strftime("%H:%M")}
        )
    return task


def _held(task: HomeTask, lanes: Collection[int] | None) -> None:
    if task.status != HomeStatus.CLAIMED or (lanes is not None and task.lane_id not in lanes):
        raise HomeError(_("Your team does not hold this building's home sampling: claim it first."))


@transaction.atomic
def release(task: HomeTask, lanes: Collection[int] | None) -> HomeTask:
    """Hand the building back, with whoever is still waiting, for another team to claim."""
    task = HomeTask.objects.select_for_update().get(pk=task.pk)
    _held(task, lanes)
    HomeTask.objects.filter(pk=task.pk).update(
        status=HomeStatus.OPEN, lane=None, claimed_by=None, expires_at=None
    )
    task.refresh_from_db()
    return task


@transaction.atomic
def close(
    task: HomeTask, lanes: Collection[int] | None, now: dt.datetime | None = None
) -> HomeTask:
    """Done: nobody in the building is still waiting to be sampled at home."""
    now = now or timezone.now()
    task = HomeTask.objects.select_for_update().get(pk=task.pk)
    _held(task, lanes)
    left = waiting(task).count()
    if left:
        raise HomeError(
            _(
                "%(n)d people are still waiting: sample them, or hand the building back for another team."
            )
            % {"n": left}
        )
    HomeTask.objects.filter(pk=task.pk).update(status=HomeStatus.DONE, completed_at=now)
    task.refresh_from_db()
    return task


def waiting(task: HomeTask) -> QuerySet[HomeStop]:
    """Who on the task is still to sample: what ``close`` refuses on, and what the pages show."""
    return HomeStop.objects.filter(task=task, done_at=None, cancelled_at=None)
