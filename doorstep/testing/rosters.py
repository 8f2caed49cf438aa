"""Roster files for tests, written the ways communities write them."""

from __future__ import annotations

import io

from openpyxl import Workbook

from doorstep.testing import valid_id

HEADER = [
    "社区",
    "楼栋",
    "单元",
    "房号",
    "姓名",
    "证件类型",
    "证件号码",
    "手机号",
    "行动不便",
    "备注",
]


def row(n: int, **overrides: str) -> list[str]:
    values = {
        "社区": "阳光里社区",
        "楼栋": f"{1 + n // 20}号楼",
        "单元": "1单元",
        "房号": f"{1 + n % 6}0{1 + n % 2}",
        "姓名": f"居民{n}",
        "证件类型": "居民身份证",
        "证件号码": valid_id(n),
        "手机号": f"138{n:08d}",
        "行动不便": "否",
        "备注": "",
    }
    values.update({k: v for k, v in overrides.items()})
    return [values[h] for h in HEADER]


def csv_bytes(rows: list[list[str]], header: list[str] = HEADER, encoding: str = "utf-8") -> bytes:
    lines = [",".join(header), *(",".join(r) for r in rows)]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def xlsx_bytes(rows: list[list[object]], header: list[str] = HEADER) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for r in rows:
        sheet.append(r)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def good_rows(count: int, start: int = 0) -> list[list[str]]:
    return [row(n) for n in range(start, start + count)]
