"""The one declared place where the lab registers with the apps below it (their hooks) and
adds its alerts to ``core.alerts``. ``AppConfig.ready`` imports it once, when the app registry
is ready; as NetBox does with its ``signals.py``.
"""

from doorstep.lab import alerts, case_alerts, cases
from doorstep.lab.actions import retests
from doorstep.notices import hooks as notices_hooks

# The ingest engine learns who awaits a retest (sampling.hooks).
retests.register()
alerts.register()
case_alerts.register()
cases.register()
# A pool's loop closes only when every member was told: it is checked again when one is.
notices_hooks.register_told(retests.loops_told)
