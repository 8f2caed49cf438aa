"""Sites shared between neighbouring communities, when sharing is cheaper.

A community of 150 people does not need a site, a lane and a door team of its own: one lane
swabs about 85 people an hour, some 470 over the arrival window. ``share_sites`` puts runs of
neighbouring communities on one site when that takes no more lanes than each on its own (it
always saves a site: its order keeper, its home-sampling pair and a courier's stop), and keeps
a community alone when it fills a site by itself.

Neighbours: the territory holds no map (no coordinates, no adjacency between communities), so
neighbours are the communities next to each other in the town's community order, the order they
were entered (by id); only a run of consecutive communities shares a site. When the territory
learns its map, only ``share_sites``'s notion of "next to" has to change.

The rules, with their sources (``../shared/field-guide.md``):

- a site serves at most ``SITE_PEOPLE`` (one site per 2,000-3,000 people, F1.4g): a shared
  site never goes above it, and a community bigger than that keeps its own site and lanes;
- on paper a lane takes the people who come over the arrival window at its pace, less a tenth
  for the queue's ups and downs (``lanes_on_paper``; the same margin the planner starts from):
  the cut into sites is chosen on these figures;
- a site never has fewer lanes than ``fewest_within_capacity``: with fewer, a lane would take
  more arrivals an hour than it swabs in one. Above that, the planner sizes the lanes by
  simulating the days, and ``Load`` says each lane's arrivals an hour against its pace.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from doorstep.planning.sites import ARRIVAL_HOURS, LANE_PER_HOUR

# One site per 2,000-3,000 people (NHC, F1.4g): a shared site serves at most the upper figure.
SITE_PEOPLE = 3_000
# A tenth more than the arrivals for the queue's ups and downs (the planner's on-paper margin;
# an assumption, checked by the simulated days the planner plays).
QUEUE_MARGIN = 1.1


@dataclass(frozen=True)
class Pace:
    """What a lane's load is reckoned on: a lane swabs ``per_hour``; ``come`` of a site's
    residents arrive over ``arrival_hours``."""

    per_hour: float = LANE_PER_HOUR
    arrival_hours: float = ARRIVAL_HOURS
    come: float = 1.0


DEFAULT_PACE = Pace()


def lanes_on_paper(people: int, pace: Pace = DEFAULT_PACE) -> int:
    """The lanes a site of ``people`` needs on paper: the arrivals an hour over what a lane
    swabs in one, with ``QUEUE_MARGIN`` to spare; at least one."""
    arrivals = people * pace.come / pace.arrival_hours
    return max(1, math.ceil(QUEUE_MARGIN * arrivals / pace.per_hour))


def fewest_within_capacity(people: int, pace: Pace = DEFAULT_PACE) -> int:
    """The fewest lanes for a site of ``people`` with which no lane takes more arrivals an hour
    than it swabs in one (fewer, and its queue grows all day); at least one."""
    arrivals = people * pace.come / pace.arrival_hours
    return max(1, math.ceil(arrivals / pace.per_hour - 1e-9))


@dataclass(frozen=True)
class SharedSite:
    """One site and the communities (indices into the town's order) whose people it samples."""

    members: tuple[int, ...]
    names: tuple[str, ...]
    people: tuple[int, ...]  # each member's residents

    @property
    def residents(self) -> int:
        return sum(self.people)

    @property
    def shared(self) -> bool:
        return len(self.members) > 1

    @property
    def host(self) -> int:
        """The member (index into ``members``) where the site stands: the group's weighted
        middle along the order, so that at most half of its people live on either side of it
        (the least walking along a row of neighbours)."""
        half, seen = self.residents / 2, 0
        for k, n in enumerate(self.people):
            seen += n
            if seen >= half:
                return k
        return 0

    @property
    def name(self) -> str:
        return self.names[self.host]


def share_sites(
    communities: Sequence[tuple[str, int]],
    pace: Pace = DEFAULT_PACE,
    *,
    site_people: int = SITE_PEOPLE,
) -> list[SharedSite]:
    """The town's communities, ``(name, residents)`` in the town's order, cut into runs of
    neighbours, each run one site: the cut with the fewest lanes on paper, then the fewest
    sites. A run of two or more serves at most ``site_people``; a community bigger than that
    stands alone. (Dynamic programming over the cut points: the best cut of the first ``i``
    communities ends in a run ``j..i-1`` after the best cut of the first ``j``.)"""
    n = len(communities)
    people = [max(0, p) for _name, p in communities]
    # best[i]: (lanes, sites, start of the last run) for the first i communities.
    best: list[tuple[int, int, int]] = [(0, 0, 0)]
    for i in range(1, n + 1):
        found: tuple[int, int, int] | None = None
        together = 0
        for j in range(i - 1, -1, -1):
            together += people[j]
            if i - j > 1 and together > site_people:
                break
            cost = (best[j][0] + lanes_on_paper(together, pace), best[j][1] + 1, j)
            if found is None or cost[:2] < found[:2]:
                found = cost
        assert found is not None  # a community on its own is always a run
        best.append(found)
    runs: list[SharedSite] = []
    i = n
    while i > 0:
        j = best[i][2]
        runs.append(
            SharedSite(
                tuple(range(j, i)),
                tuple(name for name, _p in communities[j:i]),
                tuple(people[j:i]),
            )
        )
        i = j
    return runs[::-1]


def separate_sites(communities: Sequence[tuple[str, int]]) -> list[SharedSite]:
    """One site per community, as before sharing (for a town whose communities cannot share)."""
    return [
        SharedSite((i,), (name,), (max(0, people),)) for i, (name, people) in enumerate(communities)
    ]


def lanes_needed(sites: Sequence[SharedSite], pace: Pace = DEFAULT_PACE) -> list[int]:
    """Each site's fewest lanes within their capacity."""
    return [fewest_within_capacity(s.residents, pace) for s in sites]


def spread_lanes(
    sites: Sequence[SharedSite], total: int, pace: Pace = DEFAULT_PACE
) -> tuple[int, ...]:
    """``total`` lanes among the sites: when there are enough, each site first gets the fewest
    within capacity (no lane takes more arrivals an hour than it swabs), else one each; every lane
    left goes, one at a time, to the site whose lanes have the most people each (D'Hondt). A
    lane more never takes one from a site, so the planner can bisect on the total."""
    if total < len(sites):
        raise ValueError(f"{total} lanes are fewer than one for each of the {len(sites)} sites")
    need = lanes_needed(sites, pace)
    counts = need if total >= sum(need) else [1] * len(sites)
    while sum(counts) < total:
        busiest = max(range(len(sites)), key=lambda k: sites[k].residents / counts[k])
        counts[busiest] += 1
    return tuple(counts)


@dataclass(frozen=True)
class Load:
    """A site's lanes against its arrivals: how many people each lane takes in an hour of the
    arrival window, against what a lane swabs in an hour."""

    site: SharedSite
    lanes: int
    pace: Pace = DEFAULT_PACE

    @property
    def per_lane_hour(self) -> float:
        arrivals = self.site.residents * self.pace.come
        return arrivals / self.pace.arrival_hours / max(self.lanes, 1)

    @property
    def within(self) -> bool:
        return self.lanes >= 1 and self.per_lane_hour <= self.pace.per_hour
