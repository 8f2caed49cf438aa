"""The one declared place where the lab registers with the apps below it (their hooks) and
adds its alerts to ``core.alerts``. ``AppConfig.ready`` imports it once, when the app registry
is ready; as NetBox does with its ``signals.py``.
"""

from doorstep.lab import alerts
from doorstep.lab.actions import retests

# The ingest engine learns who awaits a retest (sampling.hooks).
retests.register()
alerts.register()
