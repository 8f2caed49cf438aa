"""A lane at 广场采样点 in a community with a controlled building (10 in 1) and a sealed one
(one tube per household), a registrar with a token, and a lab receiver with one."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from django.test import Client

from doorstep.api.models import ApiToken
from doorstep.campaigns.models import CampaignBuilding, PoolRule, Zone
from doorstep.conftest import (
    make_building,
    make_campaign,
    make_household,
    make_lane,
    make_resident,
    valid_id,
)

AT = "2021-12-25T09:12:03+08:00"


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
    return {
        "campaign": campaign,
        "lane": lane,
        "people": people,
        "family": family,
        "neighbour": neighbour,
        "registrar": Device(ApiToken.issue(registrar)[1]),
        "lab": Device(ApiToken.issue(lab)[1]),
    }


class Device:
    """A scanner with a token: builds events with fresh UUIDs and posts them."""

    def __init__(self, token: str) -> None:
        self.client = Client()
        self.token = token

    def event(self, type_: str, **fields: Any) -> dict[str, Any]:
        return {"id": str(uuid.uuid4()), "type": type_, "at": AT, **fields}

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


def fresh_id() -> str:
    return valid_id()
