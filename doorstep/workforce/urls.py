from django.urls import path

from doorstep.workforce import support_views, views

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
    path("support/", support_views.index, name="support"),
    path("support/ask/", support_views.ask, name="support_ask"),
    path(
        "support/requests/<int:support_request_id>/",
        support_views.request_detail,
        name="support_request",
    ),
    path(
        "support/requests/<int:support_request_id>/quota/",
        support_views.set_quota,
        name="support_quota",
    ),
    path(
        "support/requests/<int:support_request_id>/close/",
        support_views.close,
        name="support_close",
    ),
    path("support/quotas/<int:quota_id>/select/", support_views.select, name="support_select"),
    path("support/batches/<int:batch_id>/", support_views.batch_detail, name="support_batch"),
    path("support/batches/<int:batch_id>/depart/", support_views.depart, name="support_depart"),
    path("support/batches/<int:batch_id>/home/", support_views.home, name="support_home"),
    path(
        "support/batches/<int:batch_id>/call-off/", support_views.call_off, name="support_call_off"
    ),
    path("lanes/<int:lane_id>/", views.lane_staff, name="lane_staff"),
    path("lanes/<int:lane_id>/add/", views.lane_add, name="lane_add"),
    path("lanes/<int:lane_id>/move/", views.lane_move, name="lane_move"),
]
