"""Walk-ins' homes: the household a walk-in lives in, so that a positive pool can send someone
to their door and seal the right building.

The registrar picks the building, unit and room from the community's own list
(``territory.queries.address_book``) or types the address as people write it; either way it is
kept as text and traced when needed (``home_of``). An address that names no household, or
several, is listed for the community's workers (``untraced``), who find the household
(``trace``): the walk-in keeps it, and the apps above sampling hear of it through
``hooks.walk_in_traced`` (the lab routes an open retest to the door).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from doorstep.campaigns.models import CampaignStatus
from doorstep.core.actions import audit
from doorstep.core.models import AuditAction, User
from doorstep.sampling import hooks
from doorstep.sampling.models import Result, TubeMember, WalkIn
from doorstep.territory.models import Household
from doorstep.territory.queries import trace_address

# The most walk-ins the page traces at once (each trace reads the community's buildings).
LIST_LIMIT = 300


class TraceError(ValueError):
    """A refusal with a message that says what to do."""


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
            WalkIn.objects.filter(pk=walk_in.pk, household__isnull=True).update(household=household)
            continue
        lost.append(Untraced(walk_in, bool(walk_in.positive)))  # type: ignore[attr-defined]
        if len(lost) >= LIST_LIMIT:
            break
    return lost


@transaction.atomic
def trace(user: User, walk_in: WalkIn, address: str, now: dt.datetime | None = None) -> Household:
    """A worker names the walk-in's household by its address in the walk-in's community
    (picked from the list, or typed as people write it)."""
    household = trace_address(walk_in.community_id, address)
    if household is None:
        raise TraceError(
            _(
                "«%(address)s» names no single household of %(community)s: pick the building, "
                "unit and room from the list."
            )
            % {"address": address.strip(), "community": walk_in.community.name}
        )
    WalkIn.objects.filter(pk=walk_in.pk).update(household=household, traced_by=user)
    walk_in.household, walk_in.traced_by = household, user
    audit(
        user,
        AuditAction.TRACE,
        "walk_in",
        walk_in.pk,
        detail={"campaign": walk_in.campaign_id, "household": household.pk},
    )
    hooks.walk_in_traced(walk_in, household, now or timezone.now())
    return household
