"""The start page: what this role does next, with the links to do it.

Part of the project's glue, above every app: it reads the user's communities (territory) and
their staff record (workforce).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from doorstep.core import codes
from doorstep.core.http import AuthedRequest
from doorstep.core.roles import Can, Role
from doorstep.territory.scoping import communities_for
from doorstep.workforce.models import Staff


@require_GET
@login_required
def home(request: AuthedRequest) -> HttpResponse:
    """What this role does next, with the links to do it."""
    user = request.user
    role = Role.ADMIN if user.is_superuser else user.role
    staff = Staff.objects.filter(user=user).first()
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
