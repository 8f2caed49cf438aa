"""Sampling sites and their lanes. Tubes, boxes and the lane page build on these (issue 5)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Serves(models.TextChoices):
    EVERYONE = "everyone", _("Everyone")
    KEY_GROUPS = "key_groups", _("Key groups")
    YELLOW_CODE = "yellow_code", _("Yellow-code channel")


class Site(models.Model):
    community = models.ForeignKey(
        "territory.Community",
        verbose_name=_("community"),
        on_delete=models.PROTECT,
        related_name="sites",
    )
    name = models.CharField(_("name"), max_length=100)
    opens_at = models.TimeField(_("opens at"), null=True, blank=True)
    closes_at = models.TimeField(_("closes at"), null=True, blank=True)
    serves = models.CharField(
        _("serves"), max_length=16, choices=Serves.choices, default=Serves.EVERYONE
    )

    class Meta:
        verbose_name = _("sampling site")
        verbose_name_plural = _("sampling sites")
        ordering = ["community_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["community", "name"], name="site_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class Lane(models.Model):
    site = models.ForeignKey(
        Site, verbose_name=_("site"), on_delete=models.PROTECT, related_name="lanes"
    )
    name = models.CharField(_("name"), max_length=50)
    # Printed on the lane's sign and scanned by the registrar's device.
    code = models.CharField(_("lane code"), max_length=16)

    class Meta:
        verbose_name = _("lane")
        verbose_name_plural = _("lanes")
        ordering = ["site_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["site", "name"], name="lane_name_unique"),
            models.UniqueConstraint(fields=["code"], name="lane_code_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.site.name} {self.name}"


class RoundSample(models.Model):
    """A resident sampled in a campaign round: at most one row per person and campaign.

    The untested list is the roster minus these rows minus exempt households. Tube members
    (issue 5) write it through ``sampling.actions.record_sampled``, which also moves the
    door-to-door coverage counters.
    """

    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="+")
    resident = models.ForeignKey("territory.Resident", on_delete=models.PROTECT, related_name="+")
    community = models.ForeignKey("territory.Community", on_delete=models.PROTECT, related_name="+")
    sampled_at = models.DateTimeField(_("sampled at"))

    class Meta:
        verbose_name = _("sampled resident")
        verbose_name_plural = _("sampled residents")
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "resident"], name="sampled_once_per_campaign"
            )
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}:{self.resident_id}"
