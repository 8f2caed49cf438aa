from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkforceConfig(AppConfig):
    name = "doorstep.workforce"
    label = "workforce"
    verbose_name = _("Surge workforce")

    def ready(self) -> None:
        # The one declared place where this app adds its alerts to core.alerts; an app's
        # modules can be imported only once the registry is ready.
        from doorstep.workforce import alerts

        alerts.register()
