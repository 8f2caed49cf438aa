from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SimulateConfig(AppConfig):
    """The top floor: drives every app (as the demo does) and nothing imports it."""

    name = "doorstep.simulate"
    label = "simulate"
    verbose_name = _("Simulation and planning")
