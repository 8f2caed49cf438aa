from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TerritoryConfig(AppConfig):
    name = "doorstep.territory"
    label = "territory"
    verbose_name = _("Territory and roster")

    def ready(self) -> None:
        # The app's registrations (signals.py) need the registry ready: imported here, once.
        from doorstep.territory import signals  # noqa: F401
