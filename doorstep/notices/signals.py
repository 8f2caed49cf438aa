"""The one declared place where notices registers with the apps below it (their hooks).
``AppConfig.ready`` imports it once, when the app registry is ready."""

from doorstep.campaigns import hooks as campaign_hooks
from doorstep.notices import actions, alerts
from doorstep.sampling import hooks as sampling_hooks

# A sealed building's people are told to wait at their door; a lifted seal, that they may go.
campaign_hooks.register_zoner(actions.zoned)
# A walk-in's household found: their notices not yet told go to that door.
sampling_hooks.register_traced(actions.traced)
alerts.register()
# Residents told their community's start time when the commander says so.
campaign_hooks.register_announcer(actions.starts_announced)
