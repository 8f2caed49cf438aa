from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HaConfig(AppConfig):
    """Only for its command, ``doorstep ha``: the cluster knows nothing of the other apps."""

    name = "doorstep.ha"
    label = "ha"
    verbose_name = _("High availability")
