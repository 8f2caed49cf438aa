"""The lane's rules: every check a scan is held to, each written once with its code and words.

The ingest engine (``sampling.ingest``) applies them to the state it has read for a batch; the
lane page gets what it needs of them as data (``page_data``: the code alphabets and check
algorithms' constants, the barcode and document shapes, the pool of a tube opened "by zone",
and the words of every refusal) and runs the same checks in its JavaScript
(``sampling/static/sampling/rules.js``), which a browser test holds to this module on thousands
of generated codes. Nothing here reads or writes the database: each check takes the facts it
needs and either returns or raises ``Refusal``.

The order of the scans at a lane is the field guide's: the tube's barcode, then each person's
code (up to the pool size), then seal.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from doorstep.campaigns.models import PoolRule, Zone
from doorstep.core import codes, idnumbers
from doorstep.core.idnumbers import InvalidValue
from doorstep.core.moments import parse_moment

MAX_EVENTS = 1000
# One event as JSON: a scan is a few hundred characters; what is stored is capped.
MAX_EVENT = 4_000
# A device's clock may run a little ahead; a scan may come from shortly before the round began
# (lanes are set up and tried out before the start).
FUTURE = dt.timedelta(minutes=10)
EARLY = dt.timedelta(hours=1)
BOX_PATTERN = r"[0-9A-Z-]{4,32}"
MAX_REASON = 200
MAX_NAME = 100
MAX_ADDRESS = 200
POOL_SIZES = {PoolRule.SINGLE: 1, PoolRule.FIVE: 5, PoolRule.TEN: 10, PoolRule.TWENTY: 20}
POOL_RULES = (*POOL_SIZES, PoolRule.HOUSEHOLD)
OPEN, SEALED, DISCARDED = "open", "sealed", "discarded"
BOX_OPEN, BOX_SEALED, BOX_IN_TRANSIT, BOX_RECEIVED = "open", "sealed", "in_transit", "received"


def messages() -> dict[str, str]:
    """The words of every refusal, by name, with ``%(field)s`` where a value goes. The lane page
    gets them too (``page_data``), so a refusal made offline reads as the server's would."""
    return {
        "missing": _("“%(field)s” is missing or not text."),
        "not_text": _(
            "The event holds characters that are not text (a NUL byte or a broken character); it was not recorded. Scan again."
        ),
        "too_big": _(
            "The event is longer than %(limit)s characters; an event carries a few fields, not files."
        ),
        "nul": _("“%(field)s” holds a NUL character."),
        "count": _("“count” must be the number of tubes counted by hand, e.g. 20."),
        "pool": _('“pool” must be 1, 5, 10, 20 or "household".'),
        "at": _("“at” must be a date and time with its offset, e.g. 2021-12-25T09:12:03+08:00."),
        "future": _("“at” is more than 10 minutes in the future; check the device's clock."),
        "round": _(
            "“at” (%(at)s) is outside this round: scans are taken from %(earliest)s to %(latest)s. Check the device's date and clock."
        ),
        "id_type": _("“id_type” must be one of %(kinds)s."),
        "walk_in": _("“walk_in” must be an object with name, id_type, id_number and phone."),
        "override": _("“override” must be the reason, as text."),
        "kind_id": _("an ID number"),
        "kind_person": _("a person's code"),
        "kind_worker": _("a worker's code"),
        "not_a_tube": _(
            "%(code)s is %(kind)s, not a tube: scan the tube's barcode first, then the people."
        ),
        "pattern": _(
            "%(code)s is not a tube barcode of this round (expected %(pattern)s). Scan the tube's own label."
        ),
        "box_pattern": _("%(code)s is not a box barcode. Scan the label on the box."),
        "worker": _("%(code)s is a worker's code (a staff badge), not a resident's."),
        "bad_code": _(
            "%(code)s is not a valid person code: one character is wrong. Scan it again, or type the ID number (for a passport or permit, choose the document type first)."
        ),
        "neither": _(
            "That is neither a person code nor an ID number. Scan the code again or type the ID number; for a passport or permit, choose the document type first."
        ),
        "still_open": _(
            "Tube %(code)s is still open (%(n)s people). Seal it before starting a new tube."
        ),
        "sealed_already": _(
            "Tube %(code)s was already sealed at %(at)s with %(n)s people. Use a new tube."
        ),
        "sealed_here": _("Tube %(code)s was sealed or discarded at this lane. Use a new tube."),
        "discarded_already": _("Tube %(code)s was discarded at %(at)s. Use a new tube."),
        "tube_exists": _(
            "Tube %(code)s is already open (%(n)s people). Scan the people into it, or use a new tube."
        ),
        "lane_busy": _(
            "Tube %(code)s is still open at this lane (%(n)s people). Seal it (or discard it if empty) before opening a new tube."
        ),
        "tube_sealed": _("Tube %(code)s is sealed; nobody can be added. Open a new tube."),
        "tube_discarded": _("Tube %(code)s was discarded; nobody can be added. Open a new tube."),
        "twice": _("This person is already in this tube."),
        "single": _(
            "This person must be re-sampled alone (their pool %(code)s needs a retest). Open a single tube (pool 1)."
        ),
        "already_sampled": _(
            "This person was already sampled in this round. Only sample again with a reason (override)."
        ),
        "zone_pool": _(
            "This person lives in %(building)s (%(zone)s zone: %(rule)s) and may not go into tube %(code)s (%(tube_rule)s). Set them aside and sample them into a tube of their own kind."
        ),
        "walk_in_household": _("This is a household tube; a walk-in needs a tube of their own."),
        "household": _(
            "This tube is for one household (%(room)s). Open a new tube for this household."
        ),
        "full": _(
            "Tube %(code)s already holds %(n)s people. Seal it and open a new tube for this person."
        ),
        "seal_twice": _("Tube %(code)s is already sealed."),
        "empty": _("Tube %(code)s is empty: add people before sealing it, or discard it."),
        "not_empty": _(
            "Tube %(code)s holds %(n)s people and cannot be discarded: seal it and send it to the lab."
        ),
        "no_tube": _("There is no open tube."),
        "nothing": _("Nothing was scanned. Scan again or type the code."),
        "box_closed": _("Box %(code)s is sealed; open a new box."),
        "wrong_round": _("Tube %(tube)s belongs to another round than box %(box)s."),
        "tube_open": _("Seal tube %(code)s before boxing it."),
        "in_box": _("Tube %(code)s is already in a box."),
        "box_sealed_twice": _("Box %(code)s is already sealed."),
        "box_empty": _("Box %(code)s is empty: scan tubes into it first."),
        "handoff": _("Box %(code)s is %(status)s; only a sealed box is handed to a courier."),
        "received_already": _("Box %(code)s was already received at %(at)s."),
        "never_sealed": _("Box %(code)s was never sealed at the site."),
        "mismatch": _(
            "%(counted)s tubes counted but %(scanned)s were scanned into box %(code)s. Recount, and scan any tube not yet scanned; nothing was changed."
        ),
    }


