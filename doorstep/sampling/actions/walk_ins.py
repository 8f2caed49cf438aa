"""Walk-ins' homes, the writing part: a household kept on a walk-in, by the trace as the list
is read (``sampling.walk_ins.untraced``) or by a worker who found it (``trace``).
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from doorstep.core.actions import WALK_IN, audit
from doorstep.core.models import AuditAction, User
from doorstep.sampling import hooks
from doorstep.sampling.models import WalkIn
from doorstep.territory.models import Household
from doorstep.territory.queries import trace_address


class TraceError(ValueError):
    """A refusal with a message that says what to do."""


def keep_traced(walk_in: WalkIn, household: Household) -> None:
    """Keep the household the walk-in's address traces to, with nobody as ``traced_by``, so the
    walk-in is traced once. One conditional UPDATE: a household a worker set meanwhile is left
    as it is."""
    WalkIn.objects.filter(pk=walk_in.pk, household__isnull=True).update(household=household)


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
        town_id=walk_in.community.town_id,
        people=[(WALK_IN, walk_in.pk)],
    )
    hooks.walk_in_traced(walk_in, household, now or timezone.now())
    return household
