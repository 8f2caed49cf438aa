"""Reads of the territory worth naming. Callers pass querysets already scoped to the user."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Count, Q, QuerySet

from doorstep.territory.models import Building, Community, Household, Resident


def community_summaries(communities: QuerySet[Community]) -> QuerySet[Community]:
    """Each community with its numbers of buildings, households and residents (one query)."""
    return communities.annotate(
        building_count=Count("buildings", distinct=True),
        resident_count=Count("residents", distinct=True),
    ).order_by("name")


def buildings_nearest_first(community: Community) -> QuerySet[Building]:
    return (
        community.buildings.annotate(
            household_count=Count("units__households", distinct=True),
            resident_count=Count(
                "units__households__residents",
                filter=Q(units__households__residents__moved_out=False),
                distinct=True,
            ),
        )
        .select_related("grid")
        .order_by("position", "name")
    )


def households_with_residents(building: Building) -> list[tuple[Household, list[Resident]]]:
    """The building's households by unit and floor, each with its residents (two queries)."""
    households = list(
        Household.objects.filter(unit__building=building)
        .select_related("unit")
        .order_by("unit__name", "floor", "room")
    )
    members: dict[int, list[Resident]] = defaultdict(list)
    for resident in Resident.objects.filter(household__in=households).order_by("id"):
        members[resident.household_id].append(resident)
    return [(h, members[h.pk]) for h in households]


def search_residents(residents: QuerySet[Resident], text: str) -> QuerySet[Resident]:
    """By name, by full document number, by the last four characters of it, or by person code."""
    from doorstep.core.codes import parse_person_code

    text = text.strip()
    if not text:
        return residents
    code = parse_person_code(text)
    if code:
        return residents.filter(person_code=code)
    if len(text) >= 15:
        return residents.filter(id_number=text.upper())
    if len(text) == 4 and text[:3].isdigit():
        return residents.filter(id_number__endswith=text.upper())
    return residents.filter(name__contains=text)