def say(name: str, /, **values: object) -> str:
    return messages()[name] % values


class Refusal(Exception):
    """A scan the server will not record, with its code for devices and its words for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def refuse(code: str, name: str, /, **values: object) -> Refusal:
    return Refusal(code, say(name, **values))


def invalid(message: str) -> Refusal:
    return Refusal("invalid", message)


# Fields ------------------------------------------------------------------------------------


def text(raw: object, name: str, limit: int = 0) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise refuse("invalid", "missing", field=name)
    value = raw.strip()
    if "\x00" in value:
        raise refuse("invalid", "nul", field=name)
    return value[:limit] if limit else value


def barcode(raw: object, name: str) -> str:
    return text(raw, name).upper().replace(" ", "")


def count(raw: object) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= 10_000:
        raise refuse("invalid", "count")
    return raw


def pool(raw: object) -> str:
    """The pool a device asks for: "" (by zone), "1", "5", "10", "20" or "household"."""
    if raw is None or raw == "":
        return ""
    rule = str(raw)
    if isinstance(raw, bool) or rule not in POOL_RULES:
        raise refuse("invalid", "pool")
    return rule


def capacity(rule: str) -> int | None:
    """How many people a tube of this rule holds; None for a household tube (its household)."""
    return POOL_SIZES.get(rule)  # type: ignore[call-overload]


def moment(raw: object) -> dt.datetime:
    """``at``: a date and time with its offset; a naive one is read in the server's zone."""
    at = parse_moment(raw)
    if at is None:
        raise refuse("invalid", "at")
    return at


