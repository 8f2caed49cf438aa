from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """The top floor: fills every app with the demo town; no app imports it."""

    name = "doorstep.demo"
    label = "demo"
    verbose_name = _("Demo")
