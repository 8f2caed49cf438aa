"""Door to door: one task per building of a campaign, claimed by one team at a time as a lease;
one outcome per household, with every tap kept as a visit; coverage counters; the feed.

A claim is a lease: ``expires_at`` moves forward with every recorded outcome, and a claim whose
lease ran out is simply claimable again, so no background job is needed to free buildings.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Not claimed")
    CLAIMED = "claimed", _("Claimed")
    DONE = "done", _("Done")


class Outcome(models.TextChoices):
    NOTIFIED = "notified", _("Notified")
    NOBODY_HOME = "nobody_home", _("Nobody home")
    REFUSED = "refused", _("Refused")
    HOME_SAMPLING = "home_sampling", _("Needs home sampling")
    SPECIAL_NEED = "special_need", _("Special need")
    MOVED_OUT = "moved_out", _("Moved out")
    EXEMPT = "exempt", _("Exempt")


# The one definition of a covered household (不漏一户, no household missed), used by the counters
# and so by every page and export: it was told of the round (notified), its special need is
# registered, it is explained (moved out, exempt), or every member has been sampled. Nobody
# home and refused are not covered alone; a household that needs home sampling is covered once
# its members are sampled.
COVERED = frozenset({Outcome.NOTIFIED, Outcome.SPECIAL_NEED, Outcome.MOVED_OUT, Outcome.EXEMPT})


def is_covered(outcome: str, all_sampled: bool) -> bool:
    return all_sampled or outcome in COVERED


def untested(residents: int, sampled: int, exempt: int) -> int:
    """The one definition of the untested figure (the field guide's untested list): residents
    of the round (not moved out), less those sampled this round, less unsampled members of
    exempt households. The list itself is ``canvass.queries.untested``; both count the same."""
    return max(residents - sampled - exempt, 0)


def not_started(buildings: int, claimed: int, done: int) -> int:
    """Buildings of a community nobody has claimed or finished yet."""
    return max(buildings - claimed - done, 0)


class ExemptReason(models.TextChoices):
    TESTED_ELSEWHERE = "tested_elsewhere", _("Tested within 24 h elsewhere")
    VACCINATED = "vaccinated", _("Vaccinated within 48 h")
    ISOLATING = "isolating", _("Isolating")
    OTHER = "other", _("Other")


class NeedKind(models.TextChoices):
    """The kinds of special need (field guide F6); the special-needs app builds on them."""

    EMERGENCY = "emergency", _("Emergency care")
    DIALYSIS = "dialysis", _("Dialysis")
    CHEMO = "chemo", _("Chemo/radiotherapy")
    PREGNANCY = "pregnancy", _("Pregnancy")
    MEDICATION = "medication", _("Medication")
    GRADUATE_EXAM = "graduate_exam", _("Graduate entrance exam")
    GAOKAO = "gaokao", _("Gaokao")
    ELDERLY_ALONE = "elderly_alone", _("Elderly living alone")
    OTHER = "other", _("Other")


class BuildingTask(models.Model):
    """A building to canvass in a campaign, its claim (a lease) and its counters."""

    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.CASCADE, related_name="canvass_tasks"
    )
    building = models.ForeignKey(
        "territory.Building", verbose_name=_("building"), on_delete=models.PROTECT, related_name="+"
    )
    community = models.ForeignKey("territory.Community", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        _("status"), max_length=16, choices=TaskStatus.choices, default=TaskStatus.OPEN
    )
    # The claim. Kept after the lease runs out, so the holder can see what happened and pick up
    # where it left off if nobody else claimed the building meanwhile.
    team = models.ForeignKey(
        "workforce.Team", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # Counters kept by the actions (and by sampling for ``sampled``).
    households = models.PositiveIntegerField(default=0)
    residents = models.PositiveIntegerField(default=0)
    with_outcome = models.PositiveIntegerField(default=0)
    covered = models.PositiveIntegerField(default=0)
    notified = models.PositiveIntegerField(default=0)
    nobody_home = models.PositiveIntegerField(default=0)
    sampled = models.PositiveIntegerField(default=0)
    exempt = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("building task")
        verbose_name_plural = _("building tasks")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "building"], name="one_task_per_building"),
            models.CheckConstraint(
                condition=~models.Q(status="claimed") | models.Q(team__isnull=False),
                name="claimed_task_has_team",
            ),
        ]
        indexes = [
            # claim list and community coverage: tasks of one community by state.
            models.Index(fields=["campaign", "community", "status"], name="task_by_community"),
        ]

    def __str__(self) -> str:
        return f"{self.building} ({self.status})"

    @property
    def untested(self) -> int:
        return untested(self.residents, self.sampled, self.exempt)

    @property
    def sampled_pct(self) -> int:
        """The building's residents sampled, in whole percent (the community schematic)."""
        return round(100 * self.sampled / self.residents) if self.residents else 0


class Visit(models.Model):
    """One tap: an outcome recorded for a household. Append-only; the phone's UUID makes a
    replay a no-op."""

    client_uuid = models.UUIDField()
    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="+")
    task = models.ForeignKey(BuildingTask, on_delete=models.CASCADE, related_name="visits")
    household = models.ForeignKey("territory.Household", on_delete=models.PROTECT, related_name="+")
    team = models.ForeignKey(
        "workforce.Team", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    exempt_reason = models.CharField(
        _("exempt because"), max_length=20, choices=ExemptReason.choices, blank=True
    )
    need_kind = models.CharField(_("need"), max_length=20, choices=NeedKind.choices, blank=True)
    need_by = models.DateTimeField(_("needed by"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # When the tap happened on the phone (it may reach us later) and when we stored it.
    tapped_at = models.DateTimeField()
    recorded_at = models.DateTimeField()

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        constraints = [
            models.UniqueConstraint(fields=["client_uuid"], name="visit_client_uuid_unique")
        ]

    def __str__(self) -> str:
        return f"{self.household} {self.outcome}"


class HouseholdState(models.Model):
    """Where a household stands this campaign: its latest outcome, how often nobody was home,
    and whether every member has been sampled (then it is covered, tapped or not: a household
    sampled at a site needs no knock)."""

    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="+")
    household = models.ForeignKey("territory.Household", on_delete=models.PROTECT, related_name="+")
    task = models.ForeignKey(BuildingTask, on_delete=models.CASCADE, related_name="states")
    community = models.ForeignKey("territory.Community", on_delete=models.PROTECT, related_name="+")
    # Empty until a tap: a row may exist only because every member was sampled.
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, blank=True)
    exempt_reason = models.CharField(max_length=20, choices=ExemptReason.choices, blank=True)
    misses = models.PositiveSmallIntegerField(_("times nobody was home"), default=0)
    last_visit = models.ForeignKey(
        Visit, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    all_sampled = models.BooleanField(_("every member sampled"), default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "household"], name="one_state_per_household"
            )
        ]
        indexes = [
            # revisit list: nobody-home households of one community.
            models.Index(fields=["campaign", "community", "outcome"], name="state_by_outcome"),
        ]

    def __str__(self) -> str:
        return f"{self.household} {self.outcome}"

    @property
    def follow_up(self) -> str:
        """After one miss, knock again; after two, phone; nothing once everyone is sampled."""
        if self.outcome != Outcome.NOBODY_HOME or self.all_sampled:
            return ""
        return "phone" if self.misses >= 2 else "revisit"


