"""The door-to-door counters: opened with the campaign, moved by the actions in their own
transactions, read by the coverage pages and the dashboard. Nothing here counts raw rows on a
page's request: ``open_tasks`` counts once, when a campaign is created, and ``recount`` when
the roster changes under a running round."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Sequence

from django.db.models import Count, Exists, Model, OuterRef, Q, QuerySet, Sum

from doorstep.campaigns.models import Campaign, CampaignBuilding
from doorstep.canvass.models import (
    BuildingTask,
    Coverage,
    HouseholdState,
    Outcome,
    TaskStatus,
    is_covered,
)
from doorstep.core import bulk, counters, sql
from doorstep.sampling import hooks, tally
from doorstep.sampling.models import RoundSample
from doorstep.territory.models import Household, Resident, Unit


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
    by_campaign: dict[int, set[int]] = defaultdict(set)
    for s in sampled:
        by_campaign[s.campaign_id].add(s.resident_id)
    for campaign_id, resident_ids in sorted(by_campaign.items()):
        add_sampled(campaign_id, resident_ids)


def add_sampled(campaign_id: int, resident_ids: Collection[int]) -> None:
    """Residents newly sampled this round (their samples folded, ``RoundSample.folded``):
    counted per building and community, members of exempt households taken off the exempt
    count (they are now simply sampled), and households whose every member is now sampled
    covered (``_all_sampled``).

    Set-based, whatever the number of people: one UPDATE of the buildings' counters and one of
    the communities', each from a grouped read of the people; two statements for the households
    now all sampled, and two more only when some are. Before, the same work was five to seven
    ORM reads with a Python pass over every person, a quarter of a busy server's CPU.

    A resident marked moved out is no longer one of the round's residents: sampled anyway (at a
    lane, on their old person code), they count nowhere, as ``recount`` counts them."""
    ids = sorted(set(resident_ids))
    if not ids:
        return
    person, person_params = sql.any_of("r.id", ids, "bigint")
    # Per building: the people sampled, and those of them whose household was exempt.
    per_building = (
        f"SELECT u.{_c(Unit, 'building')} AS building_id, COUNT(*) AS sampled, "
        f"SUM(CASE WHEN s.{_c(HouseholdState, 'outcome')} = %s THEN 1 ELSE 0 END) AS exempt "
        f"FROM {_t(Resident)} r "
        f"JOIN {_t(Household)} h ON h.id = r.{_c(Resident, 'household')} "
        f"JOIN {_t(Unit)} u ON u.id = h.{_c(Household, 'unit')} "
        f"LEFT JOIN {_t(HouseholdState)} s ON s.{_c(HouseholdState, 'campaign')} = %s "
        f"AND s.{_c(HouseholdState, 'household')} = r.{_c(Resident, 'household')} "
        f"WHERE {person} AND NOT r.{_c(Resident, 'moved_out')} "
        f"GROUP BY u.{_c(Unit, 'building')}"
    )
    params = [Outcome.EXEMPT.value, campaign_id, *person_params]
    task, coverage = _t(BuildingTask), _t(Coverage)
    # Buildings, then communities, as every writer of both does.
    sql.execute(
        f"UPDATE {task} SET sampled = {task}.sampled + m.sampled, "
        f"exempt = {task}.exempt - m.exempt FROM ({per_building}) m "
        f"WHERE {task}.{_c(BuildingTask, 'campaign')} = %s "
        f"AND {task}.{_c(BuildingTask, 'building')} = m.building_id",
        [*params, campaign_id],
    )
    sql.execute(
        f"UPDATE {coverage} SET sampled = {coverage}.sampled + m.sampled, "
        f"exempt = {coverage}.exempt - m.exempt "
        f"FROM (SELECT t.{_c(BuildingTask, 'community')} AS community_id, "
        f"SUM(p.sampled) AS sampled, SUM(p.exempt) AS exempt FROM ({per_building}) p "
        f"JOIN {task} t ON t.{_c(BuildingTask, 'campaign')} = %s "
        f"AND t.{_c(BuildingTask, 'building')} = p.building_id "
        f"GROUP BY t.{_c(BuildingTask, 'community')}) m "
        f"WHERE {coverage}.{_c(Coverage, 'campaign')} = %s "
        f"AND {coverage}.{_c(Coverage, 'community')} = m.community_id",
        [*params, campaign_id, campaign_id],
    )
    _all_sampled(campaign_id, ids)


def _t(model: type[Model]) -> str:
    return model._meta.db_table


def _c(model: type[Model], name: str) -> str:
    """A field's column, looked up so that a renamed field fails here, not in the database."""
    column = getattr(model._meta.get_field(name), "column", None)
    if not column:
        raise LookupError(f"{model.__name__}.{name} has no column of its own")
    return str(column)


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


