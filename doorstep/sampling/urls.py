from django.urls import path

from doorstep.sampling import home_views, lane_views, views

app_name = "sampling"
urlpatterns = [
    path("", views.sites, name="sites"),
    path("sites/new/", views.site_create, name="site_create"),
    path("sites/<int:pk>/lane-codes/", views.lane_codes, name="lane_codes"),
    path("sites/<int:pk>/boxes/", views.boxes, name="boxes"),
    path("lanes/<int:pk>/", lane_views.lane, name="lane"),
    path("lanes/<int:pk>/queue/", views.queue, name="queue"),
    path("lanes/<int:pk>/events/", lane_views.lane_events, name="lane_events"),
    path("sw.js", lane_views.service_worker, name="service_worker"),
    path("home/", home_views.home_list, name="home"),
    path("home/<int:pk>/", home_views.home_task, name="home_task"),
    path("home/<int:pk>/claim/", home_views.home_claim, name="home_claim"),
    path("home/<int:pk>/release/", home_views.home_release, name="home_release"),
    path("home/<int:pk>/close/", home_views.home_close, name="home_close"),
]
