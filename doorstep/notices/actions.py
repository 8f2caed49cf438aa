"""Every write of telling: notices and messages made in the transaction of the event that
causes them, the gateway's answers and delivery reports, knocks at the door, and the sweep
that turns a notice not told in time into a door visit.

The callers (the lab's results, the zoners) run these inside their own transaction, so a
message exists if and only if its cause was committed. The sender (``sender.py``) and the
delivery-report view run the rest, each in its own short transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F, Q, QuerySet

from doorstep.campaigns import queries as campaign_queries
from doorstep.campaigns.models import Campaign, Zone, ZoneChange
from doorstep.core import clocks
from doorstep.core.models import User
from doorstep.notices import hooks, words
from doorstep.notices.models import (
    MUST_TELL,
    SETTLED,
    DoorReason,
    Kind,
    Message,
    MessageState,
    Notice,
    ToldHow,
)
from doorstep.sampling.models import HomeReason, HomeStop, Site, Tube, WalkIn
from doorstep.territory.models import Building, District, Household, Resident, Town


@dataclass(frozen=True)
class Person:
    """Someone to tell: a resident of the roster or a walk-in, with the household a door visit
    goes to (none for a walk-in whose address is not traced yet)."""

    community_id: int
    resident_id: int | None = None
    walk_in_id: int | None = None
    household_id: int | None = None
    member_id: int | None = None
    # Sampled again at their door (a sealed building), else told where to go.
    at_door: bool = False


@dataclass(frozen=True)
class _Contact:
    phone: str
    language: str
    town: Town


def _contacts(people: Sequence[Person]) -> dict[tuple[str, int], _Contact]:
    """Phone, language and town of each person, in two queries."""
    found: dict[tuple[str, int], _Contact] = {}
    resident_ids = [p.resident_id for p in people if p.resident_id]
    for r in Resident.objects.filter(pk__in=resident_ids).select_related("town__district"):
        # (One who moved out since is texted all the same: the phone goes with them.)
        found["r", r.pk] = _Contact(r.phone, r.language, r.town)
    walk_in_ids = [p.walk_in_id for p in people if p.walk_in_id]
    for w in WalkIn.objects.filter(pk__in=walk_in_ids).select_related("community__town__district"):
        found["w", w.pk] = _Contact(w.phone, "zh-hans", w.community.town)
    return found


def _is_drill(campaign_id: int) -> bool:
    return Campaign.objects.filter(pk=campaign_id, is_drill=True).exists()


def _key(person: Person) -> tuple[str, int]:
    return ("r", person.resident_id) if person.resident_id else ("w", person.walk_in_id or 0)


def _message(
    campaign_id: int | None,
    kind: str,
    person: Person,
    contact: _Contact,
    at: dt.datetime,
    place: str = "",
    notice: Notice | None = None,
    when: dt.datetime | None = None,
) -> Message:
    return Message(
        campaign_id=campaign_id,
        notice=notice,
        resident_id=person.resident_id,
        walk_in_id=person.walk_in_id,
        household_id=person.household_id,
        community_id=person.community_id,
        kind=kind,
        phone=contact.phone,
        text=words.message(
            kind,
            language=contact.language,
            signature=contact.town.message_signature,
            hotline=contact.town.message_hotline,
            at_door=person.at_door,
            place=place,
            when=when,
        ),
        language=contact.language,
        queued_at=at,
        next_try_at=at,
    )


def tell(
    campaign_id: int,
    kind: str,
    cause: Tube,
    people: Sequence[Person],
    at: dt.datetime,
    place: str = "",
) -> list[Notice]:
    """People who must be told ``kind`` because of ``cause``'s result: a notice each (once per
    person and cause) and a message to each one with a phone; one with none is a door visit
    from now. Runs in the caller's transaction."""
    assert kind in MUST_TELL, kind
    drill = _is_drill(campaign_id)
    # Told before for this cause: once. Withdrawn by a correction that was corrected back:
    # the same notice, told again from now.
    have: dict[tuple[int | None, int | None], tuple[int | None, bool]] = {
        (r, w): (pk, cancelled is not None)
        for pk, r, w, cancelled in Notice.objects.filter(cause_tube=cause, kind=kind).values_list(
            "pk", "resident_id", "walk_in_id", "cancelled_at"
        )
    }
    contacts = _contacts(people)
    new: list[tuple[Person, Notice]] = []
    for person in people:
        key = (person.resident_id, person.walk_in_id)
        pk, withdrawn = have.get(key, (None, False))
        if pk is not None and not withdrawn:
            continue
        have[key] = (0, False)  # once per person, even if named twice
        contact = contacts.get(_key(person))
        phone = contact.phone if contact and not drill else ""
        reason = DoorReason.DRILL if drill else DoorReason.NO_PHONE
        notice = Notice(
            pk=pk,
            campaign_id=campaign_id,
            community_id=person.community_id,
            kind=kind,
            cause_tube=cause,
            member_id=person.member_id,
            resident_id=person.resident_id,
            walk_in_id=person.walk_in_id,
            household_id=person.household_id,
            created_at=at,
            due_at=at + clocks.TELL_WITHIN,
            door_at=None if phone else at,
            door_reason="" if phone else reason,
        )
        if pk is not None:
            notice.save()  # every field as new: not told, not withdrawn
        new.append((person, notice))
    Notice.objects.bulk_create([n for _p, n in new if n.pk is None])
    Message.objects.bulk_create(
        [
            _message(campaign_id, kind, person, contacts[_key(person)], at, place, notice)
            for person, notice in new
            if notice.door_at is None
        ]
    )
    return [n for _p, n in new]


