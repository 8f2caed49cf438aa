from django.urls import path

from doorstep.notices import views

app_name = "notices"
urlpatterns = [
    path("doors/", views.doors, name="doors"),
    path("doors/told/", views.told, name="told"),
    path("doors/not-home/", views.not_home, name="not_home"),
    path("doors/print/", views.print_notices, name="print"),
    path("messages/", views.outbox, name="outbox"),
    path("signature/", views.signature, name="signature"),
    path("dlr/<int:message_id>/<str:token>/", views.delivery_report, name="dlr"),
]
