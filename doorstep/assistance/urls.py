from django.urls import path

from doorstep.assistance import views

app_name = "assistance"
urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.new, name="new"),
    path("exams/", views.exams, name="exams"),
    path("ask/", views.ask, name="ask"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/contact/", views.contact, name="contact"),
    path("<int:pk>/verify/", views.verify, name="verify"),
    path("<int:pk>/arrange/", views.arrange, name="arrange"),
    path("<int:pk>/done/", views.done, name="done"),
    path("<int:pk>/decline/", views.decline, name="decline"),
    path("<int:pk>/merge/", views.merge, name="merge"),
    path("<int:pk>/trip/", views.trip, name="trip"),
]
