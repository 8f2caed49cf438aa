"""Writes of closing a town's response: close, reopen, move the erase date, hold and release.

The erase itself is ``closing.erase`` (an engine: one transaction for the database, then the
files). Each write here owns its transaction, locks the town's closure, and is audited with
its reason, because moving an erase date is itself a decision about people's data.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from doorstep.campaigns.models import Campaign, CampaignStatus
from doorstep.core.actions import audit
from doorstep.core.models import AuditAction, User
from doorstep.territory.models import Closure, ClosureState, Town

# Erase dates further than this from the close are a hold, not a retention period.
LONGEST_DAYS = 365


class ClosingError(Exception):
    """A closing step refused, with what stops it and what to do."""


def _reason(reason: str) -> str:
    reason = reason.strip()
    if len(reason) < 4:
        raise ClosingError(_("Say why (at least 4 characters): it is kept in the audit log."))
    return reason[:300]


def _locked(town: Town) -> Closure:
    closure = Closure.objects.select_for_update().filter(town=town).first()
    if closure is None:
        raise ClosingError(_("The response in %(town)s is not closed.") % {"town": town.name})
    return closure


def open_rounds(town: Town) -> list[str]:
    """The rounds of the town that are not closed, by name."""
    return list(
        Campaign.objects.filter(town=town)
        .exclude(status=CampaignStatus.CLOSED)
        .order_by("starts_at")
        .values_list("name", flat=True)
    )


@transaction.atomic
def close_response(user: User, town: Town, reason: str, now: dt.datetime | None = None) -> Closure:
    """The response in the town is over: no round starts there again, and its personal data is
    erased after the retention period (``settings.RETENTION_DAYS``)."""
    reason = _reason(reason)
    now = now or timezone.now()
    Town.objects.select_for_update().filter(pk=town.pk).exists()
    if Closure.objects.filter(town=town).exists():
        raise ClosingError(_("The response in %(town)s is already closed.") % {"town": town.name})
    running = open_rounds(town)
    if running:
        raise ClosingError(
            _("Close every round first; still open: %(rounds)s.") % {"rounds": ", ".join(running)}
        )
    closure = Closure.objects.create(
        town=town,
        closed_at=now,
        closed_by=user.get_username(),
        reason=reason,
        erase_after=now + dt.timedelta(days=settings.RETENTION_DAYS),
    )
    audit(
        user,
        AuditAction.CLOSE,
        "town",
        town.pk,
        reason,
        {"erase_after": closure.erase_after.isoformat()},
        town_id=town.pk,
    )
    return closure


@transaction.atomic
def reopen(user: User, town: Town, reason: str) -> None:
    """The outbreak came back before the erase: the town may start rounds again."""
    reason = _reason(reason)
    closure = _locked(town)
    if closure.state == ClosureState.ERASED:
        raise ClosingError(
            _("The personal data of %(town)s is erased; a new round starts from a new roster.")
            % {"town": town.name}
        )
    closure.delete()
    audit(user, AuditAction.CLOSE, "town", town.pk, reason, {"reopened": True}, town_id=town.pk)


@transaction.atomic
def set_retention(user: User, town: Town, days: int, reason: str) -> Closure:
    """Erase ``days`` after the close instead: shorter or longer, always with a reason."""
    reason = _reason(reason)
    if not 0 <= days <= LONGEST_DAYS:
        raise ClosingError(
            _("Keep the data between 0 and %(most)s days after the close; for longer, set a hold.")
            % {"most": LONGEST_DAYS}
        )
    closure = _locked(town)
    if closure.state == ClosureState.ERASED:
        raise ClosingError(
            _("The personal data of %(town)s is already erased.") % {"town": town.name}
        )
    before = closure.erase_after
    closure.erase_after = closure.closed_at + dt.timedelta(days=days)
    closure.save(update_fields=["erase_after"])
    audit(
        user,
        AuditAction.RETENTION,
        "town",
        town.pk,
        reason,
        {"from": before.isoformat(), "to": closure.erase_after.isoformat(), "days": days},
        town_id=town.pk,
    )
    return closure


@transaction.atomic
def set_hold(user: User, town: Town, reason: str) -> Closure:
    """Keep the data whatever the date (an investigation, a court's order) until released."""
    reason = _reason(reason)
    closure = _locked(town)
    if closure.state == ClosureState.ERASED:
        raise ClosingError(
            _("The personal data of %(town)s is already erased.") % {"town": town.name}
        )
    closure.hold_reason = reason
    closure.save(update_fields=["hold_reason"])
    audit(user, AuditAction.RETENTION, "town", town.pk, reason, {"hold": True}, town_id=town.pk)
    return closure


@transaction.atomic
def release_hold(user: User, town: Town, reason: str) -> Closure:
    reason = _reason(reason)
    closure = _locked(town)
    if not closure.hold_reason:
        raise ClosingError(_("There is no hold on %(town)s.") % {"town": town.name})
    held = closure.hold_reason
    closure.hold_reason = ""
    closure.save(update_fields=["hold_reason"])
    audit(
        user,
        AuditAction.RETENTION,
        "town",
        town.pk,
        reason,
        {"hold": False, "was": held},
        town_id=town.pk,
    )
    return closure