def check_moment(at: dt.datetime, starts_at: dt.datetime, now: dt.datetime) -> None:
    """A scan belongs to its round: from shortly before the round started to a few minutes
    ahead of the server's clock."""
    earliest, latest = starts_at - EARLY, now + FUTURE
    if earliest <= at <= latest:
        return

    def local(moment: dt.datetime) -> str:
        try:
            return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")
        except (OverflowError, ValueError):
            return moment.isoformat()

    raise refuse("invalid", "round", at=local(at), earliest=local(earliest), latest=local(latest))


def matches(pattern: str, value: str) -> bool:
    """The whole value matches (the page's JavaScript anchors the same way)."""
    try:
        return re.fullmatch(pattern, value) is not None
    except re.error:
        return False


# What was scanned ---------------------------------------------------------------------------

_ID_SHAPE = re.compile(r"[0-9]{17}[0-9X]")


def _has_letter(code: str) -> bool:
    return any("A" <= ch <= "Z" for ch in code)


def _is_resident_id(raw: str) -> bool:
    try:
        idnumbers.normalise_resident_id(raw)
    except InvalidValue:
        return False
    return True


def tube_code(raw: object, pattern: str) -> str:
    """A tube's barcode as scanned where a tube is expected. A person's code, an ID number or a
    worker's code is refused with words that say what it is, so that it never opens a tube.
    (Only codes with a letter count as person or worker codes here: a numeric tube barcode
    passes a check character by chance one time in 32.)"""
    value = barcode(raw, "tube")
    code = codes.normalise(value)
    kind = ""
    if _is_resident_id(value):
        kind = "kind_id"
    elif codes.is_valid(code) and _has_letter(code):
        kind = "kind_person"
    elif codes.is_valid(code, codes.WORKER_CODE_BODY) and _has_letter(code):
        kind = "kind_worker"
    if kind:
        raise refuse("not_a_tube", "not_a_tube", code=value, kind=say(kind))
    if not matches(pattern, value):
        raise refuse("invalid", "pattern", code=value, pattern=pattern)
    return value


def box_code(raw: object) -> str:
    value = barcode(raw, "box")
    if not matches(BOX_PATTERN, value):
        raise refuse("invalid", "box_pattern", code=value)
    return value


@dataclass(frozen=True)
class PersonKey:
    """Whom a scan names: a person code, or a document number."""

    code: str = ""
    number: str = ""

    @property
    def value(self) -> str:
        return self.code or self.number


def person_key(raw: object, id_type: object = None) -> PersonKey:
    """A person's code, a resident ID typed, or another document typed with its type chosen."""
    value = text(raw, "person", 64)
    if id_type not in (None, "", idnumbers.RESIDENT_ID):
        kind = str(id_type)
        if kind not in idnumbers.DOCUMENT_PATTERNS:
            kinds = ", ".join([idnumbers.RESIDENT_ID, *idnumbers.DOCUMENT_PATTERNS])
            raise refuse("invalid", "id_type", kinds=kinds)
        try:
            return PersonKey(number=idnumbers.normalise_document(kind, value))
        except InvalidValue as exc:
            raise Refusal("bad_document", str(exc)) from None
    code = codes.parse_person_code(value)
    if code is not None:
        return PersonKey(code=code)
    squeezed = value.replace(" ", "").upper()
    if _ID_SHAPE.fullmatch(squeezed) or id_type == idnumbers.RESIDENT_ID:
        try:
            return PersonKey(number=idnumbers.normalise_resident_id(value))
        except InvalidValue as exc:
            raise Refusal("bad_id_number", str(exc)) from None
    normal = codes.normalise(value)
    if codes.is_valid(normal, codes.WORKER_CODE_BODY):
        raise refuse("worker_code", "worker", code=normal)
    if len(normal) == codes.PERSON_CODE_BODY + 1 and all(ch in codes.ALPHABET for ch in normal):
        raise refuse("bad_code", "bad_code", code=codes.display(normal))
    raise refuse("not_a_person", "neither")


