"""The special-needs workflow: register → verified (contact logged) → arranged → done, or
declined with a reason the resident is told. Every step records who and when, in the same
transaction as the counters. Nothing here waits on a test result: a medical need is never
blocked by one."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from doorstep.assistance.models import (
    OPEN,
    URGENT,
    ContactAttempt,
    ContactOutcome,
    How,
    NeedCounter,
    Request,
    Source,
    Status,
)
from doorstep.campaigns.queries import running_in
from doorstep.canvass.models import NeedKind, Visit
from doorstep.core import codes, counters, limits
from doorstep.core.idnumbers import InvalidValue, normalise_phone, normalise_resident_id
from doorstep.core.limits import Limit
from doorstep.core.models import User
from doorstep.territory import closures
from doorstep.territory.models import Community, Household, Resident

# Sends of the residents' own request form from one address, right or wrong: a flood of requests
# from one address stops here. The person code and document tail it carries are checked and
# limited apart, with the status look-up's keys (``territory.secret``).
NEEDS = Limit("needs", 20, dt.timedelta(minutes=10))


def allow_needs(address: str, now: dt.datetime) -> bool:
    """Whether this address may send the residents' request form again now."""
    return limits.allow(NEEDS, [f"address:{address}"], now)


class NeedError(Exception):
    """A refusal in words the user can act on."""


class Duplicate(NeedError):
    """The same resident already has an open request for this need: offer to merge."""

    def __init__(self, message: str, existing: Request) -> None:
        super().__init__(message)
        self.existing = existing


@dataclass
class Who:
    """Whom a request is for: a resident (by person code or household), or a walk-in."""

    resident: Resident | None = None
    household: Household | None = None
    name: str = ""
    id_number: str = ""
    phone: str = ""


def find_person(code: str) -> Resident:
    parsed = codes.parse_person_code(code or "")
    resident = (
        Resident.objects.filter(person_code=parsed).select_related("household").first()
        if parsed
        else None
    )
    if resident is None:
        raise NeedError(
            _(
                "No resident has the person code «%(code)s». Check it on the code sheet, or register them as someone not on the roster."
            )
            % {"code": (code or "")[:20]}
        )
    return resident


def walk_in(name: str, id_number: str, phone: str) -> Who:
    name = (name or "").strip()
    if not name:
        raise NeedError(_("Give the person's name."))
    try:
        number = normalise_resident_id(id_number)
    except InvalidValue as exc:
        raise NeedError(_("The document number: %(why)s") % {"why": exc}) from None
    try:
        phone = normalise_phone(phone)
    except InvalidValue as exc:
        raise NeedError(_("The phone: %(why)s") % {"why": exc}) from None
    if not phone:
        raise NeedError(_("Give a phone number: the community must be able to call back."))
    return Who(name=name, id_number=number, phone=phone)


def target(request: Request) -> dt.timedelta:
    """How soon the request should be verified and arranged, from its registration."""
    campaign = request.campaign
    if request.kind in URGENT:
        return dt.timedelta(minutes=campaign.urgent_need_minutes if campaign else 10)
    return dt.timedelta(minutes=campaign.need_minutes if campaign else 120)


def _count(community_id: int, status: str, urgent: bool, delta: int) -> None:
    counters.add(
        NeedCounter,
        {"community_id": community_id, "status": status, "urgent": urgent},
        {"count": delta},
        create={},
    )


def _move(request: Request, old: str | None, new: str) -> None:
    if old is not None:
        _count(request.community_id, old, request.urgent, -1)
    _count(request.community_id, new, request.urgent, 1)


