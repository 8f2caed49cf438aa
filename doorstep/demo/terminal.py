"""What the long commands (``doorstep demo``, ``doorstep simulate``) print on a terminal: columns
lined up by the width a terminal gives each character, and a long job's steps as it goes.

A Chinese character takes two columns of a terminal, so ``str.ljust`` (which counts characters)
pushes a column of Chinese names out of line: ``pad`` counts columns.

The steps go to stderr, so stdout stays the job's own (a table, JSON). On a terminal they are one
line rewritten in place, ``[3/10 25%] the district's towns: 4/12``; elsewhere (a log, a pipe) a
plain line per step, and the step's own lines (a community built, an hour played) as they come.
The library code says its steps through the callback of lines it already takes, a step's name
being a ``Step``: any other callback (``print``, a list's ``append``) takes it as a line.
"""

from __future__ import annotations

import shutil
import sys
import unicodedata
from collections.abc import Sequence
from typing import TextIO


def width(text: str) -> int:
    """The columns ``text`` takes on a terminal: East Asian wide and full-width characters
    two, combining marks none, every other one."""
    columns = 0
    for character in text:
        if unicodedata.combining(character):
            continue
        columns += 2 if unicodedata.east_asian_width(character) in ("W", "F") else 1
    return columns


def pad(text: str, columns: int) -> str:
    """``text`` followed by spaces up to ``columns`` columns (as ``ljust``, by display width)."""
    return text + " " * max(0, columns - width(text))


def clip(text: str, columns: int) -> str:
    """As much of ``text`` as fits in ``columns`` columns."""
    kept, used = [], 0
    for character in text:
        used += width(character)
        if used > columns:
            break
        kept.append(character)
    return "".join(kept)


def table(rows: Sequence[Sequence[str]], indent: str = "  ", gap: str = " ") -> list[str]:
    """Rows with their columns lined up; each column as wide as its widest cell."""
    if not rows:
        return []
    widths = [max(width(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        indent + gap.join(pad(cell, widths[i]) for i, cell in enumerate(row)).rstrip()
        for row in rows
    ]


class Step(str):
    """The name of the step a job begins, said through a callback of lines. ``items``: how many
    lines of its own the step will say (communities, hours), to count it in per cent."""

    items: int

    def __new__(cls, text: str, items: int = 0) -> Step:
        step = super().__new__(cls, text)
        step.items = items
        return step


class Progress:
    """A job's steps on ``stream`` (stderr): call it with each line the job says; a ``Step``
    begins the next of ``steps`` steps. ``tty``: rewrite one line in place (the default when
    the stream is a terminal)."""

    def __init__(self, steps: int, stream: TextIO | None = None, tty: bool | None = None) -> None:
        self.stream = sys.stderr if stream is None else stream
        self.tty = self.stream.isatty() if tty is None else tty
        self.steps = steps
        self.index = 0
        self.step: Step | None = None
        self.done_items = 0
        self._shown = False

    def __call__(self, line: str) -> None:
        if isinstance(line, Step):
            self.index += 1
            self.step, self.done_items = line, 0
            if self.tty:
                self._show("")
            else:
                self._write(f"[{self.index}/{self.steps}] {line}\n")
        else:
            self.done_items += 1
            if self.tty:
                self._show(line.strip())
            else:
                self._write(f"{line}\n")

    def percent(self) -> int:
        """How much of the job is done: the steps before this one, and this one's share of its
        items (each step weighs the same)."""
        if not self.steps:
            return 100
        share = 0.0
        if self.step is not None and self.step.items:
            share = min(1.0, self.done_items / self.step.items)
        return int(100 * (max(0, self.index - 1) + share) / self.steps)

    def clear(self) -> None:
        """Take the rewritten line off a terminal: before the job prints a line of its own (the
        next step or line shows it again), and at its end."""
        if self.tty and self._shown:
            self._write("\r\x1b[K")
            self._shown = False

    def _show(self, note: str) -> None:
        counted = ""
        if self.step is not None and self.step.items:
            counted = f": {min(self.done_items, self.step.items)}/{self.step.items}"
        text = f"[{self.index}/{self.steps} {self.percent()}%] {self.step}{counted}"
        self._rewrite(f"{text}  {note}" if note else text)

    def _rewrite(self, text: str) -> None:
        # Back to the line's start and clear it: a shorter line leaves nothing of the last. A
        # line longer than the terminal would wrap, and the next would rewrite only its end.
        columns = shutil.get_terminal_size().columns - 1
        self._write(f"\r\x1b[K{clip(text, columns)}")
        self._shown = True

    def _write(self, text: str) -> None:
        # What the job printed before comes first where both streams go to one file (a log).
        sys.stdout.flush()
        self.stream.write(text)
        self.stream.flush()
