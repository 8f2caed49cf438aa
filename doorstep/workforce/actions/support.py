"""Every write of support between the towns of a district: a town asks, the district sets each
sending town's quota, the sending town selects a batch by name and sends it, and confirms each
person back home safe.

Locking policy: a quota's row is locked (``select_for_update``) while a batch is selected from
it, so two organisers of one town cannot together overfill it, and the sending town's row, so
its batches to a town are numbered in turn; the ``quota_never_overfilled``
constraint holds the number even so. A request's row is locked while its quotas change. A person
is in one batch at a time: the selection refuses anyone whose last batch has not come home, and
the ``one_open_duty_per_person`` and ``arrived_in_one_callup`` constraints settle the races the
pre-checks miss. Counters move with F() in the same transaction as the rows.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence

from django.db import transaction
from django.db.models import F, Max, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from doorstep.core.models import User
from doorstep.sampling.models import Site
from doorstep.territory.models import Community, Town
from doorstep.workforce.actions import WorkforceError, check_destination, create_callup
from doorstep.workforce.models import (
    Batch,
    CallUp,
    Duty,
    Muster,
    MusterStatus,
    Quota,
    Staff,
    SupportRequest,
    Team,
    TeamStatus,
    batch_name,
)

# More than any town has asked for in one go; a typo of an extra zero is refused.
MOST_PEOPLE = 2000
# When people may be needed by: a request made late for this morning, up to a month ahead.
NEEDED_BY_PAST = dt.timedelta(hours=24)
NEEDED_BY_AHEAD = dt.timedelta(days=30)


def _count(people: object, most: int = MOST_PEOPLE) -> int:
    if not isinstance(people, int) or people < 1 or people > most:
        raise WorkforceError(
            _("Give the number of people as a whole number from 1 to %(most)d.") % {"most": most}
        )
    return people


@transaction.atomic
def ask_for_people(
    user: User | None,
    town: Town,
    *,
    people: int,
    purpose: str,
    muster_point: str,
    needed_by: dt.datetime,
    community: Community | None = None,
    site: Site | None = None,
    note: str = "",
) -> SupportRequest:
    """A town asks its district for people, for door to door or lanes, at a muster point."""
    if town.district_id is None:
        raise WorkforceError(
            _(
                "%(town)s is in no district, so there is nobody to ask. An administrator places the town in its district."
            )
            % {"town": town.name}
        )
    community = check_destination(town, purpose, muster_point, community, site)
    now = timezone.now()
    if not now - NEEDED_BY_PAST <= needed_by <= now + NEEDED_BY_AHEAD:
        raise WorkforceError(
            _("Say when the people are needed: from today to %(days)d days ahead.")
            % {"days": NEEDED_BY_AHEAD.days}
        )
    return SupportRequest.objects.create(
        district_id=town.district_id,
        town=town,
        people=_count(people),
        purpose=purpose,
        community=community,
        site=site,
        muster_point=muster_point.strip()[:200],
        needed_by=needed_by,
        note=note.strip()[:200],
        created_by=user,
    )


@transaction.atomic
def set_quota(user: User | None, request: SupportRequest, sending: Town, people: int) -> Quota:
    """The district puts a share of the request on a sending town. A quota may grow, or shrink
    to what the town has already selected; never below it."""
    request = SupportRequest.objects.select_for_update().get(pk=request.pk)
    if request.closed_at is not None:
        raise WorkforceError(_("This request is closed; the town asks again if it needs people."))
    if sending.district_id != request.district_id:
        raise WorkforceError(
            _("%(town)s is not a town of this district; only the district's towns send people.")
            % {"town": sending.name}
        )
    if sending.pk == request.town_id:
        raise WorkforceError(
            _("%(town)s asked for these people; choose another town to send them.")
            % {"town": sending.name}
        )
    if not isinstance(people, int) or people < 0 or people > MOST_PEOPLE:
        raise WorkforceError(
            _("Give the number of people as a whole number from 1 to %(most)d.")
            % {"most": MOST_PEOPLE}
        )
    quota = Quota.objects.select_for_update().filter(request=request, sending_town=sending).first()
    others = (
        Quota.objects.filter(request=request)
        .exclude(sending_town=sending)
        .aggregate(n=Sum("people"))["n"]
        or 0
    )
    if others + people > request.people:
        raise WorkforceError(
            _(
                "The quotas would add up to %(total)d, more than the %(asked)d people %(town)s asked for: %(room)d left to share out."
            )
            % {
                "total": others + people,
                "asked": request.people,
                "town": request.town.name,
                "room": max(0, request.people - others),
            }
        )
    if quota is not None and people < quota.selected:
        raise WorkforceError(
            _(
                "%(town)s has already selected %(selected)d people for this request; the quota cannot go below that."
            )
            % {"town": sending.name, "selected": quota.selected}
        )
    if quota is None:
        if people == 0:
            raise WorkforceError(
                _("Give the number of people as a whole number from 1 to %(most)d.")
                % {"most": MOST_PEOPLE}
            )
        return Quota.objects.create(
            request=request, sending_town=sending, people=people, set_by=user
        )
    quota.people = people
    quota.set_by = user
    quota.save(update_fields=["people", "set_by", "set_at"])
    return quota


def check_batch(quota: Quota, staff: Sequence[Staff]) -> list[str]:
    """Why these people cannot go as a batch of this quota: every reason, each naming who.
    No writes; ``send_batch`` calls it holding the quota's lock."""
    problems: list[str] = []
    if quota.request.closed_at is not None:
        return [_("This request is closed; the town asks again if it needs people.")]
    if not staff:
        return [_("Select the people to send.")]
    room = quota.people - quota.selected
    if len(staff) > room:
        problems.append(
            _(
                "%(count)d selected, but the quota has room for %(room)d more (%(selected)d of %(people)d already selected). Ask the district for a larger quota, or select fewer."
            )
            % {
                "count": len(staff),
                "room": room,
                "selected": quota.selected,
                "people": quota.people,
            }
        )
    foreign = [s.name for s in staff if s.unit.town_id != quota.sending_town_id]
    if foreign:
        problems.append(
            _("Not staff of %(town)s: %(names)s.")
            % {"town": quota.sending_town.name, "names": ", ".join(foreign)}
        )
    ids = [s.pk for s in staff]
    on_duty = Duty.objects.filter(staff_id__in=ids, ended_at__isnull=True).select_related(
        "staff", "lane", "community"
    )
    if on_duty:
        problems.append(
            _("Already on duty elsewhere: %(who)s. Hand over or stand them down first.")
            % {"who": "; ".join(f"{d.staff.name} ({d.place})" for d in on_duty)}
        )
    away = (
        Muster.objects.filter(
            staff_id__in=ids,
            callup__batch__isnull=False,
            callup__batch__cancelled_at__isnull=True,
            returned_at__isnull=True,
        )
        .exclude(status=MusterStatus.MOVED)
        .select_related("staff", "callup__town", "callup__batch")
    )
    if away:
        problems.append(
            _(
                "Already sent and not yet back home: %(who)s. Confirm their return before sending them again."
            )
            % {
                "who": "; ".join(
                    f"{m.staff.name} ({m.callup.town.name} {m.callup.batch})" for m in away
                )
            }
        )
    team = (
        Team.members.through.objects.filter(staff_id__in=ids)
        .exclude(team__status=TeamStatus.STOOD_DOWN)
        .select_related("team", "staff")
    )
    if team:
        problems.append(
            _("Already in another team: %(names)s. Stand that team down or hand over first.")
            % {"names": ", ".join(f"{m.staff.name} ({m.team.name})" for m in team)}
        )
    return problems


