from django.urls import path

from doorstep.command import views

app_name = "command"
urlpatterns = [
    path("", views.status, name="status"),
    path("me/", views.me, name="me"),
]
