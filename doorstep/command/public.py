"""The public side: site status for residents, and a resident's own status this round.

No login and no personal data. The site list is read from the sites, the duty counters and the
last queue reports; the look-up answers only the person who knows both their person code and
the last six characters of their document number (which no masked page shows), checked and
limited by ``territory.secret`` like every form that takes that pair.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from doorstep.campaigns import queries as campaign_queries
from doorstep.campaigns.models import Campaign, CampaignBuilding, CampaignStatus, ZoneChange
from doorstep.core.actions import RESIDENT
from doorstep.core.models import AuditAction, AuditEntry
from doorstep.core.watermark import role_label
from doorstep.lab.models import OrderKind, OrderStatus, ResultEntry, RetestOrder, Route
from doorstep.lab.timeline import Timeline, timeline
from doorstep.sampling.models import Result, RoundSample, Site, TubeMember
from doorstep.sampling.queries import Wait, site_waits
from doorstep.territory import secret
from doorstep.territory.models import Household, Resident
from doorstep.workforce.queries import open_lanes

TOO_MANY = "too_many"


@dataclass
class SiteStatus:
    site: Site
    lanes: int
    lanes_open: int
    wait: Wait
    # When the site's community starts sampling this round (staggered starts), if told.
    start: campaign_queries.Start | None = None


def site_statuses(now: dt.datetime | None = None) -> list[SiteStatus]:
    """Every site with its lanes, lanes staffed to take people now, and its wait band; not the
    sites of communities that are running a drill (residents are not sent to a rehearsal)."""
    drilling = CampaignBuilding.objects.filter(
        campaign__status=CampaignStatus.ACTIVE, campaign__is_drill=True
    ).values("community_id")
    sites = list(
        Site.objects.exclude(community_id__in=drilling)
        .select_related("community")
        .prefetch_related("lanes")
        .order_by("community__name", "name")
    )
    # A lane is open when it can take someone: a sampler and a registrar on duty at it now (a
    # lane short of either is closed to residents).
    staffed = open_lanes()
    waits = site_waits(sites, now)
    starts = campaign_queries.public_starts({s.community_id for s in sites}, now or timezone.now())
    return [
        SiteStatus(
            site,
            len(site.lanes.all()),
            sum(lane.pk in staffed for lane in site.lanes.all()),
            waits[site.pk],
            starts.get(site.community_id),
        )
        for site in sites
    ]


class State:
    """What the look-up tells a resident: one state, one message (``command/me.html``)."""

    NOT_SAMPLED = "not_sampled"  # go to a site
    WAITING = "waiting"  # sampled, result not back
    NEGATIVE = "negative"  # sampled, pool negative
    RETEST_HOME = "retest_home"  # in a positive pool: stay home, a sampler will come
    RETEST_SITE = "retest_site"  # in a positive pool: stay home except to go to a site
    RETEST_SAMPLED = "retest_sampled"  # retest taken, its result not back: stay home
    CLEARED = "cleared"  # the retest was negative
    CASE = "case"  # the retest (or a single tube) was positive
    RESAMPLE = "resample"  # the sample could not be read: sample again


@dataclass
class Lookup:
    """What the look-up may say. ``error`` is set when it says nothing about anyone."""

    error: str = ""
    code: str = ""  # what went wrong: too_many, no_match, no_round
    round_name: str = ""
    state: str = ""
    sampled_at: dt.datetime | None = None
    site_name: str = ""
    # The pool's result time (positive, negative) and, for a retest, its time and result.
    resulted_at: dt.datetime | None = None
    retest_sampled_at: dt.datetime | None = None
    cleared_at: dt.datetime | None = None
    go_to: str = ""  # the site to go to, for RETEST_SITE, RESAMPLE and NOT_SAMPLED
    # Where the latest sample is: each step's time, and the one that holds it (lab.timeline).
    timeline: Timeline | None = None
    # When the resident's community starts sampling, and where (staggered starts).
    starts_at: dt.datetime | None = None
    start_sites: str = ""
    # Who read the resident's record, and the changes about them (said once they proved who
    # they are, round or no round).
    record: MyRecord | None = None

    @property
    def stay_home(self) -> bool:
        return self.state in {State.RETEST_HOME, State.RETEST_SITE, State.RETEST_SAMPLED}


def look_up(raw_code: str, raw_tail: str, address: str, now: dt.datetime | None = None) -> Lookup:
    """A resident's own status this round, for the person code and the last six characters of
    their document number."""
    now = now or timezone.now()
    pair = secret.check(raw_code, raw_tail, address, now)
    if pair.resident is None:
        return Lookup(
            code=TOO_MANY if pair.outcome == secret.REFUSED else "no_match", error=pair.message
        )
    resident = pair.resident
    campaign = _round_of(resident)
    start = campaign_queries.public_starts({resident.community_id}, now).get(resident.community_id)
    record = my_record(resident)
    if campaign is None:
        if start is None:
            return Lookup(
                code="no_round",
                error=_("No testing round is running where you live."),
                record=record,
            )
        # A planned round whose start residents were told.
        found = Lookup(round_name=start.round_name, state=State.NOT_SAMPLED)
    else:
        found = _state(campaign, resident, now)
        found.timeline = timeline(resident, campaign, now)
    if start is not None:
        found.starts_at = start.starts_at
        sites = Site.objects.filter(community_id=resident.community_id).order_by("name")
        found.start_sites = " / ".join(sites.values_list("name", flat=True))
    found.record = record
    return found


# --- who read my record ---------------------------------------------------------------------

# The most accesses and changes a resident is shown (a worker's list of a whole campaign is one
# export each; a long response, a few dozen).
RECORD_SHOWN = 200


@dataclass(frozen=True)
class Access:
    """One access to the resident's record by staff: when, the role and unit (never the name),
    what was done, and the reason given."""

    at: dt.datetime
    role: str
    unit: str
    what: str
    reason: str
    masked: bool = False


@dataclass(frozen=True)
class Change:
    """A change about the resident: their building's zone, or a result of their tube corrected;
    with its rule or reason."""

    at: dt.datetime
    what: str
    why: str
    note: str = ""


@dataclass
class MyRecord:
    accesses: list[Access]
    changes: list[Change]


def _what(entry: AuditEntry) -> tuple[str, bool]:
    """What an entry did to the record, in the resident's words; and whether it was masked."""
    detail = entry.detail if isinstance(entry.detail, dict) else {}
    masked = bool(detail.get("masked"))
    if entry.action == AuditAction.REVEAL:
        if entry.object_type == "case_sheet":
            return _("Opened your case sheet with your full details"), False
        return _("Revealed your full document number and phone"), False
    if entry.action == AuditAction.TRACE:
        return _("Found your household from the address you gave"), False
    if entry.action == AuditAction.PRINT:
        if entry.object_type == "door_notices":
            return _("Printed a notice for your door"), False
        return _("Printed your person code"), False
    if entry.object_type == "case_sheet":
        step = detail.get("step")
        if step == "hand_over":
            return _("Handed your case sheet over to the epidemiological team"), False
        if step == "acknowledge":
            return _("Received your case sheet"), False
        if detail.get("format") == "print":
            return _("Printed your case sheet"), masked
        return _("Exported your case sheet"), masked
    if entry.object_type == "untested":
        return _("Exported you in a list of people not tested"), masked
    return _("Exported you in a list of residents"), masked


