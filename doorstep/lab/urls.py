from django.urls import path

from doorstep.lab import case_views, timeline_views, views

app_name = "lab"
urlpatterns = [
    path("", views.index, name="index"),
    path("receive/", views.receive, name="receive"),
    path("results/", views.upload, name="upload"),
    path("tubes/<str:code>/", views.tube, name="tube"),
    path("retests/", views.retests, name="retests"),
    path("pools/<int:campaign_id>/", views.pools, name="pools"),
    path("late/<int:campaign_id>/", timeline_views.late, name="late"),
    path(
        "residents/<int:resident_id>/timeline/",
        timeline_views.resident_timeline,
        name="timeline",
    ),
    # Case sheets (流调): a round's list, a sheet, and what is done with it.
    path("cases/<int:campaign_id>/", case_views.sheet_list, name="cases"),
    path("cases/sheet/<int:case_sheet_id>/", case_views.sheet, name="case"),
    path("cases/sheet/<int:case_sheet_id>/reveal/", case_views.reveal, name="case_reveal"),
    path("cases/sheet/<int:case_sheet_id>/hand/", case_views.hand, name="case_hand"),
    path("cases/sheet/<int:case_sheet_id>/ack/", case_views.acknowledge, name="case_ack"),
    path("cases/sheet/<int:case_sheet_id>/print/", case_views.print_sheet, name="case_print"),
    path("cases/sheet/<int:case_sheet_id>/xlsx/", case_views.xlsx, name="case_xlsx"),
]
