"""The same batch posted by two connections at the same instant lands once: every event is
accepted by one of them and answered "duplicate" (never applied twice) by the other."""

import threading

import pytest
from django.db import connection

from doorstep.sampling.models import DeviceEvent, RoundSample, Tube, TubeMember


@pytest.mark.django_db(transaction=True)
def test_one_batch_posted_twice_at_once_is_applied_once(lane_world):
    d, lane, people = lane_world["registrar"], lane_world["lane"], lane_world["people"]
    batch = [d.event("tube.open", lane=lane.code, tube="2112250001", pool=10)]
    batch += [d.event("tube.add", tube="2112250001", person=p.person_code) for p in people[:10]]
    batch.append(d.event("tube.seal", tube="2112250001"))
    barrier = threading.Barrier(2)
    answers: list[list[str]] = []
    failures: list[BaseException] = []

    def post() -> None:
        try:
            barrier.wait(timeout=10)
            response = d.post("events", {"events": batch})
            answers.append([r["status"] for r in response.json()["results"]])
        except BaseException as exc:  # reported below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert failures == []
    assert len(answers) == 2
    for first, second in zip(*answers, strict=True):
        assert {first, second} == {"accepted", "duplicate"}
    tube = Tube.objects.get()
    assert (tube.member_count, tube.status) == (10, "sealed")
    assert TubeMember.objects.count() == 10 and RoundSample.objects.count() == 10
    assert DeviceEvent.objects.count() == 12
