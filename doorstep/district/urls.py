from django.urls import path

from doorstep.district import views

app_name = "district"
urlpatterns = [
    path("", views.board, name="board"),
    path("panels/<str:panel>/", views.panel, name="panel"),
    path("report/", views.report, name="report"),
    path("report.xlsx", views.report_xlsx, name="report_xlsx"),
]