def person_scan(raw: object, pattern: str, tube: str, n: int) -> PersonKey:
    """A scan at a lane while tube ``tube`` (holding ``n``) is open: a person, or else a tube
    barcode, which means the registrar has moved on to the next tube without sealing this one."""
    try:
        return person_key(raw)
    except Refusal as refusal:
        if refusal.code == "not_a_person" and matches(pattern, barcode(raw, "person")):
            raise refuse("tube_still_open", "still_open", code=tube, n=n) from None
        raise


@dataclass(frozen=True)
class WalkInData:
    name: str
    id_type: str
    id_number: str
    phone: str
    address: str


def walk_in(raw: object) -> WalkInData:
    """Someone not on the roster, registered at the lane with a document of any kind."""
    if not isinstance(raw, dict):
        raise refuse("invalid", "walk_in")
    name = text(raw.get("name"), "walk_in.name", MAX_NAME)
    kind = raw.get("id_type") or idnumbers.RESIDENT_ID
    if kind != idnumbers.RESIDENT_ID and kind not in idnumbers.DOCUMENT_PATTERNS:
        kinds = ", ".join([idnumbers.RESIDENT_ID, *idnumbers.DOCUMENT_PATTERNS])
        raise refuse("invalid", "id_type", kinds=kinds)
    try:
        number = idnumbers.normalise_document(
            str(kind), text(raw.get("id_number"), "walk_in.id_number")
        )
        phone_raw = raw.get("phone")
        phone = idnumbers.normalise_phone(str(phone_raw)) if phone_raw else ""
    except InvalidValue as exc:
        raise invalid(str(exc)) from None
    address_raw = raw.get("address")
    address = text(address_raw, "walk_in.address", MAX_ADDRESS) if address_raw else ""
    return WalkInData(name, str(kind), number, phone, address)


def override(raw: object) -> str:
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise refuse("invalid", "override")
    return raw.strip().replace("\x00", "")[:MAX_REASON]


# Pools and zones ------------------------------------------------------------------------------


def _size(rule: str) -> int:
    return POOL_SIZES.get(rule, 0)  # type: ignore[call-overload]


def lane_rule(buildings: Mapping[tuple[str, str], int]) -> str:
    """The pool of a tube opened "by zone" at a lane: the rule most of the lane's community
    follows, from how many of its buildings have each (zone, pool rule). Sealed buildings do not
    come to a site and do not count unless every building is sealed; a tie goes to the smaller
    pool."""
    counted: Counter[str] = Counter()
    for (zone, rule), n in buildings.items():
        if zone != Zone.SEALED:
            counted[rule] += n
    if not counted:
        return PoolRule.HOUSEHOLD if buildings else PoolRule.TWENTY
    best = max(counted.values())
    # The household rule ranks as the smallest pool after the single tube.
    return min((r for r, n in counted.items() if n == best), key=lambda r: _size(r) or 1.5)


def person_rule(zone: str, rule: str) -> str:
    """The pool rule a person's building sets for them: a sealed zone means household tubes
    (or a single tube), whatever pool the building was given."""
    if zone == Zone.SEALED and rule != PoolRule.SINGLE:
        return PoolRule.HOUSEHOLD
    return rule


def fits(tube_rule: str, rule: str) -> bool:
    """May a person whose building sets ``rule`` go into a tube of ``tube_rule``? A smaller pool
    is always fine; one household per tube is fine unless the person must be alone."""
    if tube_rule == PoolRule.SINGLE:
        return True
    if rule == PoolRule.SINGLE:
        return False
    if tube_rule == PoolRule.HOUSEHOLD:
        return True
    if rule == PoolRule.HOUSEHOLD:
        return False
    return _size(tube_rule) <= _size(rule)


def rule_label(rule: str) -> str:
    return str(PoolRule(rule).label) if rule in POOL_RULES else rule


# Tubes -------------------------------------------------------------------------------------


@dataclass
class TubeFacts:
    """What the rules need to know of a tube: read from the database or made by this batch."""

    code: str
    campaign_id: int
    lane_id: int
    status: str
    pool_rule: str
    capacity: int | None
    member_count: int
    household_id: int | None = None
    household_room: str = ""
    box_id: int | None = None
    at: dt.datetime | None = None  # when it was sealed or discarded
    residents: set[int] = field(default_factory=set)
    walk_ins: set[str] = field(default_factory=set)


def _when(at: dt.datetime | None) -> str:
    return timezone.localtime(at).strftime("%H:%M") if at else ""


