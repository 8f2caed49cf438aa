from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CanvassConfig(AppConfig):
    name = "doorstep.canvass"
    label = "canvass"
    verbose_name = _("Door to door")

    def ready(self) -> None:
        # The app's registrations (signals.py) need the registry ready: imported here, once.
        from doorstep.canvass import signals  # noqa: F401
