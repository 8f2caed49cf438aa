"""Reads of the territory worth naming. Callers pass querysets already scoped to the user."""

from __future__ import annotations

import hmac
import re
import unicodedata
from collections import defaultdict
from enum import StrEnum
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Length

from doorstep.core import codes
from doorstep.core.masking import SECRET_TAIL
from doorstep.territory.models import Building, Community, Household, Resident, Town


def real_towns() -> list[str]:
    """The first few towns that are not the demo's: where the demo must never go, and what
    ``doorstep serve --demo`` refuses to serve."""
    return list(
        Town.objects.filter(is_demo=False).order_by("name").values_list("name", flat=True)[:5]
    )


def community_summaries(communities: QuerySet[Community]) -> QuerySet[Community]:
    """Each community with its numbers of buildings, households and residents (one query)."""
    return communities.annotate(
        building_count=Count("buildings", distinct=True),
        resident_count=Count("residents", distinct=True),
    ).order_by("name")


def buildings_nearest_first(community: Community) -> QuerySet[Building]:
    return (
        community.buildings.annotate(
            household_count=Count("units__households", distinct=True),
            resident_count=Count(
                "units__households__residents",
                filter=Q(units__households__residents__moved_out=False),
                distinct=True,
            ),
        )
        .select_related("grid")
        .order_by("position", "name")
    )


def households_with_residents(building: Building) -> list[tuple[Household, list[Resident]]]:
    """The building's households by unit and floor, each with its residents (two queries)."""
    households = list(
        Household.objects.filter(unit__building=building)
        .select_related("unit")
        .order_by("unit__name", "floor", "room")
    )
    members: dict[int, list[Resident]] = defaultdict(list)
    for resident in Resident.objects.filter(household__in=households).order_by("id"):
        members[resident.household_id].append(resident)
    return [(h, members[h.pk]) for h in households]


class SearchKind(StrEnum):
    """What a search names. Codes, rooms and masked names are what every page shows; the
    others are personal identifiers, searched only by roles that may reveal them, audited."""

    CODE = "person_code"
    ROOM = "room"
    MASKED = "masked_name"
    DOCUMENT = "document"
    NAME = "name"

    @property
    def identifier(self) -> bool:
        return self in (SearchKind.DOCUMENT, SearchKind.NAME)


_ROOM = re.compile(r"[0-9]{1,5}")
_MASKED = re.compile(r"(.)(\*+)(.?)")


def search_kind(text: str) -> SearchKind | None:
    text = text.strip()
    if not text:
        return None
    if codes.parse_person_code(text):
        return SearchKind.CODE
    if _ROOM.fullmatch(text):
        return SearchKind.ROOM
    if "*" in text:
        return SearchKind.MASKED
    if len(text) >= 15 and any(ch.isdigit() for ch in text):
        return SearchKind.DOCUMENT
    return SearchKind.NAME


def search_residents(residents: QuerySet[Resident], text: str) -> QuerySet[Resident]:
    """By person code, room number, masked name as the pages show it (``张*``, ``欧**华``), full
    document number or name. Which kinds a user may use is the view's to decide."""
    text = text.strip()
    kind = search_kind(text)
    if kind is None:
        return residents
    if kind == SearchKind.CODE:
        return residents.filter(person_code=codes.parse_person_code(text))
    if kind == SearchKind.ROOM:
        return residents.filter(household__room=text)
    if kind == SearchKind.MASKED:
        match = _MASKED.fullmatch(text)
        if match is None:
            return residents.none()
        first, stars, last = match.groups()
        length = 1 + len(stars) + len(last)
        found = residents.annotate(name_length=Length("name")).filter(
            name__startswith=first, name_length=length
        )
        return found.filter(name__endswith=last) if last else found
    if kind == SearchKind.DOCUMENT:
        return residents.filter(id_number=text.upper().replace(" ", ""))
    return residents.filter(name__contains=text)


