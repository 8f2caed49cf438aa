from __future__ import annotations

import datetime as dt

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from doorstep.campaigns.actions import DEFAULT_DURATION
from doorstep.campaigns.models import Zone
from doorstep.core.inputs import IdChoices
from doorstep.territory.models import Community, Town


class CampaignForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    communities = IdChoices(
        label=gettext_lazy("Communities"),
        queryset=Community.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )
    starts_at = forms.DateTimeField(
        label=gettext_lazy("Starts at"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    deadline = forms.DateTimeField(
        label=gettext_lazy("Deadline"),
        required=False,
        help_text=gettext_lazy("Empty: 24 hours after the start."),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    zone = forms.ChoiceField(
        label=gettext_lazy("Zone to start with"),
        help_text=gettext_lazy(
            "For buildings no earlier round covered; the others keep the zone in force."
        ),
        choices=Zone.choices,
        initial=Zone.PREVENTION,
    )
    is_drill = forms.BooleanField(
        label=gettext_lazy("Drill (rehearsal)"),
        required=False,
        help_text=gettext_lazy(
            "Runs as a real round, with real check-ins, claims and scans of printed drill codes; "
            "counts in no real figure, report, export or alert."
        ),
    )

    def __init__(self, *args: object, communities: QuerySet[Community], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["communities"].queryset = communities  # type: ignore[attr-defined]
        self.fields["starts_at"].initial = timezone.localtime().replace(second=0, microsecond=0)

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        starts_at = data.get("starts_at")
        if isinstance(starts_at, dt.datetime) and not data.get("deadline"):
            data["deadline"] = starts_at + DEFAULT_DURATION
        chosen = data.get("communities")
        if chosen and len({c.town_id for c in chosen}) > 1:
            raise forms.ValidationError(
                _("A campaign covers one town: choose communities of one town.")
            )
        return data


class DistrictRoundForm(forms.Form):
    """A round over chosen towns of the district commander's district, started at once."""

    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    towns = IdChoices(
        label=gettext_lazy("Towns"),
        queryset=Town.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "invalid_choice": gettext_lazy(
                "Choose only towns of your district: %(value)s is not one of them."
            )
        },
        help_text=gettext_lazy(
            "Each town is tested whole, as one round: a resident sampled in another of these "
            "towns counts for their own community."
        ),
    )
    deadline = forms.DateTimeField(
        label=gettext_lazy("Deadline"),
        required=False,
        help_text=gettext_lazy("Empty: 24 hours after the start."),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    zone = forms.ChoiceField(
        label=gettext_lazy("Zone to start with"),
        help_text=gettext_lazy(
            "For buildings no earlier round covered; the others keep the zone in force."
        ),
        choices=Zone.choices,
        initial=Zone.PREVENTION,
    )

    def __init__(self, *args: object, towns: QuerySet[Town], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["towns"].queryset = towns  # type: ignore[attr-defined]
