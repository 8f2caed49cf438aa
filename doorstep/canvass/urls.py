from django.urls import path

from doorstep.canvass import views

app_name = "canvass"
urlpatterns = [
    path("", views.index, name="index"),
    path("sw.js", views.service_worker, name="service_worker"),
    path("<int:campaign_id>/coverage/", views.coverage, name="coverage"),
    path("<int:campaign_id>/feed/", views.feed, name="feed"),
    path("<int:campaign_id>/communities/<int:community_id>/", views.community, name="community"),
    path(
        "<int:campaign_id>/communities/<int:community_id>/untested/",
        views.untested,
        name="untested",
    ),
    path(
        "<int:campaign_id>/communities/<int:community_id>/untested.xlsx",
        views.untested_export,
        name="untested_export",
    ),
    path(
        "<int:campaign_id>/communities/<int:community_id>/revisits/",
        views.revisits,
        name="revisits",
    ),
    path("buildings/<int:task_id>/", views.task, name="task"),
    path("buildings/<int:task_id>/claim/", views.claim, name="claim"),
    path("buildings/<int:task_id>/release/", views.release, name="release"),
    path("buildings/<int:task_id>/hand/", views.hand, name="hand"),
    path("buildings/<int:task_id>/complete/", views.complete, name="complete"),
    path("buildings/<int:task_id>/outcomes/", views.record_outcomes, name="outcomes"),
]
