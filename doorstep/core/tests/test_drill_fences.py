"""A drill runs on the real roster, so its work lists are lists of real people: each page that
shows a drill's person marks them as the drill's (a drill row, or a drill's own page), and
nothing of a drill reaches the lists of real work unmarked. Checked by walking every URL
(``doorstep.testing.crawl``) in a town where a drill runs beside a real round
(``doorstep.testing.world``)."""

from __future__ import annotations

import re

import pytest
from django.apps import apps
from django.db.models import Model
from django.urls import reverse

from doorstep.api.actions import issue_token
from doorstep.campaigns.models import CampaignStatus
from doorstep.core.roles import Role
from doorstep.sampling.models import Tube
from doorstep.territory.scoping import GRID_PATHS
from doorstep.testing import client_for, make_user
from doorstep.testing.crawl import People, crawl, unmarked
from doorstep.testing.world import World, build_world

pytestmark = pytest.mark.django_db

PEOPLE = {"territory.Resident", "territory.Household", "sampling.WalkIn", "sampling.TubeMember"}
# Rows a drill never makes, each with the test that holds it.
NEVER_IN_A_DRILL = {
    "notices.Message": "a drill texts nobody (notices/tests/test_telling.py, "
    "test_a_drill_texts_nobody_and_practises_every_notice_at_the_door)",
}
# The roster shows people as they live in their community, not as rows of any round.
NOT_WORK = ("territory:",)


@pytest.fixture
def world(db) -> World:  # type: ignore[no-untyped-def]
    return build_world()


def _links(model: type[Model]) -> dict[str, type[Model]]:
    return {
        f.name: f.related_model
        for f in model._meta.get_fields()
        if getattr(f, "many_to_one", False) and f.related_model is not None
    }


def _round_path(model: type[Model]) -> str | None:
    """The model's way to its round: its own field, or its parent's (a home stop's task's)."""
    links = _links(model)
    for name, to in links.items():
        if to._meta.label == "campaigns.Campaign":
            return name
    for name, to in links.items():
        inner = [n for n, t in _links(to).items() if t._meta.label == "campaigns.Campaign"]
        if inner and to._meta.label != "campaigns.Campaign":
            return f"{name}__{inner[0]}"
    return None


def _rounds_of_people() -> dict[str, str]:
    """Every model that puts a person (or a building of people) in a round: label → its path
    to the round."""
    found = {}
    for model in apps.get_models():
        label = model._meta.label
        person = label in PEOPLE | set(GRID_PATHS) or any(
            to._meta.label in PEOPLE for to in _links(model).values()
        )
        path = _round_path(model) if person and model.__module__.startswith("doorstep") else None
        if path:
            found[label] = path
    return found


def test_the_crawled_town_has_drill_rows_of_every_kind_of_person_in_a_round(world):
    """So that a new list of people in a round is walked with drill rows in it."""
    rounds = _rounds_of_people()
    assert {"lab.RetestOrder", "sampling.HomeStop", "canvass.HouseholdState"} <= set(rounds)
    missing = [
        label
        for label, field in rounds.items()
        if label not in NEVER_IN_A_DRILL
        and not apps.get_model(label)
        ._default_manager.filter(
            **{f"{field}__is_drill": True, f"{field}__status": CampaignStatus.ACTIVE}
        )
        .exists()
    ]
    assert missing == [], "add rows of these to doorstep/testing/world.py's drill"


def test_every_page_marks_each_drill_person_it_shows(world):
    drill_people = People(hidden=world.people("c1"), shown=[])
    worker = make_user(Role.COMMUNITY_WORKER, world.communities["a"], world.communities["c"])
    found = []
    for user in (worker, world.users["commander"]):
        for fetched in crawl(client_for(user), issue_token(user)[1], []):
            if fetched.route.name.startswith(NOT_WORK):
                continue
            if shown := unmarked(fetched, drill_people):
                found.append(f"{user.role}: {fetched} shows {', '.join(shown)} unmarked")
    assert found == [], "\n".join(found)


def test_the_retest_list_marks_a_drills_pools_and_alerts(world):
    """The retest list holds every round running in the worker's communities: the drill's
    pool, its stay-home people and its alerts each say drill; the real round's do not."""
    worker = make_user(Role.COMMUNITY_WORKER, world.communities["a"], world.communities["c"])
    html = client_for(worker).get(reverse("lab:retests")).content.decode()
    items = re.findall(r"<(?:li|tr)\b[^>]*>.*?</(?:li|tr)>", html, re.S)
    drill_pool = Tube.objects.get(campaign=world.drill, retest_of__isnull=True)
    real_pool = "2112250001"
    drill = [i for i in items if drill_pool.code in i]
    real = [i for i in items if real_pool in i]
    assert len(drill) >= 2 and all("data-drill" in i and "badge drill" in i for i in drill)
    assert len(real) >= 2 and not any("data-drill" in i for i in real)
