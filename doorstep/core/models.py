from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from doorstep.core.roles import CAPABILITIES, TOWN_WIDE, Can, Role


class User(AbstractUser):
    role = models.CharField(_("role"), max_length=32, choices=Role.choices, default=Role.CANVASSER)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    # A district commander sees every town of this district.
    district = models.ForeignKey(
        "territory.District",
        verbose_name=_("district"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Town-wide roles see every community of their town; the others only these communities.
    town = models.ForeignKey(
        "territory.Town",
        verbose_name=_("town"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    communities = models.ManyToManyField(
        "territory.Community", verbose_name=_("communities"), blank=True, related_name="staff"
    )
    # A grid worker (网格员): within their communities, only the buildings of these grids.
    grids = models.ManyToManyField(
        "territory.Grid", verbose_name=_("grids"), blank=True, related_name="workers"
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def can(self, capability: Can) -> bool:
        if not self.is_active:
            return False
        if self.is_superuser:
            return True
        return capability in CAPABILITIES.get(self.role, frozenset())

    @property
    def is_town_wide(self) -> bool:
        return self.is_superuser or self.role in TOWN_WIDE

    @property
    def is_district_wide(self) -> bool:
        """A district commander: every town of their district (none if they have no district)."""
        return self.role == Role.DISTRICT_COMMANDER and not self.is_superuser


class AuditAction(models.TextChoices):
    REVEAL = "reveal", _("Revealed personal data")
    EXPORT = "export", _("Exported personal data")
    IMPORT = "import", _("Imported a roster")
    PRINT = "print", _("Printed code sheets")
    ZONES = "zones", _("Changed zones")
    SEARCH = "search", _("Searched by a personal identifier")
    ROLE = "role", _("Changed a user's role or scope")
    ROUND = "round", _("Started or closed a round")
    TRACE = "trace", _("Found a walk-in's household")
    CLOSE = "close", _("Closed a town's response")
    RETENTION = "retention", _("Changed how long a town's data is kept")
    ERASE = "erase", _("Erased a town's personal data")


class AuditEntry(models.Model):
    """Append-only record of every reveal, export and bulk change of personal data."""

    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        User, verbose_name=_("user"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    username = models.CharField(_("username"), max_length=150)
    action = models.CharField(_("action"), max_length=16, choices=AuditAction.choices)
    object_type = models.CharField(_("object type"), max_length=64)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    # Who acted, as a resident is shown it ("who read my record"): the role and the unit at the
    # time, never the name. The town is the one whose data it touched (the user's when not
    # said): the erase of a town clears its entries' reasons and details.
    role = models.CharField(_("role"), max_length=32, blank=True)
    unit = models.CharField(_("unit"), max_length=100, blank=True)
    town_id = models.PositiveBigIntegerField(_("town"), null=True, blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["-at", "-id"]
        indexes = [
            # The erase of a town: its entries, to clear their reasons and details.
            models.Index(fields=["town_id"], name="audit_by_town"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.action} {self.object_type}"


class AuditPerson(models.Model):
    """One person an audit entry touched (a reveal, an export or a print that listed them), so
    a resident can see who read their record. The person is a plain id (core names no table
    of the apps above): ``kind`` says whose, a resident's or a walk-in's."""

    entry = models.ForeignKey(AuditEntry, on_delete=models.CASCADE, related_name="people")
    kind = models.CharField(max_length=8)  # "resident" or "walk_in"
    person_id = models.PositiveBigIntegerField()

    class Meta:
        indexes = [
            # A resident's own list: every entry that touched them.
            models.Index(fields=["kind", "person_id"], name="audit_person_lookup"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.person_id} ← {self.entry_id}"


class Attempt(models.Model):
    """One try at something rate-limited (the public look-up, a resident's own request, a
    search by a personal identifier), for ``core.limits``. The key is a digest of the address,
    code or user, never the value itself; rows older than their window are deleted."""

    kind = models.CharField(max_length=16)
    key_digest = models.CharField(max_length=64)
    at = models.DateTimeField()

    class Meta:
        indexes = [
            # The count of one key's tries in the window.
            models.Index(fields=["kind", "key_digest", "at"], name="attempt_by_key"),
            # Pruning what has left the window.
            models.Index(fields=["kind", "at"], name="attempt_by_age"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.key_digest[:8]}… {self.at:%H:%M:%S}"


class AlertAck(models.Model):
    """Who acknowledged an alert (``core.alerts``), by the alert's key, in one campaign. The
    campaign is a plain id: core sits below the campaigns app and names none of its tables."""

    campaign_id = models.PositiveBigIntegerField()
    key = models.CharField(max_length=120)
    by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    username = models.CharField(max_length=150)
    at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign_id", "key"], name="one_ack_per_alert")
        ]

    def __str__(self) -> str:
        return f"{self.key} ✓ {self.username}"
