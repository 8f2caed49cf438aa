"""Every write to the territory: roster import, reveals of personal data."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Max
from django.utils.translation import gettext as _
from openpyxl import Workbook

from doorstep.core import codes, limits, stats, watermark
from doorstep.core.actions import RESIDENT, audit
from doorstep.core.digests import digest
from doorstep.core.limits import Limit
from doorstep.core.masking import mask_document
from doorstep.core.models import AuditAction, AuditEntry, User
from doorstep.core.spreadsheets import safe_row, sheet_title
from doorstep.core.tables import RowError, RowErrors, Source, TableFileError, bad_rows_summary
from doorstep.territory import closures, hooks
from doorstep.territory.models import (
    Building,
    Community,
    District,
    Grid,
    Household,
    Resident,
    Town,
    Unit,
)
from doorstep.territory.roster import ParsedRoster, RosterRow, parse_roster
from doorstep.territory.scoping import scoped

BATCH = 2000
_DIGITS = re.compile(r"\d+")


@dataclass
class ImportReport:
    town: str
    dry_run: bool
    errors: RowErrors = field(default_factory=RowErrors)
    file_error: str = ""
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    moved: int = 0
    moved_between_communities: int = 0
    ignored_columns: list[str] = field(default_factory=list)
    # SHA-256 of each document number refused as on another community's roster: the audit
    # records which numbers a file asked about, never the numbers.
    elsewhere: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and not self.file_error

    def summary(self) -> str:
        if self.file_error:
            return self.file_error
        if self.errors:
            return bad_rows_summary(self.errors)
        text = _(
            "%(rows)d rows: %(created)d created, %(updated)d updated, %(moved)d moved, %(unchanged)d unchanged."
        ) % {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "moved": self.moved,
            "unchanged": self.unchanged,
        }
        if self.dry_run:
            text += " " + _("Dry run: nothing was written.")
        return text


class _DryRun(Exception):
    pass


def _closed(town: Town | None) -> str:
    """Why a roster cannot go into the town, or ""."""
    if town is None or not closures.states([town.pk]):
        return ""
    return _(
        "The response in %(town)s is closed (its personal data is erased after the retention "
        "period): no roster is imported into it. Its commander reopens it first if the "
        "outbreak is back."
    ) % {"town": town.name}


def import_roster(
    town_name: str,
    data: Source,
    *,
    user: User | None = None,
    dry_run: bool = False,
    allowed_communities: set[str] | None = None,
    filename: str = "",
    district_name: str = "",
) -> ImportReport:
    """Check the whole file, then write all of it, or nothing when any row is bad.

    ``district_name`` places a new town in its district (created if need be); a town already in
    another district is refused, never moved by a roster.

    ``allowed_communities`` limits a scoped user to their own communities: a row for another
    community, or for a resident already on another community's roster, is a bad row, not a
    silent skip or a move. Every attempt that reaches the rows is audited, dry runs included.

    The rows are written a chunk at a time. On PostgreSQL the chunks share one transaction. On
    SQLite each chunk commits by itself, so that a lane's scans never wait long for the single
    writer; should the server die half way, importing the same file again completes it (people
    are matched by document number, nobody is duplicated).
    """
    report = ImportReport(town=town_name, dry_run=dry_run)
    try:
        parsed = parse_roster(data)
    except TableFileError as exc:
        report.file_error = str(exc)
        return report
    report.ignored_columns = parsed.ignored_columns
    town = Town.objects.filter(name=town_name).first()
    report.file_error = _district_conflict(town, district_name) or _closed(town)
    if report.file_error:
        return report
    if allowed_communities is not None:
        _check_scope(parsed, allowed_communities)
        if town is not None:
            report.elsewhere = _check_elsewhere(parsed, town, allowed_communities)
    report.rows = len(parsed.rows)
    if parsed.errors:
        parsed.errors.sort(key=lambda e: e.row)
        report.errors = parsed.errors
        _audit_import(user, town_name, filename, report)
        return report
    one_transaction = dry_run or connection.vendor != "sqlite"
    try:
        with transaction.atomic() if one_transaction else nullcontext():
            town, _created = Town.objects.get_or_create(name=town_name)
            if district_name and town.district_id is None:
                town.district = District.objects.get_or_create(name=district_name)[0]
                town.save(update_fields=["district"])
            for chunk in _chunks(parsed.rows, CHUNK_ROWS):
                with transaction.atomic():
                    # Read again under the chunk's transaction: a town erased meanwhile takes
                    # nobody (territory.closures).
                    if closures.states([town.pk]):
                        report.file_error = _closed(town)
                        raise _DryRun
                    _apply(town, list(chunk), report)
            if dry_run:
                raise _DryRun
            if report.created + report.moved >= stats.BULK:
                stats.refresh(_TABLES)
            _audit_import(user, town_name, filename, report)
    except _DryRun:
        _audit_import(user, town_name, filename, report)
    return report


def _district_conflict(town: Town | None, district_name: str) -> str:
    if not district_name or town is None or town.district_id is None:
        return ""
    current = str(town.district)
    if current == district_name:
        return ""
    return _(
        "%(town)s belongs to %(current)s, not %(district)s: a roster does not move a town between "
        "districts. Leave out the district, or ask an administrator to move the town."
    ) % {"town": town.name, "current": current, "district": district_name}


# Seven floors or more have a lift (GB 50096, the residential building code).
LIFT_FROM_FLOOR = 7


def _floors_from_rooms(building_ids: set[int]) -> None:
    """A building is as tall as its highest room says (3202 is on the 32nd floor), never
    lower than it was set; a building raised to seven floors or more has a lift."""
    tops = (
        Household.objects.filter(unit__building_id__in=building_ids)
        .values("unit__building_id")
        .annotate(top=Max("floor"))
        .order_by()
    )
    for row in tops:
        top = row["top"] or 0
        raised: dict[str, object] = {"floors": top}
        if top >= LIFT_FROM_FLOOR:
            raised["has_lift"] = True
        Building.objects.filter(pk=row["unit__building_id"], floors__lt=top).update(**raised)


# Rows written per transaction on SQLite: about half a second each on this machine (a 200,000-row
# roster in 21 s, in 40 chunks).
CHUNK_ROWS = 5_000


def _audit_import(user: User | None, town_name: str, filename: str, report: ImportReport) -> None:
    audit(
        user,
        AuditAction.IMPORT,
        "roster",
        town_name,
        detail={
            "file": filename,
            "dry_run": report.dry_run,
            "rows": report.rows,
            "bad_rows": len(report.errors.rows),
            "created": report.created,
            "updated": report.updated,
            "moved": report.moved,
            "moved_between_communities": report.moved_between_communities,
            "elsewhere_digest": report.elsewhere,
        },
    )


_TABLES = [m._meta.db_table for m in (Community, Building, Unit, Household, Resident)]


def _check_scope(parsed: ParsedRoster, allowed: set[str]) -> None:
    column = parsed.headers.get("community", "社区")
    kept = []
    for row in parsed.rows:
        if row.community in allowed:
            kept.append(row)
        else:
            parsed.errors.append(
                RowError(
                    row.row,
                    column,
                    row.community,
                    _("you may import residents of your own communities only (%(names)s).")
                    % {"names": ", ".join(sorted(allowed)) or "-"},
                )
            )
    parsed.rows = kept


def _check_elsewhere(parsed: ParsedRoster, town: Town, allowed: set[str]) -> list[str]:
    """A scoped user's file may not move a resident in from another community: that is a
    commander's move. The row is refused without naming the community (a dry run would
    otherwise tell a worker where anyone with a known number lives); the SHA-256 of each
    refused number is returned for the audit."""
    column = parsed.headers.get("id_number", "证件号码")
    elsewhere: set[str] = set()
    numbers = [r.id_number for r in parsed.rows]
    for chunk in _chunks(numbers):
        elsewhere.update(
            Resident.objects.filter(town=town, id_number__in=chunk)
            .exclude(community__name__in=allowed)
            .values_list("id_number", flat=True)
        )
    kept = []
    for row in parsed.rows:
        if row.id_number not in elsewhere:
            kept.append(row)
            continue
        parsed.errors.append(
            RowError(
                row.row,
                column,
                mask_document(row.id_number),
                _(
                    "this person is on another community's roster: ask the commander to move "
                    "them, giving this row."
                ),
            )
        )
    parsed.rows = kept
    return sorted({digest("document", n) for n in elsewhere})


def position_from_name(name: str) -> int:
    """``12号楼`` → 12, so buildings list in the order people number them."""
    match = _DIGITS.search(name)
    return int(match.group()) if match else 0


def floor_from_room(room: str) -> int | None:
    """``1502`` → 15, ``302`` → 3; None when the room number says nothing about a floor."""
    digits = "".join(_DIGITS.findall(room))
    if len(digits) >= 3:
        return int(digits[:-2]) or None
    return None


def _chunks(items: Sequence, size: int = BATCH) -> Iterable[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _assign_grids(
    rows: list[RosterRow],
    communities: dict[str, Community],
    building_of: Callable[[RosterRow], int],
) -> None:
    """The 网格 column: each grid named is created in its community where missing, and the
    buildings of its rows are assigned to it (a building not named in a grid keeps its own)."""
    wanted = {(communities[r.community].pk, r.grid) for r in rows if r.grid}
    if not wanted:
        return
    have = {
        (g.community_id, g.name): g.pk
        for g in Grid.objects.filter(community_id__in={c for c, _n in wanted})
    }
    Grid.objects.bulk_create(
        [Grid(community_id=c, name=n) for c, n in sorted(wanted) if (c, n) not in have],
        batch_size=BATCH,
    )
    have = {
        (g.community_id, g.name): g.pk
        for g in Grid.objects.filter(community_id__in={c for c, _n in wanted})
    }
    members: dict[int, set[int]] = {}
    for r in rows:
        if r.grid:
            grid = have[(communities[r.community].pk, r.grid)]
            members.setdefault(grid, set()).add(building_of(r))
    for grid, building_ids in members.items():
        Building.objects.filter(pk__in=building_ids).exclude(grid_id=grid).update(grid_id=grid)


def _apply(town: Town, rows: list[RosterRow], report: ImportReport) -> None:
    """One chunk of rows: the places they name (created where missing), then the residents,
    matched by document number. Reads only the places this chunk names."""
    communities = {c.name: c for c in Community.objects.filter(town=town)}
    new = [
        Community(town=town, name=n)
        for n in dict.fromkeys(r.community for r in rows)
        if n not in communities
    ]
    Community.objects.bulk_create(new, batch_size=BATCH)
    communities = {c.name: c for c in Community.objects.filter(town=town)}
    named = {communities[r.community].pk for r in rows}

    def in_chunk_buildings() -> dict[tuple[int, str], int]:
        return {
            (c, n): pk
            for pk, c, n in Building.objects.filter(community_id__in=named).values_list(
                "pk", "community_id", "name"
            )
        }

    buildings = in_chunk_buildings()
    wanted = dict.fromkeys((communities[r.community].pk, r.building) for r in rows)
    Building.objects.bulk_create(
        [
            Building(community_id=cid, name=name, position=position_from_name(name))
            for cid, name in wanted
            if (cid, name) not in buildings
        ],
        batch_size=BATCH,
    )
    buildings = in_chunk_buildings()

    def building_of(r: RosterRow) -> int:
        return buildings[(communities[r.community].pk, r.building)]

    _assign_grids(rows, communities, building_of)

    chunk_buildings = {building_of(r) for r in rows}

    def in_chunk_units() -> dict[tuple[int, str], int]:
        return {
            (b, n): pk
            for pk, b, n in Unit.objects.filter(building_id__in=chunk_buildings).values_list(
                "pk", "building_id", "name"
            )
        }

    units = in_chunk_units()
    wanted_units = dict.fromkeys((building_of(r), r.unit) for r in rows)
    Unit.objects.bulk_create(
        [Unit(building_id=b, name=n) for b, n in wanted_units if (b, n) not in units],
        batch_size=BATCH,
    )
    units = in_chunk_units()

    def unit_of(r: RosterRow) -> int:
        return units[(building_of(r), r.unit)]

    chunk_units = {unit_of(r) for r in rows}

    def in_chunk_households() -> dict[tuple[int, str], int]:
        found: dict[tuple[int, str], int] = {}
        for part in _chunks(sorted(chunk_units)):
            found.update(
                ((u, room), pk)
                for pk, u, room in Household.objects.filter(unit_id__in=part).values_list(
                    "pk", "unit_id", "room"
                )
            )
        return found

    households = in_chunk_households()
    wanted_households = dict.fromkeys((unit_of(r), r.room) for r in rows)
    Household.objects.bulk_create(
        [
            Household(unit_id=u, room=room, floor=floor_from_room(room))
            for u, room in wanted_households
            if (u, room) not in households
        ],
        batch_size=BATCH,
    )
    households = in_chunk_households()
    _floors_from_rooms(chunk_buildings)

    existing: dict[str, Resident] = {}
    numbers = [r.id_number for r in rows]
    for chunk in _chunks(numbers):
        for resident in Resident.objects.filter(town=town, id_number__in=chunk):
            existing[resident.id_number] = resident

    to_create: list[Resident] = []
    to_update: list[Resident] = []
    left: set[int] = set()  # households people moved away from (or out of)
    fields = ["name", "id_type", "phone", "mobility_impaired", "notes", "language"]
    for r in rows:
        household_id = households[(unit_of(r), r.room)]
        community_id = communities[r.community].pk
        current = existing.get(r.id_number)
        if current is None:
            to_create.append(
                Resident(
                    household_id=household_id,
                    town=town,
                    community_id=community_id,
                    name=r.name,
                    id_type=r.id_type,
                    id_number=r.id_number,
                    phone=r.phone,
                    mobility_impaired=r.mobility_impaired,
                    notes=r.notes,
                    moved_out=r.moved_out,
                    language=r.language,
                )
            )
            continue
        moved = current.household_id != household_id
        changed = (
            any(getattr(current, f) != getattr(r, f) for f in fields)
            or current.moved_out != r.moved_out
        )
        if moved:
            report.moved += 1
            report.moved_between_communities += current.community_id != community_id
        elif changed:
            report.updated += 1
        else:
            report.unchanged += 1
            continue
        if moved or current.moved_out != r.moved_out:
            left.add(current.household_id)
        for f in fields:
            setattr(current, f, getattr(r, f))
        current.household_id = household_id
        current.community_id = community_id
        current.moved_out = r.moved_out
        to_update.append(current)

    assign_person_codes(to_create)
    Resident.objects.bulk_create(to_create, batch_size=BATCH)
    report.created += len(to_create)
    if to_update:
        Resident.objects.bulk_update(
            to_update,
            [*fields, "household", "community", "moved_out", "updated_at"],
            batch_size=500,
        )
    # A round running here takes the changes in, in this chunk's transaction (territory.hooks).
    touched = {b for b, _unit in wanted_units} | set(
        Household.objects.filter(pk__in=left).values_list("unit__building_id", flat=True)
    )
    if to_create or to_update:
        hooks.roster_changed(touched)


def assign_person_codes(residents: list[Resident]) -> None:
    """Give each resident without one a fresh random person code that nobody else holds."""
    used: set[str] = set()
    pending = [r for r in residents if not r.person_code]
    while pending:
        proposed: dict[str, Resident] = {}
        for resident in pending:
            code = codes.new_code()
            if code not in used and code not in proposed:
                proposed[code] = resident
        taken: set[str] = set()
        for chunk in _chunks(list(proposed)):
            taken.update(
                Resident.objects.filter(person_code__in=chunk).values_list("person_code", flat=True)
            )
        for code, resident in proposed.items():
            if code not in taken:
                resident.person_code = code
                used.add(code)
        pending = [r for r in pending if not r.person_code]


@transaction.atomic
def reveal_resident(user: User, resident: Resident, reason: str) -> dict[str, str]:
    """The full document number and phone, recorded in the audit log with the reason."""
    reason = reason.strip()
    if len(reason) < 4:
        raise ValueError(_("Say why you need the full details (at least 4 characters)."))
    audit(
        user,
        AuditAction.REVEAL,
        "resident",
        resident.pk,
        reason,
        {"fields": ["id_number", "phone"]},
        town_id=_town_of(resident.community_id),
        people=[(RESIDENT, resident.pk)],
    )
    return {"id_number": resident.id_number, "phone": resident.phone, "name": resident.name}


# Searches by a name or a document number, per user: enough for a worker's day, too few to
# find an unknown number or name by trying candidates.
IDENTIFIER_SEARCHES = Limit("search", 30, dt.timedelta(minutes=10))


def allow_identifier_search(user: User) -> bool:
    """Whether the user may search by a personal identifier once more now (counted)."""
    return limits.allow(IDENTIFIER_SEARCHES, [f"user:{user.pk}"])


def audit_search(user: User, kind: str, found: int) -> None:
    """A search by a name or a document number is on record: who, what kind, how many found
    (never what was searched for)."""
    audit(user, AuditAction.SEARCH, "resident", detail={"kind": kind, "found": found})


def full_details_reason(reason: str) -> str:
    """An empty reason means a masked export; any other must say something."""
    reason = reason.strip()
    if reason and len(reason) < 4:
        raise ValueError(_("Say why you need the full details (at least 4 characters)."))
    return reason


HEADERS = ["楼栋", "单元", "房号", "姓名", "证件号码", "手机号", "行动不便", "人员码"]


def _town_of(community_id: int) -> int | None:
    return Community.objects.filter(pk=community_id).values_list("town_id", flat=True).first()


@dataclass
class Sheet:
    """A sheet of residents written, not yet saved: ``save`` marks it with who made it."""

    book: Workbook
    title: str
    ids: list[int]  # the residents written, one per row, for the audit entry's people

    @property
    def rows(self) -> int:
        return len(self.ids)

    def save(self, entry: AuditEntry) -> bytes:
        """The file, marked with the export's audit entry (``core.watermark``)."""
        return watermark.save(self.book, watermark.for_entry(entry), self.title)


