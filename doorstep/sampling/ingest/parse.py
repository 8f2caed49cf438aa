"""Parse: a device's raw events become typed events, or refusals answered without a look-up.

Only what can be checked from the event alone is checked here (its id, type, fields and the
upper bound of its time); everything that needs the database is checked in ``play``.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from django.utils.translation import gettext as _

from doorstep.core import codes
from doorstep.core.inputs import is_text
from doorstep.sampling import rules
from doorstep.sampling.rules import PersonKey, Refusal, WalkInData


@dataclass(frozen=True, kw_only=True)
class Event:
    uid: uuid.UUID
    at: dt.datetime
    raw: dict[str, Any]
    type: ClassVar[str]


@dataclass(frozen=True, kw_only=True)
class TubeOpen(Event):
    type: ClassVar[str] = "tube.open"
    lane: str
    tube: str  # checked against the round's barcode pattern once the round is known
    pool: str


@dataclass(frozen=True, kw_only=True)
class TubeAdd(Event):
    type: ClassVar[str] = "tube.add"
    tube: str
    person: PersonKey | None
    walk_in: WalkInData | None
    override: str


@dataclass(frozen=True, kw_only=True)
class TubeSeal(Event):
    type: ClassVar[str] = "tube.seal"
    tube: str


@dataclass(frozen=True, kw_only=True)
class TubeDiscard(Event):
    type: ClassVar[str] = "tube.discard"
    tube: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class BoxOpen(Event):
    type: ClassVar[str] = "box.open"
    lane: str
    box: str


@dataclass(frozen=True, kw_only=True)
class BoxAdd(Event):
    type: ClassVar[str] = "box.add"
    box: str
    tube: str


@dataclass(frozen=True, kw_only=True)
class BoxCount(Event):
    """A hand-off with a hand count: sealed at the site, to the courier, received at the lab."""

    type: ClassVar[str] = "box.seal"
    box: str
    count: int
    courier: str = ""


@dataclass(frozen=True, kw_only=True)
class BoxHandoff(BoxCount):
    type: ClassVar[str] = "box.handoff"


@dataclass(frozen=True, kw_only=True)
class BoxReceive(BoxCount):
    type: ClassVar[str] = "box.receive"


@dataclass(frozen=True)
class Bad:
    """An event refused before any look-up; ``uid`` is None when it has no usable id."""

    uid: uuid.UUID | None
    raw_id: str
    raw: object
    refusal: Refusal


Parsed = Event | Bad


def _lane(raw: dict[str, Any]) -> str:
    return codes.normalise(rules.text(raw.get("lane"), "lane", 32))


def _tube_open(b: dict[str, Any]) -> dict[str, Any]:
    return {
        "lane": _lane(b),
        "tube": rules.barcode(b.get("tube"), "tube"),
        "pool": rules.pool(b.get("pool")),
    }


def _tube_add(b: dict[str, Any]) -> dict[str, Any]:
    walk_in = rules.walk_in(b["walk_in"]) if b.get("walk_in") is not None else None
    return {
        "tube": rules.barcode(b.get("tube"), "tube"),
        "person": None if walk_in else rules.person_key(b.get("person"), b.get("id_type")),
        "walk_in": walk_in,
        "override": rules.override(b.get("override")),
    }


def _tube(b: dict[str, Any]) -> dict[str, Any]:
    return {"tube": rules.barcode(b.get("tube"), "tube")}


def _discard(b: dict[str, Any]) -> dict[str, Any]:
    return {**_tube(b), "reason": rules.override(b.get("reason"))}


def _box_open(b: dict[str, Any]) -> dict[str, Any]:
    return {"lane": _lane(b), "box": rules.box_code(b.get("box"))}


def _box_add(b: dict[str, Any]) -> dict[str, Any]:
    return {"box": rules.barcode(b.get("box"), "box"), "tube": rules.barcode(b.get("tube"), "tube")}


def _box_count(b: dict[str, Any]) -> dict[str, Any]:
    return {"box": rules.barcode(b.get("box"), "box"), "count": rules.count(b.get("count"))}


def _handoff(b: dict[str, Any]) -> dict[str, Any]:
    return {**_box_count(b), "courier": rules.text(b.get("courier"), "courier", 100)}


KINDS: dict[str, tuple[type[Event], Callable[[dict[str, Any]], dict[str, Any]]]] = {
    "tube.open": (TubeOpen, _tube_open),
    "tube.add": (TubeAdd, _tube_add),
    "tube.seal": (TubeSeal, _tube),
    "tube.discard": (TubeDiscard, _discard),
    "box.open": (BoxOpen, _box_open),
    "box.add": (BoxAdd, _box_add),
    "box.seal": (BoxCount, _box_count),
    "box.handoff": (BoxHandoff, _handoff),
    "box.receive": (BoxReceive, _box_count),
}


def parse(raw: object, now: dt.datetime) -> Parsed:
    if not isinstance(raw, dict):
        return Bad(None, "", raw, rules.invalid(_("Each event must be an object.")))
    raw_id = raw.get("id")
    try:
        uid = uuid.UUID(raw_id) if isinstance(raw_id, str) and len(raw_id) <= 40 else None
    except ValueError:
        uid = None
    if uid is None:
        return Bad(
            None,
            str(raw_id or "")[:40],
            raw,
            rules.invalid(_("“id” must be a UUID made by the device.")),
        )
    kind = raw.get("type")
    try:
        if not is_text(raw):
            raise rules.refuse("invalid", "not_text")
        if len(json.dumps(raw, ensure_ascii=False, default=str)) > rules.MAX_EVENT:
            raise rules.refuse("invalid", "too_big", limit=rules.MAX_EVENT)
        if not isinstance(kind, str) or kind not in KINDS:
            raise rules.invalid(
                _("Unknown event type «%(type)s»; expected one of %(types)s.")
                % {"type": str(kind)[:40], "types": ", ".join(KINDS)}
            )
        at = rules.moment(raw.get("at"))
        if at > now + rules.FUTURE:
            raise rules.invalid(
                _("“at” is more than 10 minutes in the future; check the device's clock.")
            )
        cls, fields = KINDS[kind]
        return cls(uid=uid, at=at, raw=raw, **fields(raw))
    except Refusal as refusal:
        return Bad(uid, str(uid), raw, refusal)
