"""Sampling: sites and lanes; tubes (pooled specimens with their members), boxes and their
custody on the way to the lab; the device events that drive them; queue reports; counters.

A tube is a specimen: opened at a lane, filled with up to its pool size of people, sealed, put
in a box, carried to the lab and resulted. Every change arrives as a device event with the
device's UUID, so a replay is a no-op and the same UUID with another payload is a conflict.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from doorstep.core.masking import mask_name
from doorstep.territory.models import DocumentType


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
    # Where residents find it, as they would be told: "富锦园小区北门广场".
    address = models.CharField(_("where"), max_length=200, blank=True)
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

    The untested list is the roster minus these rows minus exempt households. The ingest engine
    writes it with the tube member; ``sampling.tally.fold`` then moves the door-to-door coverage
    counters by it, after the scan has committed.
    """

    # No index of its own: sampled_once_per_campaign starts with it (a round's samples, and the
    # rows a deleted round takes with it).
    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    # public look-up and a resident's timeline: the rounds a person was sampled in
    # (command/public.py: lookup; lab/timeline_views.py). Null once the town's personal data is
    # erased (``closing.erase``): the row stays, counted by the daily report, naming no one.
    resident = models.ForeignKey(
        "territory.Resident", null=True, on_delete=models.PROTECT, related_name="+"
    )
    # A copy of the resident's community, for counting; see TubeMember on db_constraint. No
    # query looks samples up by community (the daily report groups a round's by it).
    community = models.ForeignKey(
        "territory.Community",
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    sampled_at = models.DateTimeField(_("sampled at"))
    # Counted by the counters of the apps above (door-to-door coverage, home stops): written
    # false by the scan's transaction, set by ``sampling.tally.fold`` as it counts the row.
    folded = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("sampled resident")
        verbose_name_plural = _("sampled residents")
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "resident"], name="sampled_once_per_campaign"
            )
        ]
        indexes = [
            # fold: the rows not counted yet (a handful at any moment).
            models.Index(fields=["id"], condition=models.Q(folded=False), name="sample_unfolded"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}:{self.resident_id}"


class TubeStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("tube", "Open")
    # A sealed tube (已封管), not a sealed zone (封控区): the words differ in Chinese.
    SEALED = "sealed", pgettext_lazy("tube", "Sealed")
    # An empty tube thrown away at the lane (a mis-scan); it keeps its barcode.
    DISCARDED = "discarded", pgettext_lazy("tube", "Discarded")


class Result(models.TextChoices):
    NEGATIVE = "negative", _("Negative")
    POSITIVE = "positive", _("Positive")
    INVALID = "invalid", _("Invalid")


class Tube(models.Model):
    """A specimen. Every index here serves a query named beside it (``test_slim_tables`` pins
    the list): a tube row is written at every open and rewritten at nearly every scan, and each
    index is written with it. The campaign and the lane need no index of their own, as
    ``tube_code_unique_in_campaign`` and ``tube_by_lane`` start with them. ``community``,
    ``household``, ``opened_by``, ``discarded_by`` and ``retest_of`` are written only by the
    ingest engine from rows its batch has just read (the lane's scope, the first member, the
    sender, the retest order's pool) and no query looks a tube up by them: no index and no
    database foreign key, whose check at COMMIT (and, unindexed, a scan of every tube for each
    parent row deleted) would buy nothing Django's on_delete does not already do."""

    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    code = models.CharField(_("tube barcode"), max_length=32)
    lane = models.ForeignKey(Lane, on_delete=models.PROTECT, related_name="tubes", db_index=False)
    # dashboard: a site's latest tubes (command/dashboard.py: site_detail).
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    community = models.ForeignKey(
        "territory.Community",
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    # "1", "5", "10", "20" or "household"; empty until the first person decides it by their zone.
    pool_rule = models.CharField(_("pool rule"), max_length=16, blank=True)
    capacity = models.PositiveSmallIntegerField(_("pool size"), null=True, blank=True)
    household = models.ForeignKey(
        "territory.Household",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    status = models.CharField(
        _("status"), max_length=12, choices=TubeStatus.choices, default=TubeStatus.OPEN
    )
    member_count = models.PositiveSmallIntegerField(_("people"), default=0)
    opened_at = models.DateTimeField(_("opened"))
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    sealed_at = models.DateTimeField(_("sealed"), null=True, blank=True)
    discarded_at = models.DateTimeField(_("discarded"), null=True, blank=True)
    discarded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    discard_reason = models.CharField(_("why it was discarded"), max_length=200, blank=True)
    # a box's tubes: received at the lab, listed on the box page (sampling/ingest/store.py:
    # _received; sampling/views.py).
    box = models.ForeignKey(
        "Box", null=True, blank=True, on_delete=models.PROTECT, related_name="tubes"
    )
    received_at = models.DateTimeField(_("received at the lab"), null=True, blank=True)
    result = models.CharField(_("result"), max_length=8, choices=Result.choices, blank=True)
    resulted_at = models.DateTimeField(_("resulted"), null=True, blank=True)
    # A single-tube retest of someone from a positive (or invalid) pool points back to it.
    retest_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="retests",
        db_constraint=False,
        db_index=False,
    )
    retest_closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("tube")
        verbose_name_plural = _("tubes")
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "code"], name="tube_code_unique_in_campaign"
            ),
            models.CheckConstraint(
                condition=models.Q(capacity__isnull=True)
                | models.Q(member_count__lte=models.F("capacity")),
                name="tube_not_over_capacity",
            ),
            # A lane fills one tube at a time (the rules refuse a second; this settles a race).
            models.UniqueConstraint(
                fields=["lane"],
                condition=models.Q(status="open"),
                name="one_open_tube_per_lane",
            ),
        ]
        indexes = [
            # the ingest: a tube by the barcode a device scanned, its round not known yet
            # (sampling/ingest/world.py: _read); the lab's results by code (lab/actions/results.py).
            models.Index(fields=["code"], name="tube_by_code"),
            # specimen clock: sealed tubes not yet at the lab, oldest first
            # (sampling/queries.py: overdue_tubes, unboxed_counts).
            models.Index(fields=["campaign", "received_at", "sealed_at"], name="tube_clock"),
            # the lane page: this lane's tubes today (sampling/queries.py: lane_panel); a lane
            # deleted looks here for its tubes.
            models.Index(fields=["lane", "opened_at"], name="tube_by_lane"),
            # The dashboard's alerts: tubes left open (sampling/alerts.py), a round's open tubes
            # before it closes (sampling/queries.py: open_in_round).
            models.Index(fields=["campaign", "status", "opened_at"], name="tube_by_status"),
            # results overdue and positive pools (lab/alerts.py: _late, _open_loops_many).
            models.Index(fields=["campaign", "result", "received_at"], name="tube_by_result"),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def pooled(self) -> bool:
        return self.capacity != 1


class WalkIn(models.Model):
    """Someone sampled who is not on the roster: registered on the spot and flagged."""

    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="+")
    community = models.ForeignKey("territory.Community", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("full name"), max_length=100)
    id_type = models.CharField(
        _("document type"),
        max_length=16,
        choices=DocumentType.choices,
        default=DocumentType.RESIDENT_ID,
    )
    id_number = models.CharField(_("document number"), max_length=32)
    phone = models.CharField(_("phone"), max_length=11, blank=True)
    # Where they live, taken at the lane, so that a positive pool can find them.
    address = models.CharField(_("address"), max_length=200, blank=True)
    # The walk-in's household: the one their address traced to, kept once found (no
    # ``traced_by``), or the one a community worker found for an address that traces to none
    # (``sampling.walk_ins``).
    household = models.ForeignKey(
        "territory.Household",
        verbose_name=_("household"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    traced_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("registered"))

    class Meta:
        verbose_name = _("walk-in")
        verbose_name_plural = _("walk-ins")
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "id_number"], name="walk_in_once_per_campaign"
            )
        ]

    def __str__(self) -> str:
        return mask_name(self.name)