def inform(
    campaign_id: int | None,
    kind: str,
    people: Sequence[Person],
    at: dt.datetime,
    place: str = "",
    when: dt.datetime | None = None,
) -> int:
    """A message for information (no door visit if it fails) to each person with a phone.
    Runs in the caller's transaction."""
    if campaign_id is not None and _is_drill(campaign_id):
        return 0  # a drill texts nobody
    contacts = _contacts(people)
    messages = [
        _message(campaign_id, kind, person, contact, at, place, when=when)
        for person in people
        if (contact := contacts.get(_key(person))) and contact.phone
    ]
    Message.objects.bulk_create(messages, batch_size=1000)
    return len(messages)


def withdraw(cause: Tube, at: dt.datetime) -> int:
    """A corrected result: the notices it called for that are not told yet are withdrawn, and
    their messages not yet handed to the gateway are not sent."""
    notices = Notice.objects.filter(cause_tube=cause, told_at=None, cancelled_at=None)
    Message.objects.filter(notice__in=notices, state=MessageState.QUEUED).update(
        state=MessageState.FAILED, failed_at=at, last_reply="withdrawn: the result was corrected"
    )
    return notices.update(cancelled_at=at)


def traced(walk_in: WalkIn, household: Household, at: dt.datetime) -> None:
    """A ``sampling`` trace listener: a walk-in's household was found, so their notices not
    told yet go to that door (and their messages are the household's)."""
    Notice.objects.filter(walk_in=walk_in, told_at=None).update(household=household)
    Message.objects.filter(walk_in=walk_in).update(household=household)


# The gateway and its delivery reports ---------------------------------------------------------


def _told(notice_ids: Collection[int], how: str, at: dt.datetime, by: User | None = None) -> int:
    untold = Notice.objects.filter(pk__in=notice_ids, told_at=None, cancelled_at=None)
    tubes = set(untold.values_list("cause_tube_id", flat=True))
    n = untold.update(told_at=at, told_how=how, knocked_by=by)
    hooks.told(tubes, at)
    return n


def _to_door(notices: QuerySet[Notice], reason: str, at: dt.datetime) -> int:
    return notices.filter(told_at=None, door_at=None, cancelled_at=None).update(
        door_at=at, door_reason=reason
    )


# A message this sender is handing over: sending, or taken for stuck by another sender that
# thought this one had died (its own answer still says what happened).
_IN_FLIGHT = (MessageState.SENDING, MessageState.UNKNOWN)


