"""Staggered start times: each community of a round starts at its own minute, set by the
commander one by one or spread from the round's start every few minutes, and told to the
residents when the commander says so (not on every edit). Telling again texts only the
communities whose time changed since they were last told.

The texts are the notices app's, above this one: it registers an announcer in ``hooks``, and
``announce_starts`` calls it in its own transaction, so a message exists if and only if the
times it tells were recorded as told."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from doorstep.campaigns import hooks
from doorstep.campaigns.actions import CampaignError
from doorstep.campaigns.models import Campaign, CampaignBuilding, CampaignStatus, CommunityStart
from doorstep.core.actions import audit
from doorstep.core.models import AuditAction, User
from doorstep.territory.models import Community

# The most minutes between two communities' starts.
MAX_EVERY_MINUTES = 240


def _local(at: dt.datetime) -> str:
    return timezone.localtime(at).strftime("%Y-%m-%d %H:%M")


def _editable(campaign: Campaign) -> Campaign:
    """The round, locked: its start times change while it is planned or running."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status == CampaignStatus.CLOSED:
        raise CampaignError(
            _("%(round)s is closed; its start times no longer change.") % {"round": campaign.name}
        )
    return campaign


def _communities(campaign: Campaign) -> dict[int, Community]:
    ids = CampaignBuilding.objects.filter(campaign=campaign).values("community_id")
    return {c.pk: c for c in Community.objects.filter(pk__in=ids)}


def check_start_times(
    campaign: Campaign,
    times: Mapping[int, dt.datetime | None],
    communities: Mapping[int, Community],
) -> None:
    """Each time (None: with the round) must be of a community of the round, no earlier than
    the round's start and before its deadline. No writes."""
    for community_id, at in times.items():
        community = communities.get(community_id)
        if community is None:
            raise CampaignError(
                _("Community %(id)s is not part of this round.") % {"id": community_id}
            )
        if at is not None and not campaign.starts_at <= at < campaign.deadline:
            raise CampaignError(
                _(
                    "%(community)s: %(at)s is outside the round. Choose a time from its start "
                    "%(start)s and before its deadline %(deadline)s."
                )
                % {
                    "community": community.name,
                    "at": _local(at),
                    "start": _local(campaign.starts_at),
                    "deadline": _local(campaign.deadline),
                }
            )


@transaction.atomic
def set_start_times(
    user: User | None, campaign: Campaign, times: Mapping[int, dt.datetime | None]
) -> list[str]:
    """Set communities' start times (None: with the round); nothing is written unless every
    time is valid. Returns the names of the communities whose time changed, audited as a round
    change. Holds the round's row lock (SELECT FOR UPDATE) while it writes."""
    campaign = _editable(campaign)
    communities = _communities(campaign)
    check_start_times(campaign, times, communities)
    rows = {
        s.community_id: s
        for s in CommunityStart.objects.select_for_update().filter(
            campaign=campaign, community_id__in=list(times)
        )
    }
    changed: dict[str, str | None] = {}
    for community_id, at in sorted(times.items()):
        # A time equal to the round's start is "with the round": it follows the round.
        at = None if at == campaign.starts_at else at
        row = rows.get(community_id)
        if row is None and at is None:
            continue
        if row is None:
            CommunityStart.objects.create(
                campaign=campaign, community_id=community_id, starts_at=at
            )
        elif row.starts_at != at:
            row.starts_at = at
            row.save(update_fields=["starts_at"])
        else:
            continue
        changed[communities[community_id].name] = _local(at) if at else None
    if changed:
        audit(
            user,
            AuditAction.ROUND,
            "campaign",
            campaign.pk,
            detail={"step": "start times", "starts": changed},
        )
    return list(changed)


