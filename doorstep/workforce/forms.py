from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from doorstep.core.inputs import IdChoice, IdChoices
from doorstep.sampling.models import Site
from doorstep.territory.models import Community, Town
from doorstep.workforce.models import Purpose, Staff, SupportRequest, SupportUnit

LOCAL = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class CallUpForm(forms.Form):
    unit = IdChoice(label=_("Support unit"), queryset=SupportUnit.objects.none())
    requested = forms.IntegerField(
        label=_("People asked for"),
        min_value=1,
        max_value=2000,
        required=False,
        help_text=_("Or name the people below instead."),
    )
    named = IdChoices(
        label=_("Named people"),
        queryset=Staff.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    purpose = forms.ChoiceField(label=_("Purpose"), choices=Purpose.choices)
    community = IdChoice(
        label=_("Community (door to door)"), queryset=Community.objects.none(), required=False
    )
    site = IdChoice(label=_("Sampling site"), queryset=Site.objects.none(), required=False)
    muster_point = forms.CharField(label=_("Muster point"), max_length=200)
    muster_at = forms.DateTimeField(label=_("Muster time"), widget=LOCAL)

    def __init__(self, *args: object, town: Town, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["unit"].queryset = SupportUnit.objects.filter(town=town)  # type: ignore[attr-defined]
        self.fields["named"].queryset = Staff.objects.filter(town=town).select_related("unit")  # type: ignore[attr-defined]
        self.fields["community"].queryset = Community.objects.filter(town=town)  # type: ignore[attr-defined]
        self.fields["site"].queryset = Site.objects.filter(community__town=town)  # type: ignore[attr-defined]
        self.fields["muster_at"].initial = timezone.localtime().replace(second=0, microsecond=0)

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if not data.get("requested") and not data.get("named"):
            raise forms.ValidationError(_("Ask for a number of people, or name them."))
        return data


class AskForm(forms.Form):
    """A town asks its district for people."""

    people = forms.IntegerField(label=_("People asked for"), min_value=1, max_value=2000)
    purpose = forms.ChoiceField(label=_("Purpose"), choices=Purpose.choices)
    community = IdChoice(
        label=_("Community (door to door)"), queryset=Community.objects.none(), required=False
    )
    site = IdChoice(label=_("Sampling site"), queryset=Site.objects.none(), required=False)
    muster_point = forms.CharField(label=_("Muster point"), max_length=200)
    needed_by = forms.DateTimeField(label=_("Needed by"), widget=LOCAL)
    note = forms.CharField(
        label=_("Note"),
        max_length=200,
        required=False,
        help_text=_("What the district should know, e.g. «4 lanes, samplers first»."),
    )

    def __init__(self, *args: object, town: Town, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["community"].queryset = Community.objects.filter(town=town)  # type: ignore[attr-defined]
        self.fields["site"].queryset = Site.objects.filter(community__town=town)  # type: ignore[attr-defined]
        self.fields["needed_by"].initial = timezone.localtime().replace(
            second=0, microsecond=0
        ) + dt.timedelta(minutes=30)


class QuotaForm(forms.Form):
    """The district puts a share of a request on one of its towns."""

    sending_town = IdChoice(label=_("Sending town"), queryset=Town.objects.none())
    people = forms.IntegerField(label=_("People"), min_value=0, max_value=2000)

    def __init__(self, *args: object, request: SupportRequest, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["sending_town"].queryset = Town.objects.filter(  # type: ignore[attr-defined]
            district_id=request.district_id
        ).exclude(pk=request.town_id)
