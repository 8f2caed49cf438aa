"""Round over round: this round beside the last one per community, building and grid, against
a recount from the rows; the people untested in both rounds first on the untested list and in
its export; grids from the roster's 网格 column."""

from __future__ import annotations

import io
import re

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from doorstep.campaigns import actions
from doorstep.command import rounds
from doorstep.sampling.models import RoundSample
from doorstep.territory.actions import import_roster
from doorstep.territory.models import Building, Grid, Resident
from doorstep.testing import client_for, make_campaign
from doorstep.testing.lanes import post, sealed_tube
from doorstep.testing.rosters import HEADER, csv_bytes, row

pytestmark = pytest.mark.django_db


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _sample(world, people, first):  # type: ignore[no-untyped-def]
    for n, person in enumerate(people):
        sealed_tube(world["registrar"], world["lane"], [person], code=str(first + n), pool=1)


@pytest.fixture
def two_days(lane_world):  # type: ignore[no-untyped-def]
    """Round 1: ten of the twelve in 12号楼 and the family of 13号楼 sampled, one positive.
    Round 2 (today): six of 12号楼 sampled so far."""
    people, family = lane_world["people"], lane_world["family"]
    round1 = lane_world["campaign"]
    _sample(lane_world, [*people[:10], *family], 2112251000)
    post(lane_world, {"tube": "2112251000", "result": "positive"})
    actions.close_round(None, round1, confirmed=True)
    round2 = make_campaign(people[0].community, name="第2轮")
    lane_world["campaign"] = round2
    _sample(lane_world, people[:6], 2112252000)
    return {"round1": round1, "round2": round2, **lane_world}


def test_the_comparison_per_community_matches_a_recount(two_days, commander):
    round1, round2 = two_days["round1"], two_days["round2"]
    community = two_days["people"][0].community
    [line] = rounds.by_community(round2, [community.pk])
    residents = Resident.objects.filter(community=community, moved_out=False).count()
    tested = {
        c.pk: RoundSample.objects.filter(campaign=c, resident__community=community).count()
        for c in (round1, round2)
    }
    assert line.previous == round1
    assert line.now == rounds.Figures(residents, tested[round2.pk], residents - 6, 0)
    assert line.before == rounds.Figures(residents, tested[round1.pk], residents - 12, 1)
    assert (line.change("tested"), line.change("positives")) == (6 - 12, -1)
    # Untested in both: 12号楼's last two and 13号楼's neighbour.
    assert line.missed_twice == 3

    page = client_for(commander).get(reverse("command:compare", args=[round2.pk]))
    row_text = text(page.content.decode())
    assert f"{community.name} 第1轮 {residents} ({residents}) 6 (12)" in row_text


def test_the_comparison_per_building_and_per_grid(two_days):
    round2 = two_days["round2"]
    community = two_days["people"][0].community
    by_building = {r.name: r for r in rounds.by_building(round2, community.pk)}
    assert (by_building["12号楼"].now.tested, by_building["12号楼"].before.tested) == (6, 10)
    assert (by_building["13号楼"].now.untested, by_building["13号楼"].missed_twice) == (3, 1)
    grid = Grid.objects.create(community=community, name="第一网格")
    Building.objects.filter(name="12号楼").update(grid=grid)
    per_grid = {r.name: r for r in rounds.by_grid(rounds.by_building(round2, community.pk))}
    assert per_grid["第一网格"].now == by_building["12号楼"].now
    assert per_grid[""].now == by_building["13号楼"].now


def test_those_untested_in_both_rounds_come_first_on_the_list_and_in_the_export(two_days, worker):
    round2 = two_days["round2"]
    people, neighbour = two_days["people"], two_days["neighbour"]
    community = people[0].community
    url = reverse("canvass:untested", args=[round2.pk, community.pk])
    html = client_for(worker).get(url).content.decode()
    # Each person by the link to their page (masked names repeat).
    twice = [reverse("territory:resident", args=[p.pk]) for p in (*people[10:], neighbour)]
    once = [
        reverse("territory:resident", args=[p.pk]) for p in (*people[6:10], *two_days["family"])
    ]
    positions = {link: html.index(f'href="{link}"') for link in twice + once}
    assert max(positions[n] for n in twice) < min(positions[n] for n in once)
    assert html.count('data-testid="missed-before"') == 3

    export = client_for(worker).post(
        reverse("canvass:untested_export", args=[round2.pk, community.pk])
    )
    sheet = load_workbook(io.BytesIO(export.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    flag = rows[0].index("上轮也未检")
    assert [r[flag] for r in rows[1:]] == ["是"] * 3 + [None] * 6


def test_the_roster_grid_column_creates_grids_and_assigns_buildings(community):
    header = [*HEADER, "网格"]
    rows = [
        [*row(0, 楼栋="1号楼"), "第一网格"],
        [*row(1, 楼栋="1号楼"), "第一网格"],
        [*row(2, 楼栋="2号楼"), "第二网格"],
        [*row(3, 楼栋="3号楼"), ""],
    ]
    report = import_roster(community.town.name, csv_bytes(rows, header=header))
    assert not report.errors, report.errors
    assert dict(Building.objects.values_list("name", "grid__name")) == {
        "1号楼": "第一网格",
        "2号楼": "第二网格",
        "3号楼": None,
    }


def test_one_building_in_two_grids_is_a_bad_row_and_nothing_is_written(community):
    header = [*HEADER, "网格"]
    rows = [
        [*row(0, 楼栋="1号楼"), "第一网格"],
        [*row(1, 楼栋="1号楼"), "第二网格"],
    ]
    report = import_roster(community.town.name, csv_bytes(rows, header=header))
    [error] = report.errors
    assert error.row == 3 and "1号楼 is in grid 第一网格 on row 2" in error.message
    assert not Grid.objects.exists() and not Resident.objects.exists()