def my_record(resident: Resident) -> MyRecord:
    """Every access by staff to the resident's record (``core.AuditPerson``), newest first;
    and the zone changes of their building and the corrections of their tubes' results."""
    entries = AuditEntry.objects.filter(
        people__kind=RESIDENT,
        people__person_id=resident.pk,
        action__in=[AuditAction.REVEAL, AuditAction.EXPORT, AuditAction.PRINT, AuditAction.TRACE],
    ).order_by("-at", "-id")[:RECORD_SHOWN]
    accesses = []
    for entry in entries:
        what, masked = _what(entry)
        accesses.append(
            Access(entry.at, role_label(entry.role), entry.unit, what, entry.reason, masked)
        )
    changes = []
    building_id = (
        Household.objects.filter(pk=resident.household_id)
        .values_list("unit__building_id", flat=True)
        .first()
    )
    zones = ZoneChange.objects.none()
    if building_id is not None:
        zones = ZoneChange.objects.filter(building_id=building_id).select_related("campaign")
    for z in zones.order_by("-at", "-id")[:RECORD_SHOWN]:
        what = _("%(round)s: your building went from %(from)s to %(to)s") % {
            "round": z.campaign.name,
            "from": z.get_from_zone_display(),
            "to": z.get_to_zone_display(),
        }
        changes.append(Change(z.at, what, str(z.get_why_display()), z.note))
    tubes = TubeMember.objects.filter(resident=resident).values("tube_id")
    corrected = (
        ResultEntry.objects.filter(tube_id__in=tubes)
        .exclude(correction_reason="")
        .select_related("tube")
        .order_by("-recorded_at", "-id")[:RECORD_SHOWN]
    )
    for r in corrected:
        what = _("The result of tube %(tube)s was corrected to %(result)s") % {
            "tube": r.tube.code,
            "result": r.get_result_display(),
        }
        changes.append(Change(r.recorded_at, what, _("A corrected result"), r.correction_reason))
    changes.sort(key=lambda c: c.at, reverse=True)
    return MyRecord(accesses, changes)


