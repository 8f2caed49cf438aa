from django.urls import path

from doorstep.closing import views

app_name = "closing"

urlpatterns = [
    path("", views.index, name="index"),
    path("town/<int:town_id>/", views.town, name="town"),
    path("town/<int:town_id>/certificate/", views.certificate_page, name="certificate"),
    path("town/<int:town_id>/certificate.pdf", views.certificate_pdf, name="certificate_pdf"),
]
