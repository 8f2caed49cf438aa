from django.contrib import admin

from doorstep.campaigns.models import Campaign, CampaignBuilding


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("name", "town", "status", "starts_at", "deadline")
    list_filter = ("status", "town")


@admin.register(CampaignBuilding)
class CampaignBuildingAdmin(admin.ModelAdmin):
    list_display = ("campaign", "building", "community", "zone", "pool_rule")
    list_filter = ("zone", "pool_rule", "campaign")
    list_select_related = ("campaign", "building__community", "community")
    raw_id_fields = ("building", "community")