@transaction.atomic
def send_batch(user: User | None, quota: Quota, staff: Sequence[Staff]) -> Batch:
    """The sending town selects named people as its next batch (第一批, 第二批) of the quota:
    one named call-up per unit at the receiving town's muster point, so the receiving town checks
    them in, forms teams and stands them down as it does its own. All or nothing."""
    quota = (
        Quota.objects.select_for_update().select_related("request", "sending_town").get(pk=quota.pk)
    )
    staff = list({s.pk: s for s in staff}.values())
    problems = check_batch(quota, staff)
    if problems:
        raise WorkforceError(" ".join(problems))
    request = quota.request
    # Batches are counted per sending town and receiving town (杨柳青镇's second batch to 中北镇),
    # whichever request they answer; the sending town's row serialises the count.
    Town.objects.select_for_update().filter(pk=quota.sending_town_id).first()
    last = (
        Batch.objects.filter(
            quota__sending_town_id=quota.sending_town_id, quota__request__town_id=request.town_id
        ).aggregate(last=Max("number"))["last"]
        or 0
    )
    batch = Batch.objects.create(quota=quota, number=last + 1, people=len(staff), created_by=user)
    by_unit: dict[int, list[Staff]] = defaultdict(list)
    for person in staff:
        by_unit[person.unit_id].append(person)
    for people in by_unit.values():
        create_callup(
            user,
            people[0].unit,
            named=people,
            purpose=request.purpose,
            muster_point=request.muster_point,
            muster_at=request.needed_by,
            community=request.community,
            site=request.site,
            town=request.town,
            batch=batch,
        )
    Quota.objects.filter(pk=quota.pk).update(selected=F("selected") + len(staff))
    return batch


