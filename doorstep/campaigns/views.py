from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from doorstep.campaigns import actions, queries
from doorstep.campaigns.forms import CampaignForm
from doorstep.campaigns.models import Campaign, CampaignStatus, PoolRule, Zone
from doorstep.core.http import AuthedRequest, require
from doorstep.core.inputs import number
from doorstep.core.roles import Can
from doorstep.territory.scoping import communities_for


def _campaigns_for(request: AuthedRequest):  # type: ignore[no-untyped-def]
    """Campaigns that touch at least one community the user may see."""
    require(request.user, Can.VIEW_CAMPAIGNS)
    return Campaign.objects.filter(
        buildings__community__in=communities_for(request.user)
    ).distinct()


def _get_campaign_for_user(request: AuthedRequest, pk: int) -> Campaign:
    return get_object_or_404(_campaigns_for(request).select_related("town"), pk=pk)


@require_GET
@login_required
def campaign_list(request: AuthedRequest) -> HttpResponse:
    campaigns = _campaigns_for(request).select_related("town").order_by("-starts_at")
    return render(
        request,
        "campaigns/campaign_list.html",
        {"campaigns": campaigns, "can_create": request.user.can(Can.CREATE_CAMPAIGNS)},
    )


@require_http_methods(["GET", "POST"])
@login_required
def campaign_create(request: AuthedRequest) -> HttpResponse:
    """A round over chosen communities of the commander's town, zoned prevention to start."""
    require(request.user, Can.CREATE_CAMPAIGNS)
    communities = communities_for(request.user).select_related("town")
    form = CampaignForm(request.POST or None, communities=communities)
    if request.method == "POST" and form.is_valid():
        chosen = list(form.cleaned_data["communities"])
        try:
            campaign = actions.create_campaign(
                chosen[0].town,
                form.cleaned_data["name"],
                communities=chosen,
                starts_at=form.cleaned_data["starts_at"],
                deadline=form.cleaned_data["deadline"],
                zone=Zone(form.cleaned_data["zone"]),
                user=request.user,
                drill=form.cleaned_data["is_drill"],
            )
        except actions.CampaignError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Campaign created. Set the zone of each community below."))
            return redirect("campaigns:detail", campaign_id=campaign.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "campaigns/campaign_form.html", {"form": form}, status=status)


@require_GET
@login_required
def campaign_detail(request: AuthedRequest, campaign_id: int) -> HttpResponse:
    campaign = _get_campaign_for_user(request, campaign_id)
    summary = queries.zone_summary(campaign, communities_for(request.user))
    return render(
        request,
        "campaigns/campaign_detail.html",
        {
            "campaign": campaign,
            "summary": summary,
            "zones": Zone.choices,
            "pool_rules": PoolRule.choices,
            "can_edit": request.user.can(Can.EDIT_ZONES),
            "can_run": request.user.can(Can.CREATE_CAMPAIGNS),
            "statuses": CampaignStatus,
            "starts": queries.start_plan(campaign, communities_for(request.user)),
            "can_set_starts": request.user.can(Can.CREATE_CAMPAIGNS)
            and campaign.status != CampaignStatus.CLOSED,
        },
    )


@require_POST
@login_required
def campaign_start(request: AuthedRequest, campaign_id: int) -> HttpResponse:
    """The commander starts a planned round: from now it is the round of its communities."""
    campaign = _get_campaign_for_user(request, campaign_id)
    require(request.user, Can.CREATE_CAMPAIGNS)
    try:
        actions.start_round(request.user, campaign)
    except actions.CampaignError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("%(round)s is running.") % {"round": campaign.name})
    return redirect("campaigns:detail", campaign_id=campaign.pk)


@require_POST
@login_required
def campaign_close(request: AuthedRequest, campaign_id: int) -> HttpResponse:
    """The commander closes a running round. Specimens still open or on the road are listed
    first, and the round closes over them only when the commander confirms; then the round's
    report."""
    campaign = _get_campaign_for_user(request, campaign_id)
    require(request.user, Can.CREATE_CAMPAIGNS)
    try:
        actions.close_round(request.user, campaign, confirmed=request.POST.get("confirm") == "yes")
    except actions.NeedsConfirmation as exc:
        return render(
            request,
            "campaigns/campaign_close.html",
            {"campaign": campaign, "message": str(exc), "items": exc.items},
            status=409,
        )
    except actions.CampaignError as exc:
        messages.error(request, str(exc))
        return redirect("campaigns:detail", campaign_id=campaign.pk)
    messages.success(request, _("%(round)s is closed. Its report:") % {"round": campaign.name})
    return redirect("command:report", campaign_id=campaign.pk)


@require_POST
@login_required
def campaign_zones(request: AuthedRequest, campaign_id: int) -> HttpResponse:
    campaign = _get_campaign_for_user(request, campaign_id)
    require(request.user, Can.EDIT_ZONES)
    community = get_object_or_404(
        communities_for(request.user), pk=number(request.POST.get("community", ""))
    )
    try:
        n = actions.set_community_zone(
            request.user,
            campaign,
            community,
            request.POST.get("zone", ""),
            request.POST.get("pool_rule", ""),
            note=request.POST.get("note", ""),
        )
    except actions.CampaignError as exc:
        messages.error(request, str(exc))
        return redirect("campaigns:detail", campaign_id=campaign.pk)
    messages.success(
        request,
        _("%(community)s: %(n)d buildings are now %(zone)s.")
        % {"community": community.name, "n": n, "zone": Zone(request.POST["zone"]).label},
    )
    return redirect("campaigns:detail", campaign_id=campaign.pk)
