"""Staff lists from support units: the same all-or-nothing checks and row report as rosters.

This module reads and checks a file; ``actions.staff_import`` writes it, as the roster's
``territory.roster`` and ``territory.actions.import_roster`` do."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from doorstep.core.idnumbers import InvalidValue, normalise_phone
from doorstep.core.masking import mask_phone
from doorstep.core.tables import (
    Column,
    RowError,
    RowErrors,
    Sheet,
    bad_rows_summary,
)
from doorstep.workforce.models import Skill

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


def parse(sheet: Sheet, report: StaffReport) -> list[_Row]:
    """The good rows of the sheet; the bad ones go in the report. Nothing is written here: the
    import (``actions.staff_import.import_staff``) writes all the rows or none."""
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
