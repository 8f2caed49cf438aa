from django.urls import path

from doorstep.sampling import home_views, lane_views, paper_views, views, walk_in_views

app_name = "sampling"
urlpatterns = [
    path("", views.sites, name="sites"),
    path("sites/new/", views.site_create, name="site_create"),
    path("sites/<int:site_id>/lane-codes/", views.lane_codes, name="lane_codes"),
    path("sites/<int:site_id>/boxes/", views.boxes, name="boxes"),
    path("lanes/<int:lane_id>/", lane_views.lane, name="lane"),
    path("lanes/<int:lane_id>/queue/", views.queue, name="queue"),
    path("lanes/<int:lane_id>/events/", lane_views.lane_events, name="lane_events"),
    path("lanes/<int:lane_id>/paper/", paper_views.paper_sheet, name="paper_sheet"),
    path("lanes/<int:lane_id>/paper/key/", paper_views.paper_key, name="paper_key"),
    path("sw.js", lane_views.service_worker, name="service_worker"),
    path("home/", home_views.home_list, name="home"),
    path("walk-ins/", walk_in_views.untraced, name="walk_ins"),
    path("walk-ins/<int:walk_in_id>/trace/", walk_in_views.trace, name="walk_in_trace"),
    path("home/<int:home_task_id>/", home_views.home_task, name="home_task"),
    path("home/<int:home_task_id>/claim/", home_views.home_claim, name="home_claim"),
    path("home/<int:home_task_id>/release/", home_views.home_release, name="home_release"),
    path("home/<int:home_task_id>/close/", home_views.home_close, name="home_close"),
]
