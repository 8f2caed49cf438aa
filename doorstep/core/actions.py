"""Writes owned by the core app: the audit log, acknowledgements of alerts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from doorstep.core import bulk
from doorstep.core.models import AlertAck, AuditAction, AuditEntry, AuditPerson, User
from doorstep.core.watermark import role_of, unit_of

# Who an entry touched (``AuditPerson.kind``): a resident of the roster, or a walk-in.
RESIDENT = "resident"
WALK_IN = "walk_in"
# People written per INSERT: an export of a whole town is one statement per chunk.
PEOPLE_CHUNK = 5_000


def audit(
    user: User | None,
    action: AuditAction,
    object_type: str,
    object_id: object = "",
    reason: str = "",
    detail: dict[str, Any] | None = None,
    *,
    town_id: int | None = None,
    people: Iterable[tuple[str, int]] = (),
) -> AuditEntry:
    """Append one entry. Call it inside the transaction of the change it records.

    The entry keeps the role and unit of who acted (what a resident is shown of who read their
    record: never the name), the town whose data it touched (``town_id``; the user's town when
    not said), and the people it touched: ``(kind, id)`` pairs, ``RESIDENT`` or ``WALK_IN``,
    that every reveal, export, print and trace of personal data passes."""
    entry = AuditEntry.objects.create(
        user=user,
        username=user.get_username() if user else "system",
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        reason=reason,
        detail=detail or {},
        role=role_of(user),
        unit=unit_of(user),
        town_id=town_id if town_id is not None else (user.town_id if user else None),
    )
    rows = sorted({(kind, int(pk)) for kind, pk in people if pk is not None})
    for start in range(0, len(rows), PEOPLE_CHUNK):
        bulk.insert(
            AuditPerson,
            ("entry", "kind", "person_id"),
            [(entry.pk, kind, pk) for kind, pk in rows[start : start + PEOPLE_CHUNK]],
        )
    return entry


def acknowledge_alert(user: User, campaign_id: int, key: str, now: dt.datetime) -> AlertAck:
    """Someone has seen the alert (``core.alerts``) and is acting on it; it stays listed, as
    acknowledged, while its condition holds."""
    ack, _created = AlertAck.objects.get_or_create(
        campaign_id=campaign_id,
        key=key[:120],
        defaults={"by": user, "username": user.get_username(), "at": now},
    )
    return ack
