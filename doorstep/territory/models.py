"""District ▸ town ▸ community ▸ building ▸ unit ▸ household ▸ resident, and grids inside
communities."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from doorstep.core import codes, idnumbers
from doorstep.core.masking import mask_document, mask_name, mask_phone


class Language(models.TextChoices):
    """The languages Doorstep writes to residents in (the codes of ``settings.LANGUAGES``)."""

    CHINESE = "zh-hans", "中文"
    ENGLISH = "en", "English"


class District(models.Model):
    """A district (区) whose command sends cadres between its towns and sees them all."""

    name = models.CharField(_("name"), max_length=100)
    is_demo = models.BooleanField(_("demo data"), default=False)
    # What every text message to a resident of its towns ends with, and the number they call.
    sms_signature = models.CharField(
        _("SMS signature"),
        max_length=20,
        blank=True,
        help_text=_("Put in 【】 at the start of every text message, e.g. 西青区疫情防控指挥部."),
    )
    hotline = models.CharField(_("hotline"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("district")
        verbose_name_plural = _("districts")
        constraints = [models.UniqueConstraint(fields=["name"], name="district_name_unique")]

    def __str__(self) -> str:
        return self.name


class Town(models.Model):
    name = models.CharField(_("name"), max_length=100)
    # A town (街镇) of a district; a town with none stands alone, as every town did before.
    district = models.ForeignKey(
        District,
        verbose_name=_("district"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="towns",
    )
    # Demo towns are built by `doorstep demo`; their people are synthetic and the pages say so.
    is_demo = models.BooleanField(_("demo data"), default=False)
    # A town's own signature and hotline: a town with no district signs with its own, and a
    # town's hotline is the one its residents call (the district's when empty).
    sms_signature = models.CharField(_("SMS signature"), max_length=20, blank=True)
    hotline = models.CharField(_("hotline"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("town")
        verbose_name_plural = _("towns")
        constraints = [models.UniqueConstraint(fields=["name"], name="town_name_unique")]

    def __str__(self) -> str:
        return self.name

    @property
    def message_signature(self) -> str:
        """What a text message to its residents is signed with: the district's, else its own,
        else its name."""
        district = self.district
        return (district.sms_signature if district else "") or self.sms_signature or self.name

    @property
    def message_hotline(self) -> str:
        """The number its residents are told to call: its own, else the district's."""
        district = self.district
        return self.hotline or (district.hotline if district else "")


class Community(models.Model):
    town = models.ForeignKey(
        Town, verbose_name=_("town"), on_delete=models.PROTECT, related_name="communities"
    )
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("community")
        verbose_name_plural = _("communities")
        ordering = ["town_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["town", "name"], name="community_name_unique_in_town")
        ]

    def __str__(self) -> str:
        return self.name


class Grid(models.Model):
    community = models.ForeignKey(
        Community, verbose_name=_("community"), on_delete=models.PROTECT, related_name="grids"
    )
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("grid")
        verbose_name_plural = _("grids")
        constraints = [
            models.UniqueConstraint(fields=["community", "name"], name="grid_name_unique")
        ]

    def __str__(self) -> str:
        return f"{self.community} {self.name}"


class Building(models.Model):
    community = models.ForeignKey(
        Community, verbose_name=_("community"), on_delete=models.PROTECT, related_name="buildings"
    )
    grid = models.ForeignKey(
        Grid,
        verbose_name=_("grid"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="buildings",
    )
    name = models.CharField(_("name"), max_length=100)
    floors = models.PositiveSmallIntegerField(_("floors"), default=6)
    has_lift = models.BooleanField(_("has a lift"), default=False)
    # Walking order inside the community: lists go nearest-first by it and the schematic
    # draws buildings at (x, y) on a plain grid, so no map tiles are needed.
    position = models.PositiveIntegerField(_("order"), default=0)
    x = models.SmallIntegerField(_("schematic column"), default=0)
    y = models.SmallIntegerField(_("schematic row"), default=0)

    class Meta:
        verbose_name = _("building")
        verbose_name_plural = _("buildings")
        ordering = ["community_id", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["community", "name"], name="building_name_unique")
        ]

    def __str__(self) -> str:
        return f"{self.community} {self.name}"


