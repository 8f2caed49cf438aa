"""Roles and what each may do. One table, read by the scoping helper and every view."""

from __future__ import annotations

from enum import StrEnum

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    DISTRICT_COMMANDER = "district_commander", _("District commander")
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
    SCAN = "scan"
    VIEW_SITES = "view_sites"
    MANAGE_SITES = "manage_sites"
    RECEIVE_SPECIMENS = "receive_specimens"
    RECORD_RESULTS = "record_results"
    VIEW_RETESTS = "view_retests"
    READ_AUDIT = "read_audit"
    VIEW_DASHBOARD = "view_dashboard"
    VIEW_NEEDS = "view_needs"
    MANAGE_NEEDS = "manage_needs"
    # Mark an alert as seen and being acted on (it stays listed while its condition holds).
    ACK_ALERTS = "ack_alerts"
    # The district's board and report, and its side of support: quotas for sending towns.
    VIEW_DISTRICT = "view_district"
    MANAGE_SUPPORT = "manage_support"
    # Find the household of a walk-in whose address traces to none.
    TRACE_WALK_INS = "trace_walk_ins"
    # A confirmed positive's case sheet (流调): read it and acknowledge receiving it; hand it over.
    VIEW_CASES = "view_cases"
    HAND_OVER_CASES = "hand_over_cases"
    # Tell residents at their door what a message did not (the door-visit list, its notice).
    TELL_AT_DOOR = "tell_at_door"
    # The outbox of text messages: each one's life, and the gateway's answers.
    VIEW_MESSAGES = "view_messages"
    # Close a town's response, move its erase date with a reason, hold it; read the certificate.
    CLOSE_RESPONSE = "close_response"


_COMMAND = frozenset(
    {
        Can.VIEW_DASHBOARD,
        Can.VIEW_NEEDS,
        Can.MANAGE_NEEDS,
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
        Can.SCAN,
        Can.VIEW_SITES,
        Can.MANAGE_SITES,
        Can.VIEW_RETESTS,
        Can.ACK_ALERTS,
        Can.TRACE_WALK_INS,
        Can.VIEW_CASES,
        Can.HAND_OVER_CASES,
        Can.TELL_AT_DOOR,
        Can.VIEW_MESSAGES,
        Can.CLOSE_RESPONSE,
    }
)

CAPABILITIES: dict[str, frozenset[Can]] = {
    # A district commander commands every town of the district as its own commander would, and
    # the district besides.
    Role.DISTRICT_COMMANDER: _COMMAND | {Can.VIEW_DISTRICT, Can.MANAGE_SUPPORT},
    Role.COMMANDER: _COMMAND,
    Role.COMMUNITY_WORKER: frozenset(
        {
            Can.VIEW_NEEDS,
            Can.MANAGE_NEEDS,
            Can.VIEW_RESIDENTS,
            Can.REVEAL_PERSONAL,
            Can.IMPORT_ROSTER,
            Can.EXPORT_PERSONAL,
            Can.PRINT_CODES,
            Can.VIEW_CAMPAIGNS,
            Can.VIEW_WORKFORCE,
            Can.VIEW_CANVASS,
            Can.RECORD_OUTCOMES,
            Can.VIEW_SITES,
            Can.VIEW_RETESTS,
            Can.ACK_ALERTS,
            Can.TRACE_WALK_INS,
            Can.VIEW_CASES,
            Can.TELL_AT_DOOR,
        }
    ),
    Role.TEAM_LEADER: frozenset(
        {
            Can.VIEW_NEEDS,
            Can.VIEW_RESIDENTS,
            Can.PRINT_CODES,
            Can.VIEW_CAMPAIGNS,
            Can.VIEW_WORKFORCE,
            Can.CHECK_IN,
            Can.VIEW_CANVASS,
            Can.CLAIM_BUILDINGS,
            Can.RECORD_OUTCOMES,
            Can.VIEW_SITES,
            Can.VIEW_RETESTS,
            Can.TELL_AT_DOOR,
        }
    ),
    Role.CANVASSER: frozenset(
        {Can.VIEW_RESIDENTS, Can.VIEW_CANVASS, Can.RECORD_OUTCOMES, Can.TELL_AT_DOOR}
    ),
    # A registrar scans codes at a lane; the lane page shows members masked, never a roster.
    Role.REGISTRAR: frozenset({Can.SCAN, Can.VIEW_SITES}),
    # The lab works with tube and box codes only: it never sees a resident.
    Role.LAB: frozenset({Can.RECEIVE_SPECIMENS, Can.RECORD_RESULTS}),
    Role.ADMIN: frozenset(set(Can)),
}

# Roles whose personal-data scope is the whole town (a district commander's: every town of the
# district); the others see only their communities.
TOWN_WIDE = frozenset({Role.DISTRICT_COMMANDER, Role.COMMANDER, Role.ADMIN})
