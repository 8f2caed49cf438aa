from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from doorstep.core.http import AuthedRequest, require
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
