"""Door-to-door rows in the admin, read-only: claims, taps and counters move only through the
actions, which keep them consistent with each other."""

from django.contrib import admin

from doorstep.canvass.models import BuildingTask, Coverage, FeedPost, Visit
from doorstep.core.admin import ReadOnlyAdmin


@admin.register(BuildingTask)
class BuildingTaskAdmin(ReadOnlyAdmin):
    list_display = ("building", "status", "team", "expires_at", "with_outcome", "households")
    list_filter = ("status", "campaign")
    list_select_related = ("building__community", "team")


@admin.register(Visit)
class VisitAdmin(ReadOnlyAdmin):
    list_display = ("household", "outcome", "exempt_reason", "team", "tapped_at", "recorded_at")
    list_filter = ("outcome",)
    list_select_related = ("household__unit__building__community", "team")


@admin.register(Coverage)
class CoverageAdmin(ReadOnlyAdmin):
    list_display = ("community", "campaign", "buildings_done", "buildings", "covered", "households")
    list_select_related = ("community", "campaign")


@admin.register(FeedPost)
class FeedPostAdmin(ReadOnlyAdmin):
    list_display = ("at", "community", "text")
    list_select_related = ("community",)
