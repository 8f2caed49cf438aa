"""The one declared place where rounds and zones registers with the apps below it (their hooks) and
adds its alerts to ``core.alerts``. ``AppConfig.ready`` imports it once, when the app registry
is ready; as NetBox does with its ``signals.py``.
"""

from doorstep.campaigns import alerts

alerts.register()