def _round_of(resident: Resident) -> Campaign | None:
    """The round running where the resident lives, or the one they were sampled in."""
    running = (
        Campaign.objects.filter(status=CampaignStatus.ACTIVE, is_drill=False)
        .filter(
            Q(buildings__building__units__households=resident.household_id)
            | Q(pk__in=RoundSample.objects.filter(resident=resident).values("campaign_id"))
        )
        .order_by("-starts_at", "-id")
    )
    return running.first()


def _site_to_go(resident: Resident, now: dt.datetime, fallback: str) -> str:
    """The resident's community's site with the shortest wait now (or ``fallback``)."""
    sites = list(Site.objects.filter(community_id=resident.community_id).prefetch_related("lanes"))
    if not sites:
        return fallback
    waits = site_waits(sites, now)
    best = min(sites, key=lambda s: (waits[s.pk].minutes is None, waits[s.pk].minutes or 0, s.name))
    return best.name


def _state(campaign: Campaign, resident: Resident, now: dt.datetime) -> Lookup:
    found = Lookup(round_name=campaign.name)
    order = (
        RetestOrder.objects.filter(campaign=campaign, resident=resident)
        .exclude(status=OrderStatus.CANCELLED)
        .select_related("original_tube__site", "retest_tube")
        .order_by("-id")
        .first()
    )
    sample = RoundSample.objects.filter(campaign=campaign, resident=resident).first()
    if order is not None:
        pool = order.original_tube
        found.sampled_at, found.site_name = pool.sealed_at or pool.opened_at, pool.site.name
        found.resulted_at = pool.resulted_at
        if order.kind == OrderKind.RESAMPLE:
            if order.status == OrderStatus.RESULTED:
                return _resulted(found, order)
            found.state = State.RESAMPLE if order.status == OrderStatus.OPEN else State.WAITING
            if order.retest_tube is not None:
                found.retest_sampled_at = order.retest_tube.opened_at
            found.go_to = _site_to_go(resident, now, pool.site.name)
            return found
        if order.status == OrderStatus.OPEN:
            found.state = (
                State.RETEST_HOME if order.route == Route.DOOR_TO_DOOR else State.RETEST_SITE
            )
            found.go_to = _site_to_go(resident, now, pool.site.name)
        elif order.status == OrderStatus.SAMPLED:
            found.state = State.RETEST_SAMPLED
            found.retest_sampled_at = order.retest_tube.opened_at if order.retest_tube else None
        else:
            return _resulted(found, order)
        return found
    if sample is None:
        found.state = State.NOT_SAMPLED
        return found
    found.sampled_at = sample.sampled_at
    member = (
        TubeMember.objects.filter(campaign=campaign, resident=resident)
        .select_related("tube__site")
        .order_by("-added_at")
        .first()
    )
    tube = member.tube if member else None
    if tube is not None:
        found.site_name, found.resulted_at = tube.site.name, tube.resulted_at
    result = tube.result if tube else ""
    found.state = {
        Result.NEGATIVE: State.NEGATIVE,
        Result.POSITIVE: State.CASE,
        Result.INVALID: State.RESAMPLE,
    }.get(result, State.WAITING)  # type: ignore[call-overload]
    if found.state == State.RESAMPLE:
        found.go_to = _site_to_go(resident, now, found.site_name)
    return found


def _resulted(found: Lookup, order: RetestOrder) -> Lookup:
    if order.retest_tube is not None:
        found.retest_sampled_at = order.retest_tube.opened_at
    found.cleared_at = order.closed_at
    found.state = State.CLEARED if order.result == Result.NEGATIVE else State.CASE
    return found
