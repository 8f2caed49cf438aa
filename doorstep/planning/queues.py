"""Queueing theory for one site: the M/M/c queue's mean wait (Erlang C), the yardstick the
simulator is held to."""

from __future__ import annotations

import math


def erlang_c(arrivals_per_hour: float, served_per_hour: float, lanes: int) -> float:
    """The chance that an arriving resident has to wait (all lanes busy), for Poisson arrivals
    and exponential service in an M/M/c queue in its steady state."""
    load = arrivals_per_hour / served_per_hour  # lanes' worth of work arriving (Erlangs)
    if load >= lanes:
        raise ValueError(
            f"{arrivals_per_hour:g} arrivals an hour need more than {lanes} lanes serving "
            f"{served_per_hour:g} an hour each: the queue grows without end"
        )
    below = sum(load**k / math.factorial(k) for k in range(lanes))
    top = load**lanes / math.factorial(lanes) * lanes / (lanes - load)
    return top / (below + top)


def mean_wait_minutes(arrivals_per_hour: float, served_per_hour: float, lanes: int) -> float:
    """Mean time in the queue before a lane (not counting the swab itself), in minutes."""
    waiting = erlang_c(arrivals_per_hour, served_per_hour, lanes)
    return 60 * waiting / (lanes * served_per_hour - arrivals_per_hour)
