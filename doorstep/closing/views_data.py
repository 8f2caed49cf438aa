"""A certificate's content in words, once, for its page, its PDF and the command's output."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from doorstep.closing import certificate
from doorstep.closing.models import Certificate

ERASED_WORDS = {
    "residents": gettext_lazy("residents (name, document number, phone, person code, household)"),
    "walk_ins": gettext_lazy("walk-ins"),
    "pool_members_unlinked": gettext_lazy("people in pooled tubes (unlinked; the count stays)"),
    "round_samples_unlinked": gettext_lazy("people sampled per round (unlinked; the count stays)"),
    "text_messages": gettext_lazy("text messages and their phone numbers"),
    "notices": gettext_lazy("residents to be told of a result"),
    "case_sheets": gettext_lazy("case sheets"),
    "retest_orders_unlinked": gettext_lazy("retest orders (unlinked; the count stays)"),
    "special_needs": gettext_lazy("special needs"),
    "need_contacts": gettext_lazy("calls about special needs"),
    "home_visits": gettext_lazy("home sampling visits"),
    "household_outcomes": gettext_lazy("households' door-to-door outcomes"),
    "door_taps": gettext_lazy("door-to-door taps and their notes"),
    "tubes_unlinked_from_households": gettext_lazy("tubes unlinked from their household"),
    "audit_people": gettext_lazy("audit entries' links to people"),
    "audit_details": gettext_lazy("audit entries whose reasons and details were cleared"),
    "device_events": gettext_lazy("device events"),
    "look_up_tries": gettext_lazy("old tries at the residents' look-up"),
}

KEPT_WORDS = {
    "rounds": gettext_lazy("rounds"),
    "communities": gettext_lazy("communities"),
    "households_without_people": gettext_lazy("households (rooms only, no people)"),
    "counters_per_lane_site_community": gettext_lazy(
        "sampling counters per lane, site and community"
    ),
    "counters_per_hour": gettext_lazy("counters per hour"),
    "coverage_per_community": gettext_lazy("door-to-door coverage per community"),
    "buildings_per_round": gettext_lazy("buildings per round with their counters"),
    "zones_per_round": gettext_lazy("zones in force per round"),
    "zone_changes": gettext_lazy("zone changes (the zones' history)"),
    "positives_per_building": gettext_lazy("positives per building"),
    "tubes_with_results": gettext_lazy("tubes with their results (no people)"),
    "results_recorded": gettext_lazy("results and corrections"),
    "boxes": gettext_lazy("boxes and their custody"),
    "staff_duties": gettext_lazy("staff duties (hours)"),
    "staff_counters": gettext_lazy("staff counters"),
    "needs_counters": gettext_lazy("special needs counters"),
}


def _when(value: str) -> str:
    try:
        moment = dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return value or "—"
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"


def backup_sentence(backups: dict[str, Any]) -> str:
    """Where the data still lives in backups, and until when (``closing.backups`` words it, in
    every language, when the erase reads the backups)."""
    statements = backups.get("statement") or {}
    if not statements:
        return _("not read yet: the erase has not finished")
    language = translation.get_language() or settings.LANGUAGE_CODE
    return str(
        statements.get(language)
        or statements.get(settings.LANGUAGE_CODE)
        or next(iter(statements.values()))
    )


def database_sentence(database: dict[str, Any]) -> str:
    if not database:
        return _("not yet compacted: the erase has not finished")
    if database.get("rewritten"):
        words = _("rewritten (%(how)s): the deleted rows' bytes are gone from its files") % {
            "how": database.get("vacuum", "")
        }
    else:
        words = _(
            "not rewritten (%(how)s): the deleted rows' bytes stay in free space until the "
            "tables are rewritten (VACUUM FULL, docs/operators-guide.md)"
        ) % {"how": database.get("vacuum", "")}
    refused = database.get("refused") or []
    if refused:
        words += " " + _("Refused by the database: %(steps)s") % {"steps": "; ".join(refused)}
    return words


def lines(cert: Certificate) -> list[tuple[str, str]]:
    """(label, value) pairs; "#" marks a heading."""
    body = cert.body
    rule = body.get("rule", {})
    town = body.get("town", {})
    out: list[tuple[str, str]] = [
        (_("Certificate"), cert.number),
        (_("Town"), " · ".join(x for x in (town.get("district"), town.get("name")) if x)),
        (_("Erased at"), _when(body.get("erased_at", ""))),
        (_("Erased by"), body.get("erased_by", "")),
        ("#", _("Under which rule")),
        (_("Response closed"), f"{_when(rule.get('closed_at', ''))} · {rule.get('closed_by', '')}"),
        (_("Reason"), rule.get("reason", "")),
        (
            _("Kept for"),
            _("%(days)s days, until %(date)s")
            % {"days": rule.get("retention_days"), "date": _when(rule.get("erase_after", ""))},
        ),
        (
            _("Law"),
            _("Personal Information Protection Law, art. 47: deleted once the purpose is achieved"),
        ),
        ("#", _("What was erased")),
    ]
    for key, count in body.get("erased", {}).items():
        out.append((str(ERASED_WORDS.get(key, key)), str(count)))
    out.append(("#", _("What was kept (figures, no way back to a person)")))
    for key, count in body.get("kept", {}).items():
        out.append((str(KEPT_WORDS.get(key, key)), str(count)))
    scanned = body.get("scan", {})
    files = body.get("files", {})
    database = body.get("database", {})
    out += [
        ("#", _("How it was checked")),
        (
            _("Database"),
            _(
                "%(columns)s text columns of %(tables)s tables (every one the database has) searched "
                "for %(ids)s identifiers: %(found)s found"
            )
            % {
                "columns": scanned.get("text_columns"),
                "tables": scanned.get("tables"),
                "ids": scanned.get("identifiers_searched"),
                "found": scanned.get("found"),
            },
        ),
        (
            _("Names also borne by people still on record (not searched)"),
            str(scanned.get("names_shared_with_people_on_record", 0)),
        ),
        (
            _("Document numbers and phones also borne by people still on record (not searched)"),
            str(scanned.get("numbers_shared_with_people_on_record", 0)),
        ),
        (
            _("Names found in kept text (a place or a word that is also a name)"),
            ", ".join(f"{k}: {n}" for k, n in scanned.get("names_in_kept_text", {}).items()) or "0",
        ),
        (
            _("Files"),
            _("%(scanned)s files searched; %(removed)s removed, %(cleaned)s cleaned")
            % {
                "scanned": files.get("scanned", 0),
                "removed": len(files.get("removed", [])),
                "cleaned": len(files.get("cleaned", [])),
            },
        ),
        (_("The database's files"), database_sentence(database)),
        (_("Backups"), backup_sentence(body.get("backups", {}))),
        ("#", _("Signature")),
        (_("Signed with Ed25519; public key"), cert.public_key or _("not signed yet")),
        (_("Signature"), cert.signature or "—"),
    ]
    return out


def certificate_pdf(cert: Certificate) -> bytes:
    title = _("Certificate of erasure of personal data")
    footer = f"{cert.number} · {_('verify')}: doorstep erase --verify {cert.number}"
    return certificate.pdf(lines(cert), title, footer)


def problem(cert: Certificate) -> str:
    """What is wrong with a certificate's signature, or "" when it is good. The key must be
    this server's (or one named in ``settings.ERASE_TRUSTED_KEYS``, a key kept from a server
    replaced since): a certificate that carries its own key proves nothing."""
    if not cert.complete:
        return _("the erase has not finished: run doorstep erase again to complete it")
    trusted = {certificate.public_hex(certificate.signing_key()), *settings.ERASE_TRUSTED_KEYS}
    if cert.public_key not in trusted:
        return _("it is signed by a key this server does not hold (%(key)s)") % {
            "key": cert.public_key[:16]
        }
    if not certificate.verify(cert.body, cert.signature, cert.public_key):
        return _("the signature does NOT match its content")
    return ""


def is_valid(cert: Certificate) -> bool:
    return not problem(cert)
