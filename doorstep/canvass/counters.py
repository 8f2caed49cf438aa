"""The door-to-door counters: opened with the campaign, moved by the actions in their own
transactions, read by the coverage pages and the dashboard. Nothing here counts raw rows on a
page's request: ``open_tasks`` counts once, when a campaign is created, and ``recount`` when
the roster changes under a running round."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Sequence

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum

from doorstep.campaigns.models import Campaign, CampaignBuilding
from doorstep.canvass.models import (
    BuildingTask,
    Coverage,
    HouseholdState,
    Outcome,
    TaskStatus,
    is_covered,
)
from doorstep.core import bulk, counters
from doorstep.sampling import hooks, tally
from doorstep.sampling.models import RoundSample
from doorstep.territory.models import Household, Resident


def open_tasks(campaign: Campaign) -> int:
    """One task per building of the campaign, with its household and resident counts."""
    area = list(
        CampaignBuilding.objects.filter(campaign=campaign).values_list(
            "building_id", "community_id"
        )
    )
    building_ids = [b for b, _ in area]
    households = dict(
        Household.objects.filter(unit__building_id__in=building_ids)
        .values_list("unit__building_id")
        .annotate(n=Count("id"))
        .values_list("unit__building_id", "n")
    )
    residents = dict(
        Resident.objects.filter(household__unit__building_id__in=building_ids, moved_out=False)
        .values_list("household__unit__building_id")
        .annotate(n=Count("id"))
        .values_list("household__unit__building_id", "n")
    )
    tasks = [
        BuildingTask(
            campaign=campaign,
            building_id=building,
            community_id=community,
            households=households.get(building, 0),
            residents=residents.get(building, 0),
        )
        for building, community in area
    ]
    BuildingTask.objects.bulk_create(tasks, batch_size=2000)
    totals: dict[int, Counter[str]] = {}
    for task in tasks:
        total = totals.setdefault(task.community_id, Counter())
        total.update(buildings=1, households=task.households, residents=task.residents)
    Coverage.objects.bulk_create(
        [
            Coverage(campaign=campaign, community_id=community, **dict(total))
            for community, total in totals.items()
        ]
    )
    return len(tasks)


def bump(task: BuildingTask, **deltas: int) -> None:
    """Move the task's counters and its community's by the same amounts."""
    deltas = {k: v for k, v in deltas.items() if v}
    if not deltas:
        return
    counters.add(
        BuildingTask, {"pk": task.pk}, {k: v for k, v in deltas.items() if hasattr(BuildingTask, k)}
    )
    bump_community(task.campaign_id, task.community_id, **deltas)


def bump_community(campaign_id: int, community_id: int, **deltas: int) -> None:
    # The round's coverage rows are made with its tasks (``open_tasks``), so none is created here.
    counters.add(
        Coverage,
        {"campaign_id": campaign_id, "community_id": community_id},
        {k: v for k, v in deltas.items() if hasattr(Coverage, k)},
    )


def state_deltas(
    old: HouseholdState | None, outcome: str, misses: int, unsampled_members: int
) -> dict[str, int]:
    """What moving a household from its old state to ``outcome`` does to the counters."""
    before = old.outcome if old else ""
    sampled = bool(old and old.all_sampled)
    deltas: Counter[str] = Counter()
    if not before:
        deltas["with_outcome"] += 1
    deltas["covered"] += is_covered(outcome, sampled) - is_covered(before, sampled)
    deltas["notified"] += (outcome == Outcome.NOTIFIED) - (before == Outcome.NOTIFIED)
    deltas["nobody_home"] += (outcome == Outcome.NOBODY_HOME) - (before == Outcome.NOBODY_HOME)
    deltas["exempt"] += unsampled_members * (
        (outcome == Outcome.EXEMPT) - (before == Outcome.EXEMPT)
    )
    old_follow = old.follow_up if old else ""
    new_follow = (
        "" if outcome != Outcome.NOBODY_HOME or sampled else ("phone" if misses >= 2 else "revisit")
    )
    deltas["revisits"] += (new_follow == "revisit") - (old_follow == "revisit")
    deltas["phone_calls"] += (new_follow == "phone") - (old_follow == "phone")
    return dict(deltas)


def fold_sampled(sampled: Sequence[hooks.Sampled]) -> None:
    """The counters' fold (``sampling.tally.fold``, registered in ``canvass/signals.py``):
    people sampled since the last fold, counted per building and community, in the fold's
    transaction."""
    by_campaign: dict[int, list[int]] = defaultdict(list)
    for s in sampled:
        by_campaign[s.campaign_id].append(s.resident_id)
    for campaign_id, resident_ids in sorted(by_campaign.items()):
        add_sampled(campaign_id, resident_ids)


def add_sampled(campaign_id: int, resident_ids: Iterable[int]) -> None:
    """Residents newly sampled this round: count them per building and community, and take
    members of exempt households off the exempt count (they are now simply sampled). A
    resident marked moved out is no longer one of the round's residents: sampled anyway (at a
    lane, on their old person code), they count nowhere, as ``recount`` counts them."""
    ids = list(resident_ids)
    if ids:
        add_sampled_people(
            campaign_id,
            Resident.objects.filter(pk__in=ids, moved_out=False).values_list(
                "pk", "household_id", "household__unit__building_id", "community_id"
            ),
        )


def add_sampled_people(campaign_id: int, people: Iterable[tuple[int, int, int, int]]) -> None:
    """``add_sampled`` for callers that already hold each resident's (id, household, building,
    community): a fixed number of statements whatever their number (the exempt households, the
    households now all sampled, one UPDATE of the buildings' counters and one of the
    communities')."""
    rows = list(people)
    if not rows:
        return
    exempt = set(
        HouseholdState.objects.filter(
            campaign_id=campaign_id,
            outcome=Outcome.EXEMPT,
            household_id__in={household for _r, household, _b, _c in rows},
        ).values_list("household_id", flat=True)
    )
    per_building: dict[tuple[int, int], Counter[str]] = {}
    for _resident, household, building, community in rows:
        moved = per_building.setdefault((building, community), Counter())
        moved["sampled"] += 1
        moved["exempt"] -= household in exempt
    where = {h: (b, c) for _r, h, b, c in rows}
    for household, moved in _all_sampled(campaign_id, set(where)).items():
        per_building.setdefault(where[household], Counter()).update(moved)
    fields = ("sampled", "exempt", "covered", "revisits", "phone_calls")
    tasks = dict(
        BuildingTask.objects.filter(
            campaign_id=campaign_id, building_id__in={b for b, _c in per_building}
        ).values_list("building_id", "community_id")
    )
    per_community: dict[int, Counter[str]] = {}
    for (building, _community), deltas in per_building.items():
        if building in tasks:
            per_community.setdefault(tasks[building], Counter()).update(deltas)
    # Buildings, then communities, each in id order: one lock order for every writer.
    bulk.add(
        BuildingTask,
        ("campaign_id", "building_id"),
        [f for f in fields if hasattr(BuildingTask, f)],
        [
            (campaign_id, building, *(deltas[f] for f in fields if hasattr(BuildingTask, f)))
            for (building, _c), deltas in sorted(per_building.items())
            if building in tasks
        ],
    )
    bulk.add(
        Coverage,
        ("campaign_id", "community_id"),
        fields,
        [
            (campaign_id, community, *(deltas[f] for f in fields))
            for community, deltas in sorted(per_community.items())
        ],
    )


def sampled_households(
    campaign_id: int, households: Collection[int]
) -> tuple[Counter[int], Counter[int], set[int]]:
    """Per household: its members (residents not moved out), how many of them are sampled this
    round, and the households whose every member is: the one definition of "all sampled".

    Only samples the fold has counted (``RoundSample.folded``) count here, as in the counters
    this feeds; the fold counts the others when it reaches them."""
    members: Counter[int] = Counter()
    sampled: Counter[int] = Counter()
    for household, n, done in (
        Resident.objects.filter(household_id__in=list(households), moved_out=False)
        .values_list("household_id")
        .annotate(
            n=Count("id"),
            # A correlated EXISTS (index sampled_once_per_campaign), not IN over the round's
            # samples, which SQLite would read whole for every batch.
            done=Count(
                "id",
                filter=Q(
                    Exists(
                        RoundSample.objects.filter(
                            campaign_id=campaign_id, resident_id=OuterRef("pk"), folded=True
                        )
                    )
                ),
            ),
        )
        .values_list("household_id", "n", "done")
    ):
        members[household], sampled[household] = n, done
    return members, sampled, {h for h, n in members.items() if n and sampled[h] >= n}


def _all_sampled(campaign_id: int, households: set[int]) -> dict[int, Counter[str]]:
    """Households of ``households`` whose every member is now sampled are marked so: each one
    not covered before is covered from now on, and it leaves the revisit list (a household
    sampled at a site needs no knock). Returns the counter moves per household."""
    _members, _sampled, done = sampled_households(campaign_id, households)
    if not done:
        return {}
    states = {
        s.household_id: s
        for s in HouseholdState.objects.select_for_update(of=("self",))
        .filter(campaign_id=campaign_id, household_id__in=done)
        .order_by("pk")
    }
    moves: dict[int, Counter[str]] = {}
    fresh = done - set(states)
    if fresh:
        places = {
            household: (task, community)
            for household, task, community in BuildingTask.objects.filter(
                campaign_id=campaign_id, building__units__households__in=fresh
            ).values_list("building__units__households", "pk", "community_id")
        }
        HouseholdState.objects.bulk_create(
            [
                HouseholdState(
                    campaign_id=campaign_id,
                    household_id=h,
                    task_id=places[h][0],
                    community_id=places[h][1],
                    all_sampled=True,
                )
                for h in sorted(fresh)
                if h in places
            ]
        )
        moves.update({h: Counter(covered=1) for h in fresh if h in places})
    for household, state in states.items():
        if state.all_sampled:
            continue
        moved = Counter(covered=0 if is_covered(state.outcome, False) else 1)
        moved["revisits"] -= state.follow_up == "revisit"
        moved["phone_calls"] -= state.follow_up == "phone"
        moves[household] = moved
    HouseholdState.objects.filter(pk__in=[s.pk for s in states.values()]).update(all_sampled=True)
    return moves


def recount(campaign_id: int, building_ids: Collection[int]) -> None:
    """The counters of these buildings' tasks and of their communities, counted again from the
    rows: households and residents on the roster, residents sampled this round, outcomes.

    The actions move the counters by deltas as they go; this is what they must always equal
    (a test holds them to it). It is used when the roster changes under a running round (a
    late import, people moving in or out), where a delta would be easy to get wrong, and it
    costs a few set-based queries for any number of buildings.

    It first folds what the scans left (holding the fold out until it commits), so that every
    sample it can see is one the counters count."""
    tally.fold(wait=True)
    tasks = list(
        BuildingTask.objects.select_for_update(of=("self",))
        .filter(campaign_id=campaign_id, building_id__in=list(building_ids))
        .order_by("pk")
    )
    if not tasks:
        return
    ids = [t.building_id for t in tasks]
    homes = dict(
        Household.objects.filter(unit__building_id__in=ids).values_list("pk", "unit__building_id")
    )
    members, sampled, done = sampled_households(campaign_id, homes)
    states = {
        s.household_id: s
        for s in HouseholdState.objects.select_for_update(of=("self",))
        .filter(campaign_id=campaign_id, household_id__in=list(homes))
        .order_by("pk")
    }
    task_of = {t.building_id: t for t in tasks}
    HouseholdState.objects.bulk_create(
        [
            HouseholdState(
                campaign_id=campaign_id,
                household_id=h,
                task=task_of[homes[h]],
                community_id=task_of[homes[h]].community_id,
                all_sampled=True,
            )
            for h in sorted(done - set(states))
        ]
    )
    changed = [s for h, s in states.items() if s.all_sampled != (h in done)]
    for state in changed:
        state.all_sampled = state.household_id in done
    HouseholdState.objects.bulk_update(changed, ["all_sampled"])
    counts: dict[int, Counter[str]] = {t.building_id: Counter() for t in tasks}
    for household, building in homes.items():
        count = counts[building]
        count["households"] += 1
        count["residents"] += members[household]
        count["sampled"] += sampled[household]
        found = states.get(household)
        outcome = found.outcome if found else ""
        count["covered"] += is_covered(outcome, household in done)
        count["with_outcome"] += bool(outcome)
        count["notified"] += outcome == Outcome.NOTIFIED
        count["nobody_home"] += outcome == Outcome.NOBODY_HOME
        if outcome == Outcome.EXEMPT:
            count["exempt"] += members[household] - sampled[household]
    fields = ["households", "residents", "sampled", "covered", "with_outcome", "notified"]
    fields += ["nobody_home", "exempt"]
    for task in tasks:
        for name in fields:
            setattr(task, name, counts[task.building_id][name])
    BuildingTask.objects.bulk_update(tasks, fields)
    recount_communities(campaign_id, {t.community_id for t in tasks})


def recount_communities(campaign_id: int, community_ids: Collection[int]) -> None:
    """A community's counters are its tasks' counters summed, and its follow-ups counted."""
    for coverage in (
        Coverage.objects.select_for_update()
        .filter(campaign_id=campaign_id, community_id__in=list(community_ids))
        .order_by("pk")
    ):
        totals = summed(
            BuildingTask.objects.filter(
                campaign_id=campaign_id, community_id=coverage.community_id
            ),
            HouseholdState.objects.filter(
                campaign_id=campaign_id, community_id=coverage.community_id
            ),
        )
        for name, value in totals.items():
            setattr(coverage, name, value)
        coverage.save(update_fields=list(totals))


SUMMED = ("households", "residents", "sampled", "covered", "with_outcome", "notified", "exempt")


def summed(tasks: QuerySet[BuildingTask], states: QuerySet[HouseholdState]) -> dict[str, int]:
    """The ``Coverage`` figures of these tasks and their households' states: a community's row
    when they are all of its tasks, and a grid worker's part of it when they are her grids'
    (``canvass.queries.coverage_for``). Task counters summed and follow-ups counted: no more
    than a few rows per building."""
    totals = tasks.aggregate(
        buildings=Count("id"),
        buildings_claimed=Count("id", filter=Q(status=TaskStatus.CLAIMED)),
        buildings_done=Count("id", filter=Q(status=TaskStatus.DONE)),
        **{name: Sum(name) for name in SUMMED},
    )
    # Only a nobody-home household has a follow-up (``HouseholdState.follow_up``).
    follow = Counter(
        s.follow_up
        for s in states.filter(outcome=Outcome.NOBODY_HOME).only("outcome", "misses", "all_sampled")
    )
    totals["revisits"], totals["phone_calls"] = follow["revisit"], follow["phone"]
    return {name: value or 0 for name, value in totals.items()}
