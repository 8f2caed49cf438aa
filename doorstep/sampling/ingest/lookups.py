"""The engine's fixed look-ups: what a device request needs whatever its events say, kept per
process for ``settings.CACHE_SECONDS`` (``core.ttl``), so a scan usually costs none of them.

* ``access``: where the user may scan now (lanes on duty, the token's lane, their sites, towns
  and communities). A registrar taken off a lane stops scanning there within the expiry.
* ``lane``: a lane by its code, with its site, community and town.
* ``running``: the round running in a community (None when none is). A round closed a moment
  ago takes scans for at most the expiry.
* ``pool``: the pool of a tube opened "by zone" at a lane of a community in a round.
* ``campaign``: a round's row (its start, barcode pattern and town).
"""

from __future__ import annotations

from dataclasses import dataclass

from doorstep.campaigns.models import Campaign, PoolRule
from doorstep.campaigns.queries import running_in_many
from doorstep.core.models import User
from doorstep.core.roles import Can
from doorstep.core.ttl import Ttl
from doorstep.sampling import queries
from doorstep.sampling.models import Lane
from doorstep.territory.scoping import town_ids


@dataclass(frozen=True)
class LaneRow:
    pk: int
    code: str
    label: str
    site_id: int
    community_id: int
    town_id: int


@dataclass(frozen=True)
class Access:
    # The lanes this user may scan at now (duty or the token's lane); None: all of the town's.
    scan_lanes: frozenset[int] | None
    # The sites of those lanes, where the user may pack and hand over boxes.
    scan_sites: frozenset[int] | None
    towns: frozenset[int] | None  # None: every town
    communities: frozenset[int] | None  # None: town-wide


_access: Ttl[tuple[int, int | None], Access] = Ttl("device access")
_lanes: Ttl[str, LaneRow | None] = Ttl("lanes by code")
_running: Ttl[int, Campaign | None] = Ttl("round running in a community")
_pools: Ttl[tuple[int, int], str] = Ttl("pool of a lane by zone")
_campaigns: Ttl[int, Campaign | None] = Ttl("rounds")


def access(user: User, token_lane: int | None) -> Access:
    return _access.get((user.pk, token_lane), lambda: _load_access(user, token_lane))


def _load_access(user: User, token_lane: int | None) -> Access:
    scan_lanes = queries.scan_lanes(user, token_lane) if user.can(Can.SCAN) else None
    sites = (
        None
        if scan_lanes is None
        else frozenset(Lane.objects.filter(pk__in=scan_lanes).values_list("site_id", flat=True))
    )
    towns = town_ids(user)
    return Access(
        scan_lanes=None if scan_lanes is None else frozenset(scan_lanes),
        scan_sites=sites,
        towns=None if towns is None else frozenset(towns),
        communities=None
        if user.is_town_wide
        else frozenset(user.communities.values_list("pk", flat=True)),
    )


def lanes(codes: set[str]) -> dict[str, LaneRow]:
    found = {code: _lanes.get(code, lambda code=code: _load_lane(code)) for code in codes}  # type: ignore[misc]
    return {code: lane for code, lane in found.items() if lane is not None}


def _load_lane(code: str) -> LaneRow | None:
    row = (
        Lane.objects.filter(code=code)
        .values_list(
            "pk",
            "code",
            "name",
            "site_id",
            "site__name",
            "site__community_id",
            "site__community__town_id",
        )
        .first()
    )
    if row is None:
        return None
    pk, code, name, site_id, site, community_id, town_id = row
    return LaneRow(pk, code, f"{site} {name}", site_id, community_id, town_id)


def running(community_ids: set[int]) -> dict[int, Campaign | None]:
    return {
        c: _running.get(c, lambda c=c: running_in_many({c}).get(c))  # type: ignore[misc]
        for c in community_ids
    }


def pool(campaign_id: int, community_id: int) -> str:
    pair = (campaign_id, community_id)
    return _pools.get(pair, lambda: queries.lane_pools({pair}).get(pair, PoolRule.TWENTY))


def campaigns(ids: set[int]) -> dict[int, Campaign]:
    found = {
        pk: _campaigns.get(pk, lambda pk=pk: Campaign.objects.filter(pk=pk).first())  # type: ignore[misc]
        for pk in ids
    }
    return {pk: c for pk, c in found.items() if c is not None}
