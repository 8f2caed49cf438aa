"""Group commit (``ingest.combine``): requests that arrive together are applied as one batch,
each event checked as its own sender's, and each request answered after the shared commit
with exactly what it would have been told alone."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone

from doorstep.core.roles import Role
from doorstep.sampling import ingest
from doorstep.sampling.ingest import combine
from doorstep.sampling.ingest.combine import Combiner
from doorstep.sampling.models import DeviceEvent, RoundSample, Tube, TubeMember
from doorstep.testing import make_lane_team, make_user

pytestmark = pytest.mark.django_db


def event(type_: str, **fields: Any) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "type": type_, "at": timezone.now().isoformat(), **fields}


@pytest.fixture
def two_lanes(lane_world: dict[str, Any], community: Any) -> dict[str, Any]:
    """The lane world's registrar at lane 1, and a second registrar on duty at lane 2."""
    lane = lane_world["lane"]
    other = lane.site.lanes.exclude(pk=lane.pk).get()
    second = make_user(Role.REGISTRAR, community)
    make_lane_team(other, second, name="采样2组")
    return {**lane_world, "other": other, "second": second}


def _requests(world: dict[str, Any]) -> list[tuple[Any, list[dict[str, Any]]]]:
    first, second = world["registrar_user"], world["second"]
    lane, other, people = world["lane"], world["other"], world["people"]
    opened = event("tube.open", lane=lane.code, tube="2112250001", pool=10)
    return [
        (first, [opened, event("tube.add", tube="2112250001", person=people[0].person_code)]),
        # The second registrar is not on duty at lane 1: refused, though the first may.
        (second, [event("tube.open", lane=lane.code, tube="2112250009", pool=10)]),
        (second, [event("tube.open", lane=other.code, tube="2112250002", pool=10)]),
        # Someone the first registrar sampled a moment ago, in the same combined batch.
        (second, [event("tube.add", tube="2112250002", person=people[0].person_code)]),
        (second, [event("tube.add", tube="2112250002", person=people[1].person_code)]),
        # A tube of lane 1 is not the second registrar's to fill.
        (second, [event("tube.add", tube="2112250001", person=people[2].person_code)]),
        (first, [opened]),  # a replay
    ]


def _state() -> list[Any]:
    return [
        sorted(Tube.objects.values_list("code", "lane_id", "opened_by_id", "member_count")),
        sorted(TubeMember.objects.values_list("tube__code", "resident_id")),
        sorted(RoundSample.objects.values_list("resident_id", flat=True)),
        sorted(DeviceEvent.objects.values_list("client_uuid", "user_id")),
    ]


def test_requests_of_two_registrars_applied_together_answer_as_one_after_another(
    two_lanes: dict[str, Any],
) -> None:
    requests = _requests(two_lanes)
    with transaction.atomic():
        alone = [ingest.apply(user, events) for user, events in requests]
        alone_state = _state()
        transaction.set_rollback(True)
    together = ingest.apply_jobs(
        [ingest.Job.of(user, events, timezone.now()) for user, events in requests]
    )
    assert together == alone
    assert _state() == alone_state
    codes = [a.get("error", {}).get("code", a["status"]) for answers in together for a in answers]
    assert codes == ["accepted", "accepted", "forbidden", "accepted", "already_sampled",
                     "accepted", "forbidden", "duplicate"]  # fmt: skip


def test_senders_who_see_different_towns_are_not_put_in_one_batch(
    two_lanes: dict[str, Any],
) -> None:
    commander = make_user(Role.ADMIN)  # every town: another read scope than a registrar's
    jobs = [
        ingest.Job.of(two_lanes["registrar_user"], [], timezone.now()),
        ingest.Job.of(commander, [], timezone.now()),
    ]
    with pytest.raises(ValueError, match="read_scope"):
        ingest.apply_jobs(jobs)


@pytest.mark.django_db(transaction=True)
def test_requests_that_arrive_while_a_batch_commits_are_committed_together_next(
    two_lanes: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Eight requests from two devices: the first leads alone; the seven that arrive while it
    is held are applied as the next batch, and every request gets its own answers."""
    combiner = Combiner()
    held, release = threading.Event(), threading.Event()
    real = combine.apply_jobs
    sizes: list[int] = []

    def slow_first(jobs: list[ingest.Job]) -> list[list[ingest.Answer]]:
        sizes.append(len(jobs))
        if len(sizes) == 1:
            held.set()
            assert release.wait(timeout=20)
        return real(jobs)

    monkeypatch.setattr(combine, "apply_jobs", slow_first)
    lane, other, people = two_lanes["lane"], two_lanes["other"], two_lanes["people"]
    first, second = two_lanes["registrar_user"], two_lanes["second"]
    requests = [(first, [event("tube.open", lane=lane.code, tube="2112250001", pool=10)])]
    requests += [
        (first, [event("tube.add", tube="2112250001", person=p.person_code)]) for p in people[:3]
    ]
    requests += [(second, [event("tube.open", lane=other.code, tube="2112250002", pool=10)])]
    requests += [
        (second, [event("tube.add", tube="2112250002", person=p.person_code)]) for p in people[3:6]
    ]
    answers: dict[int, list[ingest.Answer]] = {}
    failures: list[BaseException] = []

    def send(n: int) -> None:
        try:
            user, events = requests[n]
            answers[n] = combiner.apply(user, events)
        except BaseException as exc:  # reported below
            failures.append(exc)
        finally:
            connection.close()

    leader = threading.Thread(target=send, args=(0,))
    leader.start()
    assert held.wait(timeout=20)
    others = [threading.Thread(target=send, args=(n,)) for n in range(1, len(requests))]
    for n, thread in enumerate(others, start=1):
        thread.start()
        # One at a time, so they queue in order: a lane's tube opened before its people.
        while sum(map(len, combiner._queues.values())) < n:
            threading.Event().wait(0.001)
    release.set()
    for thread in [leader, *others]:
        thread.join(timeout=30)

    assert failures == []
    assert sizes == [1, 7]
    assert (combiner.stats.batches, combiner.stats.requests) == (2, 8)
    for n, (_user, events) in enumerate(requests):
        assert [a["id"] for a in answers[n]] == [e["id"] for e in events]
        assert [a["status"] for a in answers[n]] == ["accepted"]
    assert sorted(Tube.objects.values_list("code", "member_count")) == [
        ("2112250001", 3),
        ("2112250002", 3),
    ]


def test_a_request_whose_batch_fails_is_applied_again_alone(
    two_lanes: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure the engine does not retry (here: a bug that trips over one request) fails
    that request only; the others of its batch are applied and answered."""
    lane, people = two_lanes["lane"], two_lanes["people"]
    user = two_lanes["registrar_user"]
    good = ingest.Job.of(
        user, [event("tube.open", lane=lane.code, tube="2112250001")], timezone.now()
    )
    bad = ingest.Job.of(
        user, [event("tube.add", tube="2112250001", person=people[0].person_code)], timezone.now()
    )
    real = combine.apply_jobs

    def trips_over_bad(jobs: list[ingest.Job]) -> list[list[ingest.Answer]]:
        if any(job is bad for job in jobs):
            raise RuntimeError("a bug")
        return real(jobs)

    monkeypatch.setattr(combine, "apply_jobs", trips_over_bad)
    waiting = [combine._Waiting(good, None), combine._Waiting(bad, None)]
    Combiner._run(waiting)
    assert waiting[0].answers is not None and waiting[0].answers[0]["status"] == "accepted"
    assert isinstance(waiting[1].error, RuntimeError) and waiting[1].answers is None
    assert Tube.objects.filter(code="2112250001").exists()
