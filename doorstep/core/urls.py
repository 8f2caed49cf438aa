from django.urls import path

from doorstep.core import views

app_name = "core"
urlpatterns = [
    path("audit/", views.audit_log, name="audit"),
]

# Sign-in, sign-out and the language keep Django's global names, which LOGIN_URL, the auth views
# and the templates use.
auth_urlpatterns = [
    path("login/", views.SignIn.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", views.SignOut.as_view(), name="logout"),
    path("i18n/setlang/", views.set_language, name="set_language"),
]
