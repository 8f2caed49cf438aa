"""The access helpers every sampling view starts with: 403 for a role that may not, 404 for a
site or lane outside the user's territory."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from doorstep.core.http import AuthedRequest, require
from doorstep.core.models import User
from doorstep.core.roles import Can
from doorstep.sampling import queries
from doorstep.sampling.models import HomeTask, Lane, Site
from doorstep.territory.scoping import scoped


def site_for_user(request: AuthedRequest, pk: int) -> Site:
    require(request.user, Can.VIEW_SITES)
    return get_object_or_404(scoped(request.user, Site.objects.select_related("community")), pk=pk)


def lane_for_user(request: AuthedRequest, pk: int) -> Lane:
    """404 outside the user's territory; 403, saying why, at a lane they are not on duty at."""
    require(request.user, Can.SCAN)
    lanes = scoped(request.user, Lane.objects.select_related("site__community"), "site__community")
    lane = get_object_or_404(lanes, pk=pk)
    allowed = queries.scan_lanes(request.user)
    if allowed is not None and lane.pk not in allowed:
        raise PermissionDenied(
            _(
                "You are not on duty at %(lane)s. Ask the commander to put your team on this lane (Staff → Teams), then open it again."
            )
            % {"lane": lane}
        )
    return lane


def home_tasks_for(user: User) -> QuerySet[HomeTask]:
    """The home-sampling tasks a user may see: those of their territory (a grid worker: her
    grids' buildings only, ``scoped``), and all those of the communities of the lanes they are
    on duty at, whose teams do the sampling there."""
    mine = scoped(user, HomeTask.objects.all())
    lanes = queries.scan_lanes(user)
    if not lanes:
        return mine
    worked = Lane.objects.filter(pk__in=lanes).values("site__community_id")
    return mine | HomeTask.objects.filter(community_id__in=worked)
