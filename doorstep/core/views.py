from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from doorstep.core import codes
from doorstep.core.http import AuthedRequest
from doorstep.core.models import AuditEntry
from doorstep.core.roles import Can, Role
from doorstep.core.scoping import communities_for, require


@require_GET
@login_required
def home(request: AuthedRequest) -> HttpResponse:
    """What this role does next, with the links to do it."""
    user = request.user
    role = Role.ADMIN if user.is_superuser else user.role
    staff = getattr(user, "staff", None)
    worker_qr = ""
    if staff is not None:
        worker_qr = codes.qr_svg(staff.worker_code)
    return render(
        request,
        "core/home.html",
        {
            "role": role,
            "communities": communities_for(user) if user.can(Can.VIEW_RESIDENTS) else [],
            "staff": staff,
            "worker_qr": worker_qr,
        },
    )


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
