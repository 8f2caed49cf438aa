"""What a scan costs the database: a single event in at most 6 statements and a batch of 100 in
at most 12, whatever its mix, with the per-process look-ups warm (a device's token, its lanes,
the round). The counters' fold runs after the commit, off the request in a server, and is
counted on its own: a fixed number of statements whatever the number of people it counts."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from doorstep.core import ttl
from doorstep.sampling import tally
from doorstep.testing.lanes import add, open_tube

pytestmark = pytest.mark.django_db

CONTROL = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT", "BEGIN", "COMMIT")


def statements(captured: CaptureQueriesContext) -> list[str]:
    """The statements of the work, without the transaction's own control."""
    return [q["sql"] for q in captured.captured_queries if not q["sql"].startswith(CONTROL)]


@pytest.fixture
def warm(lane_world: dict[str, Any], settings: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The lane world with the look-up caches on, and the fold left to be run by the test."""
    settings.CACHE_SECONDS = 600
    ttl.clear_all()
    monkeypatch.setattr(tally, "after_write", lambda: None)
    d, lane, people = lane_world["registrar"], lane_world["lane"], lane_world["people"]
    # The first request fills the caches: its token, its lanes on duty, the lane, the round.
    assert d.codes(open_tube(d, lane, code="2112250001", pool=10)) == ["accepted"]
    assert d.codes(add(d, "2112250001", people[0].person_code)) == ["accepted"]
    yield lane_world
    ttl.clear_all()


def test_a_single_scan_is_at_most_six_statements(warm: dict[str, Any]) -> None:
    d, people = warm["registrar"], warm["people"]
    with CaptureQueriesContext(connection) as captured:
        assert d.codes(add(d, "2112250001", people[1].person_code)) == ["accepted"]
    assert len(statements(captured)) <= 6, statements(captured)


def test_a_batch_of_a_hundred_mixed_events_is_at_most_twelve_statements(
    warm: dict[str, Any],
) -> None:
    """Tubes opened and sealed, people added, a walk-in, a refusal, a replay, a discard and a
    box packed and sealed: one read, one write per kind of row."""
    d, lane, people = warm["registrar"], warm["lane"], warm["people"]
    events = [d.event("tube.seal", tube="2112250001")]
    for n, code in enumerate(["2112250002", "2112250003", "2112250004"]):
        events.append(open_tube(d, lane, code=code, pool=10))
        events += [add(d, code, p.person_code) for p in people[1 + n * 3 : 4 + n * 3]]
        events.append(d.event("tube.seal", tube=code))
    walk_in = {"name": "赵六", "id_number": "110101199003071234", "phone": "13912345678"}
    events.append(open_tube(d, lane, code="2112250005", pool=10))
    events.append(d.event("tube.add", tube="2112250005", walk_in=walk_in))
    events.append(add(d, "2112250005", people[1].person_code))  # already sampled: refused
    events.append(events[2])  # a replay
    events.append(d.event("tube.seal", tube="2112250005"))
    events.append(open_tube(d, lane, code="2112250006", pool=10))
    events.append(d.event("tube.discard", tube="2112250006", reason="扫错"))
    events.append(d.event("box.open", lane=lane.code, box="BOX0001"))
    for code in ["2112250001", "2112250002", "2112250003", "2112250004"]:
        events.append(d.event("box.add", box="BOX0001", tube=code))
    events.append(d.event("box.seal", box="BOX0001", count=4))
    while len(events) < 100:
        events.append(events[len(events) % 20])  # replays fill it up to a hundred
    with CaptureQueriesContext(connection) as captured:
        answers = d.codes(*events)
    assert answers.count("accepted") >= 20 and "already_sampled" in answers
    assert len(statements(captured)) <= 12, statements(captured)


def test_the_fold_costs_the_same_statements_for_one_person_or_many(warm: dict[str, Any]) -> None:
    d, lane, people = warm["registrar"], warm["lane"], warm["people"]
    tally.fold()
    assert d.codes(add(d, "2112250001", people[1].person_code)) == ["accepted"]
    with CaptureQueriesContext(connection) as one:
        tally.fold()
    events = [d.event("tube.seal", tube="2112250001"), open_tube(d, lane, code="2112250002")]
    events += [add(d, "2112250002", p.person_code) for p in people[2:10]]
    assert set(d.codes(*events)) == {"accepted"}
    with CaptureQueriesContext(connection) as many:
        tally.fold()
    assert len(statements(many)) == len(statements(one)), (statements(one), statements(many))
