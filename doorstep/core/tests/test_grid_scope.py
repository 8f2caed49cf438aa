"""A grid worker (a community worker given grids) sees, within their community, only the
buildings of their grids, on every path to personal data: the resident list and search, a
resident's page, a building's page and code sheets, the community's buildings and export, the
untested list and its export, special needs. A worker without grids still sees the whole
community, and the commander the town."""

from __future__ import annotations

import io

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from doorstep.assistance import actions as need_actions
from doorstep.canvass import actions as canvass
from doorstep.canvass import counters
from doorstep.canvass.models import BuildingTask, Coverage, HouseholdState
from doorstep.canvass.outcomes import record
from doorstep.core.roles import Role
from doorstep.sampling.actions import home
from doorstep.sampling.models import HomeTask
from doorstep.territory.models import Grid
from doorstep.territory.scoping import GRID_PATHS, residents_for
from doorstep.testing import (
    client_for,
    make_building,
    make_campaign,
    make_door_team,
    make_household,
    make_resident,
    make_user,
    tap,
)

pytestmark = pytest.mark.django_db

# Models that reach a building but are never listed to a user through ``scoped``: they are
# read by a code (a tube, a lane's own events) or summed into counters.
NOT_LISTED = {
    "campaigns.CampaignBuilding",
    "campaigns.ZoneChange",
    "campaigns.BuildingPositive",
    "sampling.RoundSample",
    "sampling.Tube",
}
PLACES = {"territory.Building", "territory.Unit", "territory.Household", "territory.Resident"}


def test_every_model_that_lives_in_a_building_has_its_grid_path():
    found = set()
    for model in apps.get_models():
        if not model.__module__.startswith("doorstep"):
            continue
        fks = [
            f
            for f in model._meta.get_fields()
            if getattr(f, "many_to_one", False)
            and f.related_model is not None
            and f.related_model._meta.label in PLACES
        ]
        if fks or model._meta.label == "territory.Building":
            found.add(model._meta.label)
    assert found - NOT_LISTED == set(GRID_PATHS)


@pytest.fixture
def grids(community):  # type: ignore[no-untyped-def]
    """阳光里: 1号楼 in 第一网格 (张三's), 2号楼 in 第二网格 (李四's)."""
    first = Grid.objects.create(community=community, name="第一网格")
    second = Grid.objects.create(community=community, name="第二网格")
    mine = make_building(community, "1号楼", position=1)
    theirs = make_building(community, "2号楼", position=2)
    mine.grid, theirs.grid = first, second
    mine.save(update_fields=["grid"])
    theirs.save(update_fields=["grid"])
    me = make_resident(make_household(mine, "101"), "张三")
    them = make_resident(make_household(theirs, "101"), "李四")
    gridder = make_user(Role.COMMUNITY_WORKER, community)
    gridder.grids.set([first])
    return {"mine": mine, "theirs": theirs, "me": me, "them": them, "gridder": gridder}


def test_the_grid_worker_reads_only_their_grid_on_every_page(grids, community, worker):
    client = client_for(grids["gridder"])
    me, them = grids["me"], grids["them"]
    assert list(residents_for(grids["gridder"])) == [me]
    listing = client.get(reverse("territory:residents")).content.decode()
    assert me.masked_name in listing and them.masked_name not in listing
    assert client.get(reverse("territory:resident", args=[me.pk])).status_code == 200
    assert client.get(reverse("territory:resident", args=[them.pk])).status_code == 404
    assert client.get(reverse("territory:building", args=[grids["theirs"].pk])).status_code == 404
    assert (
        client.get(reverse("territory:building_codes", args=[grids["theirs"].pk])).status_code
        == 404
    )
    household = them.household
    assert client.get(reverse("territory:household_codes", args=[household.pk])).status_code == 404
    page = client.get(reverse("territory:community", args=[community.pk])).content.decode()
    assert "1号楼" in page and "2号楼" not in page
    export = client.get(reverse("territory:community_export", args=[community.pk]))
    names = [
        r[3]
        for r in load_workbook(io.BytesIO(export.content)).active.iter_rows(
            min_row=2, values_only=True
        )
    ]
    assert names == [me.masked_name]
    # A community worker without grids sees the whole community.
    assert set(residents_for(worker)) == {me, them}