def _plain_address(text: str) -> str:
    """An address as typed at a lane, for comparing: full-width forms folded to ASCII, case and
    spaces and the usual separators dropped ("5号楼 1单元 301室" and "5号楼1单元301" agree)."""
    folded = unicodedata.normalize("NFKC", text or "").upper()
    return "".join(ch for ch in folded if not ch.isspace() and ch not in "-—_/,，.。#室")


# How people write a building's number: 3号楼, 3栋, 3幢, 3座 are one building.
_BUILDING_WORDS = re.compile(r"(\d+)(?:号楼|号栋|号幢|栋|幢|座)")


def _building_form(text: str) -> str:
    return _BUILDING_WORDS.sub(r"\1号楼", text)


def _without_place(wanted: str, community: Community) -> str:
    """The address without the town's and the community's names people put in front
    (中北镇桃源里社区…, 桃源里…)."""
    town = _plain_address(community.town.name)
    if town and wanted.startswith(town):
        wanted = wanted[len(town) :]
    name = _plain_address(community.name)
    for prefix in (name, name.removesuffix("社区"), name.removesuffix("村")):
        if prefix and wanted.startswith(prefix):
            return wanted[len(prefix) :]
    return wanted


def trace_address(community_id: int, address: str) -> Household | None:
    """The household of the community at an address typed at a lane (a walk-in's), when exactly
    one matches: the building's name, then the unit's name if the building has several, then
    the room, with nothing left over. The town's and community's names in front are passed
    over, and a building may be written 3号楼, 3栋, 3幢 or 3座. None when the address names no
    household or several."""
    community = Community.objects.select_related("town").filter(pk=community_id).first()
    wanted = _building_form(_plain_address(address))
    if not wanted or community is None:
        return None
    wanted = _without_place(wanted, community)
    buildings = [
        b
        for b in Building.objects.filter(community_id=community_id).only("id", "name")
        if _plain_address(b.name) and wanted.startswith(_building_form(_plain_address(b.name)))
    ]
    found: list[Household] = []
    for building in buildings:
        rest = wanted[len(_building_form(_plain_address(building.name))) :]
        households = list(Household.objects.filter(unit__building=building).select_related("unit"))
        one_unit = len({h.unit_id for h in households}) == 1
        for household in households:
            unit, room = _plain_address(household.unit.name), _plain_address(household.room)
            if rest == unit + room or (one_unit and rest == room):
                found.append(household)
    return found[0] if len(found) == 1 else None


def address_book(community_id: int) -> list[list[Any]]:
    """The community's addresses as the walk-in pickers offer them, from the roster: each
    building with its units and their rooms, in the order people walk them.
    ``[["3号楼", [["1单元", ["101", "102"]], …]], …]``. A picked building, unit and room,
    written one after the other, is an address ``trace_address`` finds."""
    book: dict[str, dict[str, list[str]]] = {}
    for building, unit, room in (
        Household.objects.filter(unit__building__community_id=community_id)
        .order_by("unit__building__position", "unit__building__name", "unit__name", "floor", "room")
        .values_list("unit__building__name", "unit__name", "room")
    ):
        book.setdefault(building, {}).setdefault(unit, []).append(room)
    return [[b, [[u, rooms] for u, rooms in units.items()]] for b, units in book.items()]


# A resident who is not signed in proves who they are with their person code and the last six
# characters of their document number, which no masked page shows.
def document_tail(raw: str) -> str:
    """What a resident types for the last six characters of their document number."""
    return "".join(ch for ch in (raw or "").upper() if ch.isascii() and ch.isalnum())[:6]


def resident_by_code_and_document(code: str | None, tail: str) -> Resident | None:
    """The resident with this (parsed) person code whose document number ends in ``tail``:
    its last six characters (or the whole number, for a shorter one)."""
    if code is None or not tail:
        return None
    resident = Resident.objects.filter(person_code=code).first()
    if resident is None:
        return None
    expected = resident.id_number[-SECRET_TAIL:]
    return resident if hmac.compare_digest(expected, tail) else None
