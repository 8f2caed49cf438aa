"""Bearer tokens for devices and integrations (`doorstep create-token USERNAME`)."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from doorstep.api import actions
from doorstep.core.models import User
from doorstep.sampling.models import Lane


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ApiToken(models.Model):
    """Only the SHA-256 of a token is stored; the token itself is shown once, at creation."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    key_digest = models.CharField(max_length=64)
    label = models.CharField(_("label"), max_length=100, blank=True)
    # A lane's own scanner: its registrar may scan there even when not on duty there.
    lane = models.ForeignKey(
        "sampling.Lane",
        verbose_name=_("lane"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        constraints = [
            models.UniqueConstraint(fields=["key_digest"], name="api_token_digest_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.label}"

    @classmethod
    def issue(cls, user: User, label: str = "", lane: Lane | None = None) -> tuple[ApiToken, str]:
        """``actions.issue_token``, kept under its old name for the benchmarks' scripts
        (``bench/``), which call it from their own code; the project calls the action."""
        return actions.issue_token(user, label, lane)
