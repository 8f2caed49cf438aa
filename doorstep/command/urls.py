from django.urls import path

from doorstep.command import views

app_name = "command"
urlpatterns = [
    path("status/", views.status, name="status"),
    path("status/me/", views.me, name="me"),
    path("command/", views.index, name="index"),
    path("command/<int:campaign>/", views.dashboard, name="dashboard"),
    path("command/<int:campaign>/panels/<str:panel>/", views.panel, name="panel"),
    path("command/<int:campaign>/alerts/ack/", views.ack, name="ack"),
    path("command/<int:campaign>/communities/<int:community>/", views.community, name="community"),
    path("command/<int:campaign>/sites/<int:site>/", views.site, name="site"),
    path("command/<int:campaign>/tubes/<str:code>/", views.tube, name="tube"),
    path("command/<int:campaign>/report/", views.report, name="report"),
    path("command/<int:campaign>/zones/", views.zones, name="zones"),
    path("command/<int:campaign>/compare/", views.compare, name="compare"),
    path("command/<int:campaign>/zones/lift/", views.zones_lift, name="zones_lift"),
    path("command/<int:campaign>/zones/confirm/", views.zones_confirm, name="zones_confirm"),
    path("command/<int:campaign>/report.xlsx", views.report_xlsx, name="report_xlsx"),
]