class TubeMember(models.Model):
    """A person in a tube. ``campaign``, ``household`` and ``community`` are copies of the tube's
    and the person's, written only by the sampling actions from rows they have just read. They
    carry no database foreign key: each one cost a deferred check per row at COMMIT, which on
    PostgreSQL took a 100-event batch's commit from 2.6 to 9.4 ms (docs/architecture.md, ingest).
    Django still applies on_delete to them. The resident, read by the same batch, has none
    either: no query looks members up by resident alone (``member_by_resident`` starts with the
    round), and a database key without an index would scan every member for each resident
    deleted. The tube keeps its key, which is checked, and through it the round (the tube's
    own key to its round is checked too).

    Indexes: each serves a query named beside it (``test_slim_tables`` pins the list)."""

    # a tube's members: the ingest's tubes being filled (sampling/ingest/world.py: _read), the
    # lane page, the lab's pools and cases (lab/cases.py, lab/pools.py).
    tube = models.ForeignKey(Tube, on_delete=models.CASCADE, related_name="members")
    campaign = models.ForeignKey(
        "campaigns.Campaign",
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    resident = models.ForeignKey(
        "territory.Resident",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    # The walk-in's tubes (partial index member_by_walk_in below: most members are residents).
    walk_in = models.ForeignKey(
        WalkIn, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    household = models.ForeignKey(
        "territory.Household",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    community = models.ForeignKey(
        "territory.Community",
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    added_at = models.DateTimeField()
    override_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tube", "resident"],
                condition=models.Q(resident__isnull=False),
                name="resident_once_per_tube",
            ),
            models.UniqueConstraint(
                fields=["tube", "walk_in"],
                condition=models.Q(walk_in__isnull=False),
                name="walk_in_once_per_tube",
            ),
            # One person, or none once the town is erased (``closing.erase``): the row stays
            # for the pools' figures, with no person and no household.
            models.CheckConstraint(
                condition=(models.Q(resident__isnull=True) ^ models.Q(walk_in__isnull=True))
                | models.Q(resident__isnull=True, walk_in__isnull=True, household__isnull=True),
                name="member_is_one_person_or_erased",
            ),
        ]
        indexes = [
            # already sampled / retest orders: a person's tubes in a campaign (lab/timeline.py,
            # command/public.py, assistance/queries.py); a deleted round's members.
            models.Index(fields=["campaign", "resident"], name="member_by_resident"),
            # a walk-in's tubes: known walk-ins in the ingest's read (sampling/ingest/world.py:
            # _read), a walk-in found positive (lab/actions/retests.py, sampling/walk_ins.py).
            # Partial: a resident's row (nearly every row) is not written to it.
            models.Index(
                fields=["walk_in"],
                condition=models.Q(walk_in__isnull=False),
                name="member_by_walk_in",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tube_id}:{self.resident_id or self.walk_in_id}"

    @property
    def masked_name(self) -> str:
        """The member's name masked as on every page (a resident or a walk-in)."""
        person = self.resident or self.walk_in
        return mask_name(person.name if person else "")


class BoxStatus(models.TextChoices):
    OPEN = "open", _("Packing")
    SEALED = "sealed", pgettext_lazy("box", "Sealed")
    IN_TRANSIT = "in_transit", _("In transit")
    RECEIVED = "received", _("Received")


class Box(models.Model):
    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="+")
    code = models.CharField(_("box barcode"), max_length=32)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        _("status"), max_length=12, choices=BoxStatus.choices, default=BoxStatus.OPEN
    )
    tube_count = models.PositiveIntegerField(_("tubes"), default=0)
    opened_at = models.DateTimeField(_("opened"))
    sealed_at = models.DateTimeField(_("box sealed"), null=True, blank=True)
    handed_at = models.DateTimeField(_("handed to the courier"), null=True, blank=True)
    courier = models.CharField(_("courier"), max_length=100, blank=True)
    received_at = models.DateTimeField(_("received"), null=True, blank=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A count that disagreed at some hand-off: shown until someone recounts and it agrees.
    flagged = models.BooleanField(_("count disagreed"), default=False)

    class Meta:
        verbose_name = _("box")
        verbose_name_plural = _("boxes")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "code"], name="box_code_unique_in_campaign")
        ]

    def __str__(self) -> str:
        return self.code


