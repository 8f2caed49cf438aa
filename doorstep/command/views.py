"""Command centre pages. The public ones need no login and show no personal data."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from doorstep.command import public


def _address(request: HttpRequest) -> str:
    # Behind a proxy, set it to pass the client's address as REMOTE_ADDR (docs/operators-guide.md).
    return str(request.META.get("REMOTE_ADDR", ""))


@require_GET
def status(request: HttpRequest) -> HttpResponse:
    """Every sampling site with its lanes, hours, whom it serves and its wait band."""
    context = {"sites": public.site_statuses(), "now": timezone.now()}
    if request.headers.get("HX-Request"):
        return render(request, "command/_status_sites.html", context)
    return render(request, "command/status.html", context)


@require_http_methods(["GET", "POST"])
def me(request: HttpRequest) -> HttpResponse:
    """A resident's own status this round, for their person code and phone's last 4 digits."""
    found = None
    code = ""
    if request.method == "POST":
        code = request.POST.get("code", "")
        found = public.look_up(code, request.POST.get("phone", ""), _address(request))
    status_code = 429 if found is not None and found.code == public.TOO_MANY else 200
    return render(request, "command/me.html", {"found": found, "code": code}, status=status_code)
