from django.urls import path

from doorstep.command import views

app_name = "command"
urlpatterns = [
    path("status/", views.status, name="status"),
    path("status/me/", views.me, name="me"),
    path("command/", views.index, name="index"),
    path("command/<int:campaign_id>/", views.dashboard, name="dashboard"),
    path("command/<int:campaign_id>/panels/<str:panel>/", views.panel, name="panel"),
    path("command/<int:campaign_id>/alerts/ack/", views.ack, name="ack"),
    path(
        "command/<int:campaign_id>/communities/<int:community_id>/",
        views.community,
        name="community",
    ),
    path("command/<int:campaign_id>/sites/<int:site_id>/", views.site, name="site"),
    path("command/<int:campaign_id>/tubes/<str:code>/", views.tube, name="tube"),
    path("command/<int:campaign_id>/report/", views.report, name="report"),
    path("command/<int:campaign_id>/zones/", views.zones, name="zones"),
    path("command/<int:campaign_id>/compare/", views.compare, name="compare"),
    path("command/<int:campaign_id>/zones/lift/", views.zones_lift, name="zones_lift"),
    path("command/<int:campaign_id>/zones/confirm/", views.zones_confirm, name="zones_confirm"),
    path("command/<int:campaign_id>/report.xlsx", views.report_xlsx, name="report_xlsx"),
    path("exports/", views.exports, name="exports"),
]