class Unit(models.Model):
    building = models.ForeignKey(
        Building, verbose_name=_("building"), on_delete=models.PROTECT, related_name="units"
    )
    # Empty for buildings that have no units: their households hang off one unnamed unit.
    name = models.CharField(_("unit"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        ordering = ["building_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["building", "name"], name="unit_name_unique")
        ]

    def __str__(self) -> str:
        return f"{self.building} {self.name}".strip()


class Household(models.Model):
    unit = models.ForeignKey(
        Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="households"
    )
    room = models.CharField(_("room"), max_length=50)
    floor = models.SmallIntegerField(_("floor"), null=True, blank=True)

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        ordering = ["unit_id", "floor", "room"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "room"], name="household_room_unique")
        ]

    def __str__(self) -> str:
        return f"{self.unit} {self.room}"


class DocumentType(models.TextChoices):
    """The kinds of ``core.idnumbers``, which checks each one's number."""

    RESIDENT_ID = idnumbers.RESIDENT_ID, _("Resident ID card")
    PASSPORT = idnumbers.PASSPORT, _("Passport")
    HK_MACAU = idnumbers.HK_MACAU, _("HK/Macau travel permit")
    TAIWAN = idnumbers.TAIWAN, _("Taiwan travel permit")
    OTHER = idnumbers.OTHER, _("Other document")


class Resident(models.Model):
    household = models.ForeignKey(
        Household, verbose_name=_("household"), on_delete=models.PROTECT, related_name="residents"
    )
    # Carried on the row so scoping and uniqueness need no joins up the tree.
    town = models.ForeignKey(
        Town, verbose_name=_("town"), on_delete=models.PROTECT, related_name="+"
    )
    community = models.ForeignKey(
        Community, verbose_name=_("community"), on_delete=models.PROTECT, related_name="residents"
    )
    name = models.CharField(_("full name"), max_length=100)
    id_type = models.CharField(
        _("document type"),
        max_length=16,
        choices=DocumentType.choices,
        default=DocumentType.RESIDENT_ID,
    )
    id_number = models.CharField(_("document number"), max_length=32)
    phone = models.CharField(_("phone"), max_length=11, blank=True)
    # The language of the messages Doorstep sends them (Chinese unless the roster says 英文).
    language = models.CharField(
        _("message language"), max_length=8, choices=Language.choices, default=Language.CHINESE
    )
    mobility_impaired = models.BooleanField(_("mobility impaired"), default=False)
    moved_out = models.BooleanField(_("moved out"), default=False)
    home_isolation = models.BooleanField(_("in home isolation"), default=False)
    notes = models.CharField(_("notes"), max_length=500, blank=True)
    person_code = models.CharField(_("person code"), max_length=16)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("resident")
        verbose_name_plural = _("residents")
        ordering = ["household_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["town", "id_number"], name="resident_document_unique_in_town"
            ),
            models.UniqueConstraint(fields=["person_code"], name="resident_person_code_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.masked_name} {self.masked_id}"

    @property
    def masked_name(self) -> str:
        return mask_name(self.name)

    @property
    def masked_id(self) -> str:
        return mask_document(self.id_number)

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    @property
    def person_code_display(self) -> str:
        return codes.display(self.person_code)


class ClosureState(models.TextChoices):
    CLOSED = "closed", _("Closed, data kept until the erase date")
    ERASED = "erased", _("Personal data erased")


class Closure(models.Model):
    """A town's response closed by its commander: no new round starts, and after the retention
    period ``doorstep erase`` removes every piece of its personal data (``doorstep.closing``).

    It sits here, beside the town, because apps below ``closing`` read it: a closed town starts
    no round, and a phone of an erased town clears what it holds offline."""

    town = models.OneToOneField(
        Town, verbose_name=_("town"), on_delete=models.PROTECT, related_name="closure"
    )
    closed_at = models.DateTimeField(_("closed at"))
    closed_by = models.CharField(_("closed by"), max_length=150)
    reason = models.CharField(_("reason"), max_length=300)
    # When the erase may run: closed_at plus the retention period, moved only with a reason
    # (each move audited, ``closing.actions.set_retention``).
    erase_after = models.DateTimeField(_("erase after"))
    # A hold stops the erase whatever the date (a court order, an investigation): its reason
    # is said wherever the erase is refused.
    hold_reason = models.CharField(_("retention hold"), max_length=300, blank=True)
    state = models.CharField(
        _("state"), max_length=8, choices=ClosureState.choices, default=ClosureState.CLOSED
    )
    erased_at = models.DateTimeField(_("erased at"), null=True, blank=True)

    class Meta:
        verbose_name = _("closed response")
        verbose_name_plural = _("closed responses")

    def __str__(self) -> str:
        return f"{self.town} {self.state}"

    @property
    def is_erased(self) -> bool:
        return self.state == ClosureState.ERASED