def stagger_times(
    campaign: Campaign, order: Sequence[int], every: int
) -> dict[int, dt.datetime | None]:
    """The communities in ``order``, the first with the round and each next ``every`` minutes
    later. No writes."""
    if not 1 <= every <= MAX_EVERY_MINUTES:
        raise CampaignError(
            _("Spread the starts every 1 to %(most)d minutes, not %(every)d.")
            % {"most": MAX_EVERY_MINUTES, "every": every}
        )
    if len(set(order)) != len(order):
        raise CampaignError(_("Each community appears once in the order."))
    times: dict[int, dt.datetime | None] = {}
    for i, community_id in enumerate(order):
        times[community_id] = (
            None if i == 0 else campaign.starts_at + dt.timedelta(minutes=i * every)
        )
    last = campaign.starts_at + dt.timedelta(minutes=max(len(order) - 1, 0) * every)
    if order and last >= campaign.deadline:
        raise CampaignError(
            _(
                "Every %(every)d minutes, the last of %(n)d communities would start at %(last)s, "
                "after the round's deadline %(deadline)s: choose fewer minutes."
            )
            % {
                "every": every,
                "n": len(order),
                "last": _local(last),
                "deadline": _local(campaign.deadline),
            }
        )
    return times


def stagger(user: User | None, campaign: Campaign, order: Sequence[int], every: int) -> list[str]:
    """Spread the communities in ``order`` from the round's start every ``every`` minutes."""
    return set_start_times(user, campaign, stagger_times(campaign, order, every))


def community_starts(campaign: Campaign) -> dict[int, dt.datetime]:
    """Every community of the round with its start in force (its own, or the round's)."""
    ids = set(
        CampaignBuilding.objects.filter(campaign=campaign).values_list("community_id", flat=True)
    )
    own = dict(
        CommunityStart.objects.filter(campaign=campaign, starts_at__isnull=False).values_list(
            "community_id", "starts_at"
        )
    )
    return {c: own.get(c) or campaign.starts_at for c in ids}


@dataclass(frozen=True)
class Announcement:
    communities: list[str]  # told now: their time was never told, or changed since
    messages: int  # texts queued (none in a drill)


def _untold(campaign: Campaign) -> dict[int, dt.datetime]:
    """The communities whose start in force is not the one their residents were last told."""
    told = dict(
        CommunityStart.objects.filter(campaign=campaign).values_list(
            "community_id", "told_starts_at"
        )
    )
    return {c: at for c, at in community_starts(campaign).items() if told.get(c) != at}


@transaction.atomic
def _announce_one(user: User | None, campaign: Campaign, community: Community) -> int | None:
    """One community told, in its own short transaction holding the round's row lock (so its
    time cannot change between being read and being texted): its time recorded as told, the
    texts queued, the step audited. None if it was told meanwhile."""
    campaign = _editable(campaign)
    at = _untold(campaign).get(community.pk)
    if at is None:
        return None
    now = timezone.now()
    CommunityStart.objects.update_or_create(
        campaign=campaign,
        community=community,
        defaults={"told_starts_at": at, "told_at": now},
    )
    sent = hooks.starts_announced(campaign.pk, {community.pk: at}, now)
    audit(
        user,
        AuditAction.ROUND,
        "campaign",
        campaign.pk,
        detail={
            "step": "start time told",
            "community": community.name,
            "starts": _local(at),
            "messages": sent,
        },
    )
    return sent


def announce_starts(user: User | None, campaign: Campaign) -> Announcement:
    """Tell residents their community's start: a text to each household with a phone
    (notices' announcer), for the communities not told yet or whose time changed since. In a
    drill the step is practised and nobody is texted. One transaction per community, so a
    town's tens of thousands of texts never hold the database's write lock at once (SQLite
    has one for everybody, the lanes included); one that fails leaves the others told and
    itself untold, for the next try."""
    if Campaign.objects.filter(pk=campaign.pk, status=CampaignStatus.CLOSED).exists():
        raise CampaignError(
            _("%(round)s is closed; its start times no longer change.") % {"round": campaign.name}
        )
    untold = _untold(campaign)
    if not untold:
        raise CampaignError(_("Every community has been told its start time; nothing changed."))
    names: list[str] = []
    sent = 0
    for community in Community.objects.filter(pk__in=list(untold)).order_by("name"):
        queued = _announce_one(user, campaign, community)
        if queued is not None:
            names.append(community.name)
            sent += queued
    return Announcement(names, sent)
