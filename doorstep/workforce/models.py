"""The surge workforce: support units, their staff, call-ups, muster check-in, teams and duties.

A person's time on duty is a ``Duty`` row: where (a community for door to door, or a lane of a
site), in which role, from when to when. At most one open duty per person is a database
constraint, so a person is in one place at a time even when two commanders assign them at the
same instant. Shifts, hand-overs and stand-downs are ways of closing duties and opening others.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from doorstep.core import codes
from doorstep.core.masking import mask_phone


class Skill(models.TextChoices):
    SAMPLER = "sampler", _("Sampler (medical)")
    REGISTRAR = "registrar", _("Registrar")
    ORDER_KEEPER = "order_keeper", _("Order keeper")
    DRIVER = "driver", _("Driver")
    CANVASSER = "canvasser", _("Canvasser")
    TEAM_LEADER = "team_leader", _("Team leader")


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


class Staff(models.Model):
    """A person a support unit can send. Identified by phone within the town."""

    unit = models.ForeignKey(
        SupportUnit, verbose_name=_("support unit"), on_delete=models.PROTECT, related_name="staff"
    )
    town = models.ForeignKey(
        "territory.Town", verbose_name=_("town"), on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(_("full name"), max_length=100)
    phone = models.CharField(_("phone"), max_length=11)
    # Stored as ",sampler,registrar," so that "has skill X" is one portable LIKE.
    skills = models.CharField(_("skills"), max_length=200, blank=True, default="")
    worker_code = models.CharField(_("worker code"), max_length=16)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("login"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="staff",
    )

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")
        ordering = ["unit_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["town", "phone"], name="staff_phone_unique_in_town"),
            models.UniqueConstraint(fields=["worker_code"], name="staff_worker_code_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.unit})"

    @property
    def skill_list(self) -> list[str]:
        return [s for s in self.skills.split(",") if s]

    @property
    def skill_labels(self) -> list[str]:
        return [str(Skill(s).label) for s in self.skill_list if s in Skill.values]

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    @property
    def worker_code_display(self) -> str:
        return codes.display(self.worker_code)


class Purpose(models.TextChoices):
    DOOR_TO_DOOR = "door_to_door", _("Door to door")
    SAMPLING = "sampling", _("Sampling site")


class CallUp(models.Model):
    """A commander's request to a unit: N people (or named people) at a muster point and time."""

    town = models.ForeignKey(
        "territory.Town", verbose_name=_("town"), on_delete=models.PROTECT, related_name="+"
    )
    unit = models.ForeignKey(
        SupportUnit,
        verbose_name=_("support unit"),
        on_delete=models.PROTECT,
        related_name="callups",
    )
    requested = models.PositiveIntegerField(_("people asked for"))
    purpose = models.CharField(_("purpose"), max_length=16, choices=Purpose.choices)
    community = models.ForeignKey(
        "territory.Community",
        verbose_name=_("community"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    site = models.ForeignKey(
        "sampling.Site",
        verbose_name=_("site"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    muster_point = models.CharField(_("muster point"), max_length=200)
    muster_at = models.DateTimeField(_("muster time"))
    # Named: only the people listed may check in. Open: anyone of the unit, up to the number.
    named = models.BooleanField(_("named people only"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # Counters maintained by the check-in and no-show actions; the board and dashboard read them.
    arrived_count = models.PositiveIntegerField(default=0)
    no_show_count = models.PositiveIntegerField(default=0)
    first_arrival_at = models.DateTimeField(null=True, blank=True)
    last_arrival_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("call-up")
        verbose_name_plural = _("call-ups")
        ordering = ["-muster_at", "-id"]

    def __str__(self) -> str:
        return f"{self.unit} × {self.requested} @ {self.muster_point}"

    @property
    def destination(self) -> str:
        return str(self.site or self.community or "")


class MusterStatus(models.TextChoices):
    CALLED = "called", _("Called")
    ARRIVED = "arrived", _("Arrived")
    NO_SHOW = "no_show", _("No-show")
    STOOD_DOWN = "stood_down", _("Stood down")
    MOVED = "moved", _("Moved to another call-up")


class Muster(models.Model):
    """One person in one call-up: called, arrived (when, scanned by whom), no-show, stood down."""

    callup = models.ForeignKey(CallUp, on_delete=models.CASCADE, related_name="musters")
    staff = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="musters")
    status = models.CharField(
        _("status"), max_length=16, choices=MusterStatus.choices, default=MusterStatus.CALLED
    )
    arrived_at = models.DateTimeField(_("arrived"), null=True, blank=True)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    stood_down_at = models.DateTimeField(_("stood down"), null=True, blank=True)
    moved_to = models.ForeignKey(
        CallUp, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("muster")
        verbose_name_plural = _("musters")
        constraints = [
            models.UniqueConstraint(fields=["callup", "staff"], name="muster_once_per_callup"),
            # A person stands at one muster point at a time; a second check-in moves them.
            models.UniqueConstraint(
                fields=["staff"],
                condition=models.Q(status="arrived"),
                name="arrived_in_one_callup",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.staff} {self.status}"


class TeamStatus(models.TextChoices):
    FORMED = "formed", _("Formed")
    ON_DUTY = "on_duty", _("On duty")
    STOOD_DOWN = "stood_down", _("Stood down")


class Team(models.Model):
    town = models.ForeignKey("territory.Town", on_delete=models.PROTECT, related_name="+")
    callup = models.ForeignKey(
        CallUp, null=True, blank=True, on_delete=models.PROTECT, related_name="teams"
    )
    name = models.CharField(_("name"), max_length=100)
    leader = models.ForeignKey(
        Staff, verbose_name=_("leader"), on_delete=models.PROTECT, related_name="led_teams"
    )
    members = models.ManyToManyField(Staff, verbose_name=_("members"), related_name="teams")
    status = models.CharField(
        _("status"), max_length=16, choices=TeamStatus.choices, default=TeamStatus.FORMED
    )
    community = models.ForeignKey(
        "territory.Community", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lane = models.ForeignKey(
        "sampling.Lane", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["town_id", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def place(self) -> str:
        return str(self.lane or self.community or "")


class DutyRole(models.TextChoices):
    TEAM_LEADER = "team_leader", _("Team leader")
    CANVASSER = "canvasser", _("Canvasser")
    SAMPLER = "sampler", _("Sampler")
    REGISTRAR = "registrar", _("Registrar")
    ORDER_KEEPER = "order_keeper", _("Order keeper")


LANE_ROLES = (DutyRole.SAMPLER, DutyRole.REGISTRAR, DutyRole.ORDER_KEEPER)


class EndReason(models.TextChoices):
    HANDOVER = "handover", _("Handed over")
    STAND_DOWN = "stand_down", _("Stood down")
    MOVED = "moved", _("Moved to another lane")


class Duty(models.Model):
    """A person on duty at one place in one role, from ``started_at`` until ``ended_at``."""

    staff = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="duties")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="duties")
    unit = models.ForeignKey(SupportUnit, on_delete=models.PROTECT, related_name="duties")
    town = models.ForeignKey("territory.Town", on_delete=models.PROTECT, related_name="+")
    community = models.ForeignKey("territory.Community", on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey(
        "sampling.Site", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lane = models.ForeignKey(
        "sampling.Lane", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    role = models.CharField(_("role"), max_length=16, choices=DutyRole.choices)
    started_at = models.DateTimeField(_("on duty since"))
    ended_at = models.DateTimeField(_("off duty at"), null=True, blank=True)
    end_reason = models.CharField(max_length=16, choices=EndReason.choices, blank=True)

    class Meta:
        verbose_name = _("duty")
        verbose_name_plural = _("duties")
        constraints = [
            # One place at a time: the database refuses a second open duty for the same person.
            models.UniqueConstraint(
                fields=["staff"],
                condition=models.Q(ended_at__isnull=True),
                name="one_open_duty_per_person",
            ),
        ]
        indexes = [
            # who-is-where: open duties per community and per lane.
            models.Index(fields=["community", "ended_at"], name="duty_open_by_community"),
            models.Index(fields=["lane", "ended_at"], name="duty_open_by_lane"),
        ]

    def __str__(self) -> str:
        return f"{self.staff} {self.role} @ {self.place}"

    @property
    def place(self) -> str:
        return str(self.lane) if self.lane_id else str(self.community)


class PlaceKind(models.TextChoices):
    COMMUNITY = "community", _("Community")
    SITE = "site", _("Site")
    LANE = "lane", _("Lane")


class DutyCounter(models.Model):
    """People on duty per place and role, kept by the duty actions for the dashboard."""

    town = models.ForeignKey("territory.Town", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=PlaceKind.choices)
    place_id = models.BigIntegerField()
    role = models.CharField(max_length=16, choices=DutyRole.choices)
    on_duty = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "place_id", "role"], name="duty_counter_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(on_duty__gte=0), name="duty_counter_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.place_id} {self.role} = {self.on_duty}"
