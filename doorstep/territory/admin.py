from django.contrib import admin

from doorstep.territory.models import (
    Building,
    Community,
    District,
    Grid,
    Household,
    Resident,
    Town,
    Unit,
)


@admin.register(District)
class DistrictAdmin(admin.ModelAdmin):
    list_display = ("name", "is_demo")


@admin.register(Town)
class TownAdmin(admin.ModelAdmin):
    list_display = ("name", "district", "is_demo")
    list_filter = ("district",)


@admin.register(Community)
class CommunityAdmin(admin.ModelAdmin):
    list_display = ("name", "town")
    list_filter = ("town",)
    search_fields = ("name",)


@admin.register(Grid)
class GridAdmin(admin.ModelAdmin):
    list_display = ("name", "community")
    list_select_related = ("community",)
    search_fields = ("name",)


@admin.register(Building)
class BuildingAdmin(admin.ModelAdmin):
    list_display = ("name", "community", "position", "floors", "has_lift")
    list_filter = ("has_lift", "community__town")
    list_select_related = ("community",)
    search_fields = ("name", "community__name")
    raw_id_fields = ("community", "grid")


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ("__str__",)
    raw_id_fields = ("building",)
    list_select_related = ("building__community",)


@admin.register(Household)
class HouseholdAdmin(admin.ModelAdmin):
    list_display = ("__str__", "floor")
    raw_id_fields = ("unit",)
    list_select_related = ("unit__building__community",)


@admin.register(Resident)
class ResidentAdmin(admin.ModelAdmin):
    """Masked here as everywhere: full details are revealed, with a reason, on the resident page."""

    list_display = ("masked_name", "masked_id", "masked_phone", "community", "person_code")
    list_filter = ("mobility_impaired", "moved_out", "home_isolation")
    list_select_related = ("community",)
    search_fields = ("=id_number", "=person_code")
    raw_id_fields = ("household", "town", "community")
    fields = (
        "household",
        "town",
        "community",
        "masked_name",
        "id_type",
        "masked_id",
        "masked_phone",
        "person_code",
        "mobility_impaired",
        "moved_out",
        "home_isolation",
        "notes",
    )
    readonly_fields = (
        "masked_name",
        "masked_id",
        "masked_phone",
        "person_code",
        "town",
        "community",
    )

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        # Residents come from the roster import, which validates the document number.
        return False
