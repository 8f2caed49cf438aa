"""Writes owned by the core app: the audit log."""

from __future__ import annotations

from typing import Any

from doorstep.core.models import AuditAction, AuditEntry, User


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
