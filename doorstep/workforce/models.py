"""Support units: the sub-districts and towns that send staff to the town in need.

Call-ups, check-in, teams and shifts build on this (issue 3).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class SupportUnit(models.Model):
    name = models.CharField(_("name"), max_length=100)
    # The town the unit is helping in this response.
    town = models.ForeignKey(
        "territory.Town",
        verbose_name=_("town"),
        on_delete=models.PROTECT,
        related_name="support_units",
    )
    contact_name = models.CharField(_("contact"), max_length=100, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("support unit")
        verbose_name_plural = _("support units")
        ordering = ["town_id", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["town", "name"], name="support_unit_name_unique_in_town"
            )
        ]

    def __str__(self) -> str:
        return self.name
