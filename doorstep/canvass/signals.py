"""The one declared place where door to door registers with the apps below it (their hooks) and
adds its alerts to ``core.alerts``. ``AppConfig.ready`` imports it once, when the app registry
is ready; as NetBox does with its ``signals.py``.
"""

from doorstep.campaigns import hooks as campaign_hooks
from doorstep.canvass import alerts, counters
from doorstep.canvass.actions import rounds
from doorstep.sampling import hooks as sampling_hooks

alerts.register()
# Late arrivals in the roster join the running round (territory.hooks).
rounds.register()
# Door-to-door coverage moves with the people sampled at lanes.
sampling_hooks.register_folder(counters.fold_sampled)
# A new round makes every building of its area a task, in the round's transaction.
campaign_hooks.register_opener(counters.open_tasks)
