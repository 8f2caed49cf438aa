"""Degraded mode on paper: a printable lane sheet, and the same sheet keyed in afterwards.

When the server cannot be reached for hours, a lane samples on paper too. A sheet belongs to
one lane in one round and has a number (``PS<round>-<lane>-<nnn>``). Its tube blocks each
carry a tube code reserved for that sheet and block, printed twice as Code 128: once in the
block, where the wedge scanner reads it when the sheet is keyed, and once on a cut-out label
that goes on the tube, so that the lab scans the very code the sheet holds. Nobody writes a
code by hand (re-keyed barcodes are a known failure, field guide F3.6). Where the round's
barcode pattern would refuse the sheet's codes, the block has a box for the tube's own spare
label instead.

Keying a sheet turns it into the device events a phone would have sent, each with a UUID made
from the sheet number, the tube code and the slot (open, box 1…20, seal), through the one
ingest engine: keying the sheet again answers every line "duplicate", and a tube the lane's
phone sent too is recognised line by line ("already on record") instead of being recorded
twice. Every refusal comes back on its line with what to do.

The text is read as it streams, with a budget of tubes, people per tube, line length and size.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from doorstep.campaigns.models import Campaign, PoolRule
from doorstep.sampling import code128, rules
from doorstep.sampling.models import Lane, Tube
from doorstep.sampling.queries import PLANNED_PER_MINUTE
from doorstep.sampling.rules import Refusal

# Budgets of one submission: a sheet of a half day's tubes fits with room to spare.
MAX_TUBES = 60
# Sheets printed at one time (each up to MAX_TUBES blocks): a lane's stock for a day or two.
MAX_SHEETS = 10
MAX_PEOPLE = max(rules.POOL_SIZES.values())  # no tube holds more
MAX_LINE = 300
MAX_TEXT = 60_000
# A sheet prints what a lane does in half a day (4 hours at the planning rate).
HALF_DAY_PEOPLE = round(PLANNED_PER_MINUTE * 60 * 4)
HOUSEHOLD_BOXES = 10
NAMESPACE = uuid.UUID("5b0d7c55-4f0e-4a57-9a8e-2d6f1f0c9a31")
SHEET = re.compile(r"PS(\d{1,9})-(\d{1,9})-(\d{1,3})")
TIME = re.compile(r"(\d{1,2})[:：.](\d{2})")
TIMES = re.compile(r"(\d{1,2}[:：.]\d{2})(?:\s*[-–~至到 ]\s*(\d{1,2}[:：.]\d{2}))?")
LOOKS_LIKE_TIME = re.compile(r"\d{1,2}[:：]")
WALK_IN_SEPARATORS = re.compile(r"[,，;；]")
OVERRIDE = re.compile(r"[!！]")
BARCODE = re.compile(r"[0-9A-Za-z-]{4,32}")
POOLS = [str(PoolRule.SINGLE), "5", "10", "20", str(PoolRule.HOUSEHOLD)]


class PaperError(Exception):
    """A sheet that cannot be read; nothing of it was sent. ``lines`` say what is wrong."""

    def __init__(self, *lines: str) -> None:
        super().__init__(" ".join(lines))
        self.lines = list(lines)


class OverBudget(PaperError):
    """More than one submission may hold: reading stops at once."""


# The sheet's identity -----------------------------------------------------------------------


@dataclass(frozen=True)
class SheetId:
    campaign_id: int
    lane_id: int
    seq: int

    @property
    def number(self) -> str:
        return f"PS{self.campaign_id}-{self.lane_id}-{self.seq:03d}"

    def tube_code(self, n: int) -> str:
        """Block ``n``'s reserved tube code: digits only, so that it is never read as a person
        code, and unique per round, lane, sheet and block (up to 10,000 rounds and 100,000
        lanes; beyond, a clash is refused by the ingest as a tube already in use)."""
        return f"9{self.campaign_id % 10_000:04d}{self.lane_id % 100_000:05d}{self.seq:03d}{n:02d}"

    def prints(self, code: str) -> bool | None:
        """Whether ``code`` was printed on this sheet: True, False (a code of this round's
        sheets printed on another sheet or lane), or None (no code of this round's sheets:
        a tube's own label)."""
        round_prefix = self.tube_code(0)[:5]
        if len(code) != 15 or not code.isdigit() or not code.startswith(round_prefix):
            return None
        return code.startswith(self.tube_code(0)[:13])


def parse_sheet(raw: str, lane: Lane, campaign: Campaign) -> SheetId:
    text = raw.strip().upper().replace(" ", "")
    found = SHEET.fullmatch(text)
    if found is None:
        raise PaperError(
            _(
                "«%(text)s» is not a sheet number: it is printed at the top of the sheet, e.g. %(example)s. Scan its barcode or type it."
            )
            % {"text": raw.strip()[:40], "example": SheetId(campaign.pk, lane.pk, 1).number}
        )
    sheet = SheetId(int(found[1]), int(found[2]), int(found[3]))
    if sheet.lane_id != lane.pk:
        raise PaperError(
            _(
                "Sheet %(sheet)s was printed for another lane: key it on the page of the lane it names."
            )
            % {"sheet": sheet.number}
        )
    if sheet.campaign_id != campaign.pk:
        raise PaperError(
            _(
                "Sheet %(sheet)s was printed for another round than the one running here (%(round)s): it cannot be keyed into this round."
            )
            % {"sheet": sheet.number, "round": campaign.name}
        )
    return sheet


def next_seq(campaign: Campaign, lane: Lane) -> int:
    """One past the highest sheet of this lane whose tubes are on record (a sheet printed but
    not yet keyed is not known: print a lane's stock of sheets at one time)."""
    prefix = SheetId(campaign.pk, lane.pk, 0).tube_code(0)[:10]
    codes = Tube.objects.filter(campaign=campaign, lane=lane, code__startswith=prefix)
    seqs = [int(code[10:13]) for code in codes.values_list("code", flat=True) if len(code) == 15]
    return min(max(seqs, default=0) + 1, 999)


# The printed sheet ------------------------------------------------------------------------


def boxes_for(rule: str) -> int:
    return rules.capacity(rule) or HOUSEHOLD_BOXES


def default_tubes(rule: str) -> int:
    return max(1, min(MAX_TUBES, math.ceil(HALF_DAY_PEOPLE / boxes_for(rule))))


@dataclass(frozen=True)
class Block:
    n: int
    code: str  # "" where the tube's own label is stuck
    barcode: str  # SVG
    boxes: list[int]


@dataclass(frozen=True)
class Sheet:
    id: SheetId
    lane: Lane
    campaign: Campaign
    rule: str
    blocks: list[Block]
    barcode: str
    printed_codes: bool

    @property
    def pages(self) -> list[list[Block]]:
        per_page = {1: 8, 5: 5}.get(boxes_for(self.rule), 3)
        return [self.blocks[i : i + per_page] for i in range(0, len(self.blocks), per_page)]


def make_sheet(lane: Lane, campaign: Campaign, seq: int, tubes: int, rule: str) -> Sheet:
    sheet = SheetId(campaign.pk, lane.pk, seq)
    codes = [sheet.tube_code(n) for n in range(1, tubes + 1)]
    printed = all(rules.matches(campaign.barcode_pattern, code) for code in codes)
    boxes = list(range(1, boxes_for(rule) + 1))
    blocks = [
        Block(n, code if printed else "", code128.svg(code) if printed else "", boxes)
        for n, code in enumerate(codes, start=1)
    ]
    return Sheet(sheet, lane, campaign, rule, blocks, code128.svg(sheet.number), printed)


# Reading what was keyed --------------------------------------------------------------------


@dataclass
class PaperPerson:
    line: int
    position: int  # the box, counted as typed
    text: str
    fields: dict[str, Any]
    key: str  # whom the line names, written the one way (the slot of its event's UUID)


@dataclass
class PaperTube:
    line: int
    code: str
    opened: dt.time | None = None
    sealed: dt.time | None = None
    time_line: int = 0
    people: list[PaperPerson] = field(default_factory=list)


def _lines(text: str) -> Iterator[tuple[int, str]]:
    start, n = 0, 0
    while start <= len(text):
        end = text.find("\n", start)
        end = len(text) if end == -1 else end
        n += 1
        yield n, text[start:end].strip()
        start = end + 1


def _time(raw: str) -> dt.time | None:
    found = TIME.fullmatch(raw)
    if found is None or int(found[1]) > 23 or int(found[2]) > 59:
        return None
    return dt.time(int(found[1]), int(found[2]))


def _person(line: int, position: int, text: str) -> PaperPerson:
    code, reason = text, ""
    if OVERRIDE.search(text):
        code, reason = (part.strip() for part in OVERRIDE.split(text, 1))
    if WALK_IN_SEPARATORS.search(code):
        parts = [p.strip() for p in WALK_IN_SEPARATORS.split(code)]
        if len(parts) < 2 or len(parts) > 4 or not all(parts[:2]):
            raise PaperError(
                _(
                    "Line %(line)s: a walk-in is typed as name, ID number, phone, address (separated by commas)."
                )
                % {"line": line}
            )
        parts += [""] * (4 - len(parts))
        walk_in = dict(zip(("name", "id_number", "phone", "address"), parts, strict=True))
        key = "walk-in:" + parts[1].replace(" ", "").upper()
        return PaperPerson(line, position, text, {"walk_in": walk_in, "override": reason}, key)
    return PaperPerson(line, position, text, {"person": code, "override": reason}, _key(code))


def _key(code: str) -> str:
    """A person's code or document number as the rules read it, else as typed, squeezed: the
    same person keyed again (in another box, or after a line above was added) is the same
    event, and a corrected code is a new one."""
    try:
        return rules.person_key(code).value
    except Refusal:
        return code.replace(" ", "").upper()


def read(text: str, pattern: str) -> list[PaperTube]:
    """The keyed sheet as tubes and people, read line by line within the budgets: a line is a
    tube barcode (it opens a new block), its time ("09:15" or "09:15-09:40", opened and
    sealed), a person's code or ID number (with "! reason" to sample again), or a walk-in
    ("name, ID number, phone, address")."""
    if len(text) > MAX_TEXT:
        raise PaperError(
            _(
                "The text is longer than %(limit)s characters; key at most %(tubes)s tubes at a time."
            )
            % {"limit": MAX_TEXT, "tubes": MAX_TUBES}
        )
    tubes: list[PaperTube] = []
    problems: list[str] = []
    for n, line in _lines(text):
        if len(problems) >= 10:
            break
        if not line:
            continue
        if len(line) > MAX_LINE:
            problems.append(
                _("Line %(line)s is longer than %(limit)s characters: one line holds one code.")
                % {"line": n, "limit": MAX_LINE}
            )
            continue
        tube = tubes[-1] if tubes else None
        try:
            if LOOKS_LIKE_TIME.match(line):
                _read_time(n, line, tube)
            elif _is_tube(line, pattern):
                if len(tubes) == MAX_TUBES:
                    raise OverBudget(
                        _(
                            "Line %(line)s: more than %(limit)s tubes in one go. Send the first %(limit)s tubes, then the rest."
                        )
                        % {"line": n, "limit": MAX_TUBES}
                    )
                code = rules.barcode(line, "tube")
                first = next((t.line for t in tubes if t.code == code), 0)
                if first:
                    problems.append(
                        _(
                            "Line %(line)s: tube %(code)s is already on line %(first)s. Each tube's block is keyed once: remove one of them."
                        )
                        % {"line": n, "code": code, "first": first}
                    )
                tubes.append(PaperTube(n, code))
            elif tube is None:
                problems.append(
                    _(
                        "Line %(line)s: «%(text)s» comes before any tube barcode. Scan or type the tube's barcode first, then its people."
                    )
                    % {"line": n, "text": line[:40]}
                )
            elif len(tube.people) == MAX_PEOPLE:
                raise OverBudget(
                    _(
                        "Line %(line)s: tube %(code)s has more than %(limit)s people typed, more than any tube holds. Check that the next tube's barcode was typed."
                    )
                    % {"line": n, "code": tube.code, "limit": MAX_PEOPLE}
                )
            else:
                person = _person(n, len(tube.people) + 1, line)
                twice = next((p.line for p in tube.people if p.key == person.key), 0)
                if twice:
                    problems.append(
                        _(
                            "Line %(line)s: the same person as line %(first)s, typed twice in tube %(code)s. Remove one of the two lines."
                        )
                        % {"line": n, "first": twice, "code": tube.code}
                    )
                tube.people.append(person)
        except OverBudget as error:
            raise PaperError(*problems, *error.lines) from None
        except PaperError as error:
            problems.extend(error.lines)
    if problems:
        raise PaperError(*problems)
    if not tubes:
        raise PaperError(
            _(
                "Nothing was keyed: scan the tube barcodes and the people's codes of the sheet, one per line."
            )
        )
    return tubes


def _is_tube(line: str, pattern: str) -> bool:
    """A tube barcode of the round; or a barcode that is no person's code or ID either (the
    ingest then refuses it as a tube, with the round's pattern in its words, and its people
    are not sent, rather than filed under the tube before)."""
    try:
        rules.tube_code(line, pattern)
        return True
    except Refusal:
        pass
    try:
        rules.person_key(line)
    except Refusal as refusal:
        return refusal.code == "not_a_person" and BARCODE.fullmatch(line) is not None
    return False


def _read_time(n: int, line: str, tube: PaperTube | None) -> None:
    found = TIMES.fullmatch(line)
    opened = _time(found[1]) if found else None
    sealed = _time(found[2]) if found and found[2] else None
    if opened is None or (found and found[2] and sealed is None):
        raise PaperError(
            _("Line %(line)s: «%(text)s» is not a time: write it as 09:15, or 09:15-09:40.")
            % {"line": n, "text": line[:40]}
        )
    if tube is None:
        raise PaperError(
            _("Line %(line)s: a time before any tube barcode. Type the tube's barcode first.")
            % {"line": n}
        )
    if tube.time_line:
        raise PaperError(
            _("Line %(line)s: tube %(code)s already has its time (line %(first)s).")
            % {"line": n, "code": tube.code, "first": tube.time_line}
        )
    tube.opened, tube.sealed, tube.time_line = opened, sealed, n


def read_time(raw: str) -> dt.time:
    """The time used for a tube whose box has none written ("09:15", seconds ignored)."""
    at = _time(raw.strip()[:5])
    if at is None:
        raise PaperError(
            _("“%(text)s” is not a time: write it as 09:15.") % {"text": raw.strip()[:20]}
        )
    return at
