from django.urls import path

from doorstep.simulate import views

app_name = "simulate"
urlpatterns = [
    path("<int:campaign_id>/pace/", views.pace, name="pace"),
    path("<int:campaign_id>/review/", views.review, name="review"),
    path("<int:campaign_id>/lanes/<int:lane_id>/feeder/", views.feeder, name="feeder"),
]
