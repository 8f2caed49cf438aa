from django.contrib import admin

from doorstep.sampling.actions import new_lane_code
from doorstep.sampling.models import Lane, Site


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