def residents_workbook(
    title: str,
    residents: Iterable[Resident],
    *,
    full: bool,
    extra_headers: Sequence[str] = (),
    extra: Callable[[Resident], list[object]] | None = None,
) -> Sheet:
    """Residents (with ``household__unit__building`` selected) as an XLSX sheet, masked unless
    ``full``; ``save`` it with the export's audit entry, whose people are the ``ids`` written."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title(title))
    sheet.append(safe_row([*HEADERS, *extra_headers]))
    ids = []
    for r in residents:
        unit = r.household.unit
        sheet.append(
            safe_row(
                [
                    unit.building.name,
                    unit.name,
                    r.household.room,
                    r.name if full else r.masked_name,
                    r.id_number if full else r.masked_id,
                    r.phone if full else r.masked_phone,
                    "是" if r.mobility_impaired else "否",
                    r.person_code_display,
                    *(extra(r) if extra else []),
                ]
            )
        )
        ids.append(r.pk)
    return Sheet(workbook, title, ids)


@transaction.atomic
def export_residents(user: User, community: Community, reason: str = "") -> bytes:
    """The community's residents as XLSX: masked, or in full when a reason is given.

    Either way the export is written to the audit log, with every resident written, and the
    file carries the mark of who made it (``core.watermark``)."""
    reason = full_details_reason(reason)
    residents = (
        scoped(user, Resident.objects.filter(community=community, moved_out=False))
        .select_related("household__unit__building")
        .order_by("household__unit__building__position", "household__unit__name", "household__room")
    )
    sheet = residents_workbook(
        community.name, residents.iterator(chunk_size=2000), full=bool(reason)
    )
    entry = audit(
        user,
        AuditAction.EXPORT,
        "community",
        community.pk,
        reason,
        {"rows": sheet.rows, "masked": not reason, "community": community.name},
        town_id=community.town_id,
        people=[(RESIDENT, pk) for pk in sheet.ids],
    )
    return sheet.save(entry)


@transaction.atomic
def record_code_sheet(
    user: User,
    object_type: str,
    object_id: int,
    people: int,
    *,
    residents: Iterable[int] | None = None,
    town_id: int | None = None,
) -> AuditEntry:
    """A sheet of person codes was printed: on record with the residents it showed (a
    building's or a household's, when not given: those still living there) and their town."""
    if residents is None and object_type in _SHEET_RESIDENTS:
        found = Resident.objects.filter(
            **{_SHEET_RESIDENTS[object_type]: object_id}, moved_out=False
        )
        residents = found.values_list("pk", flat=True)
        if town_id is None:
            town_id = found.values_list("community__town_id", flat=True).first()
    return audit(
        user,
        AuditAction.PRINT,
        object_type,
        object_id,
        detail={"people": people},
        town_id=town_id,
        people=[(RESIDENT, pk) for pk in residents or ()],
    )


# Whose codes a sheet of each kind prints (``territory.views``).
_SHEET_RESIDENTS = {"building": "household__unit__building_id", "household": "household_id"}
