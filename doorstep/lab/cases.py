"""Case sheets (流调): a confirmed positive handed over for the epidemiological investigation.

A positive single tube or retest opens one sheet per person in it (``actions.cases.open_for``,
in the result's transaction); a correction away from positive marks the sheet withdrawn
(``withdraw``), never deletes it. The commander hands it over to a named team or person
(``hand_over``), the receiver acknowledges it (``acknowledge``); both are audited, and until
the acknowledgement the sheet is an alert (``lab.case_alerts``). Those writes are in
``lab/actions/cases.py``.

What the sheet shows is read when it is shown (``sheet_data``): the person, their household's
members, the other members of the pool a retest came from (those in the reader's own fence;
the others are counted), where and when they were sampled, the building's zone now and how it
got there, and what was sent to whom. Names, documents and phones are masked unless the reader
revealed them with a reason (audited by the caller, in the same transaction).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from doorstep.campaigns.models import CampaignBuilding, ZoneChange
from doorstep.core import watermark
from doorstep.core.actions import RESIDENT, WALK_IN, audit
from doorstep.core.masking import mask_name, mask_phone
from doorstep.core.models import AuditAction, AuditEntry, User
from doorstep.core.spreadsheets import safe_row, sheet_title
from doorstep.lab.actions import cases as actions
from doorstep.lab.models import CaseSheet, RetestOrder
from doorstep.notices.models import Message, Notice
from doorstep.sampling import hooks, walk_ins
from doorstep.sampling.models import Result, Tube, TubeMember
from doorstep.territory.models import Household, Resident
from doorstep.territory.scoping import scoped


def register() -> None:
    """The lab hears of a walk-in traced (``sampling.hooks``), in ``lab/signals.py``."""
    hooks.register_traced(actions.walk_in_traced)


def audit_shown(user: User, data: SheetData, reason: str, kind: str, full: bool) -> AuditEntry:
    """A reveal (the page with full details) or an export (print, XLSX) is on record with
    everyone the sheet shows; call it in the transaction that read what is shown. The entry
    marks the print or the file (``core.watermark``)."""
    sheet = data.sheet
    town, people = sheet.community.town_id, data.people
    if kind == "page":
        return audit(
            user,
            AuditAction.REVEAL,
            "case_sheet",
            sheet.pk,
            reason,
            {"fields": ["name", "id_number", "phone"], "tube": sheet.tube.code},
            town_id=town,
            people=people,
        )
    return audit(
        user,
        AuditAction.EXPORT,
        "case_sheet",
        sheet.pk,
        reason,
        {
            "format": kind,
            "masked": not full,
            "tube": sheet.tube.code,
            "rows": len(set(people)),
        },
        town_id=town,
        people=people,
    )


def for_user(user: User) -> QuerySet[CaseSheet]:
    """The case sheets a user may read: those of their territory (``territory.scoping``)."""
    return scoped(user, CaseSheet.objects.all())


@dataclass(frozen=True)
class Person:
    name: str
    document: str
    phone: str
    home: str = ""
    walk_in: bool = False
    result: str = ""  # a pool member's retest: its result, or what is still awaited
    sampled_at: dt.datetime | None = None


@dataclass(frozen=True)
class ZoneStep:
    at: dt.datetime
    from_zone: str
    to_zone: str
    why: str
    tube_code: str


@dataclass(frozen=True)
class Sent:
    """A message or a notice to someone of the sheet: to whom, what, how and when."""

    to: str
    what: str
    how: str
    state: str
    at: dt.datetime | None


@dataclass
class SheetData:
    sheet: CaseSheet
    full: bool
    person: Person
    tube: Tube
    sampled_at: dt.datetime | None
    pool: Tube | None  # the pooled tube a retest came from
    household: list[Person] = field(default_factory=list)
    pool_members: list[Person] = field(default_factory=list)
    pool_hidden: int = 0  # members of the pool outside the reader's fence
    zone: str = ""
    zone_steps: list[ZoneStep] = field(default_factory=list)
    sent: list[Sent] = field(default_factory=list)
    # Everyone the sheet shows, as the audit names them: the person, the household, the pool's
    # members in the reader's fence, those a notice went to.
    people: list[tuple[str, int]] = field(default_factory=list)

    @property
    def withdrawn(self) -> bool:
        return self.sheet.withdrawn_at is not None


def _home(household: Household | None) -> str:
    if household is None:
        return ""
    unit = household.unit
    return " ".join(p for p in (unit.building.name, unit.name, household.room) if p)


def _person(who: Any, full: bool, **extra: Any) -> Person:
    """A resident or a walk-in as the sheet shows them: masked unless revealed."""
    if who is None:
        return Person("—", "", "", **extra)
    if full:
        return Person(who.name, who.id_number, who.phone, **extra)
    # No masked document: its first characters (all a mask keeps) are the region's, shared by
    # many, so they say nothing on a sheet; the full number is shown once revealed.
    return Person(mask_name(who.name), "", mask_phone(who.phone), **extra)


def _household_of(sheet: CaseSheet) -> Household | None:
    """The household on the sheet, or, for a walk-in traced since it opened, the one found."""
    if sheet.household is not None:
        return sheet.household
    if sheet.walk_in is not None:
        return walk_ins.home_of(sheet.walk_in)
    return None


def _retest_state(order: RetestOrder | None) -> str:
    if order is None:
        return ""
    if order.result:
        return str(order.get_result_display())
    return str(order.get_status_display())


def _pool_members(
    sheet: CaseSheet, pool: Tube, user: User, full: bool, shown_to: list[tuple[str, int]]
) -> tuple[list[Person], int]:
    """The other members of the pool the retest came from, those in the user's fence, with
    their own retest's state; and how many others there are."""
    others = TubeMember.objects.filter(tube=pool)
    if sheet.resident_id is not None:
        others = others.exclude(resident_id=sheet.resident_id)
    if sheet.walk_in_id is not None:
        others = others.exclude(walk_in_id=sheet.walk_in_id)
    total = others.count()
    shown = list(
        scoped(user, others)
        .select_related(
            "resident", "walk_in", "household__unit__building", "walk_in__household__unit__building"
        )
        .order_by("pk")
    )
    for m in shown:
        shown_to += _whom(m.resident_id, m.walk_in_id)
    orders = {
        o.member_id: o for o in RetestOrder.objects.filter(original_tube=pool, member__in=shown)
    }
    people = [
        _person(
            m.resident or m.walk_in,
            full,
            home=_home(m.household or (walk_ins.home_of(m.walk_in) if m.walk_in else None)),
            walk_in=m.walk_in_id is not None,
            result=_retest_state(orders.get(m.pk)),
            sampled_at=m.added_at,
        )
        for m in shown
    ]
    return people, total - len(shown)


