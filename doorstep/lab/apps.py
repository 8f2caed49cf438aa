from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LabConfig(AppConfig):
    name = "doorstep.lab"
    label = "lab"
    verbose_name = _("Lab")

    def ready(self) -> None:
        # The one declared place where the lab plugs into the ingest engine below it
        # (sampling.hooks) and adds its alerts to core.alerts; an app's modules can be
        # imported only once the registry is ready.
        from doorstep.lab import alerts
        from doorstep.lab.actions import retests

        retests.register()
        alerts.register()
