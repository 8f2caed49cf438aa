from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LabConfig(AppConfig):
    name = "doorstep.lab"
    label = "lab"
    verbose_name = _("Lab")

    def ready(self) -> None:
        # The app's registrations (signals.py) need the registry ready: imported here, once.
        from doorstep.lab import signals  # noqa: F401