def check_new_tube(existing: TubeFacts | None, open_at_lane: TubeFacts | None) -> None:
    """A tube barcode is used once per round, and a lane fills one tube at a time."""
    if existing is not None:
        values = {"code": existing.code, "at": _when(existing.at), "n": existing.member_count}
        if existing.status == SEALED:
            raise refuse("tube_sealed", "sealed_already", **values)
        if existing.status == DISCARDED:
            raise refuse("tube_discarded", "discarded_already", **values)
        raise refuse("tube_exists", "tube_exists", **values)
    if open_at_lane is not None:
        raise refuse("lane_busy", "lane_busy", code=open_at_lane.code, n=open_at_lane.member_count)


def check_open(tube: TubeFacts) -> None:
    if tube.status == SEALED:
        raise refuse("tube_sealed", "tube_sealed", code=tube.code)
    if tube.status == DISCARDED:
        raise refuse("tube_discarded", "tube_discarded", code=tube.code)


@dataclass(frozen=True)
class PersonFacts:
    """What the rules need to know of the person being added."""

    resident_id: int | None
    walk_in: str  # a walk-in's document number; "" for a resident
    household_id: int | None
    building: str
    zone: str
    rule: str  # the building's pool rule; "" when the building is outside the round
    sampled: bool
    retest_of: str  # the code of the pool whose retest this person awaits; "" if none


def check_add(tube: TubeFacts, person: PersonFacts, reason: str) -> None:
    """Everything that must hold before a person goes into a tube, in the order a registrar
    would want to hear about it."""
    check_open(tube)
    if (person.resident_id is not None and person.resident_id in tube.residents) or (
        person.walk_in and person.walk_in in tube.walk_ins
    ):
        raise refuse("already_in_tube", "twice")
    if person.retest_of and tube.capacity != 1:
        raise refuse("single_tube_required", "single", code=person.retest_of)
    if person.sampled and not person.retest_of and not reason:
        raise refuse("already_sampled", "already_sampled")
    if person.rule and not fits(tube.pool_rule, person_rule(person.zone, person.rule)):
        raise refuse(
            "zone_pool",
            "zone_pool",
            building=person.building,
            zone=str(Zone(person.zone).label) if person.zone in Zone.values else person.zone,
            rule=rule_label(person_rule(person.zone, person.rule)),
            code=tube.code,
            tube_rule=rule_label(tube.pool_rule),
        )
    if tube.pool_rule == PoolRule.HOUSEHOLD:
        if person.household_id is None:
            raise refuse("wrong_household", "walk_in_household")
        if tube.household_id is not None and tube.household_id != person.household_id:
            raise refuse("wrong_household", "household", room=tube.household_room)
    if tube.capacity is not None and tube.member_count >= tube.capacity:
        raise refuse("tube_full", "full", code=tube.code, n=tube.member_count)


def check_seal(tube: TubeFacts) -> None:
    if tube.status == SEALED:
        raise refuse("tube_sealed", "seal_twice", code=tube.code)
    check_open(tube)
    if tube.member_count == 0:
        raise refuse("tube_empty", "empty", code=tube.code)


def check_discard(tube: TubeFacts) -> None:
    """Only an open tube with nobody in it can be thrown away: a swab is never discarded here."""
    check_open(tube)
    if tube.member_count:
        raise refuse("tube_not_empty", "not_empty", code=tube.code, n=tube.member_count)


# Boxes -------------------------------------------------------------------------------------


@dataclass
class BoxFacts:
    code: str
    campaign_id: int
    status: str
    tube_count: int
    received_at: dt.datetime | None = None


def check_box_add(box: BoxFacts, tube: TubeFacts) -> None:
    if box.status != BOX_OPEN:
        raise refuse("box_sealed", "box_closed", code=box.code)
    if tube.campaign_id != box.campaign_id:
        raise refuse("wrong_round", "wrong_round", tube=tube.code, box=box.code)
    if tube.status != SEALED:
        raise refuse("tube_open", "tube_open", code=tube.code)
    if tube.box_id is not None:
        raise refuse("already_in_box", "in_box", code=tube.code)


def check_box_seal(box: BoxFacts) -> None:
    if box.status != BOX_OPEN:
        raise refuse("box_sealed", "box_sealed_twice", code=box.code)
    if box.tube_count == 0:
        raise refuse("box_empty", "box_empty", code=box.code)