@transaction.atomic
def register(
    user: User | None,
    who: Who,
    *,
    kind: str,
    needed_by: dt.datetime | None,
    source: str,
    community: Community | None = None,
    destination: str = "",
    details: str = "",
    visit: Visit | None = None,
    now: dt.datetime | None = None,
) -> Request:
    now = now or timezone.now()
    if kind not in NeedKind.values:
        raise NeedError(
            _("«%(kind)s» is not a kind of need. Choose one of: %(kinds)s.")
            % {"kind": str(kind)[:30], "kinds": ", ".join(str(label) for label in NeedKind.labels)}
        )
    if source not in Source.values:
        raise NeedError(_("Unknown source of the request."))
    if needed_by is None and kind in URGENT:
        needed_by = now  # an emergency or a birth is needed now: nobody should have to type it
    if needed_by is None:
        raise NeedError(
            _(
                "Say when it is needed by (date and time). Only an emergency or a birth may leave it empty: it is now."
            )
        )
    if timezone.is_naive(needed_by):
        needed_by = timezone.make_aware(needed_by)
    # An emergency is needed now; anything else in the past is a typing mistake.
    # A canvasser's tap may reach the server after the time it names; it is still a request.
    if (
        kind not in URGENT
        and source != Source.CANVASSER
        and needed_by < now - dt.timedelta(minutes=5)
    ):
        raise NeedError(
            _("“Needed by” %(at)s is in the past. Give the time of the exam or appointment.")
            % {"at": timezone.localtime(needed_by).strftime("%m-%d %H:%M")}
        )
    resident = who.resident
    household = who.household or (resident.household if resident else None)
    if community is None:
        if resident is not None:
            community = resident.community
        elif household is not None:
            community = household.unit.building.community
    if community is None:
        raise NeedError(_("Say which community the person lives in."))
    if closures.erased([community.town_id]):
        raise NeedError(
            _(
                "The response in this town is over and its personal data erased: Doorstep "
                "takes no more requests there. Call the town's hotline."
            )
        )
    if resident is not None:
        existing = (
            Request.objects.filter(resident=resident, kind=kind, status__in=OPEN)
            .order_by("registered_at")
            .first()
        )
        if existing is not None:
            raise Duplicate(
                _(
                    "%(name)s already has an open request for %(kind)s (#%(id)s, %(status)s). Merge this one into it."
                )
                % {
                    "name": resident.masked_name,
                    "kind": existing.get_kind_display(),
                    "id": existing.pk,
                    "status": existing.get_status_display(),
                },
                existing,
            )
    request = Request.objects.create(
        community=community,
        campaign=running_in(community.pk),
        resident=resident,
        household=household,
        walk_in_name=who.name,
        walk_in_id_number=who.id_number,
        walk_in_phone=who.phone,
        kind=kind,
        priority=0 if kind in URGENT else 1,
        needed_by=max(needed_by, now) if kind in URGENT else needed_by,
        destination=destination.strip()[:200],
        details=details.strip()[:2000],
        source=source,
        visit=visit,
        registered_at=now,
        registered_by=user,
    )
    _move(request, None, Status.REGISTERED)
    return request


@transaction.atomic
def merge(user: User | None, into: Request, details: str, needed_by: dt.datetime | None) -> Request:
    """A second report of the same need: its details are added, the earlier need-by kept."""
    into = Request.objects.select_for_update().get(pk=into.pk)
    if not into.is_open:
        raise NeedError(_("That request is closed; register a new one."))
    extra = details.strip()
    if extra:
        into.details = f"{into.details}\n{extra}".strip()[:2000]
    if needed_by is not None and needed_by < into.needed_by:
        into.needed_by = needed_by
    into.save(update_fields=["details", "needed_by"])
    return into


def _locked(request: Request) -> Request:
    return (
        Request.objects.select_for_update(of=("self",))
        .select_related("campaign")
        .get(pk=request.pk)
    )


@transaction.atomic
def log_contact(
    user: User, request: Request, outcome: str, note: str = "", now: dt.datetime | None = None
) -> ContactAttempt:
    if outcome not in ContactOutcome.values:
        raise NeedError(_("Say how the call went."))
    request = _locked(request)
    if not request.is_open:
        raise NeedError(_("The request is closed."))
    return ContactAttempt.objects.create(
        request=request, at=now or timezone.now(), by=user, outcome=outcome, note=note.strip()[:300]
    )


