"""Walk-ins' homes: the household a walk-in lives in, so that a positive pool can send someone
to their door and seal the right building.

The registrar picks the building, unit and room from the community's own list
(``territory.queries.address_book``) or types the address as people write it; either way it is
kept as text and traced when needed (``home_of``). An address that names no household, or
several, is listed for the community's workers (``untraced``), who find the household
(``actions.walk_ins.trace``): the walk-in keeps it, and the apps above sampling hear of it
through ``hooks.walk_in_traced`` (the lab routes an open retest to the door). The writes are in
``sampling/actions/walk_ins.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, QuerySet

from doorstep.campaigns.models import CampaignStatus
from doorstep.sampling.actions import walk_ins as actions
from doorstep.sampling.models import Result, TubeMember, WalkIn
from doorstep.territory.models import Household
from doorstep.territory.queries import trace_address

# The most walk-ins the page traces at once (each trace reads the community's buildings).
LIST_LIMIT = 300


def home_of(walk_in: WalkIn) -> Household | None:
    """The walk-in's household: the one a worker found, else the one their address names."""
    if walk_in.household_id is not None:
        return walk_in.household
    return trace_address(walk_in.community_id, walk_in.address)


@dataclass(frozen=True)
class Untraced:
    walk_in: WalkIn
    positive: bool  # in a positive tube: someone must reach them now


def untraced(found: QuerySet[WalkIn]) -> list[Untraced]:
    """These walk-ins (scoped by the caller) of running rounds whose address traces to no
    household, those in a positive tube first, then the newest. An address that does trace is
    kept on the walk-in as it is found (``household``, with nobody as ``traced_by``), so each
    walk-in is traced once and the next reading is a plain filter: the list is never cut short
    by walk-ins that trace."""
    in_positive = TubeMember.objects.filter(walk_in=OuterRef("pk"), tube__result=Result.POSITIVE)
    candidates = (
        found.filter(household__isnull=True, campaign__status=CampaignStatus.ACTIVE)
        .annotate(positive=Exists(in_positive))
        .select_related("community", "campaign")
        .order_by("-positive", "-created_at", "-pk")
    )
    lost: list[Untraced] = []
    for walk_in in candidates.iterator(chunk_size=500):
        household = trace_address(walk_in.community_id, walk_in.address)
        if household is not None:
            actions.keep_traced(walk_in, household)
            continue
        lost.append(Untraced(walk_in, bool(walk_in.positive)))  # type: ignore[attr-defined]
        if len(lost) >= LIST_LIMIT:
            break
    return lost
