"""The public side: site status for residents, and a resident's own status this round.

No login and no personal data. The site list is read from the sites, the duty counters and the
last queue reports; the look-up answers only the person who knows both their person code and
the last four digits of their phone, and is rate-limited by address and by code.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from doorstep.campaigns.models import Campaign, CampaignStatus
from doorstep.command.models import LookupAttempt
from doorstep.core import codes
from doorstep.lab.models import OrderKind, OrderStatus, RetestOrder
from doorstep.sampling.models import RoundSample, Site, TubeMember
from doorstep.sampling.queries import Wait, site_waits
from doorstep.territory.models import Resident
from doorstep.workforce.models import DutyCounter, DutyRole, PlaceKind

# Five tries in ten minutes, per address and per person code: four digits cannot be guessed
# from one address, nor one person's from many.
LIMIT = 5
WINDOW = dt.timedelta(minutes=10)
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


def _digest(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


def _limited(keys: list[str], now: dt.datetime) -> bool:
    tries = dict(
        LookupAttempt.objects.filter(key_digest__in=keys, at__gte=now - WINDOW)
        .values("key_digest")
        .annotate(n=Count("id"))
        .values_list("key_digest", "n")
    )
    return any(tries.get(key, 0) >= LIMIT for key in keys)


def allow(address: str, code: str | None, now: dt.datetime) -> bool:
    """Whether this address (and this person code) may try again now; the try is counted."""
    keys = [_digest("address", address)] + ([_digest("code", code)] if code else [])
    if _limited(keys, now):
        return False
    LookupAttempt.objects.bulk_create([LookupAttempt(key_digest=k, at=now) for k in keys])
    return True


def too_many() -> str:
    return _("Too many tries. Wait %(minutes)d minutes, or ask your community worker.") % {
        "minutes": int(WINDOW.total_seconds() // 60)
    }


def resident_by_code_and_phone(code: str | None, last4: str) -> Resident | None:
    """The resident with this (parsed) person code whose phone ends in these four digits."""
    if code is None or len(last4) != 4 or not last4.isdigit():
        return None
    return Resident.objects.filter(person_code=code, phone__endswith=last4).first()


def look_up(
    raw_code: str, phone_last4: str, address: str, now: dt.datetime | None = None
) -> Lookup:
    """A resident's own status this round, for the person code and the phone's last 4 digits."""
    now = now or timezone.now()
    code = codes.parse_person_code(raw_code or "")
    if not allow(address, code, now):
        return Lookup(code=TOO_MANY, error=too_many())
    digits = (phone_last4 or "").strip()
    if code is None:
        return Lookup(
            code="invalid",
            error=_(
                "That is not a person code. It has 9 letters and digits and is printed on your "
                "code sheet and shown in your health-code app."
            ),
        )
    if len(digits) != 4 or not digits.isdigit():
        return Lookup(
            code="invalid",
            error=_("Give the last 4 digits of the phone number the community has for you."),
        )
    resident = resident_by_code_and_phone(code, digits)
    if resident is None:
        # The same words whether the code or the phone is wrong: nothing is learned by trying.
        return Lookup(
            code="no_match",
            error=_(
                "No match for that person code and phone. Check both, or ask your community worker."
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
