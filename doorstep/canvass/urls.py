from django.urls import path

from doorstep.canvass import views

app_name = "canvass"
urlpatterns = [
    path("", views.index, name="index"),
    path("<int:campaign>/coverage/", views.coverage, name="coverage"),
    path("<int:campaign>/feed/", views.feed, name="feed"),
    path("<int:campaign>/communities/<int:community>/", views.community, name="community"),
    path("<int:campaign>/communities/<int:community>/untested/", views.untested, name="untested"),
    path(
        "<int:campaign>/communities/<int:community>/untested.xlsx",
        views.untested_export,
        name="untested_export",
    ),
    path("<int:campaign>/communities/<int:community>/revisits/", views.revisits, name="revisits"),
    path("buildings/<int:pk>/", views.task, name="task"),
    path("buildings/<int:pk>/claim/", views.claim, name="claim"),
    path("buildings/<int:pk>/release/", views.release, name="release"),
    path("buildings/<int:pk>/hand/", views.hand, name="hand"),
    path("buildings/<int:pk>/complete/", views.complete, name="complete"),
    path("buildings/<int:pk>/outcomes/", views.record_outcomes, name="outcomes"),
]
