from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views import i18n
from django.views.decorators.http import require_GET, require_POST

from doorstep.core.http import AuthedRequest, own_path, require
from doorstep.core.models import AuditEntry
from doorstep.core.roles import Can


@require_GET
@login_required
def audit_log(request: AuthedRequest) -> HttpResponse:
    require(request.user, Can.READ_AUDIT)
    entries = AuditEntry.objects.all()
    action = request.GET.get("action", "")
    if action:
        entries = entries.filter(action=action)
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    return render(request, "core/audit.html", {"page": page, "action": action})


# Django's sign-in, sign-out and language views, with ``next`` checked by ``own_path`` (a page
# of this site, or nothing) like every other redirect target that comes from input.
class SignIn(auth_views.LoginView):
    def get_redirect_url(self) -> str:
        raw = self.request.POST.get("next", self.request.GET.get("next"))
        return own_path(self.request, raw) or ""


class SignOut(auth_views.LogoutView):
    def get_redirect_url(self) -> str:
        raw = self.request.POST.get("next", self.request.GET.get("next"))
        return own_path(self.request, raw) or ""


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    post = request.POST.copy()
    post["next"] = own_path(request, post.get("next")) or reverse("home")
    request.POST = post  # type: ignore[assignment]
    return i18n.set_language(request)
