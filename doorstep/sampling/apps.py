from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SamplingConfig(AppConfig):
    name = "doorstep.sampling"
    label = "sampling"
    verbose_name = _("Sampling sites and lanes")

    def ready(self) -> None:
        # The one declared place where this app adds its alerts to core.alerts and tells a
        # closing round what is still open (campaigns.hooks); an app's
        # modules can be imported only once the registry is ready.
        from doorstep.campaigns import hooks
        from doorstep.sampling import alerts, queries

        alerts.register()
        hooks.register_close_check(queries.open_in_round)