class Stage(models.TextChoices):
    SEAL = "seal", _("Sealed at the site")
    HANDOFF = "handoff", _("Handed to the courier")
    RECEIVE = "receive", _("Received at the lab")


class CustodyCheck(models.Model):
    """A count at a hand-off: what the person counted against what was scanned into the box."""

    # a box's counts: the lab's alerts and the tube page (lab/alerts.py, command/views.py).
    box = models.ForeignKey(Box, on_delete=models.CASCADE, related_name="checks")
    stage = models.CharField(max_length=8, choices=Stage.choices)
    counted = models.PositiveIntegerField()
    in_system = models.PositiveIntegerField()
    # The sender, for the record: no query by it; see DeviceEvent.user.
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    at = models.DateTimeField()
    # The device event that made the count: a refused count is on record once, however often
    # the device sends it again.
    client_uuid = models.UUIDField(null=True, blank=True)

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["client_uuid"],
                condition=models.Q(client_uuid__isnull=False),
                name="custody_check_once_per_event",
            )
        ]

    def __str__(self) -> str:
        return f"{self.box_id} {self.stage} {self.counted}/{self.in_system}"

    @property
    def agrees(self) -> bool:
        return self.counted == self.in_system


class DeviceEvent(models.Model):
    """An accepted event, kept by its UUID so that a replay is answered without applying it:
    the same content again is a duplicate, other content under the same UUID a conflict. What
    the event did is on the tube, box and member rows; here only a digest of its content."""

    client_uuid = models.UUIDField()
    type = models.CharField(max_length=16)
    # BLAKE2b (16 bytes, hex) of the event's canonical JSON: sampling.ingest.play.digest.
    digest = models.CharField(max_length=32)
    # Who sent it, for the record: the request's own user. No database foreign key (see
    # TubeMember) and no index: nothing looks events up by sender, so the log's one index is
    # its UUID's. SET_NULL is Django's (one UPDATE over the log when a user is deleted).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    at = models.DateTimeField()
    received_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client_uuid"], name="device_event_uuid_unique")
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.client_uuid}"


