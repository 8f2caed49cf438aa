"""One untested figure: the coverage's count and the untested list hold the same people at
every step, whatever happened in between (a household marked moved out whose people are still
sampled at a lane; a sample the fold has not counted yet), for the community and for a grid
worker's grid."""

from __future__ import annotations

import pytest
from django.urls import reverse

from doorstep.canvass import actions as canvass
from doorstep.canvass import queries
from doorstep.canvass.models import BuildingTask, Coverage
from doorstep.canvass.outcomes import record
from doorstep.core.roles import Role
from doorstep.sampling import tally
from doorstep.sampling.models import RoundSample
from doorstep.territory.models import Grid
from doorstep.testing import client_for, make_door_team, make_user, tap
from doorstep.testing.lanes import sealed_tube

pytestmark = pytest.mark.django_db


def _figures(world) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    campaign, community = world["campaign"], world["lane"].site.community
    cov = Coverage.objects.get(campaign=campaign, community=community)
    return cov.untested, queries.untested(campaign.pk, community_id=community.pk).count()


def test_a_moved_out_household_sampled_anyway_counts_nowhere(lane_world, leader):
    campaign, family = lane_world["campaign"], lane_world["family"]
    make_door_team(family[0].community, "第2组", leader)
    task = BuildingTask.objects.get(campaign=campaign, building=family[0].household.unit.building)
    canvass.claim(leader, task)
    record(leader, task, [tap(family[0].household, "moved_out")])
    assert _figures(lane_world) == (13, 13)  # 15 residents, the 王 family moved out
    # They come to a lane on their old person codes all the same.
    sealed_tube(lane_world["registrar"], lane_world["lane"], family, pool="household")
    tally.fold(wait=True)
    assert _figures(lane_world) == (13, 13)


def test_a_sample_not_yet_folded_is_on_both_or_on_neither(lane_world, settings, monkeypatch):
    people = lane_world["people"]
    # As in a server: the scan commits, the folding thread counts it a moment later.
    settings.FOLD_INLINE = False
    monkeypatch.setattr(tally, "fold_soon", lambda: None)
    sealed_tube(lane_world["registrar"], lane_world["lane"], people[:3])
    assert RoundSample.objects.filter(folded=False).count() == 3
    assert _figures(lane_world) == (15, 15)
    tally.fold(wait=True)
    assert _figures(lane_world) == (12, 12)


def test_a_grid_workers_button_counts_her_list(lane_world, community):
    grid = Grid.objects.create(community=community, name="第1网格")
    building = lane_world["family"][0].household.unit.building
    building.grid = grid
    building.save(update_fields=["grid"])
    worker = make_user(Role.COMMUNITY_WORKER, community)
    worker.grids.add(grid)
    sealed_tube(lane_world["registrar"], lane_world["lane"], lane_world["family"][:1], pool=1)
    tally.fold(wait=True)
    campaign = lane_world["campaign"]
    client = client_for(worker)
    page = client.get(
        reverse("canvass:community", args=[campaign.pk, community.pk])
    ).content.decode()
    listing = client.get(
        reverse("canvass:untested", args=[campaign.pk, community.pk])
    ).content.decode()
    assert "Untested list (2)" in page  # 王母 and the neighbour: her grid's building only
    body = listing.split("<tbody>")[1].split("</tbody>")[0]
    assert body.count("<tr>") == 2 and "13号楼" in body and "12号楼" not in body
