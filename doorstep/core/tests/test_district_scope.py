"""The district level of the fence: a district commander sees every town of their district and
nothing of another district's; a town's commander stays inside their town even when a sibling
town of the same district is in outbreak. Proven by walking every URL as each role
(``doorstep.testing.crawl``), as the grid fence is."""

from __future__ import annotations

import pytest
from django.utils import timezone

from doorstep.api.actions import issue_token
from doorstep.core.models import User
from doorstep.core.roles import Role
from doorstep.territory.models import Resident
from doorstep.territory.scoping import scoped, town_ids
from doorstep.testing import (
    client_for,
    make_district,
    make_staff,
    make_town,
    make_unit,
    make_user,
)
from doorstep.testing.crawl import People, crawl, leaks
from doorstep.testing.world import World, build_world
from doorstep.workforce.actions import support
from doorstep.workforce.models import Purpose

pytestmark = pytest.mark.django_db

OWN_LISTS = {"canvass:revisits", "canvass:untested", "lab:pools", "territory:residents"}


@pytest.fixture
def world(db) -> World:  # type: ignore[no-untyped-def]
    world = build_world()
    make_district("西青区", world.town.name, "杨柳青镇", "大寺镇")
    make_district("东丽区", "军粮城街")
    world.town.refresh_from_db()
    # 杨柳青镇 sends a batch into the town in outbreak; 大寺镇 is asked for nobody.
    asked = support.ask_for_people(
        None,
        world.town,
        people=4,
        purpose=Purpose.DOOR_TO_DOOR,
        community=world.communities["a"],
        muster_point="镇政府",
        needed_by=timezone.now(),
    )
    quota = support.set_quota(None, asked, make_town("杨柳青镇"), 4)
    unit = make_unit("杨柳青镇机关", make_town("杨柳青镇"))
    sent = [make_staff(unit, name=name) for name in SENT]
    support.depart(None, support.send_batch(None, quota, sent))
    return world


# The people 杨柳青镇 sends: names found nowhere else in the world.
SENT = ("欧阳派甲", "欧阳派乙")


def _staff_seen(user: User) -> set[str]:
    """The names of the sent staff anywhere the user can reach."""
    fetched = crawl(client_for(user), issue_token(user)[1], [])
    return {name for f in fetched for name in SENT if name in f.text}


def _crawl_as(world: World, user: User, shown: list) -> tuple[list[str], set[str]]:  # type: ignore[type-arg]
    mine = {(type(p), p.pk) for p in shown}
    hidden = [p for p in world.everyone() if (type(p), p.pk) not in mine]
    searches = [t for r in hidden if isinstance(r, Resident) for t in (r.person_code, r.name)]
    fetched = list(crawl(client_for(user), issue_token(user)[1], searches[:8]))
    seen_own = {f.route.name for f in fetched if People(hidden=shown, shown=[]).found(f.text)}
    return leaks(fetched, People(hidden=hidden, shown=shown)), seen_own


def test_the_district_commander_sees_the_town_in_outbreak_in_every_list(world):
    chief = make_user(Role.DISTRICT_COMMANDER, district=world.town.district)
    found, seen_own = _crawl_as(world, chief, world.everyone())
    assert found == []
    assert seen_own >= OWN_LISTS


def test_another_districts_commander_finds_nobody_of_this_district_at_any_url(world):
    other = make_user(Role.DISTRICT_COMMANDER, district=make_district("东丽区"))
    found, _seen = _crawl_as(world, other, [])
    assert found == [], "\n".join(found)


def test_the_staff_sent_are_seen_by_both_towns_and_the_district_and_nobody_else(world):
    """The receiving town sees whom the work needs; a town the district did not ask, and another
    district, see nobody of the batch at any URL."""
    assert _staff_seen(make_user(Role.COMMANDER, town=world.town)) == set(SENT)
    assert _staff_seen(make_user(Role.COMMANDER, town=make_town("杨柳青镇"))) == set(SENT)
    assert _staff_seen(make_user(Role.DISTRICT_COMMANDER, district=world.town.district)) == set(
        SENT
    )
    assert _staff_seen(make_user(Role.COMMANDER, town=make_town("大寺镇"))) == set()
    assert (
        _staff_seen(make_user(Role.DISTRICT_COMMANDER, district=make_district("东丽区"))) == set()
    )


def test_a_sibling_towns_commander_finds_nobody_of_the_town_in_outbreak(world):
    sibling = make_user(Role.COMMANDER, town=make_town("杨柳青镇"))
    found, _seen = _crawl_as(world, sibling, [])
    assert found == [], "\n".join(found)


def test_scope_by_role_at_the_district_level(world):
    district = world.town.district
    sibling, unasked = make_town("杨柳青镇"), make_town("大寺镇")
    far = make_town("军粮城街")
    everyone = Resident.objects.all()
    chief = make_user(Role.DISTRICT_COMMANDER, district=district)
    assert town_ids(chief) == {world.town.pk, sibling.pk, unasked.pk}
    assert scoped(chief, everyone).count() == len(world.residents(*world.buildings))
    # Without a district a district commander sees nothing, not everything.
    lost = make_user(Role.DISTRICT_COMMANDER)
    assert town_ids(lost) == set()
    assert scoped(lost, everyone).count() == 0
    # A town's commander is still town-wide only, whatever the district holds.
    assert town_ids(make_user(Role.COMMANDER, town=sibling)) == {sibling.pk}
    assert scoped(make_user(Role.COMMANDER, town=far), everyone).count() == 0
    # A district commander's town, if one is set, does not narrow or widen the district.
    chief.town = far
    chief.save()
    assert town_ids(chief) == {world.town.pk, sibling.pk, unasked.pk}
