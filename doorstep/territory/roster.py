"""Reading and checking a roster file, before anything is written.

A roster arrives from a community as Excel or as CSV saved by Excel (in China that CSV is
usually GBK). The whole file is read and every row checked here; ``actions.import_roster``
writes only a file with no bad row. Messages name the row as Excel numbers it, the column as
the file spells it, the value masked, and what to do.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from doorstep.core.idnumbers import InvalidValue, normalise_document, normalise_phone
from doorstep.core.masking import mask_document, mask_name, mask_phone
from doorstep.core.tables import Column, RowError, RowErrors, Source, TableFileError, read_table
from doorstep.territory.models import DocumentType

RosterFileError = TableFileError

COLUMNS = (
    Column("community", "社区", "community", True, ("社区名称", "村", "村/社区", "社区/村")),
    Column("building", "楼栋", "building", True, ("楼号", "楼栋号", "楼")),
    Column("unit", "单元", "unit", False, ("单元号",)),
    Column("room", "房号", "room", True, ("房间号", "门牌号", "户号")),
    Column("name", "姓名", "name", True, ()),
    Column("id_type", "证件类型", "id_type", False, ("证件种类",)),
    Column("id_number", "证件号码", "id_number", True, ("身份证号", "身份证号码", "证件号")),
    Column("phone", "手机号", "phone", False, ("手机", "手机号码", "联系电话", "电话")),
    Column("mobility_impaired", "行动不便", "mobility_impaired", False, ()),
    Column("notes", "备注", "notes", False, ()),
    # 是 for a resident who no longer lives here: they leave the roster's counts and any round.
    Column("moved_out", "已迁出", "moved_out", False, ("迁出", "是否迁出")),
    # The grid (网格) a building belongs to: created where missing, the building assigned.
    Column("grid", "网格", "grid", False, ("网格名称", "所属网格", "网格号")),
    # The language the resident's messages are written in: empty or 中文 for Chinese.
    Column("language", "短信语言", "language", False, ("语言", "language")),
)
# What the language column may say, and the language each means.
LANGUAGES = {
    "": "zh-hans",
    "中文": "zh-hans",
    "汉语": "zh-hans",
    "zh": "zh-hans",
    "chinese": "zh-hans",
    "英文": "en",
    "英语": "en",
    "en": "en",
    "english": "en",
}
BY_KEY = {c.key: c for c in COLUMNS}

DOCUMENT_TYPES = {
    "": DocumentType.RESIDENT_ID,
    "居民身份证": DocumentType.RESIDENT_ID,
    "身份证": DocumentType.RESIDENT_ID,
    "resident_id": DocumentType.RESIDENT_ID,
    "护照": DocumentType.PASSPORT,
    "passport": DocumentType.PASSPORT,
    "港澳通行证": DocumentType.HK_MACAU,
    "港澳居民来往内地通行证": DocumentType.HK_MACAU,
    "hk_macau": DocumentType.HK_MACAU,
    "台湾居民来往大陆通行证": DocumentType.TAIWAN,
    "台胞证": DocumentType.TAIWAN,
    "台湾通行证": DocumentType.TAIWAN,
    "taiwan": DocumentType.TAIWAN,
    "其他": DocumentType.OTHER,
    "other": DocumentType.OTHER,
}
YES = {"是", "y", "yes", "1", "true", "√", "✓"}
NO = {"", "否", "n", "no", "0", "false"}


@dataclass(slots=True)
class RosterRow:
    row: int
    community: str
    building: str
    unit: str
    room: str
    name: str
    id_type: str
    id_number: str
    phone: str
    mobility_impaired: bool
    notes: str
    moved_out: bool = False
    grid: str = ""
    language: str = "zh-hans"


@dataclass
class ParsedRoster:
    rows: list[RosterRow] = field(default_factory=list)
    errors: RowErrors = field(default_factory=RowErrors)
    ignored_columns: list[str] = field(default_factory=list)
    # How the file spells each column it has, for messages.
    headers: dict[str, str] = field(default_factory=dict)


def parse_roster(data: Source) -> ParsedRoster:
    """Read the file and check every row; the result carries the good rows and every error
    found. A file that cannot be read as a whole raises ``RosterFileError``."""
    sheet = read_table(data, COLUMNS)
    header = sheet.header
    parsed = ParsedRoster(ignored_columns=header.ignored, headers=dict(header.spelled))
    spelled = {c.key: header.spelled.get(c.key, c.header_zh) for c in COLUMNS}
    seen: dict[str, int] = {}
    grids: dict[tuple[str, str], tuple[str, int]] = {}
    last = 0
    for number, cells in sheet.drain():
        if parsed.errors.stop(last):
            break
        last = number
        row = _parse_row(number, cells, header.positions, spelled, parsed.errors)
        if row is None:
            continue
        first = seen.get(row.id_number)
        if first is not None:
            parsed.errors.append(
                RowError(
                    number,
                    spelled["id_number"],
                    mask_document(row.id_number),
                    _("the same person is already on row %(row)d; keep one of the two rows.")
                    % {"row": first},
                )
            )
            continue
        seen[row.id_number] = number
        place = (row.community, row.building)
        if row.grid and grids.setdefault(place, (row.grid, number))[0] != row.grid:
            grid, first_row = grids[place]
            parsed.errors.append(
                RowError(
                    number,
                    spelled["grid"],
                    row.grid,
                    _(
                        "%(building)s is in grid %(grid)s on row %(row)d; a building is in one "
                        "grid: write the same grid on every row of it."
                    )
                    % {"building": row.building, "grid": grid, "row": first_row},
                )
            )
            continue
        parsed.rows.append(row)
    return parsed


def _parse_row(
    number: int,
    cells: tuple[str, ...],
    positions: dict[str, int],
    spelled: dict[str, str],
    errors: RowErrors,
) -> RosterRow | None:
    def get(key: str) -> str:
        index = positions.get(key)
        if index is None or index >= len(cells):
            return ""
        return cells[index].strip()

    before = errors.total

    def fail(key: str, value: str, message: str) -> None:
        errors.append(RowError(number, spelled[key], value, message))

    values = {key: get(key) for key in BY_KEY}
    for c in COLUMNS:
        if c.required and not values[c.key]:
            fail(c.key, "", _("this cell is empty; every resident needs it."))

    id_type = DOCUMENT_TYPES.get(values["id_type"].lower())
    if id_type is None:
        fail(
            "id_type",
            values["id_type"],
            _(
                "unknown document type; use one of 居民身份证, 护照, 港澳通行证, 台胞证, 其他 (or leave it empty for 居民身份证)."
            ),
        )
    id_number = values["id_number"]
    if id_number and id_type is not None:
        try:
            id_number = normalise_document(id_type, id_number)
        except InvalidValue as exc:
            fail("id_number", mask_document(id_number), str(exc))

    phone = values["phone"]
    if phone:
        try:
            phone = normalise_phone(phone)
        except InvalidValue as exc:
            fail("phone", mask_phone(phone), str(exc))

    flag = values["mobility_impaired"].lower()
    if flag not in YES and flag not in NO:
        fail("mobility_impaired", values["mobility_impaired"], _("write 是 or 否 (yes or no)."))
    language = LANGUAGES.get(values["language"].strip().lower())
    if language is None:
        fail("language", values["language"], _("write 中文 or 英文 (or leave it empty for 中文)."))
    gone = values["moved_out"].lower()
    if gone not in YES and gone not in NO:
        fail("moved_out", values["moved_out"], _("write 是 or 否 (yes or no)."))

    for key, limit in (
        ("name", 100),
        ("community", 100),
        ("building", 100),
        ("room", 50),
        ("unit", 50),
        ("grid", 100),
        ("notes", 500),
    ):
        if len(values[key]) > limit:
            shown = mask_name(values[key]) if key == "name" else values[key][:20] + "…"
            fail(key, shown, _("too long: at most %(limit)d characters.") % {"limit": limit})

    if errors.total > before:
        return None
    return RosterRow(
        row=number,
        community=values["community"],
        building=values["building"],
        unit=values["unit"],
        room=values["room"],
        name=values["name"],
        id_type=str(id_type),
        id_number=id_number,
        phone=phone,
        mobility_impaired=flag in YES,
        notes=values["notes"],
        moved_out=gone in YES,
        grid=values["grid"],
        language=language or "zh-hans",
    )


def template_workbook() -> bytes:
    """The XLSX template community workers fill in: Chinese headers, ID columns as text."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "名单"
    sheet.append([c.header_zh for c in COLUMNS])
    for index, column in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font = Font(bold=True, color="B00000" if column.required else "000000")
        letter = cell.column_letter
        sheet.column_dimensions[letter].width = 22 if column.key in {"id_number", "notes"} else 12
        # Text format stops Excel from turning ID and phone numbers into 1.20101E+17.
        for row in range(2, 2002):
            sheet.cell(row=row, column=index).number_format = "@"
    sheet.freeze_panes = "A2"
    notes = workbook.create_sheet("说明 Help")
    for line in (
        ("红色列必填。Red columns are required.",),
        ("每行一位居民；同一户的居民写相同的社区、楼栋、单元、房号。One resident per row.",),
        ("证件类型留空即为居民身份证；也可填 护照、港澳通行证、其他。",),
        ("证件号码、手机号请按文本填写，不要让 Excel 变成科学计数法。",),
        ("行动不便填 是 或 否。",),
    ):
        notes.append(line)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
