from django.urls import path

from doorstep.lab import timeline_views, views

app_name = "lab"
urlpatterns = [
    path("", views.index, name="index"),
    path("receive/", views.receive, name="receive"),
    path("results/", views.upload, name="upload"),
    path("tubes/<str:code>/", views.tube, name="tube"),
    path("retests/", views.retests, name="retests"),
    path("pools/<int:campaign_id>/", views.pools, name="pools"),
    path("late/<int:campaign_id>/", timeline_views.late, name="late"),
    path(
        "residents/<int:resident_id>/timeline/",
        timeline_views.resident_timeline,
        name="timeline",
    ),
]
