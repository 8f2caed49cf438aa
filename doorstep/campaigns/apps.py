from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CampaignsConfig(AppConfig):
    name = "doorstep.campaigns"
    label = "campaigns"
    verbose_name = _("Campaigns")

    def ready(self) -> None:
        # The app's registrations (signals.py) need the registry ready: imported here, once.
        from doorstep.campaigns import signals  # noqa: F401
