from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssistanceConfig(AppConfig):
    name = "doorstep.assistance"
    label = "assistance"
    verbose_name = _("Special needs")

    def ready(self) -> None:
        # The app's registrations (signals.py) need the registry ready: imported here, once.
        from doorstep.assistance import signals  # noqa: F401
