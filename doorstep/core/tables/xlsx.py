"""An XLSX workbook's first sheet, read as a stream with a budget for the work it does.

A workbook is a zip of XML parts, and a small file can hold a huge one: a megabyte that unpacks
to 27 million cells in one row, 21 million styles or 24 million shared strings. So nothing is
trusted that the file says of itself, and nothing is built whole:

1. The zip's central directory is measured from its last bytes before it is opened, so 400,000
   entries are refused without 400,000 entries being listed.
2. Each part read (the package and workbook relations, the list of sheets, styles, shared
   strings, the first sheet) is held to its own unpacked size and to a packing ratio before a
   byte of it is parsed; the zip reader then stops at the declared size.
3. Each part is parsed by expat in chunks. The parser counts what it meets (cells per row,
   cells, rows, elements, styles, strings) and stops at the first limit; a cell's text is
   gathered only for the caller's columns, and never past the cell limit. Shared strings are
   kept as UTF-8 in one buffer with their offsets, not as millions of objects. Parsing ends at
   the end of the sheet's data.
"""

from __future__ import annotations

import array
import datetime as dt
import posixpath
import re
import struct
import zipfile
import zlib
from collections.abc import Sequence
from typing import IO, NamedTuple
from xml.parsers import expat

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from doorstep.core.tables.base import (
    Column,
    Limits,
    Sheet,
    Sink,
    TableFileError,
    too_long,
    too_many_rows,
)

CHUNK = 64 * 1024
# The longest token (a tag with its attributes, a comment) a part may hold: expat keeps a whole
# token in memory, and reads it again with every chunk until it ends.
TAG = 1024 * 1024
DEPTH = 32  # how deep elements nest; a sheet's cells are four deep
EXCEL_COLUMNS = 16_384  # XFD, Excel's last column
STYLES = 65_536  # Excel allows 64,000 cell formats
# A directory entry is 46 bytes and its name; an XLSX's names are short.
DIRECTORY_ENTRY = 512
# Excel's built-in number formats that show a date or a time, East Asian ones included.
DATE_FORMATS = frozenset([*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)])
_NOT_A_DATE_PART = re.compile(r'"[^"]*"|\\.|_.|\*.|\[[^\]]*\]')
_DATE_LETTER = re.compile(r"[dmyhsDMYHS]|上午|下午")


# What the zip module raises on a damaged or unusual archive: a bad directory, a truncated or
# corrupt stream, a wrong checksum, encryption, an unknown compression method.
_BROKEN = (
    zipfile.BadZipFile,
    zlib.error,
    struct.error,
    EOFError,
    OSError,
    ValueError,
    RuntimeError,
    NotImplementedError,
)


class _Done(Exception):
    """The parser has what it needs from this part."""


