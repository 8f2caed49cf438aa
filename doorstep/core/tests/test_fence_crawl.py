"""Every URL the URL conf can build, walked as a grid worker and as a community worker in a
small town with a morning's work in it (``doorstep.testing.world``): no page, fragment, export
or API answer shows a person outside the user's fence (a name, document or phone, masked or
full, a room or a person code). The URLs come from the URL conf and their arguments from every
object in the town, the user's and everyone else's (``doorstep.testing.crawl``)."""

from __future__ import annotations

import pytest

from doorstep.api.actions import issue_token
from doorstep.core.models import User
from doorstep.core.roles import Role
from doorstep.sampling.models import WalkIn
from doorstep.territory.models import Resident
from doorstep.testing import client_for, make_user
from doorstep.testing.crawl import People, crawl, leaks
from doorstep.testing.world import World, build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db) -> World:  # type: ignore[no-untyped-def]
    return build_world()


def _searches(hidden: list[Resident | WalkIn]) -> list[str]:
    """What a user might type in a search box to find someone outside the fence."""
    residents = [p for p in hidden if isinstance(p, Resident)]
    one_per_building = {r.household.unit.building_id: r for r in residents}.values()
    return [t for r in one_per_building for t in (r.person_code, r.masked_name, r.name)]


def _walk(world: World, user: User, shown: list[Resident | WalkIn]) -> tuple[list[str], set[str]]:
    """What the crawl finds of the people outside ``shown``, and the routes that showed the
    user's own."""
    mine = {(type(p), p.pk) for p in shown}
    hidden = [p for p in world.everyone() if (type(p), p.pk) not in mine]
    fetched = list(crawl(client_for(user), issue_token(user)[1], _searches(hidden)))
    own = People(hidden=shown, shown=[])
    seen_own = {f.route.name for f in fetched if own.found(f.text)}
    return leaks(fetched, People(hidden=hidden, shown=shown)), seen_own


# The lists where the town's morning puts the user's own people: the crawl must see them there,
# or a list that shows nobody would pass for a fence.
OWN_LISTS = {
    "canvass:revisits",
    "canvass:untested",
    "canvass:task",
    "sampling:home_task",
    "lab:retests",
    "lab:pools",
    "notices:doors",
    "assistance:index",
    "territory:residents",
}


def test_a_grid_worker_finds_nobody_outside_her_grid_at_any_url(world):
    gridder = make_user(Role.COMMUNITY_WORKER, world.communities["a"])
    gridder.grids.set([world.grids["first"]])
    found, seen_own = _walk(world, gridder, world.people("a1"))
    assert found == [], "\n".join(found)
    assert seen_own >= OWN_LISTS


def test_a_community_worker_finds_nobody_of_another_community_at_any_url(world):
    worker = make_user(Role.COMMUNITY_WORKER, world.communities["a"])
    found, seen_own = _walk(world, worker, world.people("a1", "a2"))
    assert found == [], "\n".join(found)
    assert seen_own >= OWN_LISTS