class QueueReport(models.Model):
    """The order keeper's "about 40 waiting"."""

    lane = models.ForeignKey(Lane, on_delete=models.CASCADE, related_name="queue_reports")
    waiting = models.PositiveIntegerField()
    reported_at = models.DateTimeField()
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-reported_at", "-id"]

    def __str__(self) -> str:
        return f"{self.lane_id}: {self.waiting}"


class Scope(models.TextChoices):
    LANE = "lane", _("Lane")
    SITE = "site", _("Site")
    COMMUNITY = "community", _("Community")
    CAMPAIGN = "campaign", _("Campaign")


class Counts(models.Model):
    """The sampling counters of a place: what ``Tally`` holds and a ``TallyMove`` moves."""

    tubes_open = models.IntegerField(default=0)
    tubes_sealed = models.IntegerField(default=0)
    people = models.IntegerField(default=0)
    boxes_in_transit = models.IntegerField(default=0)
    results_pending = models.IntegerField(default=0)
    positive_pools = models.IntegerField(default=0)
    retests_open = models.IntegerField(default=0)

    class Meta:
        abstract = True


COUNTS = tuple(f.name for f in Counts._meta.local_fields)


class Tally(Counts):
    """Sampling counters per lane, site, community and campaign; the dashboard reads these,
    never the tubes. Only ``sampling.tally.fold`` writes them, from ``TallyMove`` rows."""

    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="+")
    scope = models.CharField(max_length=10, choices=Scope.choices)
    place_id = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "scope", "place_id"], name="tally_unique_place"
            )
        ]

    def __str__(self) -> str:
        return f"{self.scope}:{self.place_id}"


class TallyMove(Counts):
    """Counter moves not yet added to the counters: a writer inserts these in its own
    transaction, locking no shared row, and ``sampling.tally.fold`` adds them to ``Tally`` (or,
    with an ``hour``, to that hour's ``HourTally.people``) and deletes them, one folder at a
    time. Every lane's scans would otherwise queue on the campaign's one counter row.

    Only the primary key is indexed: the fold reads and deletes every row, nothing looks one
    up. ``campaign`` has no database foreign key (a move names the round its batch has just
    read, and a key checked at COMMIT for each move costs what the move saves), but it is a
    ForeignKey to Django, so a round deleted takes its unfolded moves with it: the fold could
    add them to no counter, and would fail on them, every round's counters with it."""

    campaign = models.ForeignKey(
        "campaigns.Campaign",
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    scope = models.CharField(max_length=10, choices=Scope.choices)
    place_id = models.BigIntegerField()
    hour = models.DateTimeField(null=True)

    def __str__(self) -> str:
        return f"{self.scope}:{self.place_id}"


class HourTally(models.Model):
    """People sampled per hour (UTC hour start of the scan) per lane, community and campaign,
    moved with the batch's other counters; the dashboard's hourly charts and lane speeds read
    these."""

    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="+")
    scope = models.CharField(max_length=10, choices=Scope.choices)
    place_id = models.BigIntegerField()
    hour = models.DateTimeField()
    people = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "scope", "place_id", "hour"], name="hour_tally_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.scope}:{self.place_id}@{self.hour:%H}: {self.people}"


