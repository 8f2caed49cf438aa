from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkforceConfig(AppConfig):
    name = "doorstep.workforce"
    label = "workforce"
    verbose_name = _("Surge workforce")

    def ready(self) -> None:
        # The app's registrations (signals.py) need the registry ready: imported here, once.
        from doorstep.workforce import signals  # noqa: F401
