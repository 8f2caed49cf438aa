from django.contrib import admin

from doorstep.workforce.models import SupportUnit


@admin.register(SupportUnit)
class SupportUnitAdmin(admin.ModelAdmin):
    list_display = ("name", "town", "contact_name")
    list_filter = ("town",)