class HomeStatus(models.TextChoices):
    OPEN = "open", _("Not claimed")
    CLAIMED = "claimed", _("Claimed")
    DONE = "done", _("Done")


class HomeTask(models.Model):
    """Home sampling in one building of a round: the people who cannot come to a site
    (bedridden, isolating: the door-to-door outcome "needs home sampling"), everyone of a sealed
    building, and the members of a positive pool whose retest comes to the door. A sampling team claims it like a building,
    exclusively and as a lease that every scan at its lane extends, works it from the same
    scan page as a lane (single or household tubes), and closes it. New people for the
    building open it again."""

    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="+")
    building = models.ForeignKey("territory.Building", on_delete=models.PROTECT, related_name="+")
    community = models.ForeignKey("territory.Community", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        _("status"), max_length=8, choices=HomeStatus.choices, default=HomeStatus.OPEN
    )
    # The holder is the team's lane: its people are on duty there and scan with its code.
    lane = models.ForeignKey(
        Lane, null=True, blank=True, on_delete=models.PROTECT, related_name="home_tasks"
    )
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("home-sampling task")
        verbose_name_plural = _("home-sampling tasks")
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "building"], name="one_home_task_per_building"
            )
        ]
        indexes = [
            # the home-sampling list of a community
            models.Index(fields=["campaign", "community", "status"], name="home_task_by_community")
        ]

    def __str__(self) -> str:
        return f"{self.building_id} {self.status}"


class HomeReason(models.TextChoices):
    HOME = "home", _("Cannot come to a site")
    SEALED = "sealed", _("Sealed building")
    RETEST = "retest", _("Retest at the door")


# The reasons that wait for any tube (a retest waits for the person's own single tube).
AT_THE_DOOR = (HomeReason.HOME, HomeReason.SEALED)


class HomeStop(models.Model):
    """One person to sample at home. Done when they are sampled (any tube for a home or sealed
    stop, their single-tube retest for a retest stop); cancelled when it is no longer needed
    (a later outcome, a lifted seal, a corrected result)."""

    task = models.ForeignKey(HomeTask, on_delete=models.CASCADE, related_name="stops")
    campaign_id = models.BigIntegerField()  # a copy of the task's, for the ingest's one UPDATE
    household = models.ForeignKey("territory.Household", on_delete=models.PROTECT, related_name="+")
    resident = models.ForeignKey(
        "territory.Resident", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    walk_in = models.ForeignKey(
        WalkIn, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(_("why"), max_length=8, choices=HomeReason.choices)
    # The lab's retest order this stop answers (a plain id: the lab sits above sampling).
    order_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField()
    done_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("home-sampling stop")
        verbose_name_plural = _("home-sampling stops")
        constraints = [
            models.UniqueConstraint(
                fields=["order_id"],
                condition=models.Q(order_id__isnull=False),
                name="one_stop_per_retest_order",
            ),
            models.UniqueConstraint(
                fields=["campaign_id", "resident", "reason"],
                condition=models.Q(reason="home"),
                name="one_home_stop_per_resident",
            ),
            models.UniqueConstraint(
                fields=["campaign_id", "resident", "reason"],
                condition=models.Q(reason="sealed"),
                name="one_sealed_stop_per_resident",
            ),
        ]
        indexes = [
            # the ingest: open stops of the batch's people
            models.Index(
                fields=["campaign_id", "resident"],
                condition=models.Q(done_at__isnull=True, cancelled_at__isnull=True),
                name="open_stop_by_resident",
            )
        ]

    def __str__(self) -> str:
        return f"{self.task_id}:{self.resident_id or self.walk_in_id} {self.reason}"

    @property
    def masked_name(self) -> str:
        """Who is to be swabbed, masked as on every page (the resident or the walk-in)."""
        person = self.resident or self.walk_in
        return mask_name(person.name if person else "")

    @property
    def waiting(self) -> bool:
        return self.done_at is None and self.cancelled_at is None