def test_the_untested_list_and_its_export_keep_to_the_grid(grids, community):
    campaign = make_campaign(community)
    client = client_for(grids["gridder"])
    url = reverse("canvass:untested", args=[campaign.pk, community.pk])
    html = client.get(url).content.decode()
    me, them = grids["me"], grids["them"]
    assert reverse("territory:resident", args=[me.pk]) in html
    assert reverse("territory:resident", args=[them.pk]) not in html
    export = client.post(reverse("canvass:untested_export", args=[campaign.pk, community.pk]))
    rows = list(load_workbook(io.BytesIO(export.content)).active.iter_rows(values_only=True))
    assert len(rows) == 2  # the header and 张三
    task = campaign.canvass_tasks.get(building=grids["theirs"])
    assert client.get(reverse("canvass:task", args=[task.pk])).status_code == 404


def test_special_needs_of_other_grids_are_not_listed(grids, community, commander):
    campaign = make_campaign(community)
    for person in (grids["me"], grids["them"]):
        need_actions.register(
            commander,
            need_actions.Who(resident=person),
            kind="medication",
            needed_by=timezone.now(),
            source="worker",
        )
    assert campaign is not None
    theirs = grids["them"]
    html = client_for(grids["gridder"]).get(reverse("assistance:index")).content.decode()
    assert grids["me"].masked_name in html and theirs.masked_name not in html
    everything = client_for(commander).get(reverse("assistance:index")).content.decode()
    assert theirs.masked_name in everything


def test_the_door_to_door_pages_count_and_list_only_her_grids(grids, community, worker, leader):
    """The community page's figures and buildings, the coverage page's row and the revisit
    list are her grids'; a worker without grids gets the community's counters."""
    campaign = make_campaign(community)
    make_door_team(community, "第1组", leader)
    theirs = BuildingTask.objects.get(campaign=campaign, building=grids["theirs"])
    canvass.claim(leader, theirs)
    record(leader, theirs, [tap(grids["them"].household, "nobody_home")])
    page = reverse("canvass:community", args=[campaign.pk, community.pk])
    coverage = reverse("canvass:coverage", args=[campaign.pk])
    revisits = reverse("canvass:revisits", args=[campaign.pk, community.pk])
    figures = ("buildings", "households", "residents", "untested", "revisits", "with_outcome")
    gridder = client_for(grids["gridder"])
    response = gridder.get(page)
    assert [getattr(response.context["cov"], f) for f in figures] == [1, 1, 1, 1, 0, 0]
    assert [t.building for t in response.context["tasks"]] == [grids["mine"]]
    assert "Untested list (1)" in response.content.decode()
    [row] = gridder.get(coverage).context["rows"]
    assert [getattr(row, f) for f in figures] == [1, 1, 1, 1, 0, 0]
    assert grids["them"].masked_name not in gridder.get(revisits).content.decode()
    whole = client_for(worker)
    response = whole.get(page)
    assert [getattr(response.context["cov"], f) for f in figures] == [2, 2, 2, 2, 1, 1]
    row = Coverage.objects.get(campaign=campaign)
    assert response.context["cov"] == row
    # Her figures are summed by the function that keeps the community's row: over all of its
    # tasks it gives that row.
    summed = counters.summed(
        BuildingTask.objects.filter(campaign=campaign),
        HouseholdState.objects.filter(campaign=campaign),
    )
    assert summed == {name: getattr(row, name) for name in summed}
    assert grids["them"].masked_name in whole.get(revisits).content.decode()


def test_home_sampling_lists_and_opens_only_her_grids_buildings(grids, community, worker):
    campaign = make_campaign(community)
    for person in (grids["me"], grids["them"]):
        home.need_home(campaign.pk, person.household, timezone.now())
    mine = HomeTask.objects.get(building=grids["mine"])
    theirs = HomeTask.objects.get(building=grids["theirs"])
    client = client_for(grids["gridder"])
    listing = client.get(reverse("sampling:home")).content.decode()
    assert reverse("sampling:home_task", args=[mine.pk]) in listing
    assert reverse("sampling:home_task", args=[theirs.pk]) not in listing
    assert client.get(reverse("sampling:home_task", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("sampling:home_task", args=[mine.pk])).status_code == 200
    everything = client_for(worker).get(reverse("sampling:home")).content.decode()
    assert reverse("sampling:home_task", args=[theirs.pk]) in everything
