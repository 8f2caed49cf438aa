"""Reading a spreadsheet someone made in Excel: XLSX, or CSV in UTF-8 or GBK, into rows of text.

One reader for every import (roster, staff, lab results). ``read_table`` is given the columns
its caller reads and returns the header and, under it, only those columns of each non-empty
row. Everything it does is bounded as it streams (see ``Limits``), so that no file within the
upload limit can take a worker's memory or its time: a file that would need more is refused
whole with a ``TableFileError`` that names the limit and what to do. Row-level problems are
``RowError``s that the caller collects, so a report can name every bad row at once.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from django.utils.translation import gettext as _

from doorstep.core.tables.base import (
    Column,
    Header,
    Limits,
    RowError,
    RowErrors,
    Sheet,
    Source,
    TableFileError,
    bad_rows_summary,
    header_key,
    map_header,
)
from doorstep.core.tables.csvfile import read_csv
from doorstep.core.tables.xlsx import read_xlsx

__all__ = [
    "Column",
    "Header",
    "Limits",
    "RowError",
    "RowErrors",
    "Sheet",
    "Source",
    "TableFileError",
    "bad_rows_summary",
    "header_key",
    "map_header",
    "read_table",
]


def read_table(source: Source, columns: Sequence[Column], limits: Limits | None = None) -> Sheet:
    """The first sheet's header and the caller's ``columns`` of every non-empty row under it,
    within ``limits`` (the settings' by default). ``source`` is the file's bytes, or better a
    binary file (an upload as Django keeps it on disk), which is then read only in chunks."""
    limits = limits or Limits.from_settings()
    stream = io.BytesIO(source) if isinstance(source, bytes) else source
    stream.seek(0)
    head = stream.read(4096)
    stream.seek(0)
    if not head or (len(head) < 4096 and head.isspace()):
        raise TableFileError(_("The file is empty. Fill in the template and upload it again."))
    if head[:4] == b"PK\x03\x04":
        return read_xlsx(stream, columns, limits)
    if head[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise TableFileError(
            _(
                "This is an old Excel 97-2003 (.xls) file. In Excel choose Save As → Excel Workbook (.xlsx) and upload that."
            )
        )
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):  # Excel's "Unicode Text": UTF-16, tabs
        return read_csv(stream, columns, limits, encodings=("utf-16",))
    if b"\x00" in head:
        raise TableFileError(
            _(
                "This file is neither CSV nor XLSX. Upload the roster as an Excel workbook (.xlsx) or a CSV file."
            )
        )
    return read_csv(stream, columns, limits)
