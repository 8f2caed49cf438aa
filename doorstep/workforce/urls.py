from django.urls import path

from doorstep.workforce import views

app_name = "workforce"
urlpatterns = [
    path("", views.index, name="index"),
    path("staff/", views.staff_list, name="staff"),
    path("staff/import/", views.staff_import_view, name="staff_import"),
    path("staff/template.xlsx", views.staff_template, name="staff_template"),
    path("staff/codes/", views.staff_codes, name="staff_codes"),
    path("callups/new/", views.callup_create, name="callup_create"),
    path("callups/<int:callup_id>/", views.muster_board, name="board"),
    path("callups/<int:callup_id>/check-in/", views.check_in, name="check_in"),
    path("callups/<int:callup_id>/no-show/", views.no_show, name="no_show"),
    path("callups/<int:callup_id>/send/", views.send, name="send"),
    path("teams/new/", views.team_create, name="team_create"),
    path("teams/<int:team_id>/", views.team_detail, name="team"),
    path("teams/<int:team_id>/assign/", views.team_assign, name="team_assign"),
    path("teams/<int:team_id>/hand-over/", views.team_handover, name="team_handover"),
    path("teams/<int:team_id>/stand-down/", views.team_stand_down, name="team_stand_down"),
    path("where/", views.where, name="where"),
    path("lanes/<int:lane_id>/", views.lane_staff, name="lane_staff"),
    path("lanes/<int:lane_id>/add/", views.lane_add, name="lane_add"),
    path("lanes/<int:lane_id>/move/", views.lane_move, name="lane_move"),
]
