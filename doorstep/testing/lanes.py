"""A lane's device and the lab's, for tests: events with fresh UUIDs posted to the real API,
tubes filled and sealed, boxes carried to the lab and results posted."""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.test import Client
from django.utils import timezone

from doorstep.sampling.models import Box, Lane, Tube
from doorstep.territory.models import Resident
from doorstep.testing import valid_id


class Device:
    """A scanner with a token: builds events with fresh UUIDs and posts them."""

    def __init__(self, token: str) -> None:
        self.client = Client()
        self.token = token

    def event(self, type_: str, **fields: Any) -> dict[str, Any]:
        # Scans happen now, inside the round the fixtures start.
        return {"id": str(uuid.uuid4()), "type": type_, "at": timezone.now().isoformat(), **fields}

    def post(self, path: str, body: object) -> Any:
        return self.client.post(
            f"/api/v1/{path}",
            json.dumps(body) if not isinstance(body, str) else body,
            content_type="application/json",
            # Messages come in the language the device asks for (Chinese by default).
            headers={"Authorization": f"Bearer {self.token}", "Accept-Language": "en"},
        )

    def send(self, *events: dict[str, Any]) -> list[dict[str, Any]]:
        response = self.post("events", {"events": list(events)})
        assert response.status_code == 200, response.content
        return response.json()["results"]

    def codes(self, *events: dict[str, Any]) -> list[str]:
        return [r.get("error", {}).get("code", r["status"]) for r in self.send(*events)]


def open_tube(device: Device, lane: Any, code: str = "2112250001", **extra: Any) -> dict[str, Any]:
    return device.event("tube.open", lane=lane.code, tube=code, **extra)


def add(device: Device, code: str, person: str, **extra: Any) -> dict[str, Any]:
    return device.event("tube.add", tube=code, person=person, **extra)


def sampled_elsewhere(world: dict[str, Any], *people: Any) -> None:
    """People sampled just now at the site's other lane (in an open tube of ten there)."""
    d, lane = world["registrar"], world["lane"]
    other = lane.site.lanes.exclude(pk=lane.pk).first()
    answers = d.codes(
        open_tube(d, other, "2112240001", pool=10),
        *[add(d, "2112240001", p.person_code) for p in people],
    )
    assert set(answers) == {"accepted"}, answers


def fresh_id() -> str:
    return valid_id()


_boxes = iter(range(1, 10_000))


def to_the_lab(world: dict[str, Any], *codes: str) -> None:
    """Sealed tubes reach the lab the only way they can: in a box, counted. Tubes already in a
    box travel with it; the others are boxed at their lane's site first."""
    registrar, lab, lane = world["registrar"], world["lab"], world["lane"]
    tubes = Tube.objects.filter(code__in=codes)
    loose = [t.code for t in tubes if t.box_id is None]
    boxes = set(tubes.exclude(box=None).values_list("box__code", flat=True))
    if loose:
        box = f"LABBOX{next(_boxes):04d}"
        events = [registrar.event("box.open", lane=lane.code, box=box)]
        events += [registrar.event("box.add", box=box, tube=code) for code in loose]
        events.append(registrar.event("box.seal", box=box, count=len(loose)))
        assert {a["status"] for a in registrar.send(*events)} == {"accepted"}
        boxes.add(box)
    for box in sorted(boxes):
        found = Box.objects.get(code=box)
        if found.status == "open":
            registrar.send(registrar.event("box.seal", box=box, count=found.tube_count))
        assert lab.codes(lab.event("box.receive", box=box, count=found.tube_count)) == ["accepted"]


def sealed_tube(
    d: Device, lane: Lane, people: list[Resident], code: str = "2112250001", pool: int | None = None
) -> Tube:
    extra: dict[str, Any] = {"pool": pool} if pool is not None else {}
    events = [d.event("tube.open", lane=lane.code, tube=code, **extra)]
    events += [d.event("tube.add", tube=code, person=p.person_code) for p in people]
    events.append(d.event("tube.seal", tube=code))
    assert {a["status"] for a in d.send(*events)} == {"accepted"}
    return Tube.objects.get(code=code)


def post(world: dict[str, Any], *rows: Any) -> list[dict[str, Any]]:
    """The lab posts result rows for tubes it has received: tubes not yet at the lab are sent
    there first, boxed and counted, as they are in practice."""
    waiting = Tube.objects.filter(
        code__in=[
            r["tube"] for r in rows if isinstance(r, dict) and "\x00" not in r.get("tube", "")
        ],
        status="sealed",
        received_at__isnull=True,
    ).values_list("code", flat=True)
    if waiting:
        to_the_lab(world, *waiting)
    response = world["lab"].post("results", {"results": list(rows)})
    assert response.status_code == 200, response.content
    results: list[dict[str, Any]] = response.json()["results"]
    return results
