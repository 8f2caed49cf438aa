"""Telling residents: the outbox of text messages and the people who must be told.

A ``Message`` is one text to one phone, written in the same transaction as the event that
causes it (a result, a lifted seal, a visit booked) and delivered later by the sender through
the SMS gateway (Kannel), so a gateway that is down loses nothing. Its life is kept on the
row: queued, handed to the gateway (accepted), delivered or failed, each with its time.

A ``Notice`` is a person who must be told something that changes what they do (a positive
pool: stay home; a positive in their household; an invalid tube: come back). It is told when
their message is delivered or when someone knocks and tells them; a notice not told by its
``due_at`` (or whose message failed, or who has no phone) becomes a door visit on their
building. The pools page reads how each member was told from here.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from doorstep.core.masking import mask_phone


class Kind(models.TextChoices):
    # Must be told (a Notice): each changes what the person does now.
    POOL_POSITIVE = "pool_positive", _("Positive pool: stay home for the retest")
    HOUSEHOLD_POSITIVE = "household_positive", _("Positive in the household: stay home")
    INVALID = "invalid", _("Invalid tube: sample again")
    # For information: a message only.
    RETEST_NEGATIVE = "retest_negative", _("Retest negative")
    SEAL_LIFTED = "seal_lifted", _("Stay-home order lifted")
    HOME_VISIT = "home_visit", _("Home sampling booked")
    START_TIME = "start_time", _("Community's sampling start time")


MUST_TELL = (Kind.POOL_POSITIVE, Kind.HOUSEHOLD_POSITIVE, Kind.INVALID)


class MessageState(models.TextChoices):
    QUEUED = "queued", _("Waiting to send")
    SENDING = "sending", _("Being handed to the gateway")
    ACCEPTED = "accepted", _("Accepted by the gateway")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")
    # The gateway may or may not have it (the connection broke after the request was sent):
    # never sent again, so nobody gets it twice; a delivery report can still settle it, and a
    # notice waiting on it goes to the door at its due time.
    UNKNOWN = "unknown", _("Not known if sent")


SETTLED = (MessageState.DELIVERED, MessageState.FAILED)


class Message(models.Model):
    campaign = models.ForeignKey(
        "campaigns.Campaign", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    notice = models.ForeignKey(
        "Notice", null=True, blank=True, on_delete=models.CASCADE, related_name="messages"
    )
    resident = models.ForeignKey(
        "territory.Resident", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    walk_in = models.ForeignKey(
        "sampling.WalkIn", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    household = models.ForeignKey(
        "territory.Household", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    community = models.ForeignKey("territory.Community", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("about"), max_length=20, choices=Kind.choices)
    phone = models.CharField(_("phone"), max_length=11)
    text = models.CharField(_("text"), max_length=400)
    language = models.CharField(_("language"), max_length=8, default="zh-hans")
    state = models.CharField(
        _("state"), max_length=10, choices=MessageState.choices, default=MessageState.QUEUED
    )
    queued_at = models.DateTimeField(_("queued"))
    next_try_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    # The sender that holds it while handing it to the gateway (a claim, like a lease).
    claim = models.UUIDField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # Set just before its request goes out: a claimed message without it was never tried.
    sending_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted by the gateway"), null=True, blank=True)
    smsc_at = models.DateTimeField(_("accepted by the carrier"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    failed_at = models.DateTimeField(_("failed"), null=True, blank=True)
    # The gateway's last answer or the delivery report's, as it said it (for the operator).
    last_reply = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("text message")
        verbose_name_plural = _("text messages")
        indexes = [
            # the sender: messages due to send, oldest first
            models.Index(fields=["state", "next_try_at"], name="message_due"),
            # what was sent to a person (the case sheet, the timeline)
            models.Index(fields=["resident", "queued_at"], name="message_by_resident"),
        ]

    def __str__(self) -> str:
        return f"{self.pk} {self.kind} {self.state}"

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)


class ToldHow(models.TextChoices):
    SMS = "sms", _("Text message delivered")
    DOOR = "door", _("Told at the door")


class DoorReason(models.TextChoices):
    NO_PHONE = "no_phone", _("No mobile number")
    FAILED = "failed", _("Message failed")
    LATE = "late", _("Message not delivered in time")
    # A drill never texts anyone: whoever it would tell is practised at the door.
    DRILL = "drill", _("Drill: no message is sent")


class Notice(models.Model):
    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="+")
    community = models.ForeignKey("territory.Community", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("about"), max_length=20, choices=Kind.choices)
    # The tube whose result calls for it (the pool; the positive single tube).
    cause_tube = models.ForeignKey("sampling.Tube", on_delete=models.CASCADE, related_name="+")
    # A pool's member this tells (the pools page's row); none for a household member of a
    # positive person, who was not in the tube.
    member = models.ForeignKey(
        "sampling.TubeMember", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    resident = models.ForeignKey(
        "territory.Resident", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    walk_in = models.ForeignKey(
        "sampling.WalkIn", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # Where a door visit goes: the roster's household, or the one a walk-in's address traces to
    # (none until it is traced).
    household = models.ForeignKey(
        "territory.Household", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    due_at = models.DateTimeField(_("to be told by"))
    told_at = models.DateTimeField(_("told"), null=True, blank=True)
    told_how = models.CharField(_("told by"), max_length=4, choices=ToldHow.choices, blank=True)
    door_at = models.DateTimeField(_("door visit since"), null=True, blank=True)
    door_reason = models.CharField(
        _("why a door visit"), max_length=8, choices=DoorReason.choices, blank=True
    )
    knocked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Knocks that found nobody at home: the visit stays on the list, with when it was last tried.
    door_tries = models.PositiveSmallIntegerField(_("knocks with nobody home"), default=0)
    door_tried_at = models.DateTimeField(_("last knocked"), null=True, blank=True)
    # Withdrawn when the result that called for it is corrected.
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notice to a resident")
        verbose_name_plural = _("notices to residents")
        constraints = [
            models.UniqueConstraint(
                fields=["cause_tube", "kind", "resident"],
                condition=models.Q(resident__isnull=False),
                name="one_notice_per_resident_and_cause",
            ),
            models.UniqueConstraint(
                fields=["cause_tube", "kind", "walk_in"],
                condition=models.Q(walk_in__isnull=False),
                name="one_notice_per_walk_in_and_cause",
            ),
        ]
        indexes = [
            # the door-visit list of a community; the sweep of notices past due
            models.Index(fields=["campaign", "community", "told_at"], name="notice_by_community"),
            models.Index(fields=["told_at", "due_at"], name="notice_due"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.cause_tube_id} {self.told_how or 'untold'}"
