from django.contrib import admin

from doorstep.campaigns.models import Campaign, CampaignBuilding, DistrictRound


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("name", "town", "status", "starts_at", "deadline", "district_round")
    list_filter = ("status", "town")


@admin.register(DistrictRound)
class DistrictRoundAdmin(admin.ModelAdmin):
    list_display = ("name", "district", "status", "started_at", "closed_at")
    list_filter = ("status", "district")


@admin.register(CampaignBuilding)
class CampaignBuildingAdmin(admin.ModelAdmin):
    list_display = ("campaign", "building", "community", "zone", "pool_rule")
    list_filter = ("zone", "pool_rule", "campaign")
    list_select_related = ("campaign", "building__community", "community")
    raw_id_fields = ("building", "community")
