from django.urls import path

from doorstep.assistance import views

app_name = "assistance"
urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.new, name="new"),
    path("exams/", views.exams, name="exams"),
    path("ask/", views.ask, name="ask"),
    path("<int:need_id>/", views.detail, name="detail"),
    path("<int:need_id>/contact/", views.contact, name="contact"),
    path("<int:need_id>/verify/", views.verify, name="verify"),
    path("<int:need_id>/arrange/", views.arrange, name="arrange"),
    path("<int:need_id>/done/", views.done, name="done"),
    path("<int:need_id>/decline/", views.decline, name="decline"),
    path("<int:need_id>/merge/", views.merge, name="merge"),
    path("<int:need_id>/trip/", views.trip, name="trip"),
]