@transaction.atomic
def accepted(message_id: int, reply: str, at: dt.datetime) -> None:
    """The gateway took the message (sendsms answered 2xx). Its delivery report may have come
    first (Kannel sends it as soon as the carrier answers): that state stays."""
    Message.objects.filter(pk=message_id, accepted_at=None).update(accepted_at=at, claim=None)
    # (Unknown: another sender took this one for stuck while this one was still sending it.)
    Message.objects.filter(pk=message_id, state__in=_IN_FLIGHT).update(
        state=MessageState.ACCEPTED, last_reply=reply[:200]
    )


@transaction.atomic
def refused(message_id: int, reply: str, at: dt.datetime) -> None:
    """The gateway refused the message (4xx): it is failed, never retried, and a notice waiting
    on it goes to the door now."""
    Message.objects.filter(pk=message_id).update(
        state=MessageState.FAILED, failed_at=at, last_reply=reply[:200], claim=None
    )
    _to_door(Notice.objects.filter(messages__pk=message_id), DoorReason.FAILED, at)


@transaction.atomic
def retry(message_id: int, reply: str, at: dt.datetime, wait: dt.timedelta) -> None:
    """The gateway could not be reached or was not ready (connection refused, 5xx): nothing
    was handed over, so the message goes back in the queue for a later try."""
    Message.objects.filter(pk=message_id, state__in=_IN_FLIGHT).update(
        state=MessageState.QUEUED, next_try_at=at + wait, last_reply=reply[:200], claim=None
    )


@transaction.atomic
def unknown(message_id: int, reply: str, at: dt.datetime) -> None:
    """The request went out but its answer never came back: the gateway may have it. Never
    sent again (nobody gets it twice); a delivery report can still settle it."""
    Message.objects.filter(pk=message_id, state=MessageState.SENDING).update(
        state=MessageState.UNKNOWN, last_reply=reply[:200], claim=None
    )


# Kannel's delivery-report types (its dlr-mask bits).
DLR_DELIVERED, DLR_FAILED, DLR_BUFFERED, DLR_SMSC_OK, DLR_SMSC_FAILED = 1, 2, 4, 8, 16


@transaction.atomic
def delivery_report(message: Message, dlr_type: int, reply: str, at: dt.datetime) -> None:
    """What the gateway reported: delivered to the phone tells the notice; failed (by the
    phone or the carrier) sends it to the door now; the carrier's acceptance is noted."""
    fields: dict[str, object] = {"last_reply": reply[:200]}
    if dlr_type == DLR_DELIVERED:
        fields |= {"state": MessageState.DELIVERED, "delivered_at": at}
    elif dlr_type in (DLR_FAILED, DLR_SMSC_FAILED):
        fields |= {"state": MessageState.FAILED, "failed_at": at}
    elif dlr_type == DLR_SMSC_OK:
        fields |= {"smsc_at": at}
    # A report for a message sent when its answer was lost settles it: the gateway had it.
    unsettled = Q(state__in=[MessageState.SENDING, MessageState.UNKNOWN, MessageState.QUEUED])
    if dlr_type in (DLR_SMSC_OK, DLR_BUFFERED):
        Message.objects.filter(pk=message.pk).filter(unsettled).update(
            state=MessageState.ACCEPTED, claim=None
        )
    # A settled message stays as it settled (Kannel may report a refusal it already answered).
    moved = Message.objects.filter(pk=message.pk).exclude(state__in=SETTLED).update(**fields)
    if message.notice_id is None:
        return
    if dlr_type == DLR_DELIVERED and moved:
        # Only the report that delivered it tells: not one replayed after it failed.
        _told([message.notice_id], ToldHow.SMS, at)
    elif dlr_type in (DLR_FAILED, DLR_SMSC_FAILED):
        _to_door(Notice.objects.filter(pk=message.notice_id), DoorReason.FAILED, at)


def escalate_due(now: dt.datetime) -> int:
    """Notices not told by their time whose message is still not delivered: door visits now."""
    due = Notice.objects.filter(due_at__lte=now, told_at=None, door_at=None, cancelled_at=None)
    if not due.exists():  # a read first: most passes find nothing, and take no write lock
        return 0
    with transaction.atomic():
        return _to_door(due, DoorReason.LATE, now)


# At the door ------------------------------------------------------------------------------------


