"""A testing round over part of a town, with a zone and a pool rule for every building; the
zones' history (`ZoneChange`) and the positives found in each building (`BuildingPositive`),
which carry over from round to round because an outbreak runs for days."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Zone(models.TextChoices):
    # A sealed zone (封控区), not a sealed tube (已封管): the words differ in Chinese.
    SEALED = "sealed", pgettext_lazy("zone", "Sealed")
    CONTROLLED = "controlled", pgettext_lazy("zone", "Controlled")
    PREVENTION = "prevention", pgettext_lazy("zone", "Prevention")


class PoolRule(models.TextChoices):
    """How many people share one tube. HOUSEHOLD: one tube per household, whatever its size."""

    SINGLE = "1", _("Single tube")
    HOUSEHOLD = "household", _("One tube per household")
    FIVE = "5", _("5 in 1")
    TEN = "10", _("10 in 1")
    TWENTY = "20", _("20 in 1")


# Field guide defaults: sealed → one tube per household, controlled → 10:1, prevention → 20:1.
DEFAULT_POOL_RULE = {
    Zone.SEALED: PoolRule.HOUSEHOLD,
    Zone.CONTROLLED: PoolRule.TEN,
    Zone.PREVENTION: PoolRule.TWENTY,
}


DEFAULT_BARCODE_PATTERN = r"^[0-9A-Z]{6,24}$"


class CampaignStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    ACTIVE = "active", _("Active")
    CLOSED = "closed", _("Closed")


class DistrictRound(models.Model):
    """One round over several towns of a district (city-wide testing), started and closed
    together by the district's command. Each town runs its own ``Campaign`` of it, a round like
    any other; what the district round adds is that a resident of one of its towns sampled at a
    lane of another is recorded once, in their own town's campaign (``sampling.ingest``). A
    drill is never part of one."""

    district = models.ForeignKey(
        "territory.District",
        verbose_name=_("district"),
        on_delete=models.PROTECT,
        related_name="rounds",
    )
    name = models.CharField(_("name"), max_length=200)
    status = models.CharField(
        _("status"), max_length=16, choices=CampaignStatus.choices, default=CampaignStatus.ACTIVE
    )
    started_at = models.DateTimeField(_("started at"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("district round")
        verbose_name_plural = _("district rounds")
        ordering = ["-started_at", "-id"]
        indexes = [
            # the district's list of its rounds, newest first.
            models.Index(fields=["district", "started_at"], name="district_round_by_district"),
        ]

    def __str__(self) -> str:
        return self.name


class Campaign(models.Model):
    town = models.ForeignKey(
        "territory.Town", verbose_name=_("town"), on_delete=models.PROTECT, related_name="campaigns"
    )
    name = models.CharField(_("name"), max_length=200)
    starts_at = models.DateTimeField(_("starts at"))
    deadline = models.DateTimeField(_("deadline"))
    status = models.CharField(
        _("status"), max_length=16, choices=CampaignStatus.choices, default=CampaignStatus.PLANNED
    )
    # How long a building claim lasts without activity (door-to-door leases).
    claim_lease_minutes = models.PositiveSmallIntegerField(_("claim lease (minutes)"), default=45)
    # Special needs: how soon a request should be verified and arranged, from registration.
    urgent_need_minutes = models.PositiveSmallIntegerField(
        _("emergency and birth requests: target (minutes)"), default=10
    )
    need_minutes = models.PositiveSmallIntegerField(
        _("other special-need requests: target (minutes)"), default=120
    )
    # When the commander started and closed the round (planned rounds are current nowhere).
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # Zoning rules (defaults from the 9th-edition national plan, June 2022): a positive in a
    # controlled or prevention building seals it at once; a zone lifts one level after this
    # many days with no new positive and a round with nobody untested since the last one.
    seal_on_positive = models.BooleanField(_("a positive seals its building at once"), default=True)
    lift_after_days = models.PositiveSmallIntegerField(
        _("days with no new positive before a zone lifts one level"), default=7
    )
    # Tube and box barcodes printed for this round; a scan that does not match is refused.
    barcode_pattern = models.CharField(
        _("barcode pattern"), max_length=100, default=DEFAULT_BARCODE_PATTERN
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A drill (演练) runs as a real round does, but its rows count in no real figure, report,
    # export or alert: every cross-round read and every list of rounds filters on this.
    is_drill = models.BooleanField(_("drill"), default=False)
    # This town's part of a round over several towns of its district; None for a town's own.
    district_round = models.ForeignKey(
        DistrictRound,
        verbose_name=_("district round"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="campaigns",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(deadline__gt=models.F("starts_at")),
                name="campaign_deadline_after_start",
            ),
            # A district round has one campaign per town: a resident's home round is the one.
            models.UniqueConstraint(
                fields=["district_round", "town"], name="one_campaign_per_town_of_a_district_round"
            ),
            # A drill counts in no real figure, so it never joins a real district round.
            models.CheckConstraint(
                condition=models.Q(district_round__isnull=True) | models.Q(is_drill=False),
                name="no_drill_in_a_district_round",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CampaignBuilding(models.Model):
    """A building inside a campaign's area, with its zone and pool rule."""

    campaign = models.ForeignKey(
        Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE, related_name="buildings"
    )
    building = models.ForeignKey(
        "territory.Building", verbose_name=_("building"), on_delete=models.PROTECT, related_name="+"
    )
    # Denormalised from the building so that per-community pages and bulk zone edits are one
    # indexed filter, and so rows can be distributed by (campaign, community).
    community = models.ForeignKey(
        "territory.Community",
        verbose_name=_("community"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    zone = models.CharField(_("zone"), max_length=16, choices=Zone.choices, default=Zone.PREVENTION)
    pool_rule = models.CharField(
        _("pool rule"), max_length=16, choices=PoolRule.choices, default=PoolRule.TWENTY
    )

    class Meta:
        verbose_name = _("campaign building")
        verbose_name_plural = _("campaign buildings")
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "building"], name="campaign_building_unique"
            )
        ]
        indexes = [
            # campaign page: zones and counts per community; bulk zone edit by community.
            models.Index(fields=["campaign", "community"], name="campaign_bldg_by_community"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign} {self.building} {self.zone}"


class ZoneWhy(models.TextChoices):
    RESULT = "result", _("A positive result")
    RULE = "rule", _("The lifting rule")
    COMMANDER = "commander", _("The commander's decision")


class ZoneChange(models.Model):
    """One building's zone changed in a round: from, to, when and why. The zone in force is
    ``CampaignBuilding.zone``; this is its history."""

    campaign = models.ForeignKey(
        Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE, related_name="zone_changes"
    )
    building = models.ForeignKey(
        "territory.Building", verbose_name=_("building"), on_delete=models.PROTECT, related_name="+"
    )
    community = models.ForeignKey("territory.Community", on_delete=models.PROTECT, related_name="+")
    from_zone = models.CharField(_("from"), max_length=16, choices=Zone.choices)
    to_zone = models.CharField(_("to"), max_length=16, choices=Zone.choices)
    at = models.DateTimeField(_("at"))
    why = models.CharField(_("why"), max_length=16, choices=ZoneWhy.choices)
    note = models.CharField(_("note"), max_length=300, blank=True)
    # The tube whose positive result sealed the building (why = result).
    tube_code = models.CharField(_("tube"), max_length=64, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A seal by result asks the commander to confirm its extent (the building, or more).
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("zone change")
        verbose_name_plural = _("zone changes")
        ordering = ["-at", "-id"]
        indexes = [
            # a building's zone history; the lift page's "last change".
            models.Index(fields=["building", "at"], name="zone_change_by_building"),
            # the alert: seals by result the commander has not confirmed.
            models.Index(
                fields=["campaign"],
                condition=models.Q(why="result", confirmed_at__isnull=True),
                name="zone_change_unconfirmed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.building_id} {self.from_zone}→{self.to_zone} {self.at:%Y-%m-%d %H:%M}"


class BuildingPositive(models.Model):
    """A person of this building found positive (a single tube or a retest). The lifting clock
    counts from the newest one, across rounds; a correction withdraws it."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    building = models.ForeignKey("territory.Building", on_delete=models.PROTECT, related_name="+")
    community = models.ForeignKey("territory.Community", on_delete=models.PROTECT, related_name="+")
    tube_code = models.CharField(_("tube"), max_length=64)
    at = models.DateTimeField(_("at"))
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)

    class Meta:
        verbose_name = _("positive in a building")
        verbose_name_plural = _("positives in buildings")
        constraints = [
            models.UniqueConstraint(
                fields=["building", "tube_code"], name="one_positive_per_building_and_tube"
            )
        ]
        indexes = [
            # "days since the last positive" for a community's buildings.
            models.Index(fields=["community", "at"], name="positive_by_community"),
        ]

    def __str__(self) -> str:
        return f"{self.building_id} {self.tube_code} {self.at:%Y-%m-%d %H:%M}"


class CommunityStart(models.Model):
    """When a community of a round starts sampling, so a round does not start everywhere in
    the same minute (2022: residents' queries and bunched starts stalled cities' systems). A
    community without a row, or with no time on it, starts with the round. The time residents
    were last texted is kept beside it, so telling again texts only the communities whose time
    changed since."""

    campaign = models.ForeignKey(
        Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE, related_name="starts"
    )
    community = models.ForeignKey(
        "territory.Community",
        verbose_name=_("community"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Empty: with the round (``Campaign.starts_at``).
    starts_at = models.DateTimeField(_("starts at"), null=True, blank=True)
    # The start residents were last told by text message, and when they were told.
    told_starts_at = models.DateTimeField(_("start told"), null=True, blank=True)
    told_at = models.DateTimeField(_("told at"), null=True, blank=True)

    class Meta:
        verbose_name = _("community start time")
        verbose_name_plural = _("community start times")
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "community"], name="one_start_per_community_of_a_round"
            )
        ]
        indexes = [
            # the status page: announced starts of planned rounds in these communities.
            models.Index(fields=["community", "told_at"], name="community_start_told"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} {self.community_id} {self.starts_at}"

    def effective(self, campaign: Campaign) -> dt.datetime:
        """This community's start: its own time, or the round's."""
        return self.starts_at or campaign.starts_at
