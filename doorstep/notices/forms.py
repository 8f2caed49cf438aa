"""The one form of telling: a district's or a town's signature and hotline."""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# Carriers refuse a signature with brackets or spaces of its own, and one over 20 characters.
_SIGNATURE = re.compile(r"^[0-9A-Za-z\u4e00-\u9fff]{2,20}$")
_HOTLINE = re.compile(r"^[0-9][0-9\-]{4,19}$")


class SignatureForm(forms.Form):
    sms_signature = forms.CharField(
        label=gettext_lazy("SMS signature"), max_length=22, required=False
    )
    hotline = forms.CharField(label=gettext_lazy("hotline"), max_length=20, required=False)

    def clean_sms_signature(self) -> str:
        value = str(self.cleaned_data.get("sms_signature", "")).strip().strip("【】[]")
        if value and not _SIGNATURE.match(value):
            raise forms.ValidationError(
                _(
                    "A signature is 2 to 20 letters or Chinese characters, with no spaces or brackets (Doorstep puts it in 【】)."
                )
            )
        return value

    def clean_hotline(self) -> str:
        value = str(self.cleaned_data.get("hotline", "")).strip().replace(" ", "")
        if value and not _HOTLINE.match(value):
            raise forms.ValidationError(
                _("A hotline is digits, with a dash after the area code if you like: 022-27391234.")
            )
        return value
