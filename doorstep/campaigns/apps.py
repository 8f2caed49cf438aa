from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CampaignsConfig(AppConfig):
    name = "doorstep.campaigns"
    label = "campaigns"
    verbose_name = _("Campaigns")

    def ready(self) -> None:
        # The one declared place where this app adds its alerts to core.alerts; an app's
        # modules can be imported only once the registry is ready.
        from doorstep.campaigns import alerts

        alerts.register()
