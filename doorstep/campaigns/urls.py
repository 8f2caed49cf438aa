from django.urls import path

from doorstep.campaigns import district_views, start_views, views

app_name = "campaigns"
urlpatterns = [
    path("", views.campaign_list, name="list"),
    path("new/", views.campaign_create, name="create"),
    path("<int:campaign_id>/", views.campaign_detail, name="detail"),
    path("<int:campaign_id>/zones/", views.campaign_zones, name="zones"),
    path("<int:campaign_id>/start/", views.campaign_start, name="start"),
    path("<int:campaign_id>/close/", views.campaign_close, name="close"),
    # Each community's start time, spread, and told to residents.
    path("<int:campaign_id>/starts/", start_views.campaign_starts, name="starts"),
    path("<int:campaign_id>/starts/stagger/", start_views.campaign_stagger, name="stagger"),
    path("<int:campaign_id>/starts/tell/", start_views.campaign_announce, name="announce"),
    # Rounds over several towns of a district (city-wide testing).
    path("district/", district_views.district_round_list, name="district_rounds"),
    path("district/new/", district_views.district_round_create, name="district_round_create"),
    path(
        "district/<int:district_round_id>/",
        district_views.district_round_detail,
        name="district_round",
    ),
    path(
        "district/<int:district_round_id>/close/",
        district_views.district_round_close,
        name="district_round_close",
    ),
]
