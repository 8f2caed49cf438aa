"""Case sheets (流调), the writing part: opened by a positive, withdrawn by a correction, given
a walk-in's household when it is traced, handed over and acknowledged. What a sheet shows, and
its page, print and XLSX, are ``lab.cases``.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from doorstep.core.actions import RESIDENT, WALK_IN, audit
from doorstep.core.models import AuditAction, User
from doorstep.lab.models import CaseSheet
from doorstep.sampling import walk_ins
from doorstep.sampling.models import Tube, TubeMember, WalkIn
from doorstep.territory.models import Community, Household


class CaseRefused(ValueError):
    """A hand-over or acknowledgement refused, with a message that says what to do."""


def open_for(tube: Tube, at: dt.datetime) -> list[CaseSheet]:
    """A sheet for each person in a tube just found positive (a single tube or a retest). Runs
    in the result's transaction, with the tube locked (``lab.actions.results._apply``). A sheet
    withdrawn by an earlier correction opens again, keeping its hand-over but not its
    acknowledgement."""
    sheets = []
    for member in TubeMember.objects.filter(tube=tube).select_related("walk_in__household"):
        household = member.household
        if household is None and member.walk_in is not None:
            household = walk_ins.home_of(member.walk_in)
        sheet, created = CaseSheet.objects.get_or_create(
            tube=tube,
            member=member,
            defaults={
                "campaign_id": tube.campaign_id,
                "community_id": member.community_id,
                "resident_id": member.resident_id,
                "walk_in_id": member.walk_in_id,
                "household": household,
                "opened_at": at,
            },
        )
        if not created and sheet.withdrawn_at is not None:
            # Positive again: the team it was handed to (told it was withdrawn) must
            # acknowledge it again, so it is an alert until they do.
            CaseSheet.objects.filter(pk=sheet.pk).update(
                withdrawn_at=None, acknowledged_at=None, acknowledged_by=None, acknowledged_name=""
            )
            sheet.withdrawn_at = sheet.acknowledged_at = None
        sheets.append(sheet)
    return sheets


def withdraw(tube: Tube, at: dt.datetime) -> int:
    """A correction took the tube away from positive: its sheets say so from now on."""
    return CaseSheet.objects.filter(tube=tube, withdrawn_at__isnull=True).update(withdrawn_at=at)


def walk_in_traced(walk_in: WalkIn, household: Household, at: dt.datetime) -> None:
    """A worker found the household of a walk-in whose sheet opened without one: the sheet
    takes it (its household's members, its building's zone; a grid worker of that building
    reads it from now on)."""
    CaseSheet.objects.filter(walk_in=walk_in, household__isnull=True).update(household=household)


def _locked(sheet: CaseSheet) -> CaseSheet:
    return CaseSheet.objects.select_for_update().select_related("tube").get(pk=sheet.pk)


def whom(sheet: CaseSheet) -> list[tuple[str, int]]:
    """The person a sheet is about, as the audit names them (``core.actions.audit``)."""
    if sheet.resident_id is not None:
        return [(RESIDENT, sheet.resident_id)]
    if sheet.walk_in_id is not None:
        return [(WALK_IN, sheet.walk_in_id)]
    return []


def town_of(sheet: CaseSheet) -> int | None:
    """The town whose data a sheet holds: its community's."""
    return Community.objects.filter(pk=sheet.community_id).values_list("town_id", flat=True).first()


@transaction.atomic
def hand_over(
    user: User, sheet: CaseSheet, to: str, phone: str = "", now: dt.datetime | None = None
) -> CaseSheet:
    """The commander hands the sheet over to the 流调 team or person named. Handing it over
    again (to someone else) before it is acknowledged replaces the receiver; both are kept in
    the audit log."""
    now = now or timezone.now()
    to, phone = to.strip(), phone.strip()
    if not to:
        raise CaseRefused(_("Say whom the case is handed over to (the team or the person)."))
    if len(to) > 200:
        raise CaseRefused(_("The receiver's name is too long (at most 200 characters)."))
    if phone and (len(phone) > 20 or not all(c in "0123456789+- " for c in phone)):
        raise CaseRefused(_("The phone number may hold only digits, spaces, + and -."))
    sheet = _locked(sheet)
    if sheet.withdrawn_at is not None:
        raise CaseRefused(_("This case was withdrawn by a corrected result: nothing to hand over."))
    if sheet.acknowledged_at is not None:
        raise CaseRefused(_("This case was already received; it cannot be handed over again."))
    sheet.handed_to, sheet.handed_to_phone = to, phone
    sheet.handed_by, sheet.handed_at = user, now
    sheet.save(update_fields=["handed_to", "handed_to_phone", "handed_by", "handed_at"])
    audit(
        user,
        AuditAction.EXPORT,
        "case_sheet",
        sheet.pk,
        detail={"step": "hand_over", "to": to, "tube": sheet.tube.code},
        town_id=town_of(sheet),
        people=whom(sheet),
    )
    return sheet


@transaction.atomic
def acknowledge(
    user: User, sheet: CaseSheet, name: str = "", now: dt.datetime | None = None
) -> CaseSheet:
    """The receiver acknowledges the sheet: a user of the project as themselves, or the
    commander recording the receiver's name as they gave it."""
    now = now or timezone.now()
    name = name.strip() or user.get_full_name().strip() or user.get_username()
    if len(name) > 100:
        raise CaseRefused(_("The receiver's name is too long (at most 100 characters)."))
    sheet = _locked(sheet)
    if sheet.withdrawn_at is not None:
        raise CaseRefused(_("This case was withdrawn by a corrected result: nothing to receive."))
    if sheet.handed_at is None:
        raise CaseRefused(_("The case has not been handed over yet: hand it over first."))
    if sheet.acknowledged_at is not None:
        raise CaseRefused(_("This case was already received."))
    sheet.acknowledged_name, sheet.acknowledged_by, sheet.acknowledged_at = name, user, now
    sheet.save(update_fields=["acknowledged_name", "acknowledged_by", "acknowledged_at"])
    audit(
        user,
        AuditAction.EXPORT,
        "case_sheet",
        sheet.pk,
        detail={"step": "acknowledge", "by": name, "tube": sheet.tube.code},
        town_id=town_of(sheet),
        people=whom(sheet),
    )
    return sheet
