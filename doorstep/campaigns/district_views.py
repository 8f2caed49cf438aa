"""The district's rounds over several towns (city-wide testing): the list, starting one over
chosen towns of the district, a round's towns, and closing it everywhere at once."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch, QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from doorstep.campaigns.actions import CampaignError, NeedsConfirmation
from doorstep.campaigns.actions import district as actions
from doorstep.campaigns.forms import DistrictRoundForm
from doorstep.campaigns.models import Campaign, CampaignStatus, DistrictRound, Zone
from doorstep.core.http import AuthedRequest, require
from doorstep.core.models import User
from doorstep.core.roles import Can
from doorstep.territory.models import District


def _districts_for(user: User) -> QuerySet[District]:
    """The districts whose rounds the user commands: a district commander's own (none without
    one); an administrator of every town (no town set), every district."""
    if user.is_district_wide:
        return District.objects.filter(pk=user.district_id or 0)
    if user.is_town_wide and user.town_id is None:
        return District.objects.all()
    return District.objects.none()


def _district_rounds_for(request: AuthedRequest) -> QuerySet[DistrictRound]:
    require(request.user, Can.VIEW_DISTRICT)
    return DistrictRound.objects.filter(district__in=_districts_for(request.user))


def _get_district_round_for_user(request: AuthedRequest, pk: int) -> DistrictRound:
    return get_object_or_404(_district_rounds_for(request).select_related("district"), pk=pk)


@require_GET
@login_required
def district_round_list(request: AuthedRequest) -> HttpResponse:
    rounds = (
        _district_rounds_for(request)
        .select_related("district")
        .prefetch_related(
            Prefetch(
                "campaigns",
                queryset=Campaign.objects.select_related("town").order_by("town__name"),
            )
        )
        .order_by("-started_at", "-id")[:100]
    )
    can_start = request.user.can(Can.CREATE_CAMPAIGNS) and request.user.district_id is not None
    return render(
        request,
        "campaigns/district_round_list.html",
        {"rounds": rounds, "can_start": can_start},
    )


@require_http_methods(["GET", "POST"])
@login_required
def district_round_create(request: AuthedRequest) -> HttpResponse:
    """The district commander starts one round over chosen towns of the district, at once."""
    require(request.user, Can.VIEW_DISTRICT)
    require(request.user, Can.CREATE_CAMPAIGNS)
    district = get_object_or_404(_districts_for(request.user), pk=request.user.district_id or 0)
    form = DistrictRoundForm(request.POST or None, towns=district.towns.order_by("name"))
    if request.method == "POST" and form.is_valid():
        try:
            district_round = actions.start_district_round(
                request.user,
                district,
                form.cleaned_data["name"],
                form.cleaned_data["towns"],
                deadline=form.cleaned_data["deadline"],
                zone=Zone(form.cleaned_data["zone"]),
            )
        except CampaignError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request, _("%(round)s is running in every town.") % {"round": district_round.name}
            )
            return redirect("campaigns:district_round", district_round_id=district_round.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "campaigns/district_round_form.html",
        {"form": form, "district": district},
        status=status,
    )


@require_GET
@login_required
def district_round_detail(request: AuthedRequest, district_round_id: int) -> HttpResponse:
    district_round = _get_district_round_for_user(request, district_round_id)
    campaigns = district_round.campaigns.select_related("town").order_by("town__name", "pk")
    return render(
        request,
        "campaigns/district_round_detail.html",
        {
            "round": district_round,
            "campaigns": campaigns,
            "can_run": request.user.can(Can.CREATE_CAMPAIGNS),
            "statuses": CampaignStatus,
        },
    )


@require_POST
@login_required
def district_round_close(request: AuthedRequest, district_round_id: int) -> HttpResponse:
    """The round closes in every town still running it; what is still open or on the road is
    listed first, town by town, and the round closes over it only once confirmed."""
    district_round = _get_district_round_for_user(request, district_round_id)
    require(request.user, Can.CREATE_CAMPAIGNS)
    try:
        actions.close_district_round(
            request.user, district_round, confirmed=request.POST.get("confirm") == "yes"
        )
    except NeedsConfirmation as exc:
        return render(
            request,
            "campaigns/district_round_close.html",
            {"round": district_round, "message": str(exc), "items": exc.items},
            status=409,
        )
    except CampaignError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, _("%(round)s is closed in every town.") % {"round": district_round.name}
        )
    return redirect("campaigns:district_round", district_round_id=district_round.pk)
