"""Results and what they set going: a result history per tube, retest orders for the members of
a positive or invalid pool. Alerts are read from this state (``lab.alerts``), not stored."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from doorstep.sampling.models import Result


class ResultEntry(models.Model):
    """One result as the lab sent it. A correction is a new entry with a reason; nothing is
    overwritten, so the history shows what was believed when."""

    tube = models.ForeignKey("sampling.Tube", on_delete=models.CASCADE, related_name="results")
    result = models.CharField(_("result"), max_length=8, choices=Result.choices)
    ct = models.DecimalField(_("Ct"), max_digits=5, decimal_places=2, null=True, blank=True)
    tested_at = models.DateTimeField(_("tested at"), null=True, blank=True)
    correction_reason = models.CharField(_("correction reason"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded"))

    class Meta:
        verbose_name = _("result")
        verbose_name_plural = _("results")
        ordering = ["recorded_at", "id"]

    def __str__(self) -> str:
        return f"{self.tube_id} {self.result}"


class OrderKind(models.TextChoices):
    POSITIVE_POOL = "positive_pool", _("Positive pool")
    RESAMPLE = "resample", _("Invalid result: sample again")


class Route(models.TextChoices):
    DOOR_TO_DOOR = "door_to_door", _("Door-to-door sampling")
    SITE = "site", _("Recall to a site")


class OrderStatus(models.TextChoices):
    OPEN = "open", _("To sample")
    SAMPLED = "sampled", _("Sampled, awaiting result")
    RESULTED = "resulted", _("Resulted")
    CANCELLED = "cancelled", _("Cancelled")


class RetestOrder(models.Model):
    """A member of a positive or invalid pool to be sampled again in a single tube."""

    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="+")
    original_tube = models.ForeignKey(
        "sampling.Tube", on_delete=models.PROTECT, related_name="retest_orders"
    )
    member = models.ForeignKey("sampling.TubeMember", on_delete=models.PROTECT, related_name="+")
    resident = models.ForeignKey(
        "territory.Resident", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    walk_in = models.ForeignKey(
        "sampling.WalkIn", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    household = models.ForeignKey(
        "territory.Household", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    community = models.ForeignKey("territory.Community", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("why"), max_length=16, choices=OrderKind.choices)
    route = models.CharField(_("how"), max_length=16, choices=Route.choices)
    # Members of a positive pool are told to stay home until their own result.
    stay_put = models.BooleanField(_("stay at home"), default=False)
    status = models.CharField(
        _("status"), max_length=10, choices=OrderStatus.choices, default=OrderStatus.OPEN
    )
    retest_tube = models.ForeignKey(
        "sampling.Tube", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    result = models.CharField(_("result"), max_length=8, choices=Result.choices, blank=True)
    created_at = models.DateTimeField(_("ordered"))
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("retest order")
        verbose_name_plural = _("retest orders")
        constraints = [
            models.UniqueConstraint(
                fields=["original_tube", "member"], name="one_order_per_pool_member"
            )
        ]
        indexes = [
            # the retest list: open orders of a community; a person's open order at tube.add.
            models.Index(fields=["campaign", "community", "status"], name="order_by_community"),
            models.Index(fields=["campaign", "resident", "status"], name="order_by_resident"),
        ]

    def __str__(self) -> str:
        return f"{self.original_tube_id}:{self.member_id} {self.status}"


class CaseSheet(models.Model):
    """A confirmed positive (a single tube or a retest) to hand over for the epidemiological
    investigation (流调): opened by the result, handed over by the commander to a named team or
    person, acknowledged by the receiver. A correction away from positive marks it withdrawn; it
    is never deleted, so the sheet says what was believed and handed over when. What it shows
    (the person, the household, the pool, the zone, what was sent) is read when it is shown
    (``lab.cases.sheet_data``), not copied here."""

    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="+")
    community = models.ForeignKey("territory.Community", on_delete=models.PROTECT, related_name="+")
    tube = models.ForeignKey("sampling.Tube", on_delete=models.PROTECT, related_name="case_sheets")
    member = models.ForeignKey("sampling.TubeMember", on_delete=models.PROTECT, related_name="+")
    resident = models.ForeignKey(
        "territory.Resident", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    walk_in = models.ForeignKey(
        "sampling.WalkIn", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The person's household when the sheet opened (a walk-in's: traced from their address).
    household = models.ForeignKey(
        "territory.Household", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    opened_at = models.DateTimeField(_("opened"))
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)
    handed_to = models.CharField(_("handed to"), max_length=200, blank=True)
    handed_to_phone = models.CharField(_("their phone"), max_length=20, blank=True)
    handed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    handed_at = models.DateTimeField(_("handed over"), null=True, blank=True)
    # The receiver's name as they gave it (typed by them, or by the commander for them).
    acknowledged_name = models.CharField(_("received by"), max_length=100, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)

    class Meta:
        verbose_name = _("case sheet")
        verbose_name_plural = _("case sheets")
        constraints = [
            models.UniqueConstraint(fields=["tube", "member"], name="one_case_sheet_per_member")
        ]
        indexes = [
            # the round's case sheets in the user's communities; the alerts: those not acknowledged.
            models.Index(fields=["campaign", "community"], name="case_sheet_by_community"),
            models.Index(fields=["campaign", "acknowledged_at"], name="case_sheet_unacknowledged"),
        ]

    def __str__(self) -> str:
        return f"{self.tube_id}:{self.member_id} {self.state}"

    @property
    def state(self) -> str:
        if self.withdrawn_at is not None:
            return "withdrawn"
        if self.acknowledged_at is not None:
            return "acknowledged"
        if self.handed_at is not None:
            return "handed"
        return "open"
