from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from doorstep.core.inputs import IdChoice, IdChoices
from doorstep.sampling.models import Site
from doorstep.territory.models import Community, Town
from doorstep.workforce.models import Purpose, Staff, SupportUnit

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
