"""Simulated residents at a real lane, for a drill.

In a drill the registrars really scan, but the residents are not really queuing. The feeder
stands in for them. For each lane it takes its share of the site's community (the residents
whose id falls to that lane). It gives them the simulator's own arrival rule (``day.Behaviour``:
``own_share`` of the people come evenly over ``arrival_hours`` from the round's start). Then it
shows, as QR codes on a screen beside the lane, the people who would be waiting now. The lane
scans the top one; once the lane has sampled a person, they leave the list. So the lane is
rehearsed at the pace the day's plan expects, and the real lane page, the counters and the
dashboard record a real drill.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from django.db.models import QuerySet

from doorstep.campaigns.models import Campaign, CampaignBuilding, CampaignStatus
from doorstep.sampling.models import Lane, RoundSample
from doorstep.simulate import day
from doorstep.territory.models import Resident

SHOWN = 12


@dataclass(frozen=True)
class Feeder:
    lane: Lane
    people: int  # the lane's share of the community
    arrived: int  # who would have come by now
    sampled: int
    next: list[Resident]  # the first of those waiting, in the order they came

    @property
    def waiting(self) -> int:
        return max(0, self.arrived - self.sampled)


def _order(campaign_id: int, resident_id: int) -> str:
    """A fixed order of arrival per round: the same on every refresh and every screen."""
    return hashlib.sha256(f"{campaign_id}:{resident_id}".encode()).hexdigest()


def lanes(campaign: Campaign) -> QuerySet[Lane]:
    """The lanes a drill's feeder serves: those of the communities in the drill, while it runs.
    None for a real round, a drill not started or over: a code scanned from the screen then
    would record a real person in whatever round runs at that lane."""
    if not campaign.is_drill or campaign.status != CampaignStatus.ACTIVE:
        return Lane.objects.none()
    return Lane.objects.filter(
        site__community_id__in=CampaignBuilding.objects.filter(campaign=campaign).values(
            "community_id"
        )
    )


def feeder(
    campaign: Campaign,
    lane: Lane,
    now: dt.datetime,
    behaviour: day.Behaviour | None = None,
    people: QuerySet[Resident] | None = None,
) -> Feeder:
    """``people`` are those the screen may show (the user's, scoped): a grid worker's screen
    feeds her grids' share of the lane."""
    b = behaviour or day.Behaviour()
    lanes = list(Lane.objects.filter(site=lane.site).order_by("pk").values_list("pk", flat=True))
    index = lanes.index(lane.pk)
    everyone = Resident.objects.all() if people is None else people
    share = [
        r
        for r in everyone.filter(community_id=lane.site.community_id, moved_out=False)
        .only("pk", "name", "person_code")
        .order_by("pk")
        if r.pk % len(lanes) == index
    ]
    share.sort(key=lambda r: _order(campaign.pk, r.pk))
    hours = max(0.0, (now - campaign.starts_at).total_seconds() / 3600)
    arrived = round(len(share) * b.own_share * min(1.0, hours / b.arrival_hours))
    done = set(
        RoundSample.objects.filter(
            campaign=campaign, resident_id__in=[r.pk for r in share]
        ).values_list("resident_id", flat=True)
    )
    came = share[:arrived]
    return Feeder(
        lane,
        len(share),
        arrived,
        sum(r.pk in done for r in share),
        [r for r in came if r.pk not in done][:SHOWN],
    )
