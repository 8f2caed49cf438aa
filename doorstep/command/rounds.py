"""Round over round: per community (or per building of one community), residents, tested,
untested and people found positive in this round beside the round before it there, and how
many were untested in both. One definition of each figure: tested and untested are the door-
to-door counters (``Coverage``, ``BuildingTask``) every other page reads; positives are the
people found positive in the place (``campaigns.BuildingPositive``, corrections left out);
"untested in both" is ``canvass.queries.untested`` of the two rounds."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count

from doorstep.campaigns.models import BuildingPositive, Campaign
from doorstep.campaigns.queries import previous_round
from doorstep.canvass import queries as canvass_queries
from doorstep.canvass.models import BuildingTask, Coverage


@dataclass(frozen=True)
class Figures:
    residents: int
    tested: int
    untested: int
    positives: int


@dataclass(frozen=True)
class Row:
    place_id: int
    name: str
    now: Figures
    before: Figures | None
    previous: Campaign | None
    missed_twice: int
    grid: str = ""

    def change(self, name: str) -> int | None:
        """This round's figure minus the previous round's, or None with no previous round."""
        if self.before is None:
            return None
        return int(getattr(self.now, name)) - int(getattr(self.before, name))


def _positives(campaign_id: int, field: str, ids: list[int]) -> dict[int, int]:
    return dict(
        BuildingPositive.objects.filter(
            campaign_id=campaign_id, withdrawn_at__isnull=True, **{f"{field}__in": ids}
        )
        .values(field)
        .annotate(n=Count("tube_code", distinct=True))
        .values_list(field, "n")
    )


def by_community(campaign: Campaign, community_ids: list[int]) -> list[Row]:
    """The round's communities among ``community_ids``, each against its own previous round
    (rounds need not cover the same communities)."""
    here = list(
        Coverage.objects.filter(campaign=campaign, community_id__in=community_ids)
        .select_related("community")
        .order_by("community__name")
    )
    positives = _positives(campaign.pk, "community_id", [c.community_id for c in here])
    rows = []
    for cov in here:
        previous = previous_round(campaign, cov.community_id)
        before = None
        missed = 0
        if previous is not None:
            old = Coverage.objects.filter(campaign=previous, community_id=cov.community_id).first()
            if old is not None:
                before = Figures(
                    old.residents,
                    old.sampled,
                    old.untested,
                    _positives(previous.pk, "community_id", [cov.community_id]).get(
                        cov.community_id, 0
                    ),
                )
            missed = canvass_queries.untested_twice(
                campaign.pk, previous.pk, community_id=cov.community_id
            ).count()
        rows.append(
            Row(
                cov.community_id,
                cov.community.name,
                Figures(
                    cov.residents,
                    cov.sampled,
                    cov.untested,
                    positives.get(cov.community_id, 0),
                ),
                before,
                previous,
                missed,
            )
        )
    return rows


def by_building(campaign: Campaign, community_id: int) -> list[Row]:
    """The community's buildings in walking order, against the previous round there."""
    previous = previous_round(campaign, community_id)
    here = list(
        BuildingTask.objects.filter(campaign=campaign, community_id=community_id)
        .select_related("building__grid")
        .order_by("building__position", "building__name")
    )
    ids = [t.building_id for t in here]
    old = (
        {
            t.building_id: t
            for t in BuildingTask.objects.filter(campaign=previous, building_id__in=ids)
        }
        if previous
        else {}
    )
    positives = _positives(campaign.pk, "building_id", ids)
    old_positives = _positives(previous.pk, "building_id", ids) if previous else {}
    missed: dict[int, int] = {}
    if previous is not None:
        for row in (
            canvass_queries.untested_twice(campaign.pk, previous.pk, community_id=community_id)
            .order_by()
            .values("household__unit__building_id")
            .annotate(n=Count("id"))
        ):
            missed[row["household__unit__building_id"]] = row["n"]
    return [
        Row(
            t.building_id,
            t.building.name,
            Figures(t.residents, t.sampled, t.untested, positives.get(t.building_id, 0)),
            Figures(
                old[t.building_id].residents,
                old[t.building_id].sampled,
                old[t.building_id].untested,
                old_positives.get(t.building_id, 0),
            )
            if t.building_id in old
            else None,
            previous,
            missed.get(t.building_id, 0),
            t.building.grid.name if t.building.grid else "",
        )
        for t in here
    ]


def by_grid(rows: list[Row]) -> list[Row]:
    """A community's buildings (``by_building``) added up per grid (网格); buildings in no grid
    are one row with no name."""
    grids: dict[str, list[Row]] = {}
    for row in rows:
        grids.setdefault(row.grid, []).append(row)

    def total(figures: list[Figures | None]) -> Figures | None:
        known = [f for f in figures if f is not None]
        if not known:
            return None
        return Figures(*(sum(getattr(f, n) for f in known) for n in Figures.__dataclass_fields__))

    return [
        Row(
            0,
            name,
            total([r.now for r in members]) or Figures(0, 0, 0, 0),
            total([r.before for r in members]),
            members[0].previous,
            sum(r.missed_twice for r in members),
            name,
        )
        for name, members in sorted(grids.items(), key=lambda item: (item[0] == "", item[0]))
    ]
