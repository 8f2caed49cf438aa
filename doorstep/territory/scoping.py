"""The one place that decides whose personal data a user may see.

Every query of residents, households, buildings or communities made on behalf of a user goes
through ``scoped``. A district commander sees every town of their district (nothing without
one); town-wide roles (commander, admin) see their town (all towns if they have none set); the
others see only the communities they are assigned to, and a grid worker (a user given grids)
only the buildings of their grids there. Roles without the capability to view
residents see no personal data at all: the lab works with tube codes only.
"""

from __future__ import annotations

from typing import TypeVar

from django.db.models import Model, QuerySet

from doorstep.core.models import User
from doorstep.core.roles import Can
from doorstep.territory.models import Community, Resident, Town

M = TypeVar("M", bound=Model)

# How each model that lives in a building reaches the building's grid: the grid worker's
# narrowing. A model of personal data not named here is narrowed by community only, so a new
# one is added here (test_grid_scope checks every model with a path to Building).
GRID_PATHS = {
    "territory.Building": "grid",
    "territory.Unit": "building__grid",
    "territory.Household": "unit__building__grid",
    "territory.Resident": "household__unit__building__grid",
    "canvass.BuildingTask": "building__grid",
    "canvass.HouseholdState": "household__unit__building__grid",
    "canvass.Visit": "household__unit__building__grid",
    "sampling.HomeTask": "building__grid",
    "sampling.HomeStop": "household__unit__building__grid",
    "sampling.TubeMember": "household__unit__building__grid",
    "assistance.Request": "household__unit__building__grid",
    "lab.RetestOrder": "household__unit__building__grid",
    # A case sheet of a walk-in not yet traced to a household is the whole community's, as the
    # walk-in is.
    "lab.CaseSheet": "household__unit__building__grid",
    # A walk-in is in a grid once a worker has found their household; until then they are the
    # whole community's to find (a worker held to grids sees none of them).
    "sampling.WalkIn": "household__unit__building__grid",
    # A notice or message of a walk-in not traced yet is the community's, as the walk-in is.
    "notices.Notice": "household__unit__building__grid",
    "notices.Message": "household__unit__building__grid",
}


def grid_ids(user: User) -> list[int] | None:
    """The grids a user is held to, or None when they see whole communities."""
    if user.is_town_wide:
        return None
    ids = list(user.grids.values_list("pk", flat=True))
    return ids or None


def scoped(user: User, queryset: QuerySet[M], community_path: str = "community") -> QuerySet[M]:
    """``queryset`` narrowed to the user's territory through ``community_path``.

    ``community_path`` is the lookup from the model to its community; empty for Community.
    """
    if not user.is_authenticated or not user.is_active:
        return queryset.none()
    prefix = f"{community_path}__" if community_path else ""
    if user.is_district_wide:
        if user.district_id is None:
            return queryset.none()
        return queryset.filter(**{f"{prefix}town__district_id": user.district_id})
    if user.is_town_wide:
        if user.town_id is None:
            return queryset
        return queryset.filter(**{f"{prefix}town_id": user.town_id})
    found = queryset.filter(**{f"{prefix or 'pk__'}in": user.communities.all()})
    grid_path = GRID_PATHS.get(queryset.model._meta.label)
    grids = grid_ids(user) if grid_path else None
    if grid_path and grids is not None:
        found = found.filter(**{f"{grid_path}__in": grids})
    return found


def residents_for(user: User) -> QuerySet[Resident]:
    if not user.can(Can.VIEW_RESIDENTS):
        return Resident.objects.none()
    return scoped(user, Resident.objects.all())


def communities_for(user: User) -> QuerySet[Community]:
    return scoped(user, Community.objects.all(), community_path="").order_by("name")


def town_ids(user: User) -> set[int] | None:
    """The towns a user works in; None means every town (an admin with no town set)."""
    if not user.is_authenticated or not user.is_active:
        return set()
    if user.is_district_wide:
        towns = Town.objects.filter(district_id=user.district_id) if user.district_id else []
        return {town.pk for town in towns}
    if user.is_town_wide and user.town_id is None:
        return None
    ids = set(user.communities.values_list("town_id", flat=True))
    if user.town_id is not None:
        ids.add(user.town_id)
    return ids


def scoped_to_towns(user: User, queryset: QuerySet[M], town_path: str = "town") -> QuerySet[M]:
    """``queryset`` narrowed to the towns the user works in (workforce, sites, lanes)."""
    ids = town_ids(user)
    if ids is None:
        return queryset
    return queryset.filter(**{f"{town_path}_id__in": ids})
