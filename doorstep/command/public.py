"""The public side: site status for residents, and a resident's own status this round.

No login and no personal data. The site list is read from the sites, the duty counters and the
last queue reports; the look-up answers only the person who knows both their person code and
the last six characters of their document number (which no masked page shows), and is
rate-limited by address and by code.
"""

from __future__ import annotations

import datetime as dt
import hmac
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from doorstep.campaigns.models import Campaign, CampaignStatus
from doorstep.core import codes, limits
from doorstep.core.limits import Limit
from doorstep.core.masking import SECRET_TAIL
from doorstep.lab.models import OrderKind, OrderStatus, RetestOrder
from doorstep.sampling.models import RoundSample, Site, TubeMember
from doorstep.sampling.queries import Wait, site_waits
from doorstep.territory.models import Resident
from doorstep.workforce.models import DutyCounter, DutyRole, PlaceKind

# Five tries in ten minutes, per address and per person code: six characters cannot be guessed
# from one address, nor one person's from many. A resident asking for help (medicine, a birth)
# is limited per address only, more loosely, and apart: a family on one Wi-Fi that mistyped
# the status look-up can still ask, and nobody can lock a resident out by trying their code.
WINDOW = dt.timedelta(minutes=10)
STATUS = Limit("status", 5, WINDOW)
NEEDS = Limit("needs", 20, WINDOW)
TOO_MANY = "too_many"


@dataclass
class SiteStatus:
    site: Site
    lanes: int
    lanes_open: int
    wait: Wait


def site_statuses(now: dt.datetime | None = None) -> list[SiteStatus]:
    """Every site with its lanes, lanes staffed with a sampler now, and its wait band."""
    sites = list(
        Site.objects.select_related("community")
        .prefetch_related("lanes")
        .order_by("community__name", "name")
    )
    staffed = set(
        DutyCounter.objects.filter(
            kind=PlaceKind.LANE, role=DutyRole.SAMPLER, on_duty__gt=0
        ).values_list("place_id", flat=True)
    )
    waits = site_waits(sites, now)
    return [
        SiteStatus(
            site,
            len(site.lanes.all()),
            sum(lane.pk in staffed for lane in site.lanes.all()),
            waits[site.pk],
        )
        for site in sites
    ]


@dataclass
class Lookup:
    """What the look-up may say. ``error`` is set when it says nothing about anyone."""

    error: str = ""
    code: str = ""  # what went wrong: too_many, invalid, no_match, no_round
    round_name: str = ""
    sampled_at: dt.datetime | None = None
    site_name: str = ""
    result: str = ""  # "", negative, positive, invalid
    retest: str = ""  # "", door_to_door, site
    stay_home: bool = False


def allow(address: str, code: str | None, now: dt.datetime) -> bool:
    """Whether this address (and this person code) may try the status look-up again now."""
    keys = [f"address:{address}"] + ([f"code:{code}"] if code else [])
    return limits.allow(STATUS, keys, now)


def allow_needs(address: str, now: dt.datetime) -> bool:
    """Whether this address may send the residents' request form again now."""
    return limits.allow(NEEDS, [f"address:{address}"], now)


def too_many(limit: Limit = STATUS) -> str:
    return _("Too many tries. Wait %(minutes)d minutes, or ask your community worker.") % {
        "minutes": limit.minutes
    }


def document_tail(raw: str) -> str:
    """What a resident types for the last six characters of their document number."""
    return "".join(ch for ch in (raw or "").upper() if ch.isascii() and ch.isalnum())[:6]


def resident_by_code_and_document(code: str | None, tail: str) -> Resident | None:
    """The resident with this (parsed) person code whose document number ends in ``tail``:
    its last six characters (or the whole number, for a shorter one)."""
    if code is None or not tail:
        return None
    resident = Resident.objects.filter(person_code=code).first()
    if resident is None:
        return None
    expected = resident.id_number[-SECRET_TAIL:]
    return resident if hmac.compare_digest(expected, tail) else None


def look_up(raw_code: str, raw_tail: str, address: str, now: dt.datetime | None = None) -> Lookup:
    """A resident's own status this round, for the person code and the last six characters of
    their document number."""
    now = now or timezone.now()
    code = codes.parse_person_code(raw_code or "")
    if not allow(address, code, now):
        return Lookup(code=TOO_MANY, error=too_many())
    tail = document_tail(raw_tail)
    if code is None:
        return Lookup(
            code="invalid",
            error=_(
                "That is not a person code. It has 9 letters and digits and is printed on your "
                "code sheet and shown in your health-code app."
            ),
        )
    if not 5 <= len(tail) <= 6:
        return Lookup(
            code="invalid",
            error=_(
                "Give the last 6 characters of your document number (ID card, passport or permit), as on the card."
            ),
        )
    resident = resident_by_code_and_document(code, tail)
    if resident is None:
        # The same words whether the code or the document is wrong: nothing is learned by trying.
        return Lookup(
            code="no_match",
            error=_(
                "No match for that person code and document number. Check both, or ask your community worker."
            ),
        )
    campaign = (
        Campaign.objects.filter(buildings__building__units__households=resident.household_id)
        .exclude(status=CampaignStatus.CLOSED)
        .order_by("-starts_at", "-id")
        .first()
    )
    if campaign is None:
        return Lookup(code="no_round", error=_("No testing round is running where you live."))
    found = Lookup(round_name=campaign.name)
    sample = RoundSample.objects.filter(campaign=campaign, resident=resident).first()
    if sample is not None:
        found.sampled_at = sample.sampled_at
        member = (
            TubeMember.objects.filter(campaign=campaign, resident=resident)
            .select_related("tube__site")
            .order_by("-added_at")
            .first()
        )
        if member is not None:
            found.site_name = member.tube.site.name
            found.result = member.tube.result
    order = (
        RetestOrder.objects.filter(campaign=campaign, resident=resident)
        .filter(Q(status=OrderStatus.OPEN) | Q(status=OrderStatus.SAMPLED))
        .order_by("-id")
        .first()
    )
    if order is not None:
        found.retest = order.route
        found.stay_home = order.kind == OrderKind.POSITIVE_POOL
    return found