@transaction.atomic
def knocked(user: User, notices: QuerySet[Notice], at: dt.datetime) -> int:
    """Someone knocked and told them (``notices`` already scoped to the user): only notices
    that are door visits (a message on its way is not for the door to settle)."""
    at_door = notices.filter(door_at__isnull=False)
    return _told(list(at_door.values_list("pk", flat=True)), ToldHow.DOOR, at, by=user)


def set_signature(place: District | Town, signature: str, hotline: str) -> None:
    """A district's or a town's signature and hotline, for the messages queued from now on."""
    type(place).objects.filter(pk=place.pk).update(sms_signature=signature, hotline=hotline)


@transaction.atomic
def nobody_home(user: User, notices: QuerySet[Notice], at: dt.datetime) -> int:
    """Someone knocked and found nobody (``notices`` already scoped): still to tell, tried
    once more. The list puts them after the doors nobody has tried yet."""
    return notices.filter(door_at__isnull=False, told_at=None, cancelled_at=None).update(
        door_tries=F("door_tries") + 1, door_tried_at=at, knocked_by=user
    )


# Zones ------------------------------------------------------------------------------------------


def zoned(campaign_id: int, building_ids: list[int], zone: str, at: dt.datetime) -> None:
    """A ``campaigns`` zoner: a building sealed books everyone waiting in it for home sampling
    (their stops, made by sampling's zoner before this one); a seal lifted tells its people
    they may go out."""
    if zone == Zone.SEALED:
        stops = HomeStop.objects.filter(
            campaign_id=campaign_id,
            task__building_id__in=building_ids,
            reason=HomeReason.SEALED,
            done_at=None,
            cancelled_at=None,
            resident__isnull=False,
        ).values_list("resident_id", "household_id", "resident__community_id")
        people = [
            Person(community_id=c, resident_id=r, household_id=h, at_door=True) for r, h, c in stops
        ]
        inform(campaign_id, Kind.HOME_VISIT, people, at)
        return
    lifted = ZoneChange.objects.filter(
        campaign_id=campaign_id,
        building_id__in=building_ids,
        from_zone=Zone.SEALED,
        to_zone=zone,
        at=at,
    ).values_list("building_id", flat=True)
    for building in Building.objects.filter(pk__in=list(lifted)):
        people = [
            Person(community_id=c, resident_id=r, household_id=h)
            for r, h, c in Resident.objects.filter(
                household__unit__building=building, moved_out=False
            ).values_list("pk", "household_id", "community_id")
        ]
        inform(campaign_id, Kind.SEAL_LIFTED, people, at, place=building.name)


# Start times ------------------------------------------------------------------------------------

# People looked up and texts written at a time: a town's announcement is tens of thousands.
_BATCH = 1000


def starts_announced(campaign_id: int, starts: dict[int, dt.datetime], at: dt.datetime) -> int:
    """A ``campaigns`` announcer: each household with a phone in these communities of the
    round is texted its community's start time and site (its first resident with a phone, in
    their language); a drill texts nobody. Runs in the caller's transaction."""
    town = Campaign.objects.select_related("town__district").get(pk=campaign_id).town
    sites: dict[int, list[str]] = {}
    for community_id, name in Site.objects.filter(community_id__in=list(starts)).values_list(
        "community_id", "name"
    ):
        sites.setdefault(community_id, []).append(name)
    queued = 0
    batch: list[Person] = []

    def send() -> int:
        c = batch[0].community_id
        # A community with several sites is told its time; the status page lists the sites.
        # So is one whose site's name would take the text past one part.
        place = sites[c][0] if len(sites.get(c, [])) == 1 else ""
        if place and not words.fits_one_part(
            Kind.START_TIME,
            signature=town.message_signature,
            hotline=town.message_hotline,
            place=place,
            when=starts[c],
        ):
            place = ""
        return inform(campaign_id, Kind.START_TIME, batch, at, place, when=starts[c])

    for resident_id, household_id, community_id in campaign_queries.first_phones(
        campaign_id, starts
    ):
        if batch and (len(batch) >= _BATCH or batch[-1].community_id != community_id):
            queued += send()
            batch = []
        batch.append(Person(community_id, resident_id=resident_id, household_id=household_id))
    if batch:
        queued += send()
    return queued
