from django.contrib import admin

from doorstep.core.admin import ReadOnlyAdmin
from doorstep.lab.models import ResultEntry, RetestOrder


@admin.register(ResultEntry)
class ResultEntryAdmin(ReadOnlyAdmin):
    """Read-only: results and corrections go through the lab's pages and API, which keep the
    retest orders and counters in step."""

    list_display = ("tube", "result", "ct", "correction_reason", "recorded_by", "recorded_at")
    list_filter = ("result",)
    list_select_related = ("tube", "recorded_by")


@admin.register(RetestOrder)
class RetestOrderAdmin(ReadOnlyAdmin):
    list_display = ("original_tube", "community", "kind", "route", "status", "result")
    list_filter = ("status", "kind", "route")
    list_select_related = ("original_tube", "community")
