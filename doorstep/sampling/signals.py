"""The one declared place where sampling registers with the apps below it (their hooks) and
adds its alerts to ``core.alerts``. ``AppConfig.ready`` imports it once, when the app registry
is ready; as NetBox does with its ``signals.py``.
"""

from doorstep.campaigns import hooks
from doorstep.sampling import alerts, queries
from doorstep.sampling.actions import home
from doorstep.territory import hooks as territory_hooks

alerts.register()
# A closing round lists the tubes still open and the boxes still on the road.
hooks.register_close_check(queries.open_in_round)
# A sealed building's people are sampled at their doors: a home-sampling task per building.
hooks.register_zoner(home.zoned)
# A roster imported while a round runs: a sealed building's newcomers wait at their door too.
territory_hooks.register(home.roster_changed)
