from django.urls import path

app_name = "closing"

urlpatterns: list = []
