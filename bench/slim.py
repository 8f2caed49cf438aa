"""What the append-only tables' indexes and database keys cost a write: PostgreSQL CPU-seconds
for the ingest's INSERT shape (``core.bulk.insert``: one ``INSERT … SELECT … FROM unnest``
per table per batch, each batch its own transaction, so the deferred key checks run at its
COMMIT), with the sampling tables as they were before issue 32 slimmed them (migration 0013)
and as they are (0015), in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/doorstep_slim_bench .venv/bin/python bench/slim.py \\
        [--members 100000] [--batch 100]

The database named is emptied and migrated (it must be a scratch one, on this machine: the
backend's CPU is read from /proc). Per schema: ``--members`` tube members in tubes of ten, and
their tubes, round samples and device events, as a scan writes them, in batches of ``--batch``
members; the backend's user+system CPU for each table's inserts and in all, the commits
included. A few seconds per schema at the default size.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "doorstep.settings")
os.environ.setdefault("DOORSTEP_DEBUG", "1")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from bench.cpu import seconds  # noqa: E402
from doorstep.core import bulk  # noqa: E402
from doorstep.sampling.models import DeviceEvent, RoundSample, Tube, TubeMember  # noqa: E402
from doorstep.testing import (  # noqa: E402
    make_building,
    make_campaign,
    make_community,
    make_household,
    make_lane,
    make_resident,
    make_user,
)

SCHEMAS = [("before (0013)", "0013_site_address"), ("after (0015)", "0015_slim_append_only_tables")]
POOL = 10
# The roster the members are drawn from, in turn (a person in many tubes: member_by_resident is
# not unique); the first PEOPLE members also get their round sample.
PEOPLE = 1_000


def backend_seconds() -> float:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()  # type: ignore[misc]
    return seconds(pid)


def world(people: int) -> dict[str, object]:
    community = make_community()
    building = make_building(community)
    lane = make_lane(community)
    campaign = make_campaign(community)
    residents = [
        make_resident(make_household(building, str(100 + n // 4)), f"居民{n}")
        for n in range(people)
    ]
    user = make_user("registrar", community, username="bench-registrar")
    return {
        "community": community,
        "lane": lane,
        "campaign": campaign,
        "people": residents,
        "user": user,
    }


def run(w: dict[str, object], members: int, batch: int) -> dict[str, float]:
    lane, campaign, people, user = w["lane"], w["campaign"], w["people"], w["user"]
    now = dt.datetime.now(dt.UTC)
    spent = dict.fromkeys(["tube", "tube_member", "round_sample", "device_event", "commit"], 0.0)
    serial = 0
    for start in range(0, members, batch):
        n = min(batch, members - start)
        with transaction.atomic():
            mark = backend_seconds()
            tubes = []
            for _ in range(n // POOL):
                serial += 1
                tubes.append(
                    (campaign.pk, f"T{serial:09d}", lane.pk, lane.site_id,  # type: ignore[attr-defined]
                     lane.site.community_id, now, user.pk, None, "", "10", POOL, None, POOL,  # type: ignore[attr-defined]
                     "sealed", now, None, None, "", None, None)
                )  # fmt: skip
            ids = [row[0] for row in bulk.insert(Tube, _TUBE, tubes, returning=("id",))]
            after = backend_seconds()
            spent["tube"] += after - mark
            mark = after
            chosen = [people[(start + i) % len(people)] for i in range(n)]  # type: ignore[index]
            bulk.insert(
                TubeMember,
                _MEMBER,
                [
                    (
                        ids[i // POOL],
                        campaign.pk,
                        p.pk,
                        None,
                        p.household_id,
                        p.community_id,
                        now,
                        "",
                    )  # type: ignore[attr-defined]
                    for i, p in enumerate(chosen)
                ],
            )
            after = backend_seconds()
            spent["tube_member"] += after - mark
            mark = after
            # Round samples: the first time a person is sampled (one per person and round).
            fresh = [p for i, p in enumerate(chosen) if start + i < len(people)]  # type: ignore[arg-type]
            bulk.insert(
                RoundSample,
                ("campaign", "resident", "community", "sampled_at", "folded"),
                [(campaign.pk, p.pk, p.community_id, now, True) for p in fresh],  # type: ignore[attr-defined]
            )
            after = backend_seconds()
            spent["round_sample"] += after - mark
            mark = after
            bulk.insert(
                DeviceEvent,
                ("client_uuid", "type", "digest", "user", "at", "received_at"),
                [(uuid.uuid4(), "tube.add", "0" * 32, user.pk, now, now) for _ in range(n)],  # type: ignore[attr-defined]
            )
            after = backend_seconds()
            spent["device_event"] += after - mark
            mark = after
        spent["commit"] += backend_seconds() - mark
    return spent


_TUBE = (
    "campaign", "code", "lane", "site", "community", "opened_at", "opened_by", "received_at",
    "result", "pool_rule", "capacity", "household", "member_count", "status", "sealed_at",
    "discarded_at", "discarded_by", "discard_reason", "box", "retest_of",
)  # fmt: skip
_MEMBER = (
    "tube", "campaign", "resident", "walk_in", "household", "community", "added_at",
    "override_reason",
)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a scratch PostgreSQL database on this machine.")
    print(f"{args.members:,} members in tubes of {POOL}, batches of {args.batch}; backend CPU-s")
    for label, target in SCHEMAS:
        call_command("migrate", verbosity=0)
        call_command("migrate", "sampling", target, verbosity=0)
        call_command("flush", interactive=False, verbosity=0)
        w = world(PEOPLE)
        spent = run(w, args.members, args.batch)
        total = sum(spent.values())
        parts = ", ".join(f"{k} {v:.2f}" for k, v in spent.items())
        print(
            f"{label:14} total {total:.2f} s ({total / args.members * 1e6:.1f} µs/member): {parts}"
        )
        with connection.cursor() as cursor:
            for table in ("sampling_tube", "sampling_tubemember"):
                cursor.execute("SELECT count(*) FROM pg_indexes WHERE tablename = %s", [table])
                print(f"    {table}: {cursor.fetchone()[0]} indexes")  # type: ignore[index]
    call_command("migrate", verbosity=0)


if __name__ == "__main__":
    main()
