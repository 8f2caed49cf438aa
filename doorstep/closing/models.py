"""The certificate of an erase: what went, what stayed, when the last copy expires; signed."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from doorstep.territory.models import Town


class Certificate(models.Model):
    """One erase of one town. Written in the erase's own transaction (``closing.erase``), so
    a certificate exists exactly when the town's personal data is gone from the database; the
    steps after the database (files, vacuum) complete it, and an interrupted erase resumes
    them. ``body`` is the signed content; ``signature`` is Ed25519 over its canonical JSON."""

    town = models.OneToOneField(
        Town, verbose_name=_("town"), on_delete=models.PROTECT, related_name="certificate"
    )
    number = models.CharField(_("number"), max_length=40, unique=True)
    issued_at = models.DateTimeField(_("issued at"))
    issued_by = models.CharField(_("issued by"), max_length=150)
    body = models.JSONField(_("content"), default=dict)
    signature = models.CharField(_("signature"), max_length=200, blank=True)
    public_key = models.CharField(_("public key"), max_length=100, blank=True)
    # The steps after the database (files under DOORSTEP_HOME, vacuum) are done and signed.
    complete = models.BooleanField(_("complete"), default=False)

    class Meta:
        verbose_name = _("erase certificate")
        verbose_name_plural = _("erase certificates")

    def __str__(self) -> str:
        return self.number