def read_xlsx(stream: IO[bytes], columns: Sequence[Column], limits: Limits) -> Sheet:
    _check_directory(stream, limits)
    try:
        archive = zipfile.ZipFile(stream)
        infos = archive.infolist()
    except _BROKEN as exc:
        raise _not_a_workbook(exc) from None
    if len(infos) > limits.entries:
        raise _too_many_entries(len(infos), limits)
    unzipped = sum(info.file_size for info in infos)
    if unzipped > limits.unzipped:
        raise TableFileError(
            _(
                "This workbook unpacks to %(size)s MB, more than the %(limit)s MB an import may read. Save only the roster's sheet, as .xlsx or CSV, and try again."
            )
            % {"size": unzipped // 2**20, "limit": limits.unzipped // 2**20}
        )
    try:
        return _Workbook(archive, limits).first_sheet(Sink(columns, limits))
    except TableFileError:
        raise
    except (*_BROKEN, expat.ExpatError, LookupError) as exc:  # LookupError: a bogus encoding
        raise TableFileError(
            _(
                "This workbook could not be read (%(error)s). Open it in Excel, save it again as .xlsx, and try again."
            )
            % {"error": exc.__class__.__name__}
        ) from None


def _not_a_workbook(exc: Exception) -> TableFileError:
    return TableFileError(
        _(
            "This file looks like a zip archive but is not an Excel workbook (%(error)s). Save it from Excel as .xlsx and try again."
        )
        % {"error": exc.__class__.__name__}
    )


def _too_many_entries(count: int, limits: Limits) -> TableFileError:
    return TableFileError(
        _(
            "This workbook holds %(count)s files; an import opens at most %(limit)s. Copy the roster's sheet into a new workbook, save it as .xlsx, and try again."
        )
        % {"count": f"{count:,}", "limit": f"{limits.entries:,}"}
    )


def _check_directory(stream: IO[bytes], limits: Limits) -> None:
    """The entry count and directory size, from the end record the zip module itself will use
    (its own reader: a zip64 record is found where it looks, not where the file says), before
    it lists a single entry."""
    end = zipfile._EndRecData(stream)  # type: ignore[attr-defined]
    stream.seek(0)
    if end is None:
        raise _not_a_workbook(zipfile.BadZipFile())
    count, directory = end[zipfile._ECD_ENTRIES_TOTAL], end[zipfile._ECD_SIZE]  # type: ignore[attr-defined]
    if count > limits.entries or directory > limits.entries * DIRECTORY_ENTRY:
        raise _too_many_entries(max(count, directory // DIRECTORY_ENTRY), limits)


class _Budget:
    """The XML elements the parts an import reads may hold together: what the parse costs."""

    def __init__(self, elements: int) -> None:
        self.elements = elements
        self.left = elements

    def spent(self) -> TableFileError:
        return TableFileError(
            _(
                "The workbook holds more than %(count)s XML elements in the parts an import reads, more than a roster needs (200,000 rows of 10 columns take about 6 million). Copy the roster into a new workbook, save it as .xlsx, and try again."
            )
            % {"count": f"{self.elements:,}"}
        )


class _Part:
    """One XML part, parsed as a stream: a handler's ``start``, ``end`` and ``text`` see each
    element by its name without a namespace prefix (``x:c`` is ``c``), once it is counted
    against the workbook's budget and found nested at most ``DEPTH`` deep."""

    def __init__(self, what: str, budget: _Budget) -> None:
        self.what = what  # the part's name for people, in messages
        self.budget = budget
        self.depth = 0

    def opened(self, name: str, attrs: dict[str, str]) -> None:
        self.count()
        self.start(name.rpartition(":")[2], attrs)

    def count(self) -> None:
        self.budget.left -= 1
        self.depth += 1
        if self.budget.left < 0:
            raise self.budget.spent()
        if self.depth > DEPTH:
            raise TableFileError(
                _(
                    "The workbook's %(part)s nest their entries deeper than any spreadsheet does. Copy the roster into a new workbook, save it as .xlsx, and try again."
                )
                % {"part": self.what}
            )

    def closed(self, name: str) -> None:
        self.depth -= 1
        self.end(name.rpartition(":")[2])

    def start(self, name: str, attrs: dict[str, str]) -> None:
        pass

    def end(self, name: str) -> None:
        pass

    def text(self, data: str) -> None:
        pass


class _Relation(NamedTuple):
    id: str
    kind: str  # the last word of its type: officeDocument, worksheet, sharedStrings, styles
    part: str  # the part's path in the archive


class _Workbook:
    def __init__(self, archive: zipfile.ZipFile, limits: Limits) -> None:
        self.archive = archive
        self.limits = limits
        self.budget = _Budget(limits.elements)

    def first_sheet(self, sink: Sink) -> Sheet:
        package = self._relations("_rels/.rels", "")
        book = next((r.part for r in package if r.kind == "officeDocument"), "xl/workbook.xml")
        folder = posixpath.dirname(book)
        listing = _SheetList(pgettext("workbook part", "list of sheets"), self.budget)
        self._parse(book, listing, self.limits.part)
        relations = self._relations(
            posixpath.join(folder, "_rels", posixpath.basename(book) + ".rels"), folder
        )
        sheet = next((r.part for r in relations if r.id == listing.first), None)
        if sheet is None:
            raise TableFileError(
                _(
                    "The workbook's first sheet could not be found. Open it in Excel, save it again as .xlsx, and try again."
                )
            )
        parts = {r.kind: r.part for r in relations if r.part in self.archive.NameToInfo}
        strings = _Strings(
            pgettext("workbook part", "shared strings"), self.budget, most=self.limits.cells
        )
        if "sharedStrings" in parts:
            self._parse(parts["sharedStrings"], strings, self.limits.strings)
        styles = _Styles(pgettext("workbook part", "styles"), self.budget)
        if "styles" in parts:
            self._parse(parts["styles"], styles, self.limits.part)
        reader = _SheetData(
            sink, strings, styles.dates(), listing.date1904, self.limits, self.budget
        )
        self._parse(sheet, reader, self.limits.sheet)
        return sink.sheet()

    def _relations(self, path: str, folder: str) -> list[_Relation]:
        if path not in self.archive.NameToInfo:
            return []
        handler = _Relations(pgettext("workbook part", "relations"), self.budget)
        self._parse(path, handler, self.limits.part)
        return [
            _Relation(
                rid,
                kind.rpartition("/")[2],
                target.lstrip("/")
                if target.startswith("/")
                else posixpath.normpath(posixpath.join(folder, target)),
            )
            for rid, kind, target in handler.found
        ]

    def _parse(self, name: str, handler: _Part, limit: int) -> None:
        """Parse one part, after holding its unpacked size to ``limit`` and its packing ratio."""
        try:
            info = self.archive.getinfo(name)
        except KeyError:
            raise TableFileError(
                _(
                    "The workbook lacks its part %(part)s. Open it in Excel, save it again as .xlsx, and try again."
                )
                % {"part": name[:100]}
            ) from None
        if info.file_size > limit:
            raise TableFileError(
                _(
                    "The file's %(part)s are %(size)s MB unpacked; the limit is %(limit)s MB: save it again from Excel or split it."
                )
                % {
                    "part": handler.what,
                    "size": f"{info.file_size / 2**20:,.1f}",
                    "limit": f"{limit / 2**20:,.1f}".removesuffix(".0"),
                }
            )
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise TableFileError(
                _(
                    "The file's %(part)s are packed in a way Excel never uses. Save it again from Excel as .xlsx and try again."
                )
                % {"part": handler.what}
            )
        packed = max(info.compress_size, 1)
        if info.file_size > CHUNK and info.file_size > self.limits.ratio * packed:
            raise TableFileError(
                _(
                    "The file's %(part)s unpack to %(ratio)s times their packed size; a spreadsheet saved by Excel stays under %(limit)s. Save it again from Excel (or as CSV) and try again."
                )
                % {
                    "part": handler.what,
                    "ratio": f"{info.file_size // packed:,}",
                    "limit": self.limits.ratio,
                }
            )
        with self.archive.open(info) as stream:
            _feed(stream, handler)


def _feed(stream: IO[bytes], handler: _Part) -> None:
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.StartElementHandler = handler.opened
    parser.EndElementHandler = handler.closed
    parser.CharacterDataHandler = handler.text
    parser.StartDoctypeDeclHandler = _refuse_doctype
    parser.EntityDeclHandler = _refuse_doctype
    fed = 0
    try:
        while chunk := stream.read(CHUNK):
            parser.Parse(chunk, False)
            fed += len(chunk)
            # What expat has read but not yet reported is one unfinished token (a tag, a
            # comment): expat 2.5 reads it again with every chunk, so its cost grows with the
            # square of its length.
            if fed - parser.CurrentByteIndex > TAG:
                break
        else:
            parser.Parse(b"", True)
            return
    except _Done:
        return
    raise TableFileError(
        _(
            "The file's %(part)s hold a tag or comment over a megabyte long, far longer than any spreadsheet writes. Save the file again from Excel and try again."
        )
        % {"part": handler.what}
    )


def _refuse_doctype(*_args: object) -> None:
    raise TableFileError(
        _(
            "The workbook declares XML entities, which Excel never writes. Save it again from Excel and try again."
        )
    )


class _Relations(_Part):
    def __init__(self, what: str, budget: _Budget) -> None:
        super().__init__(what, budget)
        self.found: list[tuple[str, str, str]] = []

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if name == "Relationship" and "Target" in attrs:
            self.found.append((attrs.get("Id", ""), attrs.get("Type", ""), attrs["Target"]))


class _SheetList(_Part):
    """workbook.xml up to its first sheet: that sheet's relation id, and the date system."""

    first: str | None = None
    date1904 = False

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if name == "workbookPr":
            self.date1904 = attrs.get("date1904", "").lower() in ("1", "true")
        elif name == "sheet":
            self.first = next((v for k, v in attrs.items() if k.rpartition(":")[2] == "id"), None)
            raise _Done


class _Styles(_Part):
    """The number format of each cell style, to know which numbers are dates."""

    def __init__(self, what: str, budget: _Budget) -> None:
        super().__init__(what, budget)
        self.formats: dict[int, str] = {}
        self.styles: list[int] = []
        self.in_cell_styles = False

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if name == "numFmt" and len(self.formats) < STYLES:
            self.formats[_int(attrs.get("numFmtId"))] = attrs.get("formatCode", "")[:255]
        elif name == "cellXfs":
            self.in_cell_styles = True
        elif name == "xf" and self.in_cell_styles:
            if len(self.styles) >= STYLES:
                raise TableFileError(
                    _(
                        "The workbook has more than %(count)s cell styles, more than Excel allows. Copy the roster into a new workbook, save it as .xlsx, and try again."
                    )
                    % {"count": f"{STYLES:,}"}
                )
            self.styles.append(_int(attrs.get("numFmtId")))

    def end(self, name: str) -> None:
        if name == "cellXfs":
            self.in_cell_styles = False

    def dates(self) -> frozenset[int]:
        """The styles (by index) whose numbers show as dates or times."""
        return frozenset(i for i, f in enumerate(self.styles) if self._is_date(f))

    def _is_date(self, number_format: int) -> bool:
        if number_format in self.formats:
            code = _NOT_A_DATE_PART.sub("", self.formats[number_format].split(";")[0])
            return code.lower() != "general" and bool(_DATE_LETTER.search(code))
        return number_format in DATE_FORMATS


def _int(raw: str | None) -> int:
    return int(raw) if raw and raw.isascii() and raw.isdigit() and len(raw) < 10 else -1


class _Strings(_Part):
    """The shared strings as UTF-8 in one buffer, with where each one ends."""

    def __init__(self, what: str, budget: _Budget, most: int) -> None:
        super().__init__(what, budget)
        self.most = most  # texts it may hold
        self.buffer = bytearray()
        self.ends = array.array("I")
        self.gathering = False
        self.phonetic = 0

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if name == "t":
            self.gathering = not self.phonetic
        elif name == "rPh":  # the reading of East Asian text, not the text
            self.phonetic += 1

    def end(self, name: str) -> None:
        if name == "t":
            self.gathering = False
        elif name == "rPh":
            self.phonetic -= 1
        elif name == "si":
            if len(self.ends) >= self.most:
                raise TableFileError(
                    _(
                        "The workbook's shared strings hold more than %(count)s texts, more than its sheet could show. Save the file again from Excel (or as CSV) and try again."
                    )
                    % {"count": f"{self.most:,}"}
                )
            self.ends.append(len(self.buffer))

    def text(self, data: str) -> None:
        if self.gathering:
            self.buffer += data.encode()

    def __len__(self) -> int:
        return len(self.ends)

    def __getitem__(self, index: int) -> str:
        start = self.ends[index - 1] if index else 0
        return self.buffer[start : self.ends[index]].decode()


class _SheetData(_Part):
    """The sheet's rows, handed to the sink one at a time; the cells of the caller's columns.

    The one part whose size grows with the file, so its handlers are written for speed: they
    replace ``opened`` and ``closed`` rather than adding a call to each element."""

    def __init__(
        self,
        sink: Sink,
        strings: _Strings,
        dates: frozenset[int],
        date1904: bool,
        limits: Limits,
        budget: _Budget,
    ) -> None:
        super().__init__(pgettext("workbook part", "sheet"), budget)
        self.sink = sink
        self.strings = strings
        self.dates = dates
        self.date1904 = date1904
        self.limits = limits
        self.row_number = 0
        self.row_cells: dict[int, str] = {}
        self.in_row = False
        self.column = -1
        self.gathering = False
        self.keep = False
        self.kind = ""
        self.style = -1
        self.pieces: list[str] = []
        self.length = 0
        self.phonetic = 0

    def opened(self, name: str, attrs: dict[str, str]) -> None:
        self.count()
        name = name.rpartition(":")[2]
        if name == "c":
            self._start_cell(attrs)
        elif name == "v" or name == "t":
            self.gathering = self.keep and not self.phonetic
        elif name == "row":
            self._start_row(attrs)
        elif name == "rPh":
            self.phonetic += 1

    def closed(self, name: str) -> None:
        self.depth -= 1
        name = name.rpartition(":")[2]
        if name == "c":
            self._end_cell()
        elif name == "v" or name == "t":
            self.gathering = False
        elif name == "row":
            self.sink.row(self.row_number, self.row_cells)
            self.in_row = False
        elif name == "rPh":
            self.phonetic -= 1
        elif name == "sheetData":
            raise _Done

    def text(self, data: str) -> None:
        if self.gathering:
            # Counted to the end, so the message says how long the cell is; kept only to the
            # limit (with room for spaces that are trimmed).
            self.length += len(data)
            if self.length <= self.limits.cell + 64:
                self.pieces.append(data)

    def _start_row(self, attrs: dict[str, str]) -> None:
        raw = attrs.get("r")
        number = _int(raw) if raw else self.row_number + 1
        if number <= self.row_number:
            raise TableFileError(
                _(
                    "The sheet's row numbers go back after row %(row)d, which Excel never writes. Open the file in Excel, save it again as .xlsx, and try again."
                )
                % {"row": self.row_number}
            )
        if number > self.limits.rows + 1:
            raise too_many_rows(self.limits)
        self.row_number = number
        self.row_cells = {}
        self.in_row = True
        self.column = -1

    def _start_cell(self, attrs: dict[str, str]) -> None:
        ref = attrs.get("r")
        column = COLUMN_OF.get(ref.rstrip(_DIGITS), EXCEL_COLUMNS) if ref else self.column + 1
        if column <= self.column or column >= EXCEL_COLUMNS:
            raise TableFileError(
                _(
                    "Row %(row)d of the sheet has a cell out of place (%(ref)s), which Excel never writes. Open the file in Excel, save it again as .xlsx, and try again."
                )
                % {"row": self.row_number, "ref": (ref or "")[:20]}
            )
        if column >= self.limits.columns:
            raise TableFileError(
                _(
                    "Row %(row)d of the sheet has a cell in column %(column)s; an import reads at most %(limit)s columns. Delete the columns after the roster's own (even empty-looking ones) and save again."
                )
                % {
                    "row": self.row_number,
                    "column": f"{column + 1:,}",
                    "limit": self.limits.columns,
                }
            )
        self.column = column
        self.keep = keep = self.in_row and self.sink.wanted(column)
        if keep:
            self.kind = attrs.get("t", "n")
            self.style = _int(attrs.get("s"))
            self.pieces = []
        self.length = 0

    def _end_cell(self) -> None:
        if self.length > self.limits.cell + 64:
            raise too_long(self.row_number, self.column, self.length, self.limits)
        if self.keep:
            value = self._value("".join(self.pieces))
            if value:
                self.row_cells[self.column] = value
            self.keep = False

    def _value(self, raw: str) -> str:
        kind = self.kind
        if kind == "s":
            index = _int(raw.strip())
            if not 0 <= index < len(self.strings):
                raise TableFileError(
                    _(
                        "Row %(row)d of the sheet points at a shared text that is not in the file. Open it in Excel, save it again as .xlsx, and try again."
                    )
                    % {"row": self.row_number}
                )
            text = self.strings[index]
            if len(text) > self.limits.cell:
                raise too_long(self.row_number, self.column, len(text), self.limits)
            return text.strip()
        raw = raw.strip()
        if kind in ("str", "inlineStr", "e") or not raw:
            return raw
        if kind == "b":
            return "是" if raw == "1" else "否"
        if kind == "d":
            return _iso_date(raw)
        return _number(raw, self.style in self.dates, self.date1904)


def _column_names() -> dict[str, int]:
    """Every column's letters, A to XFD, and its number from 0."""
    letters = [chr(65 + n) for n in range(26)]
    names = [*letters, *(a + b for a in letters for b in letters)]
    names += [a + b for a in letters for b in names[26:]]
    return {name: n for n, name in enumerate(names[:EXCEL_COLUMNS])}


COLUMN_OF = _column_names()
_DIGITS = "0123456789"


def _number(raw: str, is_date: bool, date1904: bool) -> str:
    """What a person sees in a number cell, as the import has always read it: integers as
    digits, other numbers as Python writes them (with Excel's damage to long numbers), and a
    number in a date style as the date and time."""
    try:
        value = float(raw)
    except ValueError:
        return raw
    if is_date:
        shown = _serial_date(value, date1904)
        if shown:
            return shown
    if not any(c in raw for c in ".eE") and raw.lstrip("-").isdigit():
        return str(int(raw))
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value).upper()


def _serial_date(value: float, date1904: bool) -> str:
    """An Excel day number as ``YYYY-MM-DD HH:MM:SS`` (or the time alone for a time of day)."""
    if not 0 <= value < 2_958_466:  # 9999-12-31
        return ""
    day, fraction = divmod(value, 1)
    moment = dt.timedelta(milliseconds=round(fraction * 86_400_000))
    if day == 0 and not date1904 and moment.days == 0:
        return str((dt.datetime.min + moment).time())
    epoch = dt.datetime(1904, 1, 1) if date1904 else dt.datetime(1899, 12, 30)
    if not date1904 and 0 < value < 60:  # Excel counts 29 February 1900, which was not
        day += 1
    try:
        return str(epoch + dt.timedelta(days=day) + moment)
    except OverflowError:
        return ""


def _iso_date(raw: str) -> str:
    try:
        return str(dt.datetime.fromisoformat(raw))
    except ValueError:
        return raw