def _all_sampled(campaign_id: int, resident_ids: list[int]) -> None:
    """Households of these residents whose every member is now sampled (``sampled_households``,
    the one definition) are marked so: each one not covered before is covered from now on, and
    it leaves the revisit list (a household sampled at a site needs no knock).

    The households are found by two small reads (the residents' households; their members and
    samples by index, a correlated EXISTS) and handed to the writes as a list: written as one
    nested NOT EXISTS inside each write, PostgreSQL planned it as a scan of every member against
    every sample, seconds a fold on a rehearsal's town."""
    homes = set(
        Resident.objects.filter(pk__in=resident_ids, moved_out=False).values_list(
            "household_id", flat=True
        )
    )
    _members, _sampled, complete = sampled_households(campaign_id, homes)
    if not complete:
        return
    state = _t(HouseholdState)
    done, done_params = sql.any_of("{column}", sorted(complete), "bigint")
    # Households with a state already (a tap, a miss): the counters move by what they were.
    flipped = sql.fetch(
        f"UPDATE {state} SET {_c(HouseholdState, 'all_sampled')} = %s "
        f"WHERE {_c(HouseholdState, 'campaign')} = %s "
        f"AND NOT {_c(HouseholdState, 'all_sampled')} "
        f"AND {done.format(column=_c(HouseholdState, 'household'))} "
        f"RETURNING {_c(HouseholdState, 'task')}, {_c(HouseholdState, 'community')}, "
        f"{_c(HouseholdState, 'outcome')}, {_c(HouseholdState, 'misses')}",
        [True, campaign_id, *done_params],
    )
    # Households never tapped: a state that says so, covered from now on.
    fresh = sql.fetch(
        f"INSERT INTO {state} ({_c(HouseholdState, 'campaign')}, "
        f"{_c(HouseholdState, 'household')}, {_c(HouseholdState, 'task')}, "
        f"{_c(HouseholdState, 'community')}, {_c(HouseholdState, 'outcome')}, "
        f"{_c(HouseholdState, 'exempt_reason')}, {_c(HouseholdState, 'misses')}, "
        f"{_c(HouseholdState, 'all_sampled')}) "
        f"SELECT %s, h.id, t.id, t.{_c(BuildingTask, 'community')}, '', '', 0, %s "
        f"FROM {_t(Household)} h JOIN {_t(Unit)} u ON u.id = h.{_c(Household, 'unit')} "
        f"JOIN {_t(BuildingTask)} t ON t.{_c(BuildingTask, 'campaign')} = %s "
        f"AND t.{_c(BuildingTask, 'building')} = u.{_c(Unit, 'building')} "
        f"WHERE {done.format(column='h.id')} AND NOT EXISTS (SELECT 1 FROM {state} x "
        f"WHERE x.{_c(HouseholdState, 'campaign')} = %s "
        f"AND x.{_c(HouseholdState, 'household')} = h.id) "
        f"ORDER BY h.id "
        f"ON CONFLICT ({_c(HouseholdState, 'campaign')}, {_c(HouseholdState, 'household')}) "
        f"DO NOTHING "
        f"RETURNING {_c(HouseholdState, 'task')}, {_c(HouseholdState, 'community')}",
        [campaign_id, True, campaign_id, *done_params, campaign_id],
    )
    if not flipped and not fresh:
        return
    per_task: dict[int, Counter[str]] = defaultdict(Counter)
    communities: dict[int, int] = {}
    for task_id, community_id in fresh:
        per_task[task_id]["covered"] += 1
        communities[task_id] = community_id
    for task_id, community_id, outcome, misses in flipped:
        before = HouseholdState(outcome=outcome, misses=misses)  # not all sampled until now
        moved = per_task[task_id]
        moved["covered"] += not is_covered(outcome, False)
        moved["revisits"] -= before.follow_up == "revisit"
        moved["phone_calls"] -= before.follow_up == "phone"
        communities[task_id] = community_id
    per_community: dict[int, Counter[str]] = defaultdict(Counter)
    for task_id, moved in per_task.items():
        per_community[communities[task_id]].update(moved)
    task_fields = [f for f in FOLLOWED if hasattr(BuildingTask, f)]
    # Buildings, then communities, each in id order: one lock order for every writer.
    bulk.add(
        BuildingTask,
        ("id",),
        task_fields,
        [(t, *(per_task[t][f] for f in task_fields)) for t in sorted(per_task)],
    )
    bulk.add(
        Coverage,
        ("campaign_id", "community_id"),
        FOLLOWED,
        [(campaign_id, c, *(per_community[c][f] for f in FOLLOWED)) for c in sorted(per_community)],
    )


# What a household's being all sampled moves.
FOLLOWED = ("covered", "revisits", "phone_calls")


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
