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
from doorstep.territory.models import Community


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
