"""Special needs: residents who must go out during the campaign (an exam, dialysis, a birth)
and what the community arranges for them. The kinds are the door-to-door tap's (``NeedKind``)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from doorstep.canvass.models import NeedKind

# Emergencies and births go to the top at once and raise the alarm.
URGENT = frozenset({NeedKind.EMERGENCY, NeedKind.PREGNANCY})
MEDICAL = frozenset(
    {NeedKind.EMERGENCY, NeedKind.DIALYSIS, NeedKind.CHEMO, NeedKind.PREGNANCY, NeedKind.MEDICATION}
)
EXAMS = frozenset({NeedKind.GRADUATE_EXAM, NeedKind.GAOKAO})


class Source(models.TextChoices):
    CANVASSER = "canvasser", _("Door-to-door visit")
    WORKER = "worker", _("Community worker")
    HOTLINE = "hotline", _("Hotline")
    RESIDENT = "resident", _("The resident, online")


class Status(models.TextChoices):
    REGISTERED = "registered", _("Registered")
    VERIFIED = "verified", _("Verified")
    ARRANGED = "arranged", _("Arranged")
    DONE = "done", _("Done")
    DECLINED = "declined", _("Declined")


OPEN = (Status.REGISTERED, Status.VERIFIED, Status.ARRANGED)


class How(models.TextChoices):
    AMBULANCE = "ambulance", _("Ambulance")
    VOLUNTEER_CAR = "volunteer_car", _("Volunteer car")
    PASS_LETTER = "pass_letter", _("Pass letter")
    ESCORT = "escort", _("Escort")


class ContactOutcome(models.TextChoices):
    REACHED = "reached", _("Reached")
    NO_ANSWER = "no_answer", _("No answer")
    WRONG_NUMBER = "wrong_number", _("Wrong number")


class Request(models.Model):
    """One resident's need, from registration to done or declined. Each step keeps who and
    when; ``priority`` 0 is urgent (emergency, birth), 1 the rest, ordered by ``needed_by``."""

    community = models.ForeignKey("territory.Community", on_delete=models.PROTECT, related_name="+")
    campaign = models.ForeignKey(
        "campaigns.Campaign", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resident = models.ForeignKey(
        "territory.Resident", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    household = models.ForeignKey(
        "territory.Household", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # A person not on the roster (a walk-in): their own name, document and phone.
    walk_in_name = models.CharField(_("full name"), max_length=100, blank=True)
    walk_in_id_number = models.CharField(_("document number"), max_length=32, blank=True)
    walk_in_phone = models.CharField(_("phone"), max_length=11, blank=True)
    kind = models.CharField(_("need"), max_length=20, choices=NeedKind.choices)
    priority = models.PositiveSmallIntegerField(default=1)
    needed_by = models.DateTimeField(_("needed by"))
    destination = models.CharField(_("where to"), max_length=200, blank=True)
    details = models.TextField(_("details"), blank=True, max_length=2000)
    source = models.CharField(_("registered by"), max_length=12, choices=Source.choices)
    visit = models.ForeignKey(
        "canvass.Visit", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.REGISTERED
    )
    registered_at = models.DateTimeField(_("registered"))
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    arranged_at = models.DateTimeField(null=True, blank=True)
    arranged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    how = models.CharField(_("how"), max_length=16, choices=How.choices, blank=True)
    place = models.CharField(_("hospital or exam site"), max_length=200, blank=True)
    # Exam takers are sampled in a single tube of their own, labelled apart, so that nothing
    # holds up their result.
    single_tube = models.BooleanField(_("fast-tracked single-tube sample"), default=False)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decline_reason = models.CharField(_("why declined"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("special-need request")
        verbose_name_plural = _("special-need requests")
        indexes = [
            models.Index(
                fields=["community", "status", "priority", "needed_by"], name="request_queue"
            ),
            models.Index(fields=["kind", "status", "needed_by"], name="request_by_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN

    @property
    def urgent(self) -> bool:
        return self.kind in URGENT

    @property
    def medical(self) -> bool:
        return self.kind in MEDICAL


class ContactAttempt(models.Model):
    request = models.ForeignKey(Request, on_delete=models.CASCADE, related_name="contacts")
    at = models.DateTimeField()
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    outcome = models.CharField(_("outcome"), max_length=16, choices=ContactOutcome.choices)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        ordering = ["at"]

    def __str__(self) -> str:
        return f"{self.request_id} {self.outcome}"


class NeedCounter(models.Model):
    """Open requests per community and status (and urgent ones), kept by the actions for the
    dashboard."""

    community = models.ForeignKey("territory.Community", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=12, choices=Status.choices)
    urgent = models.BooleanField(default=False)
    count = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["community", "status", "urgent"], name="need_counter_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.community_id} {self.status} {self.count}"
