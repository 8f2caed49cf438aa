from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DistrictConfig(AppConfig):
    name = "doorstep.district"
    label = "district"
    verbose_name = _("District command")
