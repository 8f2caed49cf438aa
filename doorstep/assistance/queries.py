"""Reading the special-needs lists: the community's queue by priority, overdue requests, exam
takers with their latest result, and the counters for the dashboard."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q, QuerySet, Sum

from doorstep.assistance.actions import URGENT, target
from doorstep.assistance.models import EXAMS, OPEN, NeedCounter, Request, Status
from doorstep.sampling.models import TubeMember


def queue(community_ids: Iterable[int] | None) -> QuerySet[Request]:
    """Open requests: emergencies and births first, then by when they are needed."""
    found = Request.objects.filter(status__in=OPEN)
    if community_ids is not None:
        found = found.filter(community_id__in=list(community_ids))
    return found.select_related(
        "community", "resident", "household__unit__building", "campaign"
    ).order_by("priority", "needed_by", "registered_at")


@dataclass
class Timer:
    """How long a request has waited for its next step, against the campaign's target."""

    step: str  # "verify", "arrange" or "" (nothing due)
    waited: dt.timedelta
    target: dt.timedelta

    @property
    def late(self) -> bool:
        return bool(self.step) and self.waited > self.target


def timer(request: Request, now: dt.datetime) -> Timer:
    step = {Status.REGISTERED: "verify", Status.VERIFIED: "arrange"}.get(
        request.status,
        "",  # type: ignore[call-overload]
    )
    return Timer(step, now - request.registered_at, target(request))


def overdue(requests: Iterable[Request], now: dt.datetime) -> list[Request]:
    """Open requests past their target for the next step, or past their need-by time before
    being arranged. An emergency or a birth is needed "now" (its need-by is its
    registration): its step target (``actions.target``, 10 min) says when it is late, not the
    moment it is registered. Any other need whose time has passed is late at once, however
    late it reached the list (a tap that waited for signal in a stairwell)."""
    return [r for r in requests if is_overdue(r, now)]


def is_overdue(request: Request, now: dt.datetime) -> bool:
    """The one rule of ``overdue``, for one request."""
    needed_now = request.kind in URGENT and request.needed_by <= request.registered_at
    past_need = request.needed_by < now and not needed_now
    return timer(request, now).late or (request.status != Status.ARRANGED and past_need)


@dataclass(frozen=True)
class Waiting:
    """An open request on the queue, with its timer."""

    request: Request
    timer: Timer


def waiting(requests: Iterable[Request], now: dt.datetime) -> list[Waiting]:
    return [Waiting(r, timer(r, now)) for r in requests]


@dataclass
class ExamTaker:
    request: Request
    result: str
    resulted_at: dt.datetime | None
    single_tube: bool


def exam_takers(
    community_ids: Iterable[int] | None, within: QuerySet[Request] | None = None
) -> list[ExamTaker]:
    """Exam takers (graduate exam, gaokao) not declined, by exam site and date, with the result
    of their latest tube this round; ``within`` is the user's scope."""
    found = (within if within is not None else Request.objects.all()).filter(kind__in=EXAMS)
    found = found.exclude(status=Status.DECLINED)
    if community_ids is not None:
        found = found.filter(community_id__in=list(community_ids))
    requests = list(
        found.select_related(
            "resident", "community", "household__unit__building", "campaign"
        ).order_by("place", "needed_by")
    )
    latest: dict[tuple[int, int], TubeMember] = {}
    keys = [(r.campaign_id, r.resident_id) for r in requests if r.campaign_id and r.resident_id]
    if keys:
        members = (
            TubeMember.objects.filter(
                resident_id__in={k[1] for k in keys}, campaign_id__in={k[0] for k in keys}
            )
            .select_related("tube")
            .order_by("added_at")
        )
        for member in members:
            latest[(member.campaign_id, member.resident_id)] = member  # type: ignore[index]
    takers = []
    for request in requests:
        found_member = latest.get((request.campaign_id or 0, request.resident_id or 0))
        takers.append(
            ExamTaker(
                request,
                found_member.tube.result if found_member else "",
                found_member.tube.resulted_at if found_member else None,
                bool(found_member and found_member.tube.capacity == 1),
            )
        )
    return takers


@dataclass
class Counts:
    open: int
    urgent: int


def counts(community_ids: Iterable[int] | None) -> Counts:
    """Open and urgent-open requests, from the counters."""
    rows = NeedCounter.objects.filter(status__in=OPEN)
    if community_ids is not None:
        rows = rows.filter(community_id__in=list(community_ids))
    total = rows.aggregate(all=Sum("count"), urgent=Sum("count", filter=Q(urgent=True)))
    return Counts(total["all"] or 0, total["urgent"] or 0)
