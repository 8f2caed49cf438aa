"""The building page of a 33-floor tower (8 households a floor, 264 in all) against a six-household
walk-up, rendered by the same server in the same run: time (best of 7), statements, page size.

    .venv/bin/python bench/tower.py
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DOORSTEP_HOME", tempfile.mkdtemp(prefix="doorstep-bench-tower-"))
os.environ.setdefault("DOORSTEP_DEBUG", "1")
os.environ.pop("DATABASE_URL", None)
os.environ["DJANGO_SETTINGS_MODULE"] = "doorstep.settings"

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402

from doorstep.canvass import actions  # noqa: E402
from doorstep.canvass.models import BuildingTask  # noqa: E402
from doorstep.core.roles import Role  # noqa: E402
from doorstep.testing import (  # noqa: E402
    client_for,
    make_building,
    make_campaign,
    make_community,
    make_door_team,
    make_household,
    make_resident,
    make_user,
)


def _building(community, name: str, floors: int, per_floor: int):  # type: ignore[no-untyped-def]
    building = make_building(community, name)
    building.floors = floors
    building.save()
    for floor in range(1, floors + 1):
        for n in range(1, per_floor + 1):
            household = make_household(building, f"{floor}{n:02d}")
            make_resident(household, "住户甲")
            make_resident(household, "住户乙")
    return building


def _measure(client, url: str) -> tuple[float, int, int, int]:  # type: ignore[no-untyped-def]
    """Best of 7 (ms), statements, bytes, and bytes as a phone receives them (gzip)."""
    best, statements = float("inf"), 0
    for _ in range(7):
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        best = min(best, time.perf_counter() - started)
        statements = len(queries)  # read now: the next request starts a new log
        assert response.status_code == 200, (response.status_code, response.get("Location"))
    zipped = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert zipped.get("Content-Encoding") == "gzip"
    return best * 1000, statements, len(response.content), len(zipped.content)


def main() -> None:
    call_command("migrate", verbosity=0)
    community = make_community()
    tower = _building(community, "18号楼", 33, 8)
    walkup = _building(community, "3号楼", 1, 6)
    campaign = make_campaign(community)
    leader = make_user(Role.TEAM_LEADER, community)
    make_door_team(community, "第2组", leader)
    client = client_for(leader)
    client.defaults["HTTP_HOST"] = "localhost"
    rows = []
    for building in (walkup, tower):
        task = BuildingTask.objects.get(campaign=campaign, building=building)
        actions.claim(leader, task)
        rows.append((building, *_measure(client, reverse("canvass:task", args=[task.pk]))))
        actions.release(leader, task)
    (_b, base_ms, base_q, base_size, base_zip), (_t, ms, q, size, zipped) = rows
    print("| building page | households | ms (best of 7) | statements | KB | KB sent (gzip) |")
    print("|---|---|---|---|---|---|")
    print(
        f"| walk-up (baseline) | 6 | {base_ms:.1f} | {base_q} | {base_size / 1024:.0f} | "
        f"{base_zip / 1024:.0f} |"
    )
    print(
        f"| tower, 33 floors | 264 | {ms:.1f} ({ms / base_ms:.1f}×) | {q} | {size / 1024:.0f} | "
        f"{zipped / 1024:.0f} |"
    )


if __name__ == "__main__":
    main()
