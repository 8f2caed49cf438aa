from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Collection, Iterator
from dataclasses import dataclass

from django.db.models import Count, F, QuerySet

from doorstep.campaigns.models import (
    Campaign,
    CampaignBuilding,
    CampaignStatus,
    CommunityStart,
    ZoneChange,
    ZoneWhy,
)
from doorstep.territory.models import Community, Resident


def running() -> QuerySet[Campaign]:
    """Rounds running now: started and not closed. A planned round is current nowhere, so
    planning tomorrow's round takes nothing away from today's."""
    return Campaign.objects.filter(status=CampaignStatus.ACTIVE)


def rounds_together(campaign_id: int) -> list[int]:
    """The round and, in a district round, its other towns' rounds: where a member of one of
    its tubes may live (a resident sampled at a lane of another town of the round)."""
    found = Campaign.objects.filter(pk=campaign_id).values_list("district_round_id", flat=True)
    together = next(iter(found), None)
    if together is None:
        return [campaign_id]
    others = Campaign.objects.filter(district_round_id=together).exclude(pk=campaign_id)
    return [campaign_id, *others.order_by("pk").values_list("pk", flat=True)]


def running_in(community_id: int) -> Campaign | None:
    """The testing round running in a community now (started, not closed), or None."""
    return running_in_many({community_id}).get(community_id)


def running_in_many(community_ids: Collection[int]) -> dict[int, Campaign]:
    """``running_in`` for several communities at once, in one query; a community with no round
    running is missing from the answer."""
    if not community_ids:
        return {}
    found = (
        running()
        .filter(buildings__community_id__in=community_ids)
        .annotate(in_community=F("buildings__community_id"))
        .order_by("-starts_at", "-id")
        .distinct()
    )
    current: dict[int, Campaign] = {}
    for campaign in found:
        current.setdefault(campaign.in_community, campaign)  # type: ignore[attr-defined]
    return current


def running_for(communities: QuerySet[Community]) -> list[Campaign]:
    """The rounds running in any of these communities, newest first: what a user who spans
    several communities switches between."""
    return list(
        running()
        .filter(buildings__community__in=communities)
        .distinct()
        .select_related("town")
        .order_by("-starts_at", "-id")
    )


def previous_round(campaign: Campaign, community_id: int) -> Campaign | None:
    """The round before this one in a community: the newest started earlier, running or
    closed, of the same kind (real, or drill)."""
    return (
        Campaign.objects.filter(buildings__community_id=community_id, started_at__isnull=False)
        # A real round follows real rounds only; a drill follows drills.
        .filter(starts_at__lt=campaign.starts_at, is_drill=campaign.is_drill)
        .exclude(pk=campaign.pk)
        .order_by("-starts_at", "-id")
        .first()
    )


def zone_history(
    building_ids: Collection[int], *, drills: bool = False
) -> dict[int, list[ZoneChange]]:
    """Every zone change of these buildings, newest first, across real rounds (and drills'
    too when ``drills``: a drill's pages show its own changes beside the real ones)."""
    history: dict[int, list[ZoneChange]] = defaultdict(list)
    changes = ZoneChange.objects.filter(building_id__in=list(building_ids))
    if not drills:
        changes = changes.filter(campaign__is_drill=False)
    for change in changes.select_related("campaign", "by").order_by("-at", "-id"):
        history[change.building_id].append(change)
    return dict(history)


def unconfirmed_seals(campaign_id: int) -> QuerySet[ZoneChange]:
    """Buildings sealed by a positive whose extent the commander has not confirmed."""
    return ZoneChange.objects.filter(
        campaign_id=campaign_id, why=ZoneWhy.RESULT, confirmed_at__isnull=True
    ).select_related("building", "community")


def zone_summary(campaign: Campaign, communities: QuerySet[Community]) -> list[dict]:
    """Per community of the campaign in the user's scope: buildings per zone and pool rule."""
    rows = (
        CampaignBuilding.objects.filter(campaign=campaign, community__in=communities)
        .values("community_id", "community__name", "zone", "pool_rule")
        .annotate(n=Count("id"))
        .order_by("community__name")
    )
    summary: dict[int, dict] = {}
    for row in rows:
        item = summary.setdefault(
            row["community_id"],
            {
                "id": row["community_id"],
                "name": row["community__name"],
                "zones": defaultdict(int),
                "total": 0,
            },
        )
        item["zones"][row["zone"]] += row["n"]
        item["total"] += row["n"]
        item["pool_rule"] = row["pool_rule"]
    for item in summary.values():
        item["zones"] = dict(item["zones"])
        # The zone the form starts on: the community's own, so "Apply" changes nothing by mistake.
        item["current"] = next(iter(item["zones"])) if len(item["zones"]) == 1 else ""
    return list(summary.values())


# A round's communities spread over about an hour by default (the field guide's one hour of
# queueing per community at a site); never closer than a minute.
SPREAD_MINUTES = 60


