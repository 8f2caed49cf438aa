"""Bearer tokens for devices and integrations (`doorstep create-token USERNAME`)."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


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
    def issue(cls, user: object, label: str = "", lane: object = None) -> tuple[ApiToken, str]:
        token = "ds_" + secrets.token_urlsafe(32)
        found = cls.objects.create(user=user, key_digest=digest(token), label=label, lane=lane)
        return found, token
