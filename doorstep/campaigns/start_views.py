"""The round page's start times: each community's start, spread in one click, and told to the
residents (``actions.starts``)."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from doorstep.campaigns.actions import CampaignError
from doorstep.campaigns.actions import starts as actions
from doorstep.campaigns.models import Campaign, CampaignBuilding
from doorstep.campaigns.views import _get_campaign_for_user
from doorstep.core.http import AuthedRequest, require
from doorstep.core.roles import Can
from doorstep.territory.scoping import communities_for


def _editable(request: AuthedRequest, campaign_id: int) -> tuple[Campaign, list[int]]:
    """The round, for a user who may run it, and its communities in their scope."""
    campaign = _get_campaign_for_user(request, campaign_id)
    require(request.user, Can.CREATE_CAMPAIGNS)
    ids = CampaignBuilding.objects.filter(
        campaign=campaign, community__in=communities_for(request.user)
    ).values_list("community_id", flat=True)
    return campaign, sorted(set(ids))


_TIME = forms.DateTimeField(input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])


def _time(raw: str) -> dt.datetime | None:
    if not raw.strip():
        return None
    try:
        return _TIME.clean(raw.strip()[:32])
    except forms.ValidationError:
        raise CampaignError(
            _("«%(value)s» is not a time: write it as 2026-12-08 08:40.") % {"value": raw[:32]}
        ) from None


def _whole(raw: str, what: str) -> int:
    try:
        return int(raw.strip()[:6])
    except ValueError:
        raise CampaignError(
            _("%(what)s: «%(value)s» is not a whole number.") % {"what": what, "value": raw[:6]}
        ) from None


def _back(campaign: Campaign) -> HttpResponse:
    return redirect("campaigns:detail", campaign_id=campaign.pk)


@require_POST
@login_required
def campaign_starts(request: AuthedRequest, campaign_id: int) -> HttpResponse:
    """Each community's start as the commander typed it (empty: with the round)."""
    campaign, ids = _editable(request, campaign_id)
    try:
        times = {c: _time(request.POST.get(f"start-{c}", "")) for c in ids}
        changed = actions.set_start_times(request.user, campaign, times)
    except CampaignError as exc:
        messages.error(request, str(exc))
        return _back(campaign)
    messages.success(
        request,
        _("Start times saved: %(n)d changed. Tell residents when they are final.")
        % {"n": len(changed)},
    )
    return _back(campaign)


@require_POST
@login_required
def campaign_stagger(request: AuthedRequest, campaign_id: int) -> HttpResponse:
    """The communities spread from the round's start every N minutes, in the order given."""
    campaign, ids = _editable(request, campaign_id)
    try:
        every = _whole(request.POST.get("every", ""), _("Minutes between starts"))
        places = {c: _whole(request.POST.get(f"order-{c}", "0"), _("Order")) for c in ids}
        order = sorted(ids, key=lambda c: (places[c], ids.index(c)))
        actions.stagger(request.user, campaign, order, every)
    except CampaignError as exc:
        messages.error(request, str(exc))
        return _back(campaign)
    messages.success(
        request,
        _("%(n)d communities start %(every)d minutes apart. Tell residents when they are final.")
        % {"n": len(order), "every": every},
    )
    return _back(campaign)


@require_POST
@login_required
def campaign_announce(request: AuthedRequest, campaign_id: int) -> HttpResponse:
    """Residents are texted the start of the communities not told yet or changed since."""
    campaign, _ids = _editable(request, campaign_id)
    try:
        told = actions.announce_starts(request.user, campaign)
    except CampaignError as exc:
        messages.error(request, str(exc))
        return _back(campaign)
    if campaign.is_drill:
        messages.success(
            request,
            _("Drill: %(n)d communities marked as told; nobody was texted.")
            % {"n": len(told.communities)},
        )
    else:
        messages.success(
            request,
            _("%(messages)d texts queued for %(n)d communities: %(names)s.")
            % {
                "messages": told.messages,
                "n": len(told.communities),
                "names": "、".join(told.communities),
            },
        )
    return _back(campaign)
