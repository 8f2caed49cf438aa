"""A lane at 广场采样点 in a community with a controlled building (10 in 1) and a sealed one
(one tube per household), a registrar with a token, and a lab receiver with one."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from doorstep.api.models import ApiToken
from doorstep.campaigns.models import CampaignBuilding, PoolRule, Zone
from doorstep.conftest import (
    make_building,
    make_campaign,
    make_household,
    make_lane,
    make_lane_team,
    make_resident,
    valid_id,
)
from doorstep.sampling.models import Box, Tube


@pytest.fixture
def lane_world(community, registrar, lab):  # type: ignore[no-untyped-def]
    controlled = make_building(community, "12号楼", position=12)
    sealed = make_building(community, "13号楼", position=13)
    people = [
        make_resident(make_household(controlled, f"{floor}0{n}"), f"居民{floor}{n}")
        for floor in range(1, 5)
        for n in range(1, 4)
    ]
    home = make_household(sealed, "301")
    family = [make_resident(home, "王父"), make_resident(home, "王母")]
    neighbour = make_resident(make_household(sealed, "302"), "邻居")
    campaign = make_campaign(community)
    CampaignBuilding.objects.filter(campaign=campaign, building=controlled).update(
        zone=Zone.CONTROLLED, pool_rule=PoolRule.TEN
    )
    CampaignBuilding.objects.filter(campaign=campaign, building=sealed).update(
        zone=Zone.SEALED, pool_rule=PoolRule.HOUSEHOLD
    )
    lane = make_lane(community)
    # The registrar is on duty at the lane (a registrar scans only where on duty) and, for
    # tests that use the site's other lane, their device's token is given that lane too.
    make_lane_team(lane, registrar)
    other = lane.site.lanes.exclude(pk=lane.pk).first()
    return {
        "campaign": campaign,
        "lane": lane,
        "people": people,
        "family": family,
        "neighbour": neighbour,
        "registrar": Device(ApiToken.issue(registrar, lane=other)[1]),
        "registrar_user": registrar,
        "lab": Device(ApiToken.issue(lab)[1]),
    }


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
