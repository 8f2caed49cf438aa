from django.urls import path

from doorstep.territory import views

app_name = "territory"
urlpatterns = [
    path("communities/", views.community_list, name="communities"),
    path("communities/<int:community_id>/", views.community_detail, name="community"),
    path(
        "communities/<int:community_id>/export.xlsx",
        views.community_export,
        name="community_export",
    ),
    path("buildings/<int:building_id>/", views.building_detail, name="building"),
    path("buildings/<int:building_id>/codes/", views.building_codes, name="building_codes"),
    path("households/<int:household_id>/codes/", views.household_codes, name="household_codes"),
    path("residents/", views.resident_list, name="residents"),
    path("residents/<int:resident_id>/", views.resident_detail, name="resident"),
    path("residents/<int:resident_id>/reveal/", views.resident_reveal, name="resident_reveal"),
    path("roster/", views.roster_upload, name="roster_upload"),
    path("roster/template.xlsx", views.roster_template, name="roster_template"),
]