def _zone(sheet: CaseSheet, household: Household | None) -> tuple[str, list[ZoneStep]]:
    if household is None:
        return "", []
    building_id = household.unit.building_id
    row = CampaignBuilding.objects.filter(campaign_id=sheet.campaign_id, building_id=building_id)
    zone = row.first() or (
        CampaignBuilding.objects.filter(building_id=building_id).order_by("-campaign_id").first()
    )
    steps = [
        ZoneStep(
            c.at,
            c.get_from_zone_display(),
            c.get_to_zone_display(),
            c.get_why_display(),
            c.tube_code,
        )
        for c in ZoneChange.objects.filter(
            campaign_id=zone.campaign_id if zone else sheet.campaign_id, building_id=building_id
        ).order_by("at", "pk")
    ]
    return (str(zone.get_zone_display()) if zone else ""), steps


# The most notices a sheet lists (a pool of twenty and a household or two).
SENT_SHOWN = 200


def _sent(
    sheet: CaseSheet, pool: Tube | None, user: User, full: bool, shown_to: list[tuple[str, int]]
) -> list[Sent]:
    """What was sent to whom about this case and the pool it came from (``doorstep.notices``):
    each notice to someone in the reader's fence, by text (its newest message's state and
    the phone it went to) or at the door."""
    causes = [sheet.tube_id] + ([pool.pk] if pool is not None else [])
    notices = list(
        scoped(user, Notice.objects.filter(cause_tube_id__in=causes))
        .select_related("resident", "walk_in")
        .order_by("created_at", "pk")[:SENT_SHOWN]
    )
    newest: dict[int, Message] = {}
    for message in Message.objects.filter(notice__in=notices).order_by("queued_at", "pk"):
        assert message.notice_id is not None
        newest[message.notice_id] = message
    found = []
    for notice in notices:
        shown_to += _whom(notice.resident_id, notice.walk_in_id)
        who = _person(notice.resident or notice.walk_in, full)
        last = newest.get(notice.pk)
        if notice.cancelled_at is not None:
            state, at = _("Withdrawn"), notice.cancelled_at
        elif notice.told_at is not None:
            state, at = str(notice.get_told_how_display()), notice.told_at
        elif notice.door_at is not None:
            state, at = _("Door visit due"), notice.door_at
        else:
            state, at = _("Not told yet"), notice.created_at
        if last is not None:
            phone = last.phone if full else mask_phone(last.phone)
            how = f"{_('Text message')} {phone}: {last.get_state_display()}"
        else:
            how = _("At the door") if notice.door_at or notice.told_how == "door" else "—"
        found.append(Sent(who.name, str(notice.get_kind_display()), how, state, at))
    return found


