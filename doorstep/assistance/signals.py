"""The one declared place where special needs registers with the apps below it (their hooks) and
adds its alerts to ``core.alerts``. ``AppConfig.ready`` imports it once, when the app registry
is ready; as NetBox does with its ``signals.py``.
"""

from doorstep.assistance import actions, alerts
from doorstep.canvass import hooks

alerts.register()
# A special need found at the door goes on the community's list, in the tap's transaction.
hooks.register_need_listener(actions.from_visit)
