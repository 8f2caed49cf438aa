"""Files made to hurt a reader: small on the wire, huge in what they ask of it.

Each is written as a stream (a part is an iterable of chunks), so that a 100 MB part packed in
a megabyte never has to be in memory here either. The tests read them with small limits; the
upload benchmark (`bench/uploads.py`) sends the sizes an attacker sent, through the server.
"""

from __future__ import annotations

import io
import itertools
import struct
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Sequence
from xml.sax.saxutils import escape

from doorstep.testing.rosters import HEADER

XML = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
MAIN = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
RELS = b'xmlns="http://schemas.openxmlformats.org/package/2006/relationships"'
DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
CHUNK = 1 << 20

Part = bytes | Iterable[bytes]


def repeat(head: bytes, unit: bytes, count: int, tail: bytes) -> Iterator[bytes]:
    """``head``, ``unit`` ``count`` times, ``tail``: in chunks of about a megabyte."""
    yield head
    per = max(1, CHUNK // len(unit))
    block = unit * per
    full, rest = divmod(count, per)
    yield from itertools.repeat(block, full)
    yield unit * rest
    yield tail


def sheet(
    rows: Iterable[bytes] | bytes = b"", head: bytes = b"", header: Sequence[str] = HEADER
) -> Iterator[bytes]:
    """A worksheet: a header row (a roster's by default), then ``rows`` as XML."""
    yield XML + b"<worksheet " + MAIN + b">" + head + b'<sheetData><row r="1">'
    for title in header:
        yield f'<c t="inlineStr"><is><t>{escape(title)}</t></is></c>'.encode()
    yield b"</row>"
    yield from [rows] if isinstance(rows, bytes) else rows
    yield b"</sheetData></worksheet>"


def workbook(
    first: Part | None = None,
    *,
    strings: Part | None = None,
    styles: Part | None = None,
    sheets: int = 1,
    extra: int = 0,
) -> bytes:
    """An XLSX with ``sheets`` sheets (the first is ``first``), optional shared strings and
    styles, and ``extra`` more small files, packed as tightly as zip can."""
    out = io.BytesIO()
    relations = [
        f'<Relationship Id="s{n}" Type="{DOC}/worksheet" Target="worksheets/sheet{n}.xml"/>'
        for n in range(1, sheets + 1)
    ]
    if strings is not None:
        relations.append(f'<Relationship Id="ss" Type="{DOC}/sharedStrings" Target="strings.xml"/>')
    if styles is not None:
        relations.append(f'<Relationship Id="st" Type="{DOC}/styles" Target="styles.xml"/>')
    listed = "".join(
        f'<sheet name="S{n}" sheetId="{n}" r:id="s{n}"/>' for n in range(1, sheets + 1)
    )
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        _write(
            archive,
            "_rels/.rels",
            XML + b"<Relationships " + RELS + b">"
            b'<Relationship Id="r1" Type="' + DOC.encode() + b'/officeDocument" '
            b'Target="xl/workbook.xml"/></Relationships>',
        )
        _write(
            archive,
            "xl/workbook.xml",
            XML + b"<workbook " + MAIN + b' xmlns:r="' + DOC.encode() + b'"><sheets>'
            b"" + listed.encode() + b"</sheets></workbook>",
        )
        _write(
            archive,
            "xl/_rels/workbook.xml.rels",
            XML
            + b"<Relationships "
            + RELS
            + b">"
            + "".join(relations).encode()
            + b"</Relationships>",
        )
        _write(archive, "xl/worksheets/sheet1.xml", sheet() if first is None else first)
        for n in range(2, sheets + 1):
            _write(archive, f"xl/worksheets/sheet{n}.xml", b"".join(sheet()))
        if strings is not None:
            _write(archive, "xl/strings.xml", strings)
        if styles is not None:
            _write(archive, "xl/styles.xml", styles)
        for n in range(extra):
            archive.writestr(f"{n:x}", b"")
    return out.getvalue()


def _write(archive: zipfile.ZipFile, name: str, part: Part) -> None:
    with archive.open(name, "w") as target:
        for chunk in [part] if isinstance(part, bytes) else part:
            target.write(chunk)


# The bombs of issue 27, by the size each was sent at; ``scale`` shrinks them for tests.


def wide_row(cells: int = 27_000_000, header: Sequence[str] = HEADER) -> bytes:
    """One row of ``cells`` cells under a sheet that says it is two rows of ten columns."""
    row = repeat(b'<row r="2">', b"<c/>", cells, b"</row>")
    return workbook(sheet(row, b'<dimension ref="A1:J2"/>', header))


def styles(count: int = 21_000_000, header: Sequence[str] = HEADER) -> bytes:
    head = XML + b"<styleSheet " + MAIN + b"><cellXfs>"
    return workbook(
        sheet(header=header), styles=repeat(head, b"<xf/>", count, b"</cellXfs></styleSheet>")
    )


def shared_strings(count: int = 24_000_000, header: Sequence[str] = HEADER) -> bytes:
    head = XML + b"<sst " + MAIN + b">"
    return workbook(sheet(header=header), strings=repeat(head, b"<si/>", count, b"</sst>"))


def many_entries(count: int = 400_000) -> bytes:
    return workbook(extra=count)


def many_sheets(count: int = 20_000) -> bytes:
    return workbook(sheets=count)


def tall(rows: int = 1_048_576, header: Sequence[str] = HEADER) -> bytes:
    """Empty rows down to ``rows``, each its own element."""
    return workbook(sheet((b'<row r="%d"/>' % n for n in range(2, rows + 1)), header=header))


def deep(levels: int = 10_000_000, header: Sequence[str] = HEADER) -> bytes:
    return workbook(sheet(repeat(b"", b"<x>", levels, b""), header=header))


def long_tag(length: int = 400_000_000, header: Sequence[str] = HEADER) -> bytes:
    return workbook(sheet(repeat(b'<row r="2" x="', b"a", length, b'"/>'), header=header))


def long_comment(length: int = 100_000_000, header: Sequence[str] = HEADER) -> bytes:
    """One comment of ``length`` bytes, a '>' every other one: expat 2.5 reads an unfinished
    token again with every chunk, so its cost grows with the square of its length."""
    return workbook(sheet(repeat(b"<!--", b"> ", length // 2, b"-->"), header=header))


def entity() -> bytes:
    lol = b'<!DOCTYPE w [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    return workbook([XML, lol, b"<worksheet " + MAIN + b"><sheetData>&b;</sheetData></worksheet>"])


def amplifier(rows: int = 200_000, header: Sequence[str] = HEADER, fill: int = 10_001) -> bytes:
    """One shared string of 2,000 astral characters (8 KB in memory each time it is read),
    referenced by every cell of ``rows`` rows, after ``fill`` rows of distinct short values that
    fill each column's memo of repeated values: 16 GB of text from a few hundred kilobytes."""
    width = len(header)
    distinct = (
        b'<row r="%d">' % (n + 2)
        + b"".join(b"<c><v>%d</v></c>" % (n * 100 + c) for c in range(width))
        + b"</row>"
        for n in range(fill)
    )
    same = b"".join([b'<c t="s"><v>0</v></c>'] * width)
    long = (b'<row r="%d">' % (n + 2) + same + b"</row>" for n in range(fill, fill + rows))
    strings = (
        XML + b"<sst " + MAIN + b"><si><t>" + "\U00020000".encode() * 2000 + b"</t></si></sst>"
    )
    return workbook(sheet(itertools.chain(distinct, long), header=header), strings=strings)


def zip64_directory(count: int = 400_000, decoy: bool = False) -> bytes:
    """A zip whose classic end record says one entry in 60 bytes while its zip64 record, which
    Python's zip module believes, says ``count``. With ``decoy``, the zip64 locator points at a
    second record that says one entry, while the zip module reads the one just before it."""
    out = io.BytesIO()
    data, name = b"<x/>", b"xl/workbook.xml"
    crc = zlib.crc32(data)
    out.write(struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 0, 0, 0, crc, 4, 4, len(name), 0))
    out.write(name + data)
    start = out.tell()
    for n in range(count):
        entry = b"%07x" % n
        out.write(
            struct.pack(
                "<4sHHHHHHIIIHHHHHII",
                b"PK\x01\x02",
                20,
                20,
                0,
                0,
                0,
                0,
                crc,
                4,
                4,
                7,
                0,
                0,
                0,
                0,
                0,
                0,
            )
            + entry
        )
    size = out.tell() - start
    record = out.tell()
    if decoy:
        out.write(struct.pack("<4sQHHIIQQQQ", b"PK\x06\x06", 44, 45, 45, 0, 0, 1, 1, 60, start))
    out.write(
        struct.pack("<4sQHHIIQQQQ", b"PK\x06\x06", 44, 45, 45, 0, 0, count, count, size, start)
    )
    out.write(struct.pack("<4sIQI", b"PK\x06\x07", 0, record, 1))
    out.write(struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 1, 1, 60, start, 0))
    return out.getvalue()


def csv_row(commas: int = 45_000_000, header: Sequence[str] = HEADER) -> bytes:
    return (",".join(header) + "\n").encode() + b"," * commas + b"\n"


def csv_quote(length: int = 45_000_000, header: Sequence[str] = HEADER) -> bytes:
    return (",".join(header) + '\n阳光里,"').encode() + b"x" * length + b'"\n'
