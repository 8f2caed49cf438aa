from django.urls import path

from doorstep.campaigns import views

app_name = "campaigns"
urlpatterns = [
    path("", views.campaign_list, name="list"),
    path("new/", views.campaign_create, name="create"),
    path("<int:campaign_id>/", views.campaign_detail, name="detail"),
    path("<int:campaign_id>/zones/", views.campaign_zones, name="zones"),
    path("<int:campaign_id>/start/", views.campaign_start, name="start"),
    path("<int:campaign_id>/close/", views.campaign_close, name="close"),
]
