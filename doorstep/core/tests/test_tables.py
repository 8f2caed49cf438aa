"""Reading spreadsheets within bounds: a small file that declares or holds a huge sheet is
refused whole, by its declared size or as it is read, before its rows are built."""

import io
import re
import zipfile

import pytest
from openpyxl import Workbook

from doorstep.core.tables import Limits, TableFileError, read_table
from doorstep.testing import client_for

SMALL = Limits(rows=100, columns=10, cell=50, unzipped=10 * 2**20)


def workbook(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def rewrite_sheet(data: bytes, change) -> bytes:  # type: ignore[no-untyped-def]
    """The same workbook with its first sheet's XML changed by ``change``."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                body = change(body.decode()).encode()
            target.writestr(info.filename, body)
    return out.getvalue()


def last_row_cell(xml: str, dimension: bool) -> str:
    far = '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
    xml = xml.replace("</sheetData>", far + "</sheetData>")
    if dimension:
        return re.sub(r'<dimension ref="[^"]*"/>', '<dimension ref="A1:XFD1048576"/>', xml)
    return re.sub(r'<dimension ref="[^"]*"/>', "", xml)


def test_a_sheet_that_declares_a_million_rows_is_refused_by_its_declared_size():
    bomb = rewrite_sheet(
        workbook([["社区", "姓名"], ["阳光里", "张伟"]]), lambda x: last_row_cell(x, True)
    )
    assert len(bomb) < 6000  # a few kilobytes
    with pytest.raises(TableFileError, match="more than 100 rows"):
        read_table(bomb, limits=SMALL)


def test_without_a_declared_size_the_reader_stops_at_the_limit_instead_of_filling_empty_rows():
    bomb = rewrite_sheet(
        workbook([["社区", "姓名"], ["阳光里", "张伟"]]), lambda x: last_row_cell(x, False)
    )
    with pytest.raises(TableFileError, match="more than 100 rows"):
        read_table(bomb, limits=SMALL)


def test_empty_rows_are_counted_not_kept_and_row_numbers_stay_excels():
    table = read_table(workbook([["社区", "姓名"], [None, None], ["阳光里", "张伟"]]), limits=SMALL)
    assert table.rows == [(1, ["社区", "姓名"]), (3, ["阳光里", "张伟"])]


def test_too_many_columns_and_too_long_a_cell_are_refused_with_what_to_do():
    with pytest.raises(
        TableFileError, match="The sheet has 11 columns; an import reads at most 10"
    ):
        read_table(workbook([[f"c{n}" for n in range(11)]]), limits=SMALL)
    with pytest.raises(TableFileError, match="Row 2, column 2 holds 51 characters"):
        read_table(workbook([["社区", "姓名"], ["阳光里", "张" * 51]]), limits=SMALL)


def test_a_workbook_that_unpacks_to_more_than_allowed_is_refused_before_it_is_opened():
    big = workbook([["社区", "姓名"], *[["阳光里", f"居民{n}"] for n in range(50)]])
    with pytest.raises(TableFileError, match="unpacks to"):
        read_table(big, limits=Limits(rows=100, columns=10, cell=50, unzipped=1000))


def test_csv_is_held_to_the_same_limits_and_an_unclosed_quote_is_a_named_error():
    rows = "社区,姓名\n" + "阳光里,张伟\n" * 101
    with pytest.raises(TableFileError, match="more than 100 rows"):
        read_table(rows.encode(), limits=SMALL)
    with pytest.raises(TableFileError, match="holds 51 characters"):
        read_table(("社区,姓名\n阳光里," + "张" * 51 + "\n").encode(), limits=SMALL)
    unclosed = '社区,姓名\n阳光里,"' + "x" * 200_000 + "\n"
    with pytest.raises(TableFileError, match=r"cannot be read|holds"):
        read_table(unclosed.encode(), limits=Limits(rows=100, columns=10, cell=10**6, unzipped=1))
    assert read_table("社区,姓名,,\n阳光里,张伟,,\n".encode(), limits=SMALL).rows[1] == (
        2,
        ["阳光里", "张伟"],
    )


@pytest.mark.django_db
def test_a_request_body_over_its_limit_is_refused_before_it_is_read(client, worker, settings):
    from django.test import Client

    settings.UPLOAD_MAX_BYTES = 1000
    big = b"x" * 70_000
    anonymous = client.post("/status/me/", big, content_type="application/octet-stream")
    assert anonymous.status_code == 413 and "64 KB" in anonymous.content.decode()
    signed_in = client_for(worker).post(
        "/territory/roster/", {"file": io.BytesIO(b"x" * 2000)}, follow=False
    )
    assert signed_in.status_code == 413
    device = Client().post(
        "/api/v1/events",
        b"{" + b" " * (11 * 2**20) + b"}",
        content_type="application/json",
        headers={"Authorization": "Bearer x"},
    )
    assert device.status_code == 413 and "error" in device.json()


@pytest.mark.django_db
def test_a_form_field_with_a_nul_byte_is_a_named_400_not_a_server_error(worker):

    response = client_for(worker).get("/territory/residents/", {"q": "张\x00伟"})
    assert (
        response.status_code == 400
        and "«q» holds a character that is not text" in response.content.decode()
    )