@transaction.atomic
def verify(
    user: User, request: Request, resident: Resident | None = None, now: dt.datetime | None = None
) -> Request:
    """The community has reached the person: a contact attempt that reached them is logged."""
    request = _locked(request)
    if request.status != Status.REGISTERED:
        raise NeedError(
            _("The request is already %(status)s.") % {"status": request.get_status_display()}
        )
    if not request.contacts.filter(outcome=ContactOutcome.REACHED).exists():
        raise NeedError(
            _("Log a call that reached the person before marking the request verified.")
        )
    if resident is not None:
        if request.household_id and resident.household_id != request.household_id:
            raise NeedError(_("That person does not live in the household of the request."))
        request.resident = resident
    request.status, request.verified_at, request.verified_by = (
        Status.VERIFIED,
        now or timezone.now(),
        user,
    )
    request.save(update_fields=["status", "verified_at", "verified_by", "resident"])
    _move(request, Status.REGISTERED, Status.VERIFIED)
    return request


@transaction.atomic
def arrange(
    user: User,
    request: Request,
    how: str,
    place: str,
    single_tube: bool = False,
    now: dt.datetime | None = None,
) -> Request:
    request = _locked(request)
    if request.status == Status.REGISTERED:
        raise NeedError(_("Verify the request first: call the person and log the call."))
    if request.status != Status.VERIFIED:
        raise NeedError(
            _("The request is already %(status)s.") % {"status": request.get_status_display()}
        )
    if how not in How.values:
        raise NeedError(_("Say how: ambulance, volunteer car, pass letter or escort."))
    if not place.strip():
        raise NeedError(_("Say where to: the designated hospital or the exam site."))
    request.status, request.arranged_at, request.arranged_by = (
        Status.ARRANGED,
        now or timezone.now(),
        user,
    )
    request.how, request.place, request.single_tube = how, place.strip()[:200], bool(single_tube)
    request.save(
        update_fields=["status", "arranged_at", "arranged_by", "how", "place", "single_tube"]
    )
    _move(request, Status.VERIFIED, Status.ARRANGED)
    return request


@transaction.atomic
def finish(user: User, request: Request, now: dt.datetime | None = None) -> Request:
    request = _locked(request)
    if request.status != Status.ARRANGED:
        raise NeedError(_("Only an arranged request can be marked done."))
    request.status, request.closed_at, request.closed_by = Status.DONE, now or timezone.now(), user
    request.save(update_fields=["status", "closed_at", "closed_by"])
    _move(request, Status.ARRANGED, Status.DONE)
    return request


@transaction.atomic
def decline(user: User, request: Request, reason: str, now: dt.datetime | None = None) -> Request:
    request = _locked(request)
    if not request.is_open:
        raise NeedError(_("The request is already closed."))
    if not reason.strip():
        raise NeedError(_("Give the reason: the resident is told it."))
    old = request.status
    request.status, request.closed_at, request.closed_by = (
        Status.DECLINED,
        now or timezone.now(),
        user,
    )
    request.decline_reason = reason.strip()[:300]
    request.save(update_fields=["status", "closed_at", "closed_by", "decline_reason"])
    _move(request, old, Status.DECLINED)
    return request


def from_visit(user: User | None, visit: Visit) -> Request | None:
    """A canvasser's "special need" tap becomes a request for the household (the resident is
    named when the community verifies it; a one-person household names them at once)."""
    members = list(Resident.objects.filter(household_id=visit.household_id, moved_out=False)[:2])
    resident = members[0] if len(members) == 1 else None
    try:
        return register(
            user,
            Who(resident=resident, household=visit.household),
            kind=visit.need_kind,
            needed_by=visit.need_by or visit.tapped_at,
            source=Source.CANVASSER,
            details=visit.note,
            visit=visit,
            now=visit.recorded_at,
        )
    except Duplicate as exc:
        return merge(user, exc.existing, visit.note, visit.need_by)
    except NeedError:
        return None  # a household without a community cannot happen; the visit keeps the need