def check_handoff(box: BoxFacts, status_label: str) -> None:
    if box.status != BOX_SEALED:
        code = "box_not_sealed" if box.status == BOX_OPEN else "box_moved"
        raise refuse(code, "handoff", code=box.code, status=status_label)


def check_receive(box: BoxFacts) -> None:
    if box.status == BOX_RECEIVED:
        raise refuse("box_received", "received_already", code=box.code, at=_when(box.received_at))
    if box.status == BOX_OPEN:
        raise refuse("box_not_sealed", "never_sealed", code=box.code)


def count_mismatch(box: BoxFacts, counted: int) -> Refusal | None:
    """Count at a hand-off against what was scanned; a disagreement is refused (and recorded by
    the engine), and the box does not move on until the counts agree."""
    if counted == box.tube_count:
        return None
    return refuse(
        "count_mismatch", "mismatch", counted=counted, scanned=box.tube_count, code=box.code
    )


# For the lane page -----------------------------------------------------------------------------


def hints() -> dict[str, str]:
    """What the registrar does now when the server refuses a scan the page had already shown:
    the swab may be in the tube while the person is not recorded. ``%(tube)s`` is filled in."""
    walk_in = _(
        "This swab is in tube %(tube)s but the person is not recorded: take the person's details as a walk-in, or type their ID number, now."
    )
    again = _(
        "This swab is in tube %(tube)s but the person is not recorded in it: sample the person again into a tube of the right kind, and tell the site lead about tube %(tube)s."
    )
    return {
        "unknown_person": walk_in,
        "bad_code": walk_in,
        "bad_id_number": walk_in,
        "bad_document": walk_in,
        "not_a_person": walk_in,
        "worker_code": walk_in,
        "already_sampled": _(
            "Already sampled this round: record the reason and scan the person again, or set the swab aside."
        ),
        "already_in_tube": _("Already in tube %(tube)s: nothing more to do for this person."),
        "tube_full": again,
        "zone_pool": again,
        "wrong_household": again,
        "single_tube_required": again,
        "tube_sealed": again,
        "tube_discarded": again,
        "unknown_tube": _(
            "Tube %(tube)s was never recorded as opened: set it aside, open a new tube and sample these people again."
        ),
        "tube_exists": _(
            "Tube %(tube)s was not opened here: it is already in use. Set it aside and open a new tube."
        ),
        "lane_busy": _(
            "Another tube is open at this lane on the server: seal or discard it, then open tube %(tube)s again."
        ),
        "default": _(
            "The server did not record this scan: read the reason, and ask the site lead what to do."
        ),
    }


def as_templates(table: Mapping[str, str]) -> dict[str, str]:
    """``%(name)s`` → ``{name}``: the page's JavaScript fills templates that way."""
    return {key: re.sub(r"%\((\w+)\)s", r"{\1}", value) for key, value in table.items()}


def page_data(pattern: str, lane_pool: str) -> dict[str, Any]:
    """The rules the lane page checks offline, as data: code alphabets and check algorithms,
    barcode and document shapes, pool sizes, the pool of a tube opened "by zone", and words."""
    return {
        "personCode": {
            "alphabet": codes.ALPHABET,
            "aliases": codes.ALIASES,
            "separators": codes.SEPARATORS,
            "body": codes.PERSON_CODE_BODY,
        },
        "workerCode": {"body": codes.WORKER_CODE_BODY},
        "residentId": {
            "weights": list(idnumbers.WEIGHTS),
            "check": idnumbers.CHECK,
            "kind": idnumbers.RESIDENT_ID,
            "messages": as_templates(idnumbers.id_messages()),
        },
        "documents": {
            kind: {"pattern": pattern_, "hint": idnumbers.document_hint(kind)}
            for kind, pattern_ in idnumbers.DOCUMENT_PATTERNS.items()
        },
        "barcode": pattern,
        "box": BOX_PATTERN,
        "pools": {str(k): v for k, v in POOL_SIZES.items()},
        "household": str(PoolRule.HOUSEHOLD),
        "laneRule": lane_pool,
        "laneCapacity": capacity(lane_pool),
        "laneRuleLabel": rule_label(lane_pool),
        "messages": as_templates(messages()),
        "hints": as_templates(hints()),
    }
