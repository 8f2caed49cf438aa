"""A fold that finds a large backlog (a bulk load, a server that was down for a while) adds it
all, in parts, never more ids in one statement than the database takes: SQLite's limit is
32,766 variables in a default build (Debian's is 250,000), PostgreSQL's 65,535 parameters. The
1,000,000-resident demo folded its earlier rounds in one statement and failed. On SQLite the
test lowers this connection's limit to 20,000 so that 33,000 people exceed it."""

from __future__ import annotations

import sqlite3

import pytest
from django.db import connection
from django.utils import timezone

from doorstep.canvass.models import BuildingTask
from doorstep.sampling import tally
from doorstep.sampling.models import RoundSample
from doorstep.territory.actions import assign_person_codes
from doorstep.territory.models import DocumentType, Resident
from doorstep.testing import make_building, make_campaign, make_household

pytestmark = pytest.mark.django_db

BACKLOG = 33_000  # more ids than one SQLite statement may carry


@pytest.fixture
def low_sqlite_limit():  # type: ignore[no-untyped-def]
    if connection.vendor != "sqlite":
        yield
        return
    connection.ensure_connection()
    raw = connection.connection
    before = raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    raw.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 20_000)
    yield
    raw.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, before)


def test_a_fold_of_a_backlog_larger_than_one_statement_counts_everyone(community, low_sqlite_limit):
    building = make_building(community, "1号楼")
    households = [make_household(building, f"{n + 1:03d}") for n in range(100)]
    people = [
        Resident(
            household=households[n % 100],
            town_id=community.town_id,
            community=community,
            name=f"居民{n}",
            id_type=DocumentType.PASSPORT,
            id_number=f"E{n:08d}",
        )
        for n in range(BACKLOG)
    ]
    assign_person_codes(people)
    Resident.objects.bulk_create(people, batch_size=2000)
    campaign = make_campaign(community)
    now = timezone.now()
    RoundSample.objects.bulk_create(
        [
            RoundSample(
                campaign=campaign, resident_id=pk, community_id=community.pk, sampled_at=now
            )
            for pk in Resident.objects.values_list("pk", flat=True)
        ],
        batch_size=2000,
    )
    tally.fold(wait=True)
    task = BuildingTask.objects.get(campaign=campaign, building=building)
    assert (task.residents, task.sampled, task.untested) == (BACKLOG, BACKLOG, 0)
    assert not RoundSample.objects.filter(folded=False).exists()
