"""The device API describes itself and keeps its promises about what it caches.

* The OpenAPI document types every event the engine takes (a union on ``type``), and every
  schema's example, filled in, is an event the engine's parser accepts as that type: the
  document cannot drift from the parser.
* A device's token, its registrar's lanes on duty and the round running are cached per process
  for ``DOORSTEP_CACHE_SECONDS``: a revoked token and a registrar taken off a lane stop working
  within that time, and not before it (the caches are real, not decoration)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from doorstep.api import events_schema
from doorstep.api.models import ApiToken
from doorstep.core import ttl
from doorstep.sampling.ingest.parse import KINDS, Event, parse
from doorstep.sampling.rules import MAX_EVENTS
from doorstep.workforce.models import Duty

pytestmark = pytest.mark.django_db


def _document() -> dict[str, Any]:
    return json.loads(Client().get("/api/v1/openapi.json").content)  # type: ignore[no-any-return]


def test_the_document_types_every_event_the_engine_takes_as_a_union_on_type() -> None:
    document = _document()
    events = document["components"]["schemas"]["DeviceEvents"]["properties"]["events"]
    union = events["items"]
    assert union["discriminator"]["propertyName"] == "type"
    assert set(union["discriminator"]["mapping"]) == set(KINDS)
    assert events["maxItems"] == MAX_EVENTS
    body = document["paths"]["/api/v1/events"]["post"]["requestBody"]
    assert body["content"]["application/json"]["schema"]["$ref"].endswith("/DeviceEvents")


# The fields an example leaves out because every event has them.
_FILL = {"box": "BOX0001", "tube": "2112250001", "count": 3, "lane": "K7Q4MX", "courier": "王师傅"}


@pytest.mark.parametrize("schema", events_schema.SCHEMAS, ids=lambda s: s.__name__)
def test_each_schema_describes_an_event_the_parser_accepts_as_its_type(schema: Any) -> None:
    kind = schema.model_fields["type"].annotation.__args__[0]
    examples = (schema.model_config.get("json_schema_extra") or {}).get("examples") or [{}]
    required = [n for n, f in schema.model_fields.items() if f.is_required()]
    for example in examples:
        raw = {"id": str(uuid.uuid4()), "type": kind, "at": timezone.now().isoformat()}
        raw |= {n: _FILL[n] for n in required if n not in raw and n in _FILL} | example
        schema.model_validate(raw)  # the document's own schema takes it
        parsed = parse(raw, timezone.now())
        assert isinstance(parsed, Event), getattr(parsed, "refusal", parsed)
        assert parsed.type == kind


@pytest.fixture
def caching(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The caches on, as in a server (the suite runs with them off), and a clock to move."""
    settings.CACHE_SECONDS = 5
    now = [1000.0]
    monkeypatch.setattr(ttl, "clock", lambda: now[0])
    ttl.clear_all()
    yield now
    ttl.clear_all()


def _open(device: Any, lane: Any, code: str) -> str:
    answer = device.send(device.event("tube.open", lane=lane.code, tube=code, pool=10))[0]
    return str(answer.get("error", {}).get("code", answer["status"]))


def test_a_revoked_token_stops_working_within_the_cache_time(
    lane_world: dict[str, Any], caching: list[float]
) -> None:
    device, lane = lane_world["registrar"], lane_world["lane"]
    assert _open(device, lane, "2112250001") == "accepted"
    ApiToken.objects.update(revoked_at=timezone.now())
    caching[0] += 4  # within the cache time the process still knows the token
    assert device.post("events", {"events": []}).status_code == 200
    caching[0] += 2  # past it
    assert device.post("events", {"events": []}).status_code == 401


def test_a_registrar_taken_off_their_lane_stops_scanning_there_within_the_cache_time(
    lane_world: dict[str, Any], caching: list[float]
) -> None:
    device, lane = lane_world["registrar"], lane_world["lane"]
    assert _open(device, lane, "2112250001") == "accepted"
    assert device.codes(device.event("tube.discard", tube="2112250001", reason="扫错")) == [
        "accepted"
    ]
    Duty.objects.filter(lane=lane).update(ended_at=timezone.now())
    caching[0] += 4
    assert _open(device, lane, "2112250002") == "accepted"
    assert device.codes(device.event("tube.discard", tube="2112250002", reason="扫错")) == [
        "accepted"
    ]
    caching[0] += 2
    assert _open(device, lane, "2112250003") == "forbidden"
