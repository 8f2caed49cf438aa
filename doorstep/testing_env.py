"""Pytest plugin loaded before Django is set up: test-only environment defaults."""

import os
import tempfile

os.environ.setdefault("DOORSTEP_SECRET_KEY", "doorstep-tests-only-key-" + "x" * 40)
os.environ.setdefault("DOORSTEP_HOME", tempfile.mkdtemp(prefix="doorstep-test-"))
# Playwright runs its own event loop in the test thread; the ORM calls made around it are
# synchronous and safe in tests.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
# A test sees its own changes at once: the per-process caches of device look-ups (core.ttl) are
# off unless a test turns them on.
os.environ.setdefault("DOORSTEP_CACHE_SECONDS", "0")
