"""Reading spreadsheets within bounds: every file an attacker sent is refused by name, in little
memory, and past the quick checks (the packing ratio, a part's size) the stream itself still
stops at its budget. What Excel and the other tools write is read as before."""

import dataclasses
import datetime as dt
import io
import re
import tracemalloc
import zipfile
from collections.abc import Callable

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from doorstep.core.tables import Column, Limits, TableFileError, read_table
from doorstep.lab.models import ResultEntry
from doorstep.territory.models import Resident
from doorstep.testing import bombs, client_for
from doorstep.testing.rosters import HEADER
from doorstep.workforce.models import Staff

COLUMNS = (
    Column("community", "社区", "community", True),
    Column("name", "姓名", "name", True),
    Column("note", "备注", "note", False),
)
SMALL = Limits(rows=100, columns=10, cell=50, unzipped=10 * 2**20)
# SMALL without the quick checks, so that what stops a bomb is the streaming budget.
UNPACKED = dataclasses.replace(
    SMALL,
    unzipped=2**40,
    strings=2**40,
    part=2**40,
    ratio=2**40,
    cell_bytes=2**40,
    elements=200_000,
)
MEMORY = 16 * 2**20  # what reading any bomb may allocate, the file itself aside


def workbook(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def refused_within(data: bytes, limits: Limits, memory: int = MEMORY) -> str:
    """The refusal's message; the test fails if the file was read, or if refusing it took more
    than ``memory`` bytes of allocations."""
    tracemalloc.start()
    try:
        read_table(data, COLUMNS, limits)
    except TableFileError as exc:
        message = str(exc)
    else:
        pytest.fail("the file was read")
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peak < memory, f"{peak / 2**20:.0f} MB to refuse it: {message}"
    return message


# Each file as it was sent (issue 27), under the default limits.
AS_SENT: list[tuple[str, Callable[[], bytes], str]] = [
    ("27 million cells in one row", bombs.wide_row, "sheet unpack to 1,0.. times"),
    ("21 million styles", bombs.styles, r"styles are 100\.1 MB unpacked; the limit is 10 MB"),
    ("24 million shared strings", bombs.shared_strings, "shared strings are 114.4 MB unpacked"),
    ("100,000 zip entries", lambda: bombs.many_entries(100_000), "holds 100,00. files"),
    ("20,000 sheets", bombs.many_sheets, "holds 20,00. files"),
    (
        "200,000 entries behind a decoy zip64 record",
        lambda: bombs.zip64_directory(200_000, decoy=True),
        "holds 200,000 files",
    ),
    (
        "200,000 entries behind a zip64 record",
        lambda: bombs.zip64_directory(200_000),
        "holds 200,000 files",
    ),
    ("a million empty rows", bombs.tall, "more than 200,000 rows"),
    ("10 million nested elements", bombs.deep, "sheet unpack to"),
    ("a 400 MB tag", bombs.long_tag, "sheet unpack to"),
    ("entities", bombs.entity, "declares XML entities"),
    ("45 MB of commas", bombs.csv_row, "Row 2 is longer than 100,152 characters"),
    ("a 45 MB quoted field", bombs.csv_quote, "Row 2 is longer than"),
]


@pytest.mark.parametrize(("make", "refusal"), [a[1:] for a in AS_SENT], ids=[a[0] for a in AS_SENT])
def test_each_file_an_attacker_sent_is_refused_by_name_in_little_memory(make, refusal):
    data = make()
    assert len(data) < 60 * 2**20
    assert re.search(refusal, refused_within(data, Limits.from_settings()))


# The same bombs, made to pass the quick checks (an attacker can pad a part to any ratio).
PAST_THE_CHECKS: list[tuple[str, Callable[[], bytes], str]] = [
    ("a row wider than the columns", lambda: bombs.wide_row(10**6), "cell in column 11"),
    ("more styles than Excel allows", lambda: bombs.styles(10**6), "more than 65,536 cell styles"),
    ("more strings than cells", lambda: bombs.shared_strings(10**6), "more than 1,010 texts"),
    ("a row past the last", lambda: bombs.tall(1000), "more than 100 rows"),
    ("nesting", lambda: bombs.deep(10**6), "nest their entries deeper"),
    ("a long tag", lambda: bombs.long_tag(2 * 10**6), "a tag or comment over a megabyte long"),
    ("a long comment", lambda: bombs.long_comment(10**7), "a tag or comment over a megabyte long"),
    (
        "junk elements",
        lambda: bombs.workbook(bombs.sheet(bombs.repeat(b"", b"<x/>", 10**6, b""))),
        "holds more than 200,000 XML elements",
    ),
    (
        "a long cell",
        lambda: bombs.workbook(
            bombs.sheet(
                bombs.repeat(
                    b'<row r="2"><c t="inlineStr"><is><t>', b"x", 500_000, b"</t></is></c></row>"
                )
            )
        ),
        "Row 2, column 1 holds 500,000 characters",
    ),
]


@pytest.mark.parametrize(
    ("make", "refusal"), [a[1:] for a in PAST_THE_CHECKS], ids=[a[0] for a in PAST_THE_CHECKS]
)
def test_past_the_quick_checks_the_stream_stops_at_its_budget(make, refusal):
    assert re.search(refusal, refused_within(make(), UNPACKED))


def test_text_read_many_times_over_is_held_to_the_text_budget():
    """One 8 KB shared string referenced by every cell, once the columns' memos are full."""
    limits = dataclasses.replace(Limits.from_settings(), text=8 * 2**20)
    refusal = refused_within(bombs.amplifier(2000, ["社区", "姓名", "备注"]), limits, 32 * 2**20)
    assert re.search(
        r"By row 10,?\d+ the file's text in the columns an import reads is over 8 MB", refusal
    )


def test_a_sheet_that_declares_a_million_rows_is_refused_as_it_streams():
    far = '<row r="1048576"><c r="J1048576" t="inlineStr"><is><t>x</t></is></c></row>'
    bomb = bombs.workbook(bombs.sheet(far.encode(), b'<dimension ref="A1:XFD1048576"/>'))
    assert len(bomb) < 6000
    assert "more than 100 rows" in refused_within(bomb, SMALL)


def test_empty_rows_are_counted_not_kept_and_row_numbers_stay_excels():
    sheet = read_table(
        workbook([["社区", "姓名"], [None, None], ["阳光里", "张伟"]]), COLUMNS, SMALL
    )
    assert sheet.rows == [(3, ("阳光里", "张伟"))]
    assert sheet.header.positions == {"community": 0, "name": 1}


def test_a_title_above_the_header_is_passed_over_and_a_missing_header_names_its_row():
    titled = [["阳光里社区居民名单"], ["2026年12月"], ["社区", "姓名"], ["阳光里", "张伟"]]
    for data in (workbook(titled), "\n".join(",".join(r) for r in titled).encode()):
        sheet = read_table(data, COLUMNS, SMALL)
        assert sheet.rows == [(4, ("阳光里", "张伟"))]
    untitled = [["说明"], ["社区", "名字"], ["阳光里", "张伟"]]
    with pytest.raises(
        TableFileError, match=r"The header row \(row 2\) lacks the column\(s\) 姓名"
    ):
        read_table(workbook(untitled), COLUMNS, SMALL)
    only_titles = [[f"说明{n}"] for n in range(7)]
    with pytest.raises(TableFileError, match=r"The header row \(row 6\) lacks"):
        read_table(workbook(only_titles), COLUMNS, SMALL)


def test_only_the_callers_columns_are_kept_whatever_the_files_width():
    wide = [["备注", "x1", "社区", "x2", "姓名", "x3"], ["n", "1", "阳光里", "2", "张伟", "3"]]
    for data in (workbook(wide), "\n".join(",".join(r) for r in wide).encode()):
        sheet = read_table(data, COLUMNS, SMALL)
        assert sheet.rows == [(2, ("n", "阳光里", "张伟"))]
        assert sheet.header.positions == {"note": 0, "community": 1, "name": 2}
        assert sheet.header.ignored == ["x1", "x2", "x3"]


def test_too_many_columns_and_too_long_a_cell_are_refused_with_what_to_do():
    wide = [f"c{n}" for n in range(11)]
    with pytest.raises(TableFileError, match="Row 1 of the sheet has a cell in column 11"):
        read_table(workbook([wide]), COLUMNS, SMALL)
    with pytest.raises(TableFileError, match="Row 1 has 11 columns; an import reads at most 10"):
        read_table(",".join(wide).encode(), COLUMNS, SMALL)
    with pytest.raises(TableFileError, match="Row 2, column 2 holds 51 characters"):
        read_table(workbook([["社区", "姓名"], ["阳光里", "张" * 51]]), COLUMNS, SMALL)
    with pytest.raises(TableFileError, match="Row 3 of the sheet has a cell in column 12"):
        read_table(
            workbook([["社区", "姓名"], ["阳光里", "张伟"], [*[None] * 11, "x"]]), COLUMNS, SMALL
        )


def test_a_workbook_that_unpacks_to_more_than_allowed_is_refused_before_it_is_opened():
    big = workbook([["社区", "姓名"], *[["阳光里", f"居民{n}"] for n in range(50)]])
    with pytest.raises(TableFileError, match="unpacks to"):
        read_table(big, COLUMNS, dataclasses.replace(SMALL, unzipped=1000))


def test_the_limits_are_settings(settings):
    settings.TABLE_MAX_PART = 1000
    settings.TABLE_MAX_ENTRIES = 3
    limits = Limits.from_settings()
    assert (limits.part, limits.entries) == (1000, 3)
    with pytest.raises(TableFileError, match="holds 4 files; an import opens at most 3"):
        read_table(bombs.workbook(), COLUMNS)


def test_a_broken_or_strange_archive_is_named_never_a_crash():
    good = workbook([["社区", "姓名"], ["阳光里", "张伟"]])
    with pytest.raises(TableFileError, match="not an Excel workbook"):
        read_table(good[: len(good) // 2], COLUMNS, SMALL)
    packed = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as source, zipfile.ZipFile(packed, "w") as target:
        for info in source.infolist():
            target.writestr(info.filename, source.read(info), zipfile.ZIP_BZIP2)
    with pytest.raises(TableFileError, match="packed in a way Excel never uses"):
        read_table(packed.getvalue(), COLUMNS, SMALL)
    corrupt = bytearray(good)
    start = corrupt.find(b"xl/worksheets/sheet1.xml") + 30
    corrupt[start : start + 40] = b"\xff" * 40
    with pytest.raises(TableFileError, match=r"could not be read|not an Excel workbook"):
        read_table(bytes(corrupt), COLUMNS, SMALL)
    backwards = '<row r="3"><c t="inlineStr"><is><t>a</t></is></c></row><row r="2"/>'
    with pytest.raises(TableFileError, match="row numbers go back after row 3"):
        read_table(bombs.workbook(bombs.sheet(backwards.encode())), COLUMNS, SMALL)
    bogus = [b'<?xml version="1.0" encoding="x-bogus"?><worksheet/>']
    with pytest.raises(TableFileError, match="could not be read"):
        read_table(bombs.workbook(bogus), COLUMNS, SMALL)
    missing = '<row r="2"><c t="s"><v>7</v></c></row>'
    with pytest.raises(TableFileError, match="shared text that is not in the file"):
        read_table(bombs.workbook(bombs.sheet(missing.encode())), COLUMNS, SMALL)


def test_shared_strings_rich_text_prefixes_and_excels_dates_are_read_as_excel_shows_them():
    strings = (
        bombs.XML + b'<x:sst xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b"<x:si><x:t>\xe9\x98\xb3\xe5\x85\x89\xe9\x87\x8c</x:t></x:si>"  # 阳光里
        b"<x:si><x:r><x:t>\xe5\xbc\xa0</x:t></x:r><x:r><x:rPr><x:b/></x:rPr><x:t>\xe4\xbc\x9f</x:t></x:r>"
        b"<x:rPh><x:t>zhang wei</x:t></x:rPh></x:si>"  # 张伟, with its reading
        b'<x:si><x:t xml:space="preserve">  \xe5\xa4\x87  </x:t></x:si>'
        b"</x:sst>"
    )
    styles = (
        bombs.XML + b"<styleSheet " + bombs.MAIN + b'><numFmts><numFmt numFmtId="170" '
        b'formatCode="yyyy&quot;\xe5\xb9\xb4&quot;m&quot;\xe6\x9c\x88&quot;d&quot;\xe6\x97\xa5&quot;"/>'
        b'<numFmt numFmtId="171" formatCode="&quot;day&quot;0"/></numFmts>'
        b'<cellXfs><xf numFmtId="0"/><xf numFmtId="170"/><xf numFmtId="31"/><xf numFmtId="171"/>'
        b'<xf numFmtId="21"/></cellXfs></styleSheet>'
    )
    rows = (
        '<row r="2"><c r="A2" t="s"><v>0</v></c><c r="B2" t="s"><v>1</v></c><c r="C2" t="s"><v>2</v></c></row>'
        '<row r="4"><c r="A4" s="1"><v>46363.5</v></c><c r="B4" s="2"><v>46363</v></c><c r="C4" s="3"><v>46363</v></c></row>'
        '<row r="5"><c r="A5" t="b"><v>1</v></c><c r="B5" t="e"><v>#N/A</v></c><c r="C5" t="str"><f>A1</f><v>x</v></c></row>'
        '<row r="6"><c r="A6"><v>1.20111199001E+17</v></c><c r="B6" s="4"><v>0.5</v></c><c r="C6"><v>007</v></c></row>'
    )
    header = ["社区", "姓名", "备注"]
    data = bombs.workbook(bombs.sheet(rows.encode(), header=header), strings=strings, styles=styles)
    assert read_table(data, COLUMNS, SMALL).rows == [
        (2, ("阳光里", "张伟", "备")),
        (4, ("2026-12-07 12:00:00", "2026-12-07 00:00:00", "46363")),
        (5, ("是", "#N/A", "x")),
        (6, ("1.20111199001E+17", "12:00:00", "7")),
    ]


def test_the_1904_date_system_is_honoured():
    rows = b'<row r="2"><c s="1"><v>0</v></c><c t="inlineStr"><is><t>x</t></is></c></row>'
    styles = (
        bombs.XML
        + b"<styleSheet "
        + bombs.MAIN
        + b'><cellXfs><xf numFmtId="0"/><xf numFmtId="14"/>'
        b"</cellXfs></styleSheet>"
    )
    data = bombs.workbook(bombs.sheet(rows, header=["社区", "姓名"]), styles=styles)
    book = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in book.infolist():
            body = book.read(info)
            if info.filename == "xl/workbook.xml":
                body = body.replace(b"<sheets>", b'<workbookPr date1904="1"/><sheets>')
            target.writestr(info.filename, body)
    assert read_table(out.getvalue(), COLUMNS, SMALL).rows == [(2, ("1904-01-01 00:00:00", "x"))]


cells = st.one_of(
    st.none(),
    st.text(st.characters(blacklist_categories=["Cs", "Cc"]), max_size=20),
    st.integers(min_value=-(10**15), max_value=10**15),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.booleans(),
    st.datetimes(min_value=dt.datetime(1900, 3, 1), max_value=dt.datetime(9000, 1, 1)).map(
        lambda d: d.replace(microsecond=0)
    ),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(cells, min_size=3, max_size=3), min_size=1, max_size=8))
def test_what_openpyxl_writes_reads_as_openpyxl_reads_it(rows):
    """The reader this one replaced, as the yardstick: the same text for every cell."""
    data = workbook([["社区", "姓名", "备注"], *rows])
    theirs = []
    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    for number, row in enumerate(book.worksheets[0].iter_rows(values_only=True), start=1):
        texts = tuple(_as_openpyxl_showed(v) for v in row)
        if number > 1 and any(texts):
            theirs.append((number, texts))
    if not theirs:
        return
    assert read_table(data, COLUMNS, SMALL).rows == theirs


def _as_openpyxl_showed(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value).upper()
    return str(value).strip()


def test_csv_is_held_to_the_same_limits_and_an_unclosed_quote_is_a_named_error():
    rows = "社区,姓名\n" + "阳光里,张伟\n" * 101
    with pytest.raises(TableFileError, match="more than 100 rows"):
        read_table(rows.encode(), COLUMNS, SMALL)
    with pytest.raises(TableFileError, match="holds 51 characters"):
        read_table(("社区,姓名\n阳光里," + "张" * 51 + "\n").encode(), COLUMNS, SMALL)
    unclosed = '社区,姓名\n阳光里,"' + "x" * 200_000 + "\n"
    with pytest.raises(TableFileError, match=r"cannot be read|longer than"):
        read_table(unclosed.encode(), COLUMNS, dataclasses.replace(SMALL, cell=10**6))
    with pytest.raises(TableFileError, match="Row 2 has 12 columns; an import reads at most 10"):
        read_table(("社区,姓名\n阳光里,张伟" + ",x" * 10 + "\n").encode(), COLUMNS, SMALL)
    assert read_table("社区,姓名,,\n阳光里,张伟,,\n".encode(), COLUMNS, SMALL).rows == [
        (2, ("阳光里", "张伟"))
    ]


def test_a_control_character_past_the_files_start_is_a_named_error_not_a_database_error():
    for control in ("\x00", "\x01", "\x1b"):
        rows = "".join(f"阳光里,居民{n}\n" for n in range(500)) + f"阳光里,张{control}伟\n"
        limits = dataclasses.replace(SMALL, rows=1000)
        with pytest.raises(TableFileError, match="Row 502, column 2 holds a control character"):
            read_table(("社区,姓名\n" + rows).encode(), COLUMNS, limits)


def test_excels_unicode_text_utf16_with_tabs_is_read():
    text = "社区\t姓名\r\n阳光里\t张伟\r\n"
    for encoding in ("utf-16-le", "utf-16-be"):
        bom = "\ufeff".encode(encoding)
        rows = read_table(bom + text.encode(encoding), COLUMNS, SMALL).rows
        assert rows == [(2, ("阳光里", "张伟"))]


def test_a_file_in_no_encoding_it_could_be_says_which_were_tried():
    with pytest.raises(TableFileError, match=r"tried UTF-8, GBK/GB18030\)"):
        read_table(b"\xfa\xfb\xfc\x81\x30\xff" * 20, COLUMNS, SMALL)
    with pytest.raises(TableFileError, match=r"tried UTF-16\)"):
        read_table(
            b"\xff\xfe" + "社区\t姓名\n".encode("utf-16-le") + b"\x00\xd8\x41\x00", COLUMNS, SMALL
        )


def test_csv_in_gbk_with_tabs_and_old_mac_line_ends_is_read():
    text = "社区\t姓名\r阳光里\t张伟\r和苑\t李娜\r"
    assert read_table(text.encode("gb18030"), COLUMNS, SMALL).rows == [
        (2, ("阳光里", "张伟")),
        (3, ("和苑", "李娜")),
    ]


UPLOADS = [
    ("/territory/roster/", "worker", HEADER),
    ("/workforce/staff/import/", "commander", ["单位", "姓名", "手机号"]),
    ("/lab/results/", "lab", ["tube", "result"]),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("url", "role", "header"), UPLOADS, ids=[u[0] for u in UPLOADS])
def test_each_upload_page_refuses_a_bomb_by_name_and_writes_nothing(request, url, role, header):
    user = request.getfixturevalue(role)
    for bomb, refusal in (
        (bombs.wide_row(10**6, header), "unpack to"),
        (bombs.csv_row(10**6, header), "is longer than"),
    ):
        response = client_for(user).post(url, {"file": io.BytesIO(bomb)})
        assert response.status_code == 400
        assert refusal in response.content.decode()
    assert not Resident.objects.exists()
    assert not Staff.objects.exists()
    assert not ResultEntry.objects.exists()


WRONG_EVERYWHERE = [
    (
        "/territory/roster/",
        "worker",
        "社区,楼栋,房号,姓名,证件号码",
        "阳光里社区,1号楼,{n},张伟,x{n}",
    ),
    (
        "/workforce/staff/import/",
        "commander",
        "单位,姓名,手机号,技能",
        "杨柳青镇,张伟,1{n},{skills}",
    ),
    ("/lab/results/", "lab", "tube,result", "T{n:08d},maybe"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "role", "header", "line"), WRONG_EVERYWHERE, ids=[w[0] for w in WRONG_EVERYWHERE]
)
def test_a_file_wrong_on_every_row_is_checked_only_to_its_first_thousand_problems(
    request, url, role, header, line
):
    """Every row wrong (600 astral skills each, for the staff list): the import stops
    checking at its thousandth problem, keeps at most that many, each value cut short."""
    skills = "、".join(["𠀀技"] * 600)
    rows = "\n".join(line.format(n=n, skills=skills) for n in range(5000))
    data = f"{header}\n{rows}\n".encode()
    tracemalloc.start()
    response = client_for(request.getfixturevalue(role)).post(url, {"file": io.BytesIO(data)})
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    page = response.content.decode()
    assert response.status_code == 400
    alerts = re.findall(r"class=\"alert[^>]*>\s*(?:<strong>)?([^<]+)", page)
    assert re.search(r"At least \d+ bad rows by row \d+, where checking stopped", page), alerts
    listed = re.search(r'<ul class="errors">(.*?)</ul>', page, re.S)
    assert listed and listed.group(1).count("<li>") == 201  # 200 shown, and a count of the rest
    assert "𠀀技" * 30 not in page  # a value is cut to 60 characters
    assert peak < 64 * 2**20, f"{peak / 2**20:.0f} MB"


@pytest.mark.django_db
def test_a_request_body_over_its_limit_is_refused_before_it_is_read(client, worker, settings):
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


def test_a_file_is_read_in_chunks_from_disk_and_left_open(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_bytes("社区,姓名\n阳光里,张伟\n".encode("gb18030"))  # read twice: UTF-8, then GBK
    with path.open("rb") as file:
        assert read_table(file, COLUMNS, SMALL).rows == [(2, ("阳光里", "张伟"))]
        assert not file.closed


@pytest.mark.django_db
def test_a_file_wrong_on_every_row_lists_the_first_200_and_counts_the_rest(worker):
    rows = "\n".join(f"阳光里社区,1号楼,,{n},张伟,,not-an-id" for n in range(250))
    data = ("社区,楼栋,单元,房号,姓名,证件类型,证件号码\n" + rows + "\n").encode()
    response = client_for(worker).post("/territory/roster/", {"file": io.BytesIO(data)})
    listed = re.search(r'<ul class="errors">(.*?)</ul>', response.content.decode(), re.S)
    assert response.status_code == 400 and listed
    assert listed.group(1).count("<li>") == 201 and "and 50 more problems" in listed.group(1)
