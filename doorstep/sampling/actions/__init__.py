"""Writes of the sampling app: sites and lanes here, home sampling in ``actions.home``; tubes
and boxes are written by the ingest engine (``sampling.ingest``)."""

from __future__ import annotations

from datetime import datetime, time

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from doorstep.core import codes
from doorstep.core.models import User
from doorstep.sampling import tally
from doorstep.sampling.models import Lane, QueueReport, RoundSample, Serves, Site
from doorstep.territory.models import Community, Resident

LANE_CODE_BODY = 5


def new_lane_code() -> str:
    """Six characters with a check character, distinct in length from person and worker codes."""
    return codes.new_unique_code(LANE_CODE_BODY, lambda c: Lane.objects.filter(code=c).exists())


class SiteError(ValueError):
    pass


@transaction.atomic
def create_site(
    community: Community,
    name: str,
    lanes: int = 0,
    *,
    opens_at: time | None = None,
    closes_at: time | None = None,
    serves: str = Serves.EVERYONE,
    address: str = "",
) -> Site:
    """A sampling site in a community with its numbered lanes, each with a printable code."""
    name, address = name.strip(), address.strip()
    if len(address) > (Site._meta.get_field("address").max_length or 0):
        raise SiteError(_("Say where the site is in at most 200 characters."))
    if not name:
        raise SiteError(_("Give the site a name, e.g. «富锦园广场采样点»."))
    longest = Site._meta.get_field("name").max_length or 0
    if len(name) > longest:
        raise SiteError(
            _("A site's name is at most %(n)d characters: shorten it.") % {"n": longest}
        )
    if not 1 <= lanes <= 30 and lanes != 0:
        raise SiteError(_("A site has 1 to 30 lanes."))
    if serves not in Serves.values:
        raise SiteError(_("Choose whom the site serves."))
    if Site.objects.filter(community=community, name=name).exists():
        raise SiteError(
            _("%(community)s already has a site called %(name)s.")
            % {"community": community.name, "name": name}
        )
    site = Site.objects.create(
        community=community,
        name=name,
        address=address,
        opens_at=opens_at,
        closes_at=closes_at,
        serves=serves,
    )
    for n in range(1, lanes + 1):
        Lane.objects.create(site=site, name=f"{n}号通道", code=new_lane_code())
    return site


def record_sampled(campaign_id: int, residents: list[Resident], at: datetime) -> list[int]:
    """Mark residents as sampled this round without a tube (the demo's morning, tests); returns
    the ids that were not already marked. The counters move by the same fold as after a scan."""
    with transaction.atomic():
        ids = {r.pk for r in residents}
        already = set(
            RoundSample.objects.filter(campaign_id=campaign_id, resident_id__in=ids).values_list(
                "resident_id", flat=True
            )
        )
        new = list({r.pk: r for r in residents if r.pk not in already}.values())
        RoundSample.objects.bulk_create(
            [
                RoundSample(
                    campaign_id=campaign_id, resident=r, community_id=r.community_id, sampled_at=at
                )
                for r in new
            ]
        )
    tally.fold(wait=True)
    return [r.pk for r in new]


MAX_WAITING = 2000


@transaction.atomic
def report_queue(user: User, lane: Lane, waiting: int) -> QueueReport:
    """The order keeper's count of people waiting at the lane."""
    if not 0 <= waiting <= MAX_WAITING:
        raise SiteError(_("Report between 0 and %(n)s people waiting.") % {"n": MAX_WAITING})
    return QueueReport.objects.create(
        lane=lane, waiting=waiting, reported_at=timezone.now(), by=user
    )
