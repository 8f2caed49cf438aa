from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from doorstep import views
from doorstep.api.api import api
from doorstep.core.urls import auth_urlpatterns

# A database outage answers 503 with what to do (core.outage); other failures the plain 500.
handler500 = "doorstep.core.outage.server_error"

urlpatterns = [
    *auth_urlpatterns,
    path("", views.home, name="home"),
    path("", include("doorstep.core.urls")),
    path("territory/", include("doorstep.territory.urls")),
    path("campaigns/", include("doorstep.campaigns.urls")),
    path("workforce/", include("doorstep.workforce.urls")),
    path("canvass/", include("doorstep.canvass.urls")),
    path("sampling/", include("doorstep.sampling.urls")),
    path("notices/", include("doorstep.notices.urls")),
    path("lab/", include("doorstep.lab.urls")),
    path("", include("doorstep.command.urls")),
    path("district/", include("doorstep.district.urls")),
    path("closing/", include("doorstep.closing.urls")),
    path("needs/", include("doorstep.assistance.urls")),
    path("plan/", include("doorstep.simulate.urls")),
    path("api/v1/", api.urls),
    path(settings.ADMIN_PATH, admin.site.urls),
]
