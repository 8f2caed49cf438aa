"""A round over several towns of a district (city-wide testing): started and closed together by
the district's command, one ``Campaign`` per town, each its town's round as any other.

What ties them is read by the ingest engine (``sampling.ingest``): a resident of one of the
round's towns sampled at a lane of another is recorded once, in their own town's campaign.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from doorstep.campaigns import hooks
from doorstep.campaigns.actions import (
    DEFAULT_DURATION,
    CampaignError,
    NeedsConfirmation,
    close_round,
    create_campaign,
    start_round,
)
from doorstep.campaigns.models import (
    Campaign,
    CampaignBuilding,
    CampaignStatus,
    DistrictRound,
    Zone,
)
from doorstep.core.actions import audit
from doorstep.core.models import AuditAction, User
from doorstep.territory.models import Community, District, Town

__all__ = ["check_start", "close_district_round", "start_district_round"]


def check_start(district: District, name: str, towns: Iterable[Town]) -> list[Town]:
    """Everything that would stop a district round over these towns, checked before anything is
    written: a name, two towns at least, every town of the district, every town with buildings,
    and no round running in any of their communities. Returns the towns in name order."""
    chosen = sorted(set(towns), key=lambda t: (t.name, t.pk))
    if not name.strip():
        raise CampaignError(_("Give the round a name, e.g. «全区第1轮全员核酸»."))
    if len(chosen) < 2:
        raise CampaignError(
            _(
                "A district round covers two towns or more; for one town, start the town's own round."
            )
        )
    outside = [t.name for t in chosen if t.district_id != district.pk]
    if outside:
        raise CampaignError(
            _("%(towns)s: not a town of %(district)s. Choose only towns of your district.")
            % {"towns": "、".join(outside), "district": district.name}
        )
    with_buildings = set(
        Community.objects.filter(town__in=chosen, buildings__isnull=False).values_list(
            "town_id", flat=True
        )
    )
    empty = [t.name for t in chosen if t.pk not in with_buildings]
    if empty:
        raise CampaignError(
            _(
                "%(towns)s: no buildings on the roster yet. Import the roster first, or leave it out."
            )
            % {"towns": "、".join(empty)}
        )
    # Each town with a round running, once per round, with how many of its communities it holds.
    clashes = (
        CampaignBuilding.objects.filter(
            campaign__status=CampaignStatus.ACTIVE, community__town__in=chosen
        )
        .values_list("community__town__name", "campaign__name")
        .annotate(places=Count("community_id", distinct=True))
        .order_by("community__town__name", "campaign__name")
    )
    if clashes:
        raise CampaignError(
            _(
                "A round is already running there: %(clashes)s. Close it first (its town's "
                "commander, or you from its page), or leave that town out."
            )
            % {
                "clashes": "; ".join(
                    ngettext(
                        "%(town)s «%(round)s» (%(n)d community)",
                        "%(town)s «%(round)s» (%(n)d communities)",
                        n,
                    )
                    % {"town": town, "round": name, "n": n}
                    for town, name, n in clashes
                )
            }
        )
    return chosen


@transaction.atomic
def start_district_round(
    user: User | None,
    district: District,
    name: str,
    towns: Iterable[Town],
    *,
    deadline: dt.datetime | None = None,
    zone: Zone = Zone.PREVENTION,
    now: dt.datetime | None = None,
) -> DistrictRound:
    """A round over the whole of each chosen town, started now in all of them at once: one
    campaign per town, each started as a town's round is (``start_round``), in one transaction,
    so either every town runs it or none does. Never a drill."""
    # One district starts one round at a time: two commanders pressing at once cannot both
    # pass the check of running rounds.
    District.objects.select_for_update().get(pk=district.pk)
    chosen = check_start(district, name, towns)
    now = now or timezone.now()
    deadline = deadline or now + DEFAULT_DURATION
    if deadline <= now:
        raise CampaignError(_("The deadline must come after the start."))
    district_round = DistrictRound.objects.create(
        district=district, name=name.strip(), started_at=now, created_by=user
    )
    communities = list(Community.objects.filter(town__in=chosen))
    for town in chosen:
        campaign = create_campaign(
            town,
            name,
            communities=[c for c in communities if c.town_id == town.pk],
            starts_at=now,
            deadline=deadline,
            zone=zone,
            user=user,
            district_round=district_round,
        )
        start_round(user, campaign, now=now)
    audit(
        user,
        AuditAction.ROUND,
        "district_round",
        district_round.pk,
        detail={"step": "start", "towns": [t.name for t in chosen]},
    )
    return district_round


@transaction.atomic
def close_district_round(
    user: User | None,
    district_round: DistrictRound,
    *,
    confirmed: bool = False,
    now: dt.datetime | None = None,
) -> list[Campaign]:
    """The round closes in every town still running it (a town's commander may have closed
    their own part already). What is still open or on the road in any town is listed first,
    each with its town, and the round closes over it only once the user confirms. Returns the
    campaigns closed now."""
    district_round = DistrictRound.objects.select_for_update().get(pk=district_round.pk)
    if district_round.status != CampaignStatus.ACTIVE:
        raise CampaignError(
            _("%(round)s is %(status)s; only a running round can close.")
            % {"round": district_round.name, "status": district_round.get_status_display()}
        )
    running = list(
        district_round.campaigns.filter(status=CampaignStatus.ACTIVE)
        .select_related("town")
        .order_by("town__name", "pk")
    )
    left = [f"{c.town.name}: {item}" for c in running for item in hooks.still_open(c.pk)]
    if left and not confirmed:
        raise NeedsConfirmation(
            _("%(n)d specimens are still open or on the road. Close the round anyway?")
            % {"n": len(left)},
            left,
        )
    now = now or timezone.now()
    for campaign in running:
        close_round(user, campaign, confirmed=True, now=now)
    DistrictRound.objects.filter(pk=district_round.pk).update(
        status=CampaignStatus.CLOSED, closed_at=now
    )
    district_round.status, district_round.closed_at = CampaignStatus.CLOSED, now
    audit(
        user,
        AuditAction.ROUND,
        "district_round",
        district_round.pk,
        detail={"step": "close", "towns": [c.town.name for c in running], "left_open": left},
    )
    return running
