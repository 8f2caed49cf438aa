"""The one declared place where the workforce registers with the apps below it (their hooks) and
adds its alerts to ``core.alerts``. ``AppConfig.ready`` imports it once, when the app registry
is ready; as NetBox does with its ``signals.py``.
"""

from doorstep.sampling import hooks
from doorstep.workforce import alerts, queries

alerts.register()
# Where a registrar may scan: the lanes they are on duty at.
hooks.register_duty_lanes(queries.lanes_on_duty)
