"""The walk-ins whose address traces to no household, for the community's workers to find
(``sampling.walk_ins``): those in a positive tube first, each with the address they gave."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from doorstep.core.http import AuthedRequest, require
from doorstep.core.roles import Can
from doorstep.sampling import walk_ins
from doorstep.sampling.actions import walk_ins as actions
from doorstep.sampling.models import WalkIn
from doorstep.territory.queries import address_book
from doorstep.territory.scoping import grid_ids, scoped


def _walk_ins(request: AuthedRequest) -> QuerySet[WalkIn]:
    require(request.user, Can.TRACE_WALK_INS)
    return scoped(request.user, WalkIn.objects.all())


@require_GET
@login_required
def untraced(request: AuthedRequest) -> HttpResponse:
    found = walk_ins.untraced(_walk_ins(request))
    # Each community's address list once, for the pickers of its walk-ins.
    books = {f"address-book-{c}": address_book(c) for c in {u.walk_in.community_id for u in found}}
    rows = [(u, f"address-book-{u.walk_in.community_id}", f"trace-{u.walk_in.pk}") for u in found]
    return render(
        request,
        "sampling/walk_ins.html",
        {
            "rows": rows,
            "books": books,
            "limit": walk_ins.LIST_LIMIT,
            # A worker held to grids sees no walk-in nobody has placed in a building yet.
            "held_to_grids": grid_ids(request.user) is not None,
        },
    )


@require_POST
@login_required
def trace(request: AuthedRequest, walk_in_id: int) -> HttpResponse:
    walk_in = get_object_or_404(_walk_ins(request).select_related("community"), pk=walk_in_id)
    try:
        household = actions.trace(request.user, walk_in, request.POST.get("address", ""))
    except actions.TraceError as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(
            request,
            _("%(name)s lives at %(home)s: retests and seals now reach that household.")
            % {"name": walk_in, "home": household},
        )
    return redirect("sampling:walk_ins")
