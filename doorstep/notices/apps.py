from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NoticesConfig(AppConfig):
    name = "doorstep.notices"
    label = "notices"
    verbose_name = _("Telling residents")

    def ready(self) -> None:
        # The app's registrations (signals.py) need the registry ready: imported here, once.
        from doorstep.notices import signals  # noqa: F401
