"""CSV in UTF-8 (with or without BOM) or GBK/GB18030, and Excel's "Unicode Text" (UTF-16 with
its BOM, tab-separated), read a record at a time.

The text is decoded as it is read, and no record may be longer than every column full
(``Limits.record``): a line of 45 million commas is refused after its first few hundred
kilobytes, never split into 45 million cells.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from typing import IO

from django.utils.translation import gettext as _

from doorstep.core.tables.base import Column, Limits, Sheet, Sink, TableFileError

# How people know the encodings tried.
NAMES = {"utf-8-sig": "UTF-8", "gb18030": "GBK/GB18030", "utf-16": "UTF-16"}


def read_csv(
    stream: IO[bytes],
    columns: Sequence[Column],
    limits: Limits,
    encodings: Sequence[str] = ("utf-8-sig", "gb18030"),
) -> Sheet:
    for encoding in encodings:
        stream.seek(0)
        text = io.TextIOWrapper(stream, encoding=encoding, newline="")
        try:
            return _read(text, Sink(columns, limits), limits)
        except UnicodeDecodeError:
            continue
        finally:
            text.detach()  # the caller's file stays open
    raise TableFileError(
        _(
            "The file's text encoding could not be read (tried %(tried)s). Save it from Excel as .xlsx, or as CSV UTF-8."
        )
        % {"tried": ", ".join(NAMES[e] for e in encodings)}
    )


class _Records:
    """The file's lines, refused as soon as one record has run longer than allowed."""

    def __init__(self, text: io.TextIOWrapper, limits: Limits) -> None:
        self.text = text
        self.limits = limits
        self.pending = 0  # characters of the record being read
        self.rows = 0  # records read whole

    def first_line(self) -> str:
        return self.text.readline(self.limits.record + 1)

    def lines(self, first: str) -> Iterator[str]:
        line = first
        while line:
            self.pending += len(line)
            if self.pending > self.limits.record:
                raise TableFileError(
                    _(
                        "Row %(row)d is longer than %(limit)s characters (%(columns)d columns of %(cell)s): check the separator (comma or tab) and that every quote is closed."
                    )
                    % {
                        "row": self.rows + 1,
                        "limit": f"{self.limits.record:,}",
                        "columns": self.limits.columns,
                        "cell": f"{self.limits.cell:,}",
                    }
                )
            yield line
            line = self.text.readline(self.limits.record + 1)


def _read(text: io.TextIOWrapper, sink: Sink, limits: Limits) -> Sheet:
    records = _Records(text, limits)
    first = records.first_line()
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    reader = csv.reader(records.lines(first), delimiter=delimiter)
    try:
        for number, row in enumerate(reader, start=1):
            records.rows, records.pending = number, 0
            if len(row) > limits.columns and any(row[limits.columns :]):
                raise TableFileError(
                    _(
                        "Row %(row)d has %(columns)s columns; an import reads at most %(limit)s. Check the separator (comma or tab) and the file."
                    )
                    % {"row": number, "columns": f"{len(row):,}", "limit": limits.columns}
                )
            sink.row(
                number, {c: cell.strip() for c, cell in enumerate(row) if sink.wanted(c) and cell}
            )
    except csv.Error as exc:
        raise TableFileError(
            _(
                "Row %(row)d of the CSV file cannot be read (%(error)s): a quote is probably not closed. Save the file from Excel again."
            )
            % {"row": records.rows + 1, "error": str(exc)[:80]}
        ) from None
    return sink.sheet()
