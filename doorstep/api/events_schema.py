"""The device events as typed schemas, for the OpenAPI document: a discriminated union on
``type``, so that a device team can generate a client.

These describe the contract; the server does not validate the body against them. It reads each
event by itself (``sampling.ingest.parse``, with the lane rules' limits) and answers each one,
so an event that does not fit is answered ``invalid`` with the field named while the rest of
the batch still applies. A test holds the two together: every event type has one schema here,
and each schema's example is an event the parser accepts as that type.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import Field, WithJsonSchema

from doorstep.core.idnumbers import DOCUMENT_PATTERNS, RESIDENT_ID
from doorstep.sampling.rules import (
    BOX_PATTERN,
    MAX_ADDRESS,
    MAX_EVENTS,
    MAX_NAME,
    MAX_REASON,
    POOL_RULES,
    POOL_SIZES,
)

# Enumerations read from the rules, so that the document cannot drift from them.
DocumentType = Annotated[
    str, WithJsonSchema({"type": "string", "enum": [RESIDENT_ID, *DOCUMENT_PATTERNS]})
]
Pool = Annotated[
    str | int,
    WithJsonSchema(
        {
            "description": "1, 5, 10, 20 or household; left out, the zone's rule decides",
            "enum": [*(str(rule) for rule in POOL_RULES), *POOL_SIZES.values()],
        }
    ),
]
Barcode = Annotated[str, Field(min_length=1, max_length=32, description="as scanned")]
Count = Annotated[int, Field(ge=0, le=10_000, description="the hand count of tubes in the box")]


class _Event(Schema):
    id: uuid.UUID = Field(description="made by the device once per event; resending it is safe")
    at: dt.datetime = Field(description="when it was scanned, with its UTC offset")


class TubeOpen(_Event):
    type: Literal["tube.open"]
    lane: str = Field(description="the lane's code, printed on its sign")
    tube: Barcode
    pool: Pool | None = None

    model_config = {"json_schema_extra": {"examples": [{"lane": "K7Q4MX", "tube": "2112250001"}]}}


class WalkIn(Schema):
    name: str = Field(max_length=MAX_NAME)
    id_type: DocumentType = RESIDENT_ID
    id_number: str
    phone: str = Field("", description="11 digits starting with 1")
    address: str = Field(
        "", max_length=MAX_ADDRESS, description="where they live, so that a retest can find them"
    )


class TubeAdd(_Event):
    type: Literal["tube.add"]
    tube: Barcode
    person: str | None = Field(
        None, description="a person code, or a document number typed (with id_type)"
    )
    id_type: DocumentType | None = Field(None, description="the kind of document typed")
    walk_in: WalkIn | None = Field(None, description="someone not on the roster, instead of person")
    override: str | None = Field(
        None,
        max_length=MAX_REASON,
        description="why someone already sampled this round is sampled again",
    )

    model_config = {
        "json_schema_extra": {"examples": [{"tube": "2112250001", "person": "K7QM9XD46"}]}
    }


class TubeSeal(_Event):
    type: Literal["tube.seal"]
    tube: Barcode


class TubeDiscard(_Event):
    type: Literal["tube.discard"]
    tube: Barcode
    reason: str | None = Field(None, max_length=MAX_REASON)


class BoxOpen(_Event):
    type: Literal["box.open"]
    lane: str
    box: str = Field(pattern=f"^{BOX_PATTERN}$")


class BoxAdd(_Event):
    type: Literal["box.add"]
    box: Barcode
    tube: Barcode


class BoxSeal(_Event):
    type: Literal["box.seal"]
    box: Barcode
    count: Count


class BoxHandoff(_Event):
    type: Literal["box.handoff"]
    box: Barcode
    count: Count
    courier: str = Field(max_length=100)


class BoxReceive(_Event):
    type: Literal["box.receive"]
    box: Barcode
    count: Count


SCHEMAS: tuple[type[_Event], ...] = (
    TubeOpen,
    TubeAdd,
    TubeSeal,
    TubeDiscard,
    BoxOpen,
    BoxAdd,
    BoxSeal,
    BoxHandoff,
    BoxReceive,
)

Event = Annotated[
    TubeOpen
    | TubeAdd
    | TubeSeal
    | TubeDiscard
    | BoxOpen
    | BoxAdd
    | BoxSeal
    | BoxHandoff
    | BoxReceive,
    Field(discriminator="type"),
]


class Events(Schema):
    events: list[Event] = Field(max_length=MAX_EVENTS)


def document(schema: dict[str, Any]) -> dict[str, Any]:
    """An OpenAPI document with the events endpoint's body described by these schemas."""
    events = Events.model_json_schema(ref_template="#/components/schemas/{model}")
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.update(events.pop("$defs", {}))
    components["DeviceEvents"] = events
    body = schema["paths"]["/api/v1/events"]["post"]["requestBody"]
    body["content"]["application/json"]["schema"] = {"$ref": "#/components/schemas/DeviceEvents"}
    return schema