def sheet_data(sheet: CaseSheet, user: User, *, full: bool = False) -> SheetData:
    """Everything the sheet shows, for ``user`` (the pool's other members are those in their
    fence), masked unless ``full`` (the caller has checked the capability and audits it)."""
    sheet = CaseSheet.objects.select_related(
        "tube__site",
        "tube__lane",
        "tube__retest_of__site",
        "tube__retest_of__lane",
        "member",
        "resident",
        "walk_in",
        "household__unit__building",
        "campaign",
        "community",
        "handed_by",
        "acknowledged_by",
    ).get(pk=sheet.pk)
    household = _household_of(sheet)
    who = sheet.resident or sheet.walk_in
    found = SheetData(
        sheet=sheet,
        full=full,
        person=_person(
            who,
            full,
            home=_home(household),
            walk_in=sheet.walk_in_id is not None,
            result=str(Result.POSITIVE.label),
            sampled_at=sheet.member.added_at,
        ),
        tube=sheet.tube,
        sampled_at=sheet.member.added_at,
        pool=sheet.tube.retest_of,
        people=_whom(sheet.resident_id, sheet.walk_in_id),
    )
    if household is not None:
        members = Resident.objects.filter(household=household, moved_out=False).order_by("pk")
        if sheet.resident_id is not None:
            members = members.exclude(pk=sheet.resident_id)
        found.household = [_person(r, full, home=_home(household)) for r in members]
        found.people += [(RESIDENT, r.pk) for r in members]
    if found.pool is not None:
        found.pool_members, found.pool_hidden = _pool_members(
            sheet, found.pool, user, full, found.people
        )
    found.zone, found.zone_steps = _zone(sheet, household)
    found.sent = _sent(sheet, found.pool, user, full, found.people)
    return found


def _whom(resident_id: int | None, walk_in_id: int | None) -> list[tuple[str, int]]:
    """A person on the sheet as the audit names them: a resident, or a walk-in."""
    if resident_id is not None:
        return [(RESIDENT, resident_id)]
    if walk_in_id is not None:
        return [(WALK_IN, walk_in_id)]
    return []


def _when(at: dt.datetime | None) -> str:
    return timezone.localtime(at).strftime("%Y-%m-%d %H:%M") if at else ""


def state_label(sheet: CaseSheet) -> str:
    return {
        "withdrawn": _("Withdrawn: the result was corrected"),
        "acknowledged": _("Received"),
        "handed": _("Handed over, not yet received"),
        "open": _("Not yet handed over"),
    }[sheet.state]


def rows(data: SheetData) -> list[list[Any]]:
    """The sheet as rows, for the XLSX (the page and the print view show the same)."""
    sheet, tube = data.sheet, data.tube
    drill = ["演练"] if sheet.campaign.is_drill else []  # every row of a drill's sheet says so
    found: list[list[Any]] = [
        [_("Case sheet"), f"{sheet.campaign.name} · {tube.code}", *drill],
        [_("State"), state_label(sheet), *drill],
        [_("Opened"), _when(sheet.opened_at), *drill],
    ]
    if sheet.withdrawn_at:
        found.append([_("Withdrawn"), _when(sheet.withdrawn_at), *drill])
    p = data.person
    found += [
        [],
        [_("Person"), p.name, p.document, p.phone, _("walk-in") if p.walk_in else "", *drill],
        [_("Home"), p.home or _("not traced"), sheet.community.name, *drill],
        [_("Sampled"), tube.site.name, tube.lane.name, _when(data.sampled_at), tube.code, *drill],
    ]
    if data.pool is not None:
        pool = data.pool
        found.append(
            [_("Pool"), pool.site.name, pool.lane.name, _when(pool.sealed_at), pool.code, *drill]
        )
    found.append([_("Zone now"), data.zone or "—", *drill])
    for step in data.zone_steps:
        found.append(
            [
                _("Zone change"),
                _when(step.at),
                f"{step.from_zone} → {step.to_zone}",
                step.why,
                *drill,
            ]
        )
    found += [[], [_("Household members"), *drill]]
    for m in data.household:
        found.append(["", m.name, m.document, m.phone, *drill])
    if data.pool is not None:
        found += [[], [_("Other members of the pool"), *drill]]
        for m in data.pool_members:
            found.append(["", m.name, m.document, m.phone, m.home, m.result, *drill])
        if data.pool_hidden:
            found.append(["", _("%(n)d more outside your area") % {"n": data.pool_hidden}, *drill])
    found += [[], [_("What was sent to whom"), *drill]]
    for s in data.sent:
        found.append(["", s.to, s.what, s.how, s.state, _when(s.at), *drill])
    found += [
        [],
        [
            _("Handed over to"),
            sheet.handed_to,
            sheet.handed_to_phone,
            _when(sheet.handed_at),
            *drill,
        ],
        [
            _("Received by"),
            sheet.acknowledged_name,
            _when(sheet.acknowledged_at),
            *drill,
        ],
    ]
    return found


def workbook(data: SheetData, mark: watermark.Mark) -> bytes:
    """The sheet as XLSX, marked with who made it (``core.watermark``)."""
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.title = sheet_title(f"流调 {data.tube.code}", "流调")
    for row in rows(data):
        ws.append(safe_row(row))
    for row in ws.iter_rows(min_row=1, max_col=1):
        for cell in row:
            cell.font = Font(bold=True)
    return watermark.save(book, mark, ws.title)
