from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkforceConfig(AppConfig):
    name = "doorstep.workforce"
    label = "workforce"
    verbose_name = _("Surge workforce")

    def ready(self) -> None:
        # The one declared place where this app adds its alerts to core.alerts and tells the
        # lanes who is on duty at them (sampling.hooks); an app's modules can be imported only
        # once the registry is ready.
        from doorstep.sampling import hooks
        from doorstep.workforce import alerts, queries

        alerts.register()
        hooks.register_duty_lanes(queries.lanes_on_duty)
