"""Doorstep's settings with the benchmark's baseline views added (``bench.baseline_urls``).

Used only by ``bench/events.py``, which serves Doorstep with these so that the baselines run in
the same server, behind the same middleware, as the device API they are compared with."""

from doorstep.settings import *  # noqa: F403

ROOT_URLCONF = "bench.baseline_urls"
