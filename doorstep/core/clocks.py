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
# A sealed tube waits at most 1 h to be put in a box: samples stay no longer than 1 h at a
# transfer point (Xiamen Jimei, field-facts F4.1), and the lane's box is the first such point.
TUBE_BOX_DUE = dt.timedelta(hours=1)
# A box goes to the courier within 2 h of its tube's sealing: the NHC manual asks for delivery
# to the lab within 2-4 h (field guide, F1.4c), so a box handed over later cannot count on the
# road's 2 h to arrive inside the 4 h specimen clock. (Tongling's packers bundled about every
# 2 h, F3.5.)
HANDOFF_DUE = dt.timedelta(hours=2)
# Results are expected within about 6 h of receipt.
RESULTS_DUE = dt.timedelta(hours=6)
# A pooled tube left open this long at a lane is forgotten: seal it.
TUBE_OPEN_TOO_LONG = dt.timedelta(minutes=30)
# The queue target: a resident waits at most 20 minutes.
WAIT_TARGET_MINUTES = 20
# A person who must stay home (a positive pool, a positive at home) or come back (an invalid
# tube) is told within this of the result: by a delivered text message, else at their door.
TELL_WITHIN = dt.timedelta(minutes=15)
# Nobody should stay on duty longer than this without relief.
LONG_SHIFT = dt.timedelta(hours=12)

OK, WARN, OVERDUE = "ok", "warn", "overdue"


def specimen_state(sealed_at: dt.datetime | None, now: dt.datetime) -> str:
    """Where a specimen sealed at ``sealed_at`` stands on its clock: ok, warn or overdue."""
    if sealed_at is None:
        return OK
    age = now - sealed_at
    return OVERDUE if age >= SPECIMEN_DUE else WARN if age >= SPECIMEN_WARN else OK
