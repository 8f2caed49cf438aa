from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssistanceConfig(AppConfig):
    name = "doorstep.assistance"
    label = "assistance"
    verbose_name = _("Special needs")

    def ready(self) -> None:
        # The one declared place where this app adds its alerts to core.alerts and hears of a
        # special need found at the door (canvass.hooks); an app's modules can be imported only
        # once the registry is ready.
        from doorstep.assistance import actions, alerts
        from doorstep.canvass import hooks

        alerts.register()
        hooks.register_need_listener(actions.from_visit)
