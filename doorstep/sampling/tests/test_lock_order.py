"""Counters stay exact when batches from two lanes of one site, with their tubes and buildings in
opposite orders, are posted by six connections at once; and a batch that loses a deadlock is
played again whole.

Every writer takes the counter rows (lane, site, community, campaign; then buildings; then
communities) in one order, because the bunched-start benchmark answered HTTP 500 "deadlock
detected" on PostgreSQL without it. The threads here did not reproduce that deadlock in-process
(the benchmark's 50 devices against two server processes did), so the retry is tested by a
deadlock injected below.
"""

import threading

import pytest
from django.db import OperationalError, connection, transaction

from doorstep.api.actions import issue_token
from doorstep.sampling import ingest, tally
from doorstep.sampling.models import Tally, Tube, TubeMember
from doorstep.testing import (
    make_building,
    make_campaign,
    make_household,
    make_lane,
    make_lane_team,
    make_resident,
)
from doorstep.testing.lanes import Device

THREADS, BATCHES, PER_TUBE = 6, 6, 4


@pytest.mark.django_db(transaction=True)
def test_batches_at_one_site_in_opposite_orders_do_not_deadlock(community, registrar):
    need = THREADS * BATCHES * PER_TUBE
    west, east = (make_building(community, f"{n}号楼", position=n) for n in (40, 41))
    people = {
        b: [make_resident(make_household(b, f"{n}"), f"居民{b.pk}-{n}") for n in range(need)]
        for b in (west, east)
    }
    campaign = make_campaign(community)
    lane = make_lane(community)
    other = lane.site.lanes.exclude(pk=lane.pk).get()
    make_lane_team(lane, registrar)  # on duty at one lane; the device's token holds the other
    d = Device(issue_token(registrar, lane=other)[1])
    barrier = threading.Barrier(THREADS)
    failures: list[BaseException] = []
    refused: list[dict[str, object]] = []

    def post(t: int) -> None:
        try:
            barrier.wait(timeout=10)
            for n in range(BATCHES):
                order = [(lane, west), (other, east)]
                if (t + n) % 2:
                    order.reverse()
                events = []
                for k, (where, building) in enumerate(order):
                    code = f"21122{t}{n}{k}0"
                    start = (t * BATCHES + n) * PER_TUBE
                    events.append(d.event("tube.open", lane=where.code, tube=code, pool=10))
                    events += [
                        d.event("tube.add", tube=code, person=p.person_code)
                        for p in people[building][start : start + PER_TUBE]
                    ]
                    events.append(d.event("tube.seal", tube=code))
                response = d.post("events", {"events": events})
                assert response.status_code == 200, response.content[:300]
                refused.extend(r for r in response.json()["results"] if r["status"] != "accepted")
        except BaseException as exc:  # reported below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(t,)) for t in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    assert failures == [] and refused == []
    tubes = THREADS * BATCHES * 2
    assert Tube.objects.filter(status="sealed").count() == tubes
    assert TubeMember.objects.count() == tubes * PER_TUBE
    tally.settle()  # a fold that found another running was left to the folding thread
    site = Tally.objects.get(campaign=campaign, scope="site", place_id=lane.site_id)
    assert (site.people, site.tubes_sealed) == (tubes * PER_TUBE, tubes)


class _Deadlock(Exception):
    sqlstate = "40P01"


def _deadlock() -> OperationalError:
    exc = OperationalError("deadlock detected")
    exc.__cause__ = _Deadlock()
    return exc


@pytest.mark.django_db(transaction=True)
def test_a_batch_that_loses_a_deadlock_is_played_again(lane_world, registrar, monkeypatch):
    d, lane, people = lane_world["registrar"], lane_world["lane"], lane_world["people"]
    real = ingest._apply_once
    calls: list[int] = []

    def once_deadlocked(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 1:
            real(*args, **kwargs)  # the work is done, then the commit loses the deadlock
            raise _deadlock()
        return real(*args, **kwargs)

    monkeypatch.setattr(ingest, "_apply_once", once_deadlocked)
    batch = [d.event("tube.open", lane=lane.code, tube="2112250001", pool=10)]
    batch += [d.event("tube.add", tube="2112250001", person=p.person_code) for p in people[:3]]
    answers = ingest.apply(registrar, batch)
    assert len(calls) == 2
    # The first play committed here (a test cannot roll a finished commit back), so the replay
    # answers duplicate: what a device sees after a lost answer, never a second tube.
    assert [a["status"] for a in answers] == ["duplicate"] * 4
    assert Tube.objects.count() == 1 and TubeMember.objects.count() == 3


@pytest.mark.django_db
def test_inside_another_transaction_a_deadlock_is_not_retried(registrar, monkeypatch):
    def deadlocked(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise _deadlock()

    monkeypatch.setattr(ingest, "_apply_once", deadlocked)
    with pytest.raises(OperationalError), transaction.atomic():
        ingest.apply(registrar, [])


@pytest.mark.django_db(transaction=True)
def test_other_database_errors_are_not_retried(registrar, monkeypatch):
    calls: list[int] = []

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        raise OperationalError("no such table: sampling_tube")

    monkeypatch.setattr(ingest, "_apply_once", broken)
    with pytest.raises(OperationalError):
        ingest.apply(registrar, [])
    assert calls == [1]
