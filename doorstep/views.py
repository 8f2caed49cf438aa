"""The start page: what this role does next, with the links to do it.

Part of the project's glue, above every app: it reads the user's communities (territory),
their staff record (workforce) and the lanes they are on duty at (sampling).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from doorstep.core import codes
from doorstep.core.http import AuthedRequest
from doorstep.core.roles import Can, Role
from doorstep.sampling import queries as sampling_queries
from doorstep.sampling.models import Lane
from doorstep.territory.scoping import communities_for
from doorstep.workforce.models import Staff


@require_GET
@login_required
def home(request: AuthedRequest) -> HttpResponse:
    """What this role does next, with the links to do it."""
    user = request.user
    role = Role.ADMIN if user.is_superuser else user.role
    staff = Staff.objects.filter(user=user).first()
    # The lanes a registrar is on duty at now: their start page opens them.
    on_duty = sampling_queries.scan_lanes(user) if user.can(Can.SCAN) else set()
    my_lanes = (
        sampling_queries.in_lane_order(Lane.objects.filter(pk__in=on_duty).select_related("site"))
        if on_duty is not None
        else []
    )
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
            "my_lanes": my_lanes,
        },
    )
