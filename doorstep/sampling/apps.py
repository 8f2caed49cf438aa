from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SamplingConfig(AppConfig):
    name = "doorstep.sampling"
    label = "sampling"
    verbose_name = _("Sampling sites and lanes")

    def ready(self) -> None:
        # The one declared place where this app adds its alerts to core.alerts; an app's
        # modules can be imported only once the registry is ready.
        from doorstep.sampling import alerts

        alerts.register()
