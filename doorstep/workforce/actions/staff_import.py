"""The staff import's writing part: a checked staff list written all or nothing
(``workforce.staff_import`` reads and checks the file)."""

from __future__ import annotations

from django.db import transaction

from doorstep.core.tables import Source, TableFileError, read_table
from doorstep.territory.models import Town
from doorstep.workforce.actions import new_worker_code
from doorstep.workforce.models import Staff, SupportUnit
from doorstep.workforce.staff_import import COLUMNS, StaffReport, parse


def import_staff(town: Town, data: Source, *, dry_run: bool = False) -> StaffReport:
    """Check the whole file, then write all of it or nothing. People are matched by phone."""
    report = StaffReport()
    try:
        rows = parse(read_table(data, COLUMNS), report)
    except TableFileError as exc:
        report.file_error = str(exc)
        return report
    if report.errors:
        report.errors.sort(key=lambda e: e.row)
        return report
    with transaction.atomic():
        units = {u.name: u for u in SupportUnit.objects.filter(town=town)}
        for name in dict.fromkeys(r.unit for r in rows):
            if name not in units:
                units[name] = SupportUnit.objects.create(town=town, name=name)
        existing = {
            s.phone: s for s in Staff.objects.filter(town=town, phone__in=[r.phone for r in rows])
        }
        for r in rows:
            current = existing.get(r.phone)
            if current is None:
                Staff.objects.create(
                    unit=units[r.unit],
                    town=town,
                    name=r.name,
                    phone=r.phone,
                    skills=r.skills,
                    worker_code=new_worker_code(),
                )
                report.created += 1
            elif (current.unit_id, current.name, current.skills) != (
                units[r.unit].pk,
                r.name,
                r.skills,
            ):
                current.unit = units[r.unit]
                current.name = r.name
                current.skills = r.skills
                current.save(update_fields=["unit", "name", "skills"])
                report.updated += 1
            else:
                report.unchanged += 1
        if dry_run:
            transaction.set_rollback(True)
    return report
