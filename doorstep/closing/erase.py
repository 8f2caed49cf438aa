"""The erase of a closed town's personal data: the engine behind ``doorstep erase``.

Two steps, each safe to repeat:

1. **The database, in one transaction.** The closure is locked; what stops the erase (an open
   round, a case sheet the investigation team has not acknowledged, a hold, a date not reached)
   is checked under the lock. The identifiers of every person of the town are gathered (names,
   document numbers, phones, person codes), every row that names or points to a person is
   deleted or stripped, then every text column of every table is searched for those
   identifiers (``closing.scan``): one found and the transaction rolls back, naming the column.
   Only then are the closure marked erased and the certificate written, in the same commit. A
   page reading meanwhile sees the town whole, or erased: never a person without results.
2. **Outside the database.** Files under ``DOORSTEP_HOME`` are searched for the identifiers
   (step 1 leaves them in the certificate only as salted digests, removed when step 2 ends),
   the database is compacted, the backups' horizon is read, and the certificate is completed
   and signed. A process killed here leaves the certificate incomplete; the next ``doorstep
   erase`` finishes it.

What stays is what the district learns from: counters per community, building, lane and round,
tubes (codes, lanes, times, results) without households, boxes, zones and their history,
staff duties, the needs' counts. No row of those names a person.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import fcntl
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone, translation

from doorstep.assistance.models import ContactAttempt, NeedCounter, Request
from doorstep.campaigns.models import (
    BuildingPositive,
    Campaign,
    CampaignBuilding,
    CampaignStatus,
    DistrictRound,
    ZoneChange,
)
from doorstep.canvass.models import BuildingTask, Coverage, HouseholdState, Visit
from doorstep.closing import backups, certificate, files, scan
from doorstep.closing.models import Certificate
from doorstep.core.models import Attempt, AuditAction, AuditEntry, AuditPerson, User
from doorstep.lab.models import CaseSheet, ResultEntry, RetestOrder
from doorstep.notices.models import Message, Notice
from doorstep.sampling.models import (
    Box,
    DeviceEvent,
    HomeStop,
    HourTally,
    Lane,
    RoundSample,
    Site,
    Tally,
    Tube,
    TubeMember,
    WalkIn,
)
from doorstep.territory.models import (
    Building,
    Closure,
    ClosureState,
    Community,
    District,
    Grid,
    Household,
    Resident,
    Town,
)
from doorstep.workforce.models import (
    CallUp,
    Duty,
    DutyCounter,
    Staff,
    SupportRequest,
    SupportUnit,
    Team,
)

# Entries of the audit log whose reason and detail may name a person: cleared by the erase.
# The rest (rounds, zones, roles, the closing itself) say nothing about a person and stay.
PERSONAL_ACTIONS = [
    AuditAction.REVEAL,
    AuditAction.EXPORT,
    AuditAction.IMPORT,
    AuditAction.PRINT,
    AuditAction.SEARCH,
    AuditAction.TRACE,
]


# Audit entries whose reason stays: the closing itself (also on the certificate).
KEPT_REASONS = [AuditAction.CLOSE, AuditAction.RETENTION, AuditAction.ERASE]


class EraseRefused(Exception):
    """What stops the erase; nothing was changed."""


@dataclass
class Outcome:
    certificate: Certificate
    resumed: bool


def _refusals(town: Town, closure: Closure | None, now: dt.datetime) -> list[str]:
    if closure is None:
        return [
            f"the response in {town.name} is not closed: its commander closes it (with a "
            f"reason) on /closing/town/{town.pk}/ once every round is closed"
        ]
    stops = []
    running = list(
        Campaign.objects.filter(town=town)
        .exclude(status=CampaignStatus.CLOSED)
        .values_list("name", flat=True)
    )
    if running:
        stops.append("rounds still open: " + ", ".join(running) + " (close them first)")
    waiting = CaseSheet.objects.filter(
        community__town=town, withdrawn_at__isnull=True, acknowledged_at__isnull=True
    ).count()
    if waiting:
        stops.append(
            f"{waiting} case sheet(s) not yet acknowledged by the investigation team "
            "(hand them over and have them acknowledged on the case sheets page)"
        )
    if closure.hold_reason:
        stops.append(f"a retention hold is set: {closure.hold_reason} (release it first)")
    if now < closure.erase_after:
        stops.append(
            f"the data is kept until {timezone.localtime(closure.erase_after):%Y-%m-%d %H:%M} "
            "(the retention period; shorten it with a reason on the closing page, or wait)"
        )
    return stops


def check(town: Town, now: dt.datetime | None = None) -> list[str]:
    """What would stop an erase of the town now (empty: it may run)."""
    closure = Closure.objects.filter(town=town).first()
    if closure is not None and closure.state == ClosureState.ERASED:
        return []
    return _refusals(town, closure, now or timezone.now())


def erase(
    town: Town,
    by: str,
    now: dt.datetime | None = None,
    *,
    light: bool = False,
    after_step: Callable[[str], None] | None = None,
) -> Outcome:
    """Erase the town, or finish an erase that was interrupted. Raises ``EraseRefused``.

    One erase runs at a time on a server's home (a lock file): a second waits for nothing and
    says so, rather than race the first over the same files."""
    with _one_at_a_time():
        return _erase(town, by, now, light=light, after_step=after_step)


@contextlib.contextmanager
def _one_at_a_time() -> Iterator[None]:
    path = Path(settings.HOME) / "keys" / "erase.lock"
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise EraseRefused(
                "another doorstep erase is running on this server; run again when it ends"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _erase(
    town: Town,
    by: str,
    now: dt.datetime | None,
    *,
    light: bool,
    after_step: Callable[[str], None] | None,
) -> Outcome:
    now = now or timezone.now()
    step = after_step or (lambda name: None)
    resumed = False
    existing = Certificate.objects.filter(town=town).first()
    if existing is not None and existing.complete:
        raise EraseRefused(
            f"{town.name} was already erased on "
            f"{timezone.localtime(existing.issued_at):%Y-%m-%d %H:%M} (certificate "
            f"{existing.number}); nothing to do"
        )
    if existing is None:
        cert = _erase_database(town, by, now, step)
    else:
        cert, resumed = existing, True
    step("database")
    _outside_database(cert, light)
    step("files")
    # The backups' horizon from the moment the database was compacted: a backup that started
    # during the erase still holds the data.
    try:
        cert.body["backups"] = _backups(timezone.now())
    except backups.BackupsError as failed:
        raise EraseRefused(
            f"{town.name}: the database and the files are erased, but the backups could not be "
            f"read ({failed}); run doorstep erase again once pgBackRest answers, to complete "
            f"certificate {cert.number}"
        ) from None
    cert.signature, cert.public_key = certificate.sign(cert.body)
    cert.complete = True
    cert.save(update_fields=["body", "signature", "public_key", "complete"])
    return Outcome(cert, resumed)


# --- step 1: the database -------------------------------------------------------------------


def _erase_database(
    town: Town, by: str, now: dt.datetime, step: Callable[[str], None]
) -> Certificate:
    with transaction.atomic():
        closure = Closure.objects.select_for_update().filter(town=town).first()
        if closure is not None and closure.state == ClosureState.ERASED:
            # Another run erased it while this one waited for the lock: finish its work.
            return Certificate.objects.get(town=town)
        stops = _refusals(town, closure, now)
        if stops:
            raise EraseRefused(f"{town.name} cannot be erased: " + "; ".join(stops))
        assert closure is not None
        matcher, people = _identifiers(town)
        if connection.vendor == "sqlite":
            # Freed pages are zeroed as they are freed (Debian's SQLite does it by default;
            # other builds do not), and VACUUM after the commit drops them.
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA secure_delete = ON")
        erased = _delete(town, people, now)
        step("deletes")
        _drop_what_others_bear(matcher)
        hits = scan.scan_database(matcher)
        if hits.total:
            where = ", ".join(f"{k} ({n})" for k, n in hits.where.most_common())
            raise EraseRefused(
                f"the erase of {town.name} was rolled back: document numbers, phones or person "
                f"codes of its people are still in {where}. Nothing was changed; report this "
                "as a bug"
            )
        files.write_pending(town.pk, matcher)
        closure.state = ClosureState.ERASED
        closure.erased_at = now
        closure.save(update_fields=["state", "erased_at"])
        body = _body(town, closure, by, now, erased, hits, matcher)
        cert = Certificate.objects.create(
            town=town,
            number=f"ER-{town.pk}-{timezone.localtime(now):%Y%m%d%H%M}",
            issued_at=now,
            issued_by=by,
            body=body,
        )
        AuditEntry.objects.create(
            user=User.objects.filter(username=by).first(),
            username=by,
            action=AuditAction.ERASE,
            object_type="town",
            object_id=str(town.pk),
            reason=closure.reason,
            detail={"certificate": cert.number, "erased": erased},
            town_id=town.pk,
        )
    return cert


@dataclass
class _People:
    communities: list[int]
    campaigns: list[int]


def _identifiers(town: Town) -> tuple[scan.Matcher, _People]:
    """Everything that identifies a person of the town, gathered before it goes."""
    matcher = scan.Matcher()
    communities = list(Community.objects.filter(town=town).values_list("pk", flat=True))
    for name, number, phone, code in (
        Resident.objects.filter(town=town)
        .values_list("name", "id_number", "phone", "person_code")
        .iterator(chunk_size=5000)
    ):
        matcher.add_name(name)
        matcher.add_number(number)
        matcher.add_number(phone)
        matcher.add_number(code)
    for name, number, phone in (
        WalkIn.objects.filter(community_id__in=communities)
        .values_list("name", "id_number", "phone")
        .iterator(chunk_size=5000)
    ):
        matcher.add_name(name)
        matcher.add_number(number)
        matcher.add_number(phone)
    for name, number, phone in Request.objects.filter(community_id__in=communities).values_list(
        "walk_in_name", "walk_in_id_number", "walk_in_phone"
    ):
        matcher.add_name(name)
        matcher.add_number(number)
        matcher.add_number(phone)
    for phone in Message.objects.filter(community_id__in=communities).values_list(
        "phone", flat=True
    ):
        matcher.add_number(phone)
    for name, phone, received in CaseSheet.objects.filter(community_id__in=communities).values_list(
        "handed_to", "handed_to_phone", "acknowledged_name"
    ):
        matcher.add_name(name)
        matcher.add_name(received)
        matcher.add_number(phone)
    campaigns = list(Campaign.objects.filter(town=town).values_list("pk", flat=True))
    return matcher, _People(communities, campaigns)


def _drop_what_others_bear(matcher: scan.Matcher) -> None:
    """A document number, phone or name still borne by someone on record (the same person on
    another town's roster, a family phone, a member of staff; a name, or part of one: "王芳"
    in "王芳芳") is not this town's to erase: it is not searched, and the certificate counts
    it. Read after the town's rows are gone, so only others' rows answer."""
    numbers: list[QuerySet[Any]] = [
        Resident.objects.values_list("id_number", "phone", "person_code"),
        WalkIn.objects.values_list("id_number", "phone"),
        Request.objects.values_list("walk_in_id_number", "walk_in_phone"),
        Message.objects.values_list("phone"),
        CaseSheet.objects.values_list("handed_to_phone"),
        # Staff are the workforce's: kept, with their names and phones (docs/security.md).
        Staff.objects.values_list("phone", "worker_code"),
        User.objects.values_list("phone"),
        SupportUnit.objects.values_list("contact_phone"),
    ]
    shared = 0
    for source in numbers:
        for row in source.iterator(chunk_size=5000):
            for value in row:
                value = scan.number_form(value)
                if value in matcher.numbers:
                    matcher.numbers.discard(value)
                    shared += 1
    names = matcher.names
    lengths = sorted({len(n) for n in names})
    kept = set()
    sources: list[QuerySet[Any]] = [
        Resident.objects.values_list("name", flat=True),
        WalkIn.objects.values_list("name", flat=True),
        Request.objects.values_list("walk_in_name", flat=True),
        User.objects.values_list("first_name", flat=True),
        User.objects.values_list("last_name", flat=True),
        Staff.objects.values_list("name", flat=True),
        SupportUnit.objects.values_list("contact_name", flat=True),
        # Places and teams are named like people (杨柳青镇, 向阳小区): a name that is part of
        # one is a place's word as much as a person's.
        District.objects.values_list("name", flat=True),
        Town.objects.values_list("name", flat=True),
        Community.objects.values_list("name", flat=True),
        Grid.objects.values_list("name", flat=True),
        Building.objects.values_list("name", flat=True),
        Site.objects.values_list("name", flat=True),
        Site.objects.values_list("address", flat=True),
        Lane.objects.values_list("name", flat=True),
        Team.objects.values_list("name", flat=True),
        SupportUnit.objects.values_list("name", flat=True),
        Campaign.objects.values_list("name", flat=True),
        DistrictRound.objects.values_list("name", flat=True),
        SupportRequest.objects.values_list("muster_point", flat=True),
        CallUp.objects.values_list("muster_point", flat=True),
    ]
    for source in sources if names else []:
        for name in source.iterator(chunk_size=5000):
            name = scan.name_form(name)
            for length in lengths:
                for start in range(0, len(name) - length + 1):
                    piece = name[start : start + length]
                    if piece in names:
                        kept.add(piece)
    names -= kept
    matcher.shared = {"names": len(kept), "numbers": shared}  # type: ignore[attr-defined]
    matcher.forget()


def _gone(queryset: QuerySet[Any]) -> int:
    """Delete without loading the rows: the order below satisfies every foreign key (and the
    database's are checked at commit)."""
    return queryset._raw_delete(queryset.db)  # type: ignore[attr-defined]


def _delete(town: Town, people: _People, now: dt.datetime) -> dict[str, int]:
    communities, campaigns = people.communities, people.campaigns
    in_town = Q(community_id__in=communities)
    erased: dict[str, int] = {}
    erased["text_messages"] = _gone(Message.objects.filter(in_town))
    erased["notices"] = _gone(Notice.objects.filter(in_town))
    erased["case_sheets"] = _gone(CaseSheet.objects.filter(in_town))
    # Rows the figures count (samples per day, pools' loops, retests) stay, naming no one.
    erased["retest_orders_unlinked"] = RetestOrder.objects.filter(in_town).update(
        resident=None, walk_in=None, household=None
    )
    erased["need_contacts"] = _gone(
        ContactAttempt.objects.filter(request__community_id__in=communities)
    )
    erased["special_needs"] = _gone(Request.objects.filter(in_town))
    erased["home_visits"] = _gone(HomeStop.objects.filter(task__community_id__in=communities))
    erased["household_outcomes"] = _gone(HouseholdState.objects.filter(in_town))
    erased["door_taps"] = _gone(Visit.objects.filter(campaign_id__in=campaigns))
    # By subquery, never a list of ids: a town of 100,000 people is over SQLite's limit of
    # variables in one statement.
    residents = Resident.objects.filter(town=town).values("pk")
    walk_ins = WalkIn.objects.filter(in_town).values("pk")
    erased["pool_members_unlinked"] = TubeMember.objects.filter(
        in_town | Q(resident_id__in=residents)
    ).update(resident=None, walk_in=None, household=None, override_reason="")
    erased["round_samples_unlinked"] = RoundSample.objects.filter(
        in_town | Q(resident_id__in=residents)
    ).update(resident=None)
    # A household tube taken at another town's lane (a district round) is the lane's town's
    # tube, but its household is this town's.
    erased["tubes_unlinked_from_households"] = Tube.objects.filter(
        in_town | Q(household__unit__building__community__town=town), household__isnull=False
    ).update(household=None)
    # What people typed beside the figures that stay (a zone's note, a correction's reason, a
    # discarded tube's reason, the courier's name) may name someone: it goes; the figures stay.
    erased["notes_cleared"] = (
        ZoneChange.objects.filter(campaign_id__in=campaigns).exclude(note="").update(note="")
        + ResultEntry.objects.filter(tube__campaign_id__in=campaigns)
        .exclude(correction_reason="")
        .update(correction_reason="")
        + Tube.objects.filter(campaign_id__in=campaigns)
        .exclude(discard_reason="")
        .update(discard_reason="")
        + Box.objects.filter(campaign_id__in=campaigns).exclude(courier="").update(courier="")
        + AuditEntry.objects.filter(town_id=town.pk)
        .exclude(action__in=KEPT_REASONS)
        .exclude(reason="")
        .update(reason="")
    )
    # The audit log keeps who did what and when; what it said about a person goes.
    entries = AuditEntry.objects.filter(town_id=town.pk, action__in=PERSONAL_ACTIONS)
    erased["audit_people"] = _gone(
        AuditPerson.objects.filter(
            Q(entry__in=entries.values("pk"))
            | Q(kind="resident", person_id__in=residents)
            | Q(kind="walk_in", person_id__in=walk_ins)
        )
    )
    erased["audit_details"] = entries.update(reason="", object_id="", detail={"erased": True})
    erased["walk_ins"] = _gone(WalkIn.objects.filter(in_town))
    erased["residents"] = _gone(Resident.objects.filter(town=town))
    erased["device_events"] = _gone(_device_events(town, campaigns))
    # Tries at the residents' look-up are keyed by digests of codes: old ones go.
    erased["look_up_tries"] = _gone(Attempt.objects.filter(at__lt=now - dt.timedelta(days=1)))
    return erased


def _device_events(town: Town, campaigns: list[int]) -> QuerySet[DeviceEvent]:
    """Accepted device events keep only a digest of their content, but a digest of a known
    person code is a way back. Those sent by the town's staff and the staff on duty there,
    while its rounds ran, go: they were kept to answer replays, and no round accepts one now."""
    rounds = Campaign.objects.filter(pk__in=campaigns)
    first = rounds.order_by("starts_at").values_list("starts_at", flat=True).first()
    last = rounds.order_by("-closed_at").values_list("closed_at", flat=True).first()
    if first is None or last is None:
        return DeviceEvent.objects.none()
    # Only while the town's rounds ran: a sender working in another town's round since keeps
    # its later events, which answer its phone's replays there.
    senders = User.objects.filter(Q(town=town) | Q(staff__duties__town=town)).values("pk")
    return DeviceEvent.objects.filter(
        user_id__in=senders, at__gte=first - dt.timedelta(hours=1), at__lte=last
    )


def _kept(town: Town, campaigns: list[int], communities: list[int]) -> dict[str, int]:
    """What stays, counted: the figures the district learns from."""
    return {
        "rounds": len(campaigns),
        "communities": len(communities),
        "households_without_people": Household.objects.filter(
            unit__building__community__town=town
        ).count(),
        "counters_per_lane_site_community": Tally.objects.filter(campaign_id__in=campaigns).count(),
        "counters_per_hour": HourTally.objects.filter(campaign_id__in=campaigns).count(),
        "coverage_per_community": Coverage.objects.filter(campaign_id__in=campaigns).count(),
        "buildings_per_round": BuildingTask.objects.filter(campaign_id__in=campaigns).count(),
        "zones_per_round": CampaignBuilding.objects.filter(campaign_id__in=campaigns).count(),
        "zone_changes": ZoneChange.objects.filter(campaign_id__in=campaigns).count(),
        "positives_per_building": BuildingPositive.objects.filter(
            campaign_id__in=campaigns
        ).count(),
        "tubes_with_results": Tube.objects.filter(campaign_id__in=campaigns).count(),
        "results_recorded": ResultEntry.objects.filter(tube__campaign_id__in=campaigns).count(),
        "boxes": Box.objects.filter(campaign_id__in=campaigns).count(),
        "staff_duties": Duty.objects.filter(town=town).count(),
        "staff_counters": DutyCounter.objects.filter(town=town).count(),
        "needs_counters": NeedCounter.objects.filter(community_id__in=communities).count(),
    }


def _body(
    town: Town,
    closure: Closure,
    by: str,
    now: dt.datetime,
    erased: dict[str, int],
    hits: scan.Hits,
    matcher: scan.Matcher,
) -> dict[str, Any]:
    communities = list(Community.objects.filter(town=town).values_list("pk", flat=True))
    campaigns = list(Campaign.objects.filter(town=town).values_list("pk", flat=True))
    return {
        "town": {
            "id": town.pk,
            "name": town.name,
            "district": town.district.name if town.district else "",
        },
        "rule": {
            "closed_at": closure.closed_at.isoformat(),
            "closed_by": closure.closed_by,
            "reason": closure.reason,
            "erase_after": closure.erase_after.isoformat(),
            "retention_days": (closure.erase_after - closure.closed_at).days,
            "law": "PIPL art. 47: deleted when the purpose is achieved or no longer needed",
        },
        "erased_at": now.isoformat(),
        "erased_by": by,
        "erased": erased,
        "kept": _kept(town, campaigns, communities),
        "scan": {
            "database": connection.vendor,
            "tables": hits.tables,
            "text_columns": hits.columns,
            "cells": hits.cells,
            "identifiers_searched": len(matcher),
            "names_shared_with_people_on_record": getattr(matcher, "shared", {}).get("names", 0),
            "numbers_shared_with_people_on_record": getattr(matcher, "shared", {}).get(
                "numbers", 0
            ),
            "found": hits.total,
            # Names found in kept text: a place or a word that is also someone's name.
            "names_in_kept_text": dict(hits.names.most_common()),
        },
        # Filled by step 2: what was removed from files; how the database was compacted.
        "files": {"pending": True},
        "database": {},
    }


# --- step 2: outside the database ----------------------------------------------------------


def _backups(now: dt.datetime) -> dict[str, Any]:
    """The backups that may still hold the data, and the date the last of them expires."""
    horizon = backups.horizon(now)
    found = json.loads(json.dumps(dataclasses.asdict(horizon), default=str))
    # The sentence in every language of the site, so the page says it in the reader's.
    statements = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            statements[code] = horizon.statement()
    found["statement"] = statements
    return found


def _outside_database(cert: Certificate, light: bool) -> None:
    if cert.body.get("files", {}).get("pending"):
        matcher = files.read_pending(cert.town_id)
        if matcher is None:
            swept: dict[str, Any] = {
                "not_searched": "the list of identifiers from the database step is gone"
            }
        else:
            swept = files.sweep(matcher)
        cert.body["files"] = swept
        cert.save(update_fields=["body"])
        files.drop_pending(cert.town_id)
    cert.body["database"] = _compact(light)
    cert.save(update_fields=["body"])


def _compact(light: bool) -> dict[str, Any]:
    """Deleted rows stay in the database's files until those are rewritten: in freed pages, in
    old row versions, in the planner's statistics (sample values of each column), in the
    write-ahead log. SQLite rewrites its file (VACUUM), refreshes its statistics and empties
    its log. PostgreSQL rewrites every table the erase touched (VACUUM FULL, which locks each
    for its length: the scheduled run is at night), refreshes their statistics, rewrites the
    statistics table, and closes the log segment, so that the next full backup holds none of
    it (``closing.backups``). ``light`` (plain VACUUM) leaves the bytes for the next rewrite,
    and the certificate says so. A step the database refuses (not its owner) is recorded."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("VACUUM")
            cursor.execute("ANALYZE")
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            busy, _log, _done = cursor.fetchone()
            return {
                "engine": "sqlite",
                "vacuum": "VACUUM",
                "rewritten": True,
                "log_emptied": not busy,
            }
    tables = sorted({model._meta.db_table for model in _ERASED_MODELS})
    done: dict[str, Any] = {"engine": "postgresql", "tables": tables, "refused": []}
    quote = connection.ops.quote_name
    steps = [f"VACUUM {'' if light else 'FULL '}{quote(t)}" for t in tables]
    # ANALYZE of a table left empty keeps its old statistics (PostgreSQL updates them only from
    # rows it samples): the sample values of its columns, people's names and numbers, would stay.
    # They are deleted first; ANALYZE writes them again for the tables that still have rows.
    relations = ", ".join(f"'{quote(t)}'::regclass" for t in tables)
    steps.append(f"DELETE FROM pg_catalog.pg_statistic WHERE starelid IN ({relations})")
    steps += [f"ANALYZE {quote(t)}" for t in tables]
    if not light:
        steps += ["VACUUM FULL pg_catalog.pg_statistic", "SELECT pg_switch_wal()"]
    for statement in steps:
        try:
            with connection.cursor() as cursor:
                cursor.execute(statement)
        except DatabaseError as refused:
            done["refused"].append(f"{statement}: {str(refused).strip().splitlines()[0]}")
    done["vacuum"] = "VACUUM" if light else "VACUUM FULL"
    done["rewritten"] = not light and not done["refused"]
    return done


_ERASED_MODELS = [
    Message,
    Notice,
    CaseSheet,
    RetestOrder,
    ContactAttempt,
    Request,
    HomeStop,
    HouseholdState,
    Visit,
    TubeMember,
    RoundSample,
    Tube,
    WalkIn,
    Resident,
    AuditPerson,
    AuditEntry,
    DeviceEvent,
    Attempt,
    Certificate,
]
