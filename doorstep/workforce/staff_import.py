"""Staff lists from support units: the same all-or-nothing checks and row report as rosters."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _

from doorstep.core.idnumbers import InvalidValue, normalise_phone
from doorstep.core.masking import mask_phone
from doorstep.core.tables import (
    Column,
    RowError,
    RowErrors,
    Sheet,
    Source,
    TableFileError,
    bad_rows_summary,
    read_table,
)
from doorstep.territory.models import Town
from doorstep.workforce.actions import new_worker_code
from doorstep.workforce.models import Skill, Staff, SupportUnit

COLUMNS = (
    Column("unit", "单位", "unit", True, ("支援单位", "派出单位", "街镇")),
    Column("name", "姓名", "name", True, ()),
    Column("phone", "手机号", "phone", True, ("手机", "手机号码", "联系电话", "电话")),
    Column("skills", "技能", "skills", False, ("岗位", "专长")),
)
SKILL_WORDS = {
    "采样": Skill.SAMPLER,
    "采样员": Skill.SAMPLER,
    "医务": Skill.SAMPLER,
    "医护": Skill.SAMPLER,
    "sampler": Skill.SAMPLER,
    "登记": Skill.REGISTRAR,
    "登记员": Skill.REGISTRAR,
    "扫码": Skill.REGISTRAR,
    "录入": Skill.REGISTRAR,
    "registrar": Skill.REGISTRAR,
    "秩序": Skill.ORDER_KEEPER,
    "秩序维护": Skill.ORDER_KEEPER,
    "维持秩序": Skill.ORDER_KEEPER,
    "order_keeper": Skill.ORDER_KEEPER,
    "司机": Skill.DRIVER,
    "驾驶员": Skill.DRIVER,
    "driver": Skill.DRIVER,
    "入户": Skill.CANVASSER,
    "敲门": Skill.CANVASSER,
    "canvasser": Skill.CANVASSER,
    "组长": Skill.TEAM_LEADER,
    "队长": Skill.TEAM_LEADER,
    "team_leader": Skill.TEAM_LEADER,
}
_SPLIT = re.compile(r"[、,，;；/\s]+")


@dataclass
class StaffReport:
    errors: RowErrors = field(default_factory=RowErrors)
    file_error: str = ""
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors and not self.file_error

    def summary(self) -> str:
        if self.file_error:
            return self.file_error
        if self.errors:
            return bad_rows_summary(self.errors)
        return _("%(created)d created, %(updated)d updated, %(unchanged)d unchanged.") % {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
        }


def parse_skills(text: str) -> tuple[str, list[str]]:
    """``采样、登记`` → ``,sampler,registrar,`` and the words not understood."""
    found: list[str] = []
    unknown = []
    for word in _SPLIT.split(text.strip().lower()):
        if not word:
            continue
        skill = SKILL_WORDS.get(word)
        if skill is None:
            unknown.append(word)
        elif skill not in found:
            found.append(skill)
    return ("," + ",".join(found) + ",") if found else "", unknown


@dataclass
class _Row:
    row: int
    unit: str
    name: str
    phone: str
    skills: str


def _parse(sheet: Sheet, report: StaffReport) -> list[_Row]:
    header, rows = sheet.header, sheet.drain()
    spelled = {c.key: header.spelled.get(c.key, c.header_zh) for c in COLUMNS}
    good: list[_Row] = []
    seen: dict[str, int] = {}
    last = 0
    for number, cells in rows:
        if report.errors.stop(last):
            break
        last = number
        values = {
            c.key: (
                cells[header.positions[c.key]].strip()
                if c.key in header.positions and header.positions[c.key] < len(cells)
                else ""
            )
            for c in COLUMNS
        }
        before = report.errors.total
        for c in COLUMNS:
            if c.required and not values[c.key]:
                report.errors.append(
                    RowError(
                        number, spelled[c.key], "", _("this cell is empty; every person needs it.")
                    )
                )
        phone = values["phone"]
        if phone:
            try:
                phone = normalise_phone(phone)
            except InvalidValue as exc:
                report.errors.append(
                    RowError(number, spelled["phone"], mask_phone(phone), str(exc))
                )
        skills, unknown = parse_skills(values["skills"])
        if unknown:
            report.errors.append(
                RowError(
                    number,
                    spelled["skills"],
                    "、".join(unknown),
                    _("unknown skill; use 采样, 登记, 秩序维护, 司机, 入户, 组长 separated by 、"),
                )
            )
        if report.errors.total > before:
            continue
        if phone in seen:
            report.errors.append(
                RowError(
                    number,
                    spelled["phone"],
                    mask_phone(phone),
                    _("the same person is already on row %(row)d; keep one of the two rows.")
                    % {"row": seen[phone]},
                )
            )
            continue
        seen[phone] = number
        good.append(_Row(number, values["unit"], values["name"], phone, skills))
    return good


def import_staff(town: Town, data: Source, *, dry_run: bool = False) -> StaffReport:
    """Check the whole file, then write all of it or nothing. People are matched by phone."""
    report = StaffReport()
    try:
        rows = _parse(read_table(data, COLUMNS), report)
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


def template_workbook() -> bytes:
    import io

    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "人员"
    sheet.append([c.header_zh for c in COLUMNS])
    for index in range(1, len(COLUMNS) + 1):
        for row in range(2, 1002):
            sheet.cell(row=row, column=index).number_format = "@"
    help_sheet = workbook.create_sheet("说明 Help")
    help_sheet.append(
        [
            "单位：派出人员的街镇；姓名、手机号必填；技能可填 采样、登记、秩序维护、司机、入户、组长，用顿号分隔。"
        ]
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
