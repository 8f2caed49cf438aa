"""Writes owned by the core app: the audit log, acknowledgements of alerts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from doorstep.core.models import AlertAck, AuditAction, AuditEntry, User


def audit(
    user: User | None,
    action: AuditAction,
    object_type: str,
    object_id: object = "",
    reason: str = "",
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry. Call it inside the transaction of the change it records."""
    return AuditEntry.objects.create(
        user=user,
        username=user.get_username() if user else "system",
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        reason=reason,
        detail=detail or {},
    )


def acknowledge_alert(user: User, campaign_id: int, key: str, now: dt.datetime) -> AlertAck:
    """Someone has seen the alert (``core.alerts``) and is acting on it; it stays listed, as
    acknowledged, while its condition holds."""
    ack, _created = AlertAck.objects.get_or_create(
        campaign_id=campaign_id,
        key=key[:120],
        defaults={"by": user, "username": user.get_username(), "at": now},
    )
    return ack
