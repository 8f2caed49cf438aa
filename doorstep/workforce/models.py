"""The surge workforce: support units, their staff, call-ups, muster check-in, teams and duties,
and support between the towns of a district: requests, quotas and batches.

A unit belongs to its home town (杨柳青镇机关 to 杨柳青镇), and so do its staff records. A call-up
belongs to the town where people gather and work; a batch's call-ups are in the receiving town,
their people from the sending town. The district follows each person through their muster: a
batch selected, departed, arrived at the muster point, on duty (a ``Duty``), stood down, and back
home safe (``Muster.returned_at``).

A person's time on duty is a ``Duty`` row: where (a community for door to door, or a lane of a
site), in which role, from when to when. At most one open duty per person is a database
constraint, so a person is in one place at a time even when two commanders assign them at the
same instant. Shifts, hand-overs and stand-downs are ways of closing duties and opening others.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import get_language
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
    # The unit's home town: its staff records belong there, wherever the unit is sent.
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
    """A person a support unit can send. Identified by phone within their home town."""

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


class SupportRequest(models.Model):
    """A town's ask to its district for people: how many, for what, where and by when."""

    district = models.ForeignKey(
        "territory.District", verbose_name=_("district"), on_delete=models.PROTECT, related_name="+"
    )
    # The receiving town: where the people gather and work.
    town = models.ForeignKey(
        "territory.Town", verbose_name=_("town"), on_delete=models.PROTECT, related_name="+"
    )
    people = models.PositiveIntegerField(_("people asked for"))
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
    needed_by = models.DateTimeField(_("needed by"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("asked at"), auto_now_add=True)
    # Withdrawn by the town, or closed by the district once the people are home.
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        verbose_name = _("support request")
        verbose_name_plural = _("support requests")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.town} × {self.people}"

    @property
    def destination(self) -> str:
        return str(self.site or self.community or "")


class Quota(models.Model):
    """The share of a request the district puts on one sending town."""

    request = models.ForeignKey(
        SupportRequest, verbose_name=_("request"), on_delete=models.CASCADE, related_name="quotas"
    )
    sending_town = models.ForeignKey(
        "territory.Town", verbose_name=_("sending town"), on_delete=models.PROTECT, related_name="+"
    )
    people = models.PositiveIntegerField(_("people"))
    # Kept by the batch actions in the quota's transaction: people put in batches so far.
    selected = models.PositiveIntegerField(default=0)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    set_at = models.DateTimeField(_("set at"), auto_now=True)

    class Meta:
        verbose_name = _("quota")
        verbose_name_plural = _("quotas")
        constraints = [
            models.UniqueConstraint(
                fields=["request", "sending_town"], name="one_quota_per_sending_town"
            ),
            models.CheckConstraint(
                condition=models.Q(selected__lte=models.F("people")),
                name="quota_never_overfilled",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sending_town} → {self.request.town} × {self.people}"


class Batch(models.Model):
    """People a sending town sends together (第一批, 第二批): selected, then departed."""

    quota = models.ForeignKey(
        Quota, verbose_name=_("quota"), on_delete=models.PROTECT, related_name="batches"
    )
    number = models.PositiveIntegerField(_("batch"))
    people = models.PositiveIntegerField(_("people"))
    departed_at = models.DateTimeField(_("departed"), null=True, blank=True)
    # Called off before it left (a wrong selection): its people are free again, its number kept.
    cancelled_at = models.DateTimeField(_("called off"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("selected at"), auto_now_add=True)

    class Meta:
        verbose_name = _("batch")
        verbose_name_plural = _("batches")
        ordering = ["quota_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["quota", "number"], name="batch_number_unique")
        ]

    def __str__(self) -> str:
        return batch_name(self.number)


_ORDINALS = "一二三四五六七八九十"


def batch_name(number: int) -> str:
    """第一批 … 第十批, then 第11批, as batches are called on the radio and on paper; "Batch 2"
    in English."""
    chinese = (get_language() or "").startswith("zh") and 1 <= number <= len(_ORDINALS)
    return _("Batch %(ordinal)s") % {"ordinal": _ORDINALS[number - 1] if chinese else number}


class CallUp(models.Model):
    """A commander's request to a unit: N people (or named people) at a muster point and time.

    A batch's call-ups are named: one per unit among the people the sending town selected.
    """

    # Where the people gather and work (a batch's receiving town).
    town = models.ForeignKey(
        "territory.Town", verbose_name=_("town"), on_delete=models.PROTECT, related_name="+"
    )
    batch = models.ForeignKey(
        Batch,
        verbose_name=_("batch"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="callups",
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
    # People of a batch confirmed back home safe by their town.
    returned_count = models.PositiveIntegerField(default=0)
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
    # Back home safe (平安归来), confirmed by the sending town.
    returned_at = models.DateTimeField(_("back home"), null=True, blank=True)
    returned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
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
