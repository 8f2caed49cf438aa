from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SamplingConfig(AppConfig):
    name = "doorstep.sampling"
    label = "sampling"
    verbose_name = _("Sampling sites and lanes")

    def ready(self) -> None:
        # The app's registrations (signals.py) need the registry ready: imported here, once.
        from doorstep.sampling import signals  # noqa: F401
