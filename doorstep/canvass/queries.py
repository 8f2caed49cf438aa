"""Reads worth naming: the building page, coverage, what stands between a community and
"covered", the untested list, the revisit list and the feed. Per-building and per-community
queries only; campaign-wide figures come from the counters."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import groupby

from django.db.models import BooleanField, Case, QuerySet, Value, When

from doorstep.campaigns.models import CampaignBuilding
from doorstep.canvass import counters
from doorstep.canvass.models import (
    BuildingTask,
    Coverage,
    FeedPost,
    HouseholdState,
    Outcome,
    TaskStatus,
)
from doorstep.core.models import User
from doorstep.sampling.models import RoundSample
from doorstep.territory.models import Household, Resident
from doorstep.territory.scoping import grid_ids, scoped


def untested(campaign_id: int, *, before: int | None = None, **where: int) -> QuerySet[Resident]:
    """Roster − sampled this round − members of exempt households, for one building
    (``building_id``) or community (``community_id``), in walking order: the residents of the
    round's buildings, as the counters count them. With ``before`` (the previous round), each
    carries ``missed_before`` and those untested in both rounds come first: the people most
    likely to be missed again."""
    found = _untested(campaign_id, **where)
    if before is None:
        return found.annotate(missed_before=Value(False, output_field=BooleanField()))
    again = _untested(before, **where).values("pk")
    return found.annotate(
        missed_before=Case(
            When(pk__in=again, then=Value(True)), default=Value(False), output_field=BooleanField()
        )
    ).order_by("-missed_before", *WALKING_ORDER)


def untested_twice(campaign_id: int, before: int, **where: int) -> QuerySet[Resident]:
    """Those untested in this round who were untested in ``before`` too."""
    return _untested(campaign_id, **where).filter(pk__in=_untested(before, **where).values("pk"))


WALKING_ORDER = (
    "household__unit__building__position",
    "household__unit__building__name",
    "household__unit__name",
    "household__floor",
    "household__room",
    "id",
)


def _untested(campaign_id: int, **where: int) -> QuerySet[Resident]:
    residents = Resident.objects.filter(
        moved_out=False,
        household__unit__building__in=CampaignBuilding.objects.filter(
            campaign_id=campaign_id
        ).values("building_id"),
    )
    if "building_id" in where:
        residents = residents.filter(household__unit__building_id=where["building_id"])
    if "community_id" in where:
        residents = residents.filter(community_id=where["community_id"])
    return (
        residents.exclude(
            # Counted samples only, as the counters count them (``counters.sampled_households``):
            # the list and its figure agree at every moment, the fold's second included.
            pk__in=RoundSample.objects.filter(campaign_id=campaign_id, folded=True).values(
                "resident_id"
            )
        )
        .exclude(
            household_id__in=HouseholdState.objects.filter(
                campaign_id=campaign_id, outcome=Outcome.EXEMPT
            ).values("household_id")
        )
        .select_related("household__unit__building")
        .order_by(*WALKING_ORDER)
    )


def household_outcomes(campaign_id: int, community_id: int) -> dict[int, str]:
    """Household id → its latest outcome, for one community (the untested export's column)."""
    return dict(
        HouseholdState.objects.filter(
            campaign_id=campaign_id, community_id=community_id
        ).values_list("household_id", "outcome")
    )


@dataclass
class Member:
    resident: Resident
    sampled: bool


@dataclass
class HouseholdRow:
    household: Household
    state: HouseholdState | None
    members: list[Member] = field(default_factory=list)

    @property
    def untested(self) -> int:
        if self.state is not None and self.state.outcome == Outcome.EXEMPT:
            return 0
        return sum(not m.sampled for m in self.members)

    @property
    def todo(self) -> bool:
        """No outcome yet, and not everyone sampled at a lane: someone must still knock."""
        return (self.state is None or not self.state.outcome) and not (
            self.state is not None and self.state.all_sampled
        )


@dataclass
class FloorGroup:
    unit: str
    floor: int | None
    rows: list[HouseholdRow]
    anchor: str = ""  # the group's id on the page, which the floor index jumps to

    @property
    def todo(self) -> bool:
        return any(row.todo for row in self.rows)


@dataclass(frozen=True)
class UnitFloors:
    """One unit's row of the floor index: its floors, bottom up, each marked if a household
    there has no outcome yet."""

    unit: str
    floors: list[FloorGroup]


def floor_index(groups: list[FloorGroup]) -> list[UnitFloors]:
    units: dict[str, list[FloorGroup]] = {}
    for group in groups:
        units.setdefault(group.unit, []).append(group)
    return [UnitFloors(unit, floors) for unit, floors in units.items()]


def building_page(task: BuildingTask) -> list[FloorGroup]:
    """Households of the building by unit and floor, each with its outcome and members."""
    households = list(
        Household.objects.filter(unit__building_id=task.building_id)
        .select_related("unit")
        .order_by("unit__name", "floor", "room", "id")
    )
    states = {
        s.household_id: s
        for s in HouseholdState.objects.filter(task=task).select_related("last_visit")
    }
    sampled = set(
        RoundSample.objects.filter(
            campaign_id=task.campaign_id,
            resident__household__unit__building_id=task.building_id,
        ).values_list("resident_id", flat=True)
    )
    rows = {h.pk: HouseholdRow(h, states.get(h.pk)) for h in households}
    for r in Resident.objects.filter(
        household__unit__building_id=task.building_id, moved_out=False
    ).order_by("id"):
        rows[r.household_id].members.append(Member(r, r.pk in sampled))
    return [
        FloorGroup(unit, floor, list(group), anchor=f"floor-{n}")
        for n, ((unit, floor), group) in enumerate(
            groupby(rows.values(), key=lambda row: (row.household.unit.name, row.household.floor))
        )
    ]


@dataclass
class Blockers:
    """What still stands between a community and "no household missed"."""

    coverage: Coverage
    not_started: list[BuildingTask]
    in_progress: list[BuildingTask]

    @property
    def households_not_covered(self) -> int:
        return self.coverage.households - self.coverage.covered

    @property
    def covered(self) -> bool:
        return self.coverage.no_household_missed


def blockers(coverage: Coverage, tasks: QuerySet[BuildingTask]) -> Blockers:
    """What stands between the community and "covered", among ``tasks`` (the user's, scoped)."""
    left = list(
        tasks.exclude(status=TaskStatus.DONE)
        .select_related("building", "team")
        .order_by("building__position", "building__name")
    )
    return Blockers(
        coverage=coverage,
        not_started=[t for t in left if t.status == TaskStatus.OPEN],
        in_progress=[t for t in left if t.status == TaskStatus.CLAIMED],
    )


def coverage_for(user: User, rows: Iterable[Coverage]) -> list[Coverage]:
    """The door-to-door figures of these communities as the user may see them. The counters'
    rows hold whole communities; for a user held to some buildings of one (a grid worker,
    ``scoping.grid_ids``) each row is summed again over those buildings (``counters.summed``)."""
    rows = list(rows)
    if grid_ids(user) is None:
        return rows
    return [
        Coverage(
            pk=row.pk,
            campaign_id=row.campaign_id,
            community=row.community,
            **counters.summed(
                scoped(user, BuildingTask.objects.filter(**_of(row))),
                scoped(user, HouseholdState.objects.filter(**_of(row))),
            ),
        )
        for row in rows
    ]


def _of(row: Coverage) -> dict[str, int]:
    return {"campaign_id": row.campaign_id, "community_id": row.community_id}


def buildings(campaign_id: int, community_id: int) -> QuerySet[BuildingTask]:
    return (
        BuildingTask.objects.filter(campaign_id=campaign_id, community_id=community_id)
        .select_related("building", "team")
        .order_by("building__position", "building__name")
    )


@dataclass(frozen=True)
class OpenBuilding:
    """A building a team may claim, with its zone in the round (shown as a badge)."""

    task: BuildingTask
    zone: str


def open_buildings(tasks: list[BuildingTask]) -> list[OpenBuilding]:
    zones = dict(
        CampaignBuilding.objects.filter(
            campaign_id__in={t.campaign_id for t in tasks},
            building_id__in=[t.building_id for t in tasks],
        ).values_list("building_id", "zone")
    )
    return [OpenBuilding(t, zones.get(t.building_id, "")) for t in tasks]


@dataclass(frozen=True)
class Revisit:
    """A nobody-home household on the revisit list, with who lives there (masked on the page)."""

    state: HouseholdState
    members: list[Resident]


def revisits(states: QuerySet[HouseholdState]) -> list[Revisit]:
    """Nobody-home households among ``states`` (the user's, scoped): knock again after one
    miss, phone after two."""
    found = list(
        states.filter(outcome=Outcome.NOBODY_HOME, all_sampled=False)
        .select_related("household__unit__building", "task", "last_visit")
        .order_by("-misses", "household__unit__building__position", "household__room")
    )
    members: dict[int, list[Resident]] = {}
    for r in Resident.objects.filter(
        household_id__in=[s.household_id for s in found], moved_out=False
    ).order_by("id"):
        members.setdefault(r.household_id, []).append(r)
    return [Revisit(state, members.get(state.household_id, [])) for state in found]


def feed(campaign_id: int, community_ids: list[int] | None, limit: int = 50) -> list[FeedPost]:
    posts = FeedPost.objects.filter(campaign_id=campaign_id)
    if community_ids is not None:
        posts = posts.filter(community_id__in=community_ids)
    return list(posts.select_related("community").order_by("-at", "-id")[:limit])
