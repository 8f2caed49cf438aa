from django.contrib.auth import views as auth_views
from django.urls import path

from doorstep.core import views

app_name = "core"
urlpatterns = [
    path("audit/", views.audit_log, name="audit"),
]

# Sign-in and sign-out keep Django's global names, which LOGIN_URL and the auth views use.
auth_urlpatterns = [
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]