@transaction.atomic
def depart(user: User | None, batch: Batch, at: dt.datetime | None = None) -> bool:
    """The batch leaves for the receiving town: the clock to assemble starts. A second press
    changes nothing (False)."""
    return bool(
        Batch.objects.filter(
            pk=batch.pk, departed_at__isnull=True, cancelled_at__isnull=True
        ).update(departed_at=at or timezone.now())
    )


@transaction.atomic
def call_off(user: User | None, batch: Batch) -> int:
    """A batch selected by mistake is called off before it leaves: its people are free to be
    selected again and the quota has their places back. Not once it has left or anyone of it
    has checked in (they are on their way: confirm them home instead)."""
    batch = Batch.objects.select_for_update().get(pk=batch.pk)
    if batch.cancelled_at is not None:
        return 0
    if batch.departed_at is not None:
        raise WorkforceError(
            _("%(batch)s has left; when they are back, confirm them home instead.")
            % {"batch": batch_name(batch.number)}
        )
    now = timezone.now()
    Batch.objects.filter(pk=batch.pk).update(cancelled_at=now)
    Muster.objects.filter(callup__batch=batch, status=MusterStatus.CALLED).update(
        status=MusterStatus.STOOD_DOWN, stood_down_at=now
    )
    Quota.objects.filter(pk=batch.quota_id).update(selected=F("selected") - batch.people)
    return batch.people


@transaction.atomic
def confirm_home(user: User | None, batch: Batch, staff_ids: Sequence[int] = ()) -> int:
    """The sending town confirms people of a departed batch back home safe (平安归来): all of
    the batch not yet back, or those named. Someone still on duty or in a team that is out is
    refused by name, and nobody is marked. One arrived but never put to work goes home with the
    rest: their muster stands down."""
    batch = Batch.objects.select_for_update().get(pk=batch.pk)
    if batch.departed_at is None or batch.cancelled_at is not None:
        raise WorkforceError(
            _("%(batch)s has not departed yet; nobody can come back before they leave.")
            % {"batch": batch_name(batch.number)}
        )
    musters = Muster.objects.select_for_update(of=("self",)).filter(
        callup__batch=batch, returned_at__isnull=True
    )
    if staff_ids:
        musters = musters.filter(staff_id__in=list(staff_ids))
    chosen = list(musters.exclude(status=MusterStatus.MOVED).select_related("staff"))
    ids = [m.staff_id for m in chosen]
    # Each person once: where they are on duty, else the team that is still out.
    busy = {
        m.staff_id: f"{m.staff.name} ({m.team.name})"
        for m in Team.members.through.objects.filter(staff_id__in=ids)
        .exclude(team__status=TeamStatus.STOOD_DOWN)
        .select_related("team", "staff")
    }
    busy |= {
        d.staff_id: f"{d.staff.name} ({d.place})"
        for d in Duty.objects.filter(staff_id__in=ids, ended_at__isnull=True).select_related(
            "staff", "lane", "community"
        )
    }
    if busy:
        raise WorkforceError(
            _("Still at work: %(who)s. Their team stands down first; then confirm them home.")
            % {"who": "; ".join(sorted(busy.values()))}
        )
    now = timezone.now()
    Muster.objects.filter(pk__in=[m.pk for m in chosen], status=MusterStatus.ARRIVED).update(
        status=MusterStatus.STOOD_DOWN, stood_down_at=now
    )
    Muster.objects.filter(pk__in=[m.pk for m in chosen]).update(returned_at=now, returned_by=user)
    per_callup: dict[int, int] = defaultdict(int)
    for muster in chosen:
        per_callup[muster.callup_id] += 1
    for callup_id, n in per_callup.items():
        CallUp.objects.filter(pk=callup_id).update(returned_count=F("returned_count") + n)
    return len(chosen)


@transaction.atomic
def close_request(user: User | None, request: SupportRequest) -> None:
    """The town withdraws its request, or the district closes it: no more batches from it."""
    SupportRequest.objects.filter(pk=request.pk, closed_at__isnull=True).update(
        closed_at=timezone.now()
    )
