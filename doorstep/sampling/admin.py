from django.contrib import admin

from doorstep.core.admin import ReadOnlyAdmin
from doorstep.sampling.actions import new_lane_code
from doorstep.sampling.models import Box, CustodyCheck, Lane, Site, Tube


class LaneInline(admin.TabularInline):
    model = Lane
    extra = 0
    readonly_fields = ("code",)


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ("name", "community", "serves", "opens_at", "closes_at")
    list_filter = ("serves",)
    list_select_related = ("community",)
    inlines = [LaneInline]

    def save_formset(self, request, form, formset, change):  # type: ignore[no-untyped-def]
        for lane in formset.save(commit=False):
            if not lane.code:
                lane.code = new_lane_code()
            lane.save()
        for lane in formset.deleted_objects:
            lane.delete()


@admin.register(Tube)
class TubeAdmin(ReadOnlyAdmin):
    """Read-only: tubes change only through device events, which keep custody and counters."""

    list_display = ("code", "site", "status", "member_count", "capacity", "box", "result")
    list_filter = ("status", "result")
    list_select_related = ("site", "box")
    search_fields = ("=code",)


@admin.register(Box)
class BoxAdmin(ReadOnlyAdmin):
    list_display = ("code", "site", "status", "tube_count", "courier", "flagged")
    list_filter = ("status", "flagged")
    list_select_related = ("site",)
    search_fields = ("=code",)


@admin.register(CustodyCheck)
class CustodyCheckAdmin(ReadOnlyAdmin):
    list_display = ("box", "stage", "counted", "in_system", "by", "at")
    list_select_related = ("box", "by")
