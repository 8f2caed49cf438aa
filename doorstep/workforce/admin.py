from django.contrib import admin

from doorstep.core.admin import ReadOnlyAdmin
from doorstep.workforce.models import CallUp, Duty, Staff, SupportUnit, Team


@admin.register(SupportUnit)
class SupportUnitAdmin(admin.ModelAdmin):
    list_display = ("name", "town", "contact_name")
    list_filter = ("town",)


@admin.register(Staff)
class StaffAdmin(admin.ModelAdmin):
    """Where a staff member is linked to their login, so their home page shows their code."""

    list_display = ("name", "unit", "masked_phone", "worker_code", "user")
    list_filter = ("unit",)
    list_select_related = ("unit", "user")
    search_fields = ("name", "=phone", "=worker_code")
    raw_id_fields = ("user",)
    readonly_fields = ("worker_code", "town")


@admin.register(CallUp)
class CallUpAdmin(ReadOnlyAdmin):
    """Read-only: call-ups change through check-in and no-show, which keep the counters."""

    list_display = (
        "unit",
        "muster_point",
        "muster_at",
        "requested",
        "arrived_count",
        "no_show_count",
    )
    list_select_related = ("unit",)


@admin.register(Team)
class TeamAdmin(ReadOnlyAdmin):
    list_display = ("name", "leader", "status", "community", "lane")
    list_select_related = ("leader", "community", "lane__site")


@admin.register(Duty)
class DutyAdmin(ReadOnlyAdmin):
    """Read-only: duties open and close only through the actions, which keep the counters."""

    list_display = ("staff", "role", "place", "started_at", "ended_at", "end_reason")
    list_filter = ("role", "end_reason")
    list_select_related = ("staff__unit", "lane__site", "community")
