"""Roles and what each may do. One table, read by the scoping helper and every view."""

from __future__ import annotations

from enum import StrEnum

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    COMMANDER = "commander", _("Commander")
    COMMUNITY_WORKER = "community_worker", _("Community worker")
    TEAM_LEADER = "team_leader", _("Team leader")
    CANVASSER = "canvasser", _("Canvasser")
    REGISTRAR = "registrar", _("Registrar")
    LAB = "lab", _("Lab receiver")
    ADMIN = "admin", _("Administrator")


class Can(StrEnum):
    VIEW_RESIDENTS = "view_residents"
    REVEAL_PERSONAL = "reveal_personal"
    IMPORT_ROSTER = "import_roster"
    EXPORT_PERSONAL = "export_personal"
    PRINT_CODES = "print_codes"
    VIEW_CAMPAIGNS = "view_campaigns"
    EDIT_ZONES = "edit_zones"
    CREATE_CAMPAIGNS = "create_campaigns"
    VIEW_WORKFORCE = "view_workforce"
    MANAGE_WORKFORCE = "manage_workforce"
    CHECK_IN = "check_in"
    VIEW_CANVASS = "view_canvass"
    CLAIM_BUILDINGS = "claim_buildings"
    RECORD_OUTCOMES = "record_outcomes"
    READ_AUDIT = "read_audit"


CAPABILITIES: dict[str, frozenset[Can]] = {
    Role.COMMANDER: frozenset(
        {
            Can.VIEW_RESIDENTS,
            Can.REVEAL_PERSONAL,
            Can.EXPORT_PERSONAL,
            Can.PRINT_CODES,
            Can.VIEW_CAMPAIGNS,
            Can.EDIT_ZONES,
            Can.CREATE_CAMPAIGNS,
            Can.VIEW_WORKFORCE,
            Can.MANAGE_WORKFORCE,
            Can.CHECK_IN,
            Can.VIEW_CANVASS,
        }
    ),
    Role.COMMUNITY_WORKER: frozenset(
        {
            Can.VIEW_RESIDENTS,
            Can.REVEAL_PERSONAL,
            Can.IMPORT_ROSTER,
            Can.EXPORT_PERSONAL,
            Can.PRINT_CODES,
            Can.VIEW_CAMPAIGNS,
            Can.VIEW_WORKFORCE,
            Can.VIEW_CANVASS,
            Can.RECORD_OUTCOMES,
        }
    ),
    Role.TEAM_LEADER: frozenset(
        {
            Can.VIEW_RESIDENTS,
            Can.PRINT_CODES,
            Can.VIEW_CAMPAIGNS,
            Can.VIEW_WORKFORCE,
            Can.CHECK_IN,
            Can.VIEW_CANVASS,
            Can.CLAIM_BUILDINGS,
            Can.RECORD_OUTCOMES,
        }
    ),
    Role.CANVASSER: frozenset({Can.VIEW_RESIDENTS, Can.VIEW_CANVASS, Can.RECORD_OUTCOMES}),
    Role.REGISTRAR: frozenset(),
    # The lab works with tube and box codes only: it never sees a resident.
    Role.LAB: frozenset(),
    Role.ADMIN: frozenset(set(Can)),
}

# Roles whose personal-data scope is the whole town; the others see only their communities.
TOWN_WIDE = frozenset({Role.COMMANDER, Role.ADMIN})
