"""The campaign day's clocks, each once: every page, alert and report that measures time against
one of these reads it from here (the figures are from ``shared/field-guide.md``)."""

from __future__ import annotations

import datetime as dt

# Sampling itself is done within 6 h of the start (the whole area within 24 h).
SAMPLING_TARGET = dt.timedelta(hours=6)
# With this little time left, buildings nobody has started are a decision for the commander.
TIME_SHORT = dt.timedelta(hours=6)
# The specimen clock: a tube must reach the lab within 4 h of being sealed; at 3 h it is a warning.
SPECIMEN_WARN = dt.timedelta(hours=3)
SPECIMEN_DUE = dt.timedelta(hours=4)
# Results are expected within about 6 h of receipt.
RESULTS_DUE = dt.timedelta(hours=6)
# A pooled tube left open this long at a lane is forgotten: seal it.
TUBE_OPEN_TOO_LONG = dt.timedelta(minutes=30)
# The queue target: a resident waits at most 20 minutes.
WAIT_TARGET_MINUTES = 20
# Nobody should stay on duty longer than this without relief.
LONG_SHIFT = dt.timedelta(hours=12)

OK, WARN, OVERDUE = "ok", "warn", "overdue"


def specimen_state(sealed_at: dt.datetime | None, now: dt.datetime) -> str:
    """Where a specimen sealed at ``sealed_at`` stands on its clock: ok, warn or overdue."""
    if sealed_at is None:
        return OK
    age = now - sealed_at
    return OVERDUE if age >= SPECIMEN_DUE else WARN if age >= SPECIMEN_WARN else OK