def default_every(communities: int) -> int:
    """Minutes between two communities' starts so that ``communities`` spread over about an
    hour from the round's start (the first starts with the round)."""
    if communities <= 1:
        return SPREAD_MINUTES
    return max(1, SPREAD_MINUTES // (communities - 1))


@dataclass(frozen=True)
class Start:
    """When a community starts sampling in a round, as residents may be told."""

    round_name: str
    starts_at: dt.datetime


def public_starts(community_ids: Collection[int], now: dt.datetime) -> dict[int, Start]:
    """Each community's start in the real round residents should hear of: the one running
    there, else a planned one whose time the commander has told residents (not before: a
    time being planned is not public). A drill is told to nobody. Three queries."""
    if not community_ids:
        return {}
    rounds = {c: r for c, r in running_in_many(community_ids).items() if not r.is_drill}
    pairs = CommunityStart.objects.filter(
        community_id__in=list(community_ids), campaign_id__in=[r.pk for r in rounds.values()]
    )
    own = {(s.campaign_id, s.community_id): s.starts_at for s in pairs}
    found = {c: Start(r.name, own.get((r.pk, c)) or r.starts_at) for c, r in rounds.items()}
    told = (
        CommunityStart.objects.filter(
            community_id__in=[c for c in community_ids if c not in rounds],
            told_at__isnull=False,
            campaign__status=CampaignStatus.PLANNED,
            campaign__is_drill=False,
            campaign__deadline__gt=now,
        )
        .select_related("campaign")
        .order_by("campaign__starts_at", "campaign_id")
    )
    for s in told:
        # What residents were texted, not a time changed since and not told yet.
        found.setdefault(
            s.community_id, Start(s.campaign.name, s.told_starts_at or s.effective(s.campaign))
        )
    return found


def _phones(campaign_id: int, community_ids: Collection[int]) -> QuerySet[Resident]:
    """Residents with a phone living in the round's buildings of these communities."""
    buildings = CampaignBuilding.objects.filter(
        campaign_id=campaign_id, community_id__in=list(community_ids)
    ).values("building_id")
    return Resident.objects.filter(
        household__unit__building_id__in=buildings, moved_out=False
    ).exclude(phone="")


def households_with_a_phone(campaign_id: int, community_ids: Collection[int]) -> int:
    """How many texts telling these communities' start times makes: one per household with
    a phone (``first_phones``)."""
    return _phones(campaign_id, community_ids).values("household_id").distinct().count()


def first_phones(
    campaign_id: int, community_ids: Collection[int]
) -> Iterator[tuple[int, int, int]]:
    """(resident, household, community) of each household's first resident with a phone, in
    the round's buildings of these communities, community by community: who is texted a
    community's start time."""
    last = None
    for resident_id, household_id, community_id in (
        _phones(campaign_id, community_ids)
        .order_by("household__unit__building__community_id", "household_id", "id")
        .values_list("pk", "household_id", "household__unit__building__community_id")
        .iterator(chunk_size=2000)
    ):
        if household_id != last:
            last = household_id
            yield resident_id, household_id, community_id


# What one sender hands to the SMS gateway, and two at once (docs/operators-guide.md, "Text
# messages": 50–71 messages/s with one sender, 76–92 with two).
SEND_RATE_SLOW, SEND_RATE_FAST = 50, 90


@dataclass(frozen=True)
class StartRow:
    community_id: int
    name: str
    starts_at: dt.datetime  # in force: its own, or the round's
    own: bool  # a time of its own (else with the round)
    told_starts_at: dt.datetime | None  # what residents were last texted
    order: int

    @property
    def untold(self) -> bool:
        return self.told_starts_at != self.starts_at


@dataclass(frozen=True)
class StartPlan:
    rows: list[StartRow]
    every: int  # the default spread, minutes
    households: int  # texts the next "tell residents" makes
    seconds_fast: int
    seconds_slow: int

    @property
    def minutes_fast(self) -> int:
        return math.ceil(self.seconds_fast / 60)

    @property
    def minutes_slow(self) -> int:
        return math.ceil(self.seconds_slow / 60)


def start_plan(campaign: Campaign, communities: QuerySet[Community]) -> StartPlan:
    """The round's communities in the user's scope, in the order they start."""
    ids = CampaignBuilding.objects.filter(campaign=campaign, community__in=communities).values(
        "community_id"
    )
    own = {s.community_id: s for s in CommunityStart.objects.filter(campaign=campaign)}
    none = CommunityStart()
    found = sorted(
        (own.get(c.pk, none).effective(campaign), c.name, c.pk)
        for c in Community.objects.filter(pk__in=ids)
    )
    rows = [
        StartRow(
            pk,
            name,
            at,
            own.get(pk, none).starts_at is not None,
            own.get(pk, none).told_starts_at,
            i,
        )
        for i, (at, name, pk) in enumerate(found, start=1)
    ]
    households = households_with_a_phone(campaign.pk, [r.community_id for r in rows if r.untold])
    return StartPlan(
        rows,
        default_every(len(rows)),
        households,
        math.ceil(households / SEND_RATE_FAST),
        math.ceil(households / SEND_RATE_SLOW),
    )