class Coverage(models.Model):
    """Counters for one community in one campaign, kept by the actions for pages and dashboard."""

    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="+")
    community = models.ForeignKey("territory.Community", on_delete=models.PROTECT, related_name="+")
    buildings = models.PositiveIntegerField(default=0)
    buildings_claimed = models.PositiveIntegerField(default=0)
    buildings_done = models.PositiveIntegerField(default=0)
    households = models.PositiveIntegerField(default=0)
    with_outcome = models.PositiveIntegerField(default=0)
    covered = models.PositiveIntegerField(default=0)
    notified = models.PositiveIntegerField(default=0)
    revisits = models.PositiveIntegerField(default=0)
    phone_calls = models.PositiveIntegerField(default=0)
    residents = models.PositiveIntegerField(default=0)
    sampled = models.PositiveIntegerField(default=0)
    exempt = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "community"], name="one_coverage_per_community"
            )
        ]

    def __str__(self) -> str:
        return f"{self.community}: {self.covered}/{self.households}"

    @property
    def untested(self) -> int:
        return untested(self.residents, self.sampled, self.exempt)

    @property
    def not_started(self) -> int:
        return not_started(self.buildings, self.buildings_claimed, self.buildings_done)

    @property
    def no_household_missed(self) -> bool:
        """Every household covered (``is_covered``)."""
        return self.households > 0 and self.covered == self.households


class FeedKind(models.TextChoices):
    CLAIMED = "claimed", _("Claimed")
    COMPLETED = "completed", _("Completed")
    RELEASED = "released", _("Released")
    HANDED = "handed", _("Handed over")


class FeedPost(models.Model):
    """A line in the community's feed, like the progress a leader posts in the work group.

    Names are copied, so the line reads the same after a team is renamed or stood down."""

    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="+")
    community = models.ForeignKey("territory.Community", on_delete=models.PROTECT, related_name="+")
    task = models.ForeignKey(BuildingTask, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=FeedKind.choices)
    team_name = models.CharField(max_length=100)
    other_team_name = models.CharField(max_length=100, blank=True)
    building_name = models.CharField(max_length=100)
    households = models.PositiveIntegerField(default=0)
    notified = models.PositiveIntegerField(default=0)
    nobody_home = models.PositiveIntegerField(default=0)
    others = models.PositiveIntegerField(default=0)
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            # the feed page: newest posts of a campaign, or of one community.
            models.Index(fields=["campaign", "community", "-at"], name="feed_by_community"),
        ]

    def __str__(self) -> str:
        return f"{self.team_name} {self.kind} {self.building_name}"

    @property
    def text(self) -> str:
        """The line as a leader would post it in the work group."""
        names = {"team": self.team_name, "building": self.building_name}
        if self.kind == FeedKind.COMPLETED:
            line = gettext(
                "%(team)s finished %(building)s: %(notified)s/%(households)s households "
                "notified, %(nobody)s nobody home"
            ) % {
                **names,
                "notified": self.notified,
                "households": self.households,
                "nobody": self.nobody_home,
            }
            if self.others:
                line += gettext(", %(n)s other outcomes") % {"n": self.others}
            return str(line)
        if self.kind == FeedKind.CLAIMED:
            return str(gettext("%(team)s claimed %(building)s") % names)
        if self.kind == FeedKind.RELEASED:
            return str(gettext("%(team)s released %(building)s") % names)
        return str(
            gettext("%(team)s handed %(building)s to %(other)s")
            % {**names, "other": self.other_team_name}
        )
