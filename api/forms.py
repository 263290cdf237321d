from django import forms
from django.utils.translation import gettext_lazy as _

from sers.text import TextLineField

from .models import API_TOKEN_DEFAULT_DAYS, API_TOKEN_MAX_DAYS

LIFETIME_CHOICES = [
    (30, _("30 days")),
    (API_TOKEN_DEFAULT_DAYS, _("90 days (recommended)")),
    (180, _("180 days")),
    (API_TOKEN_MAX_DAYS, _("1 year (the longest allowed)")),
]


class ApiTokenForm(forms.Form):
    label = TextLineField(
        label=_("Name"),
        max_length=100,
        help_text=_("Which system uses it, so you can tell tokens apart: “Banner nightly import”."),
    )
    college = forms.ModelChoiceField(label=_("College"), queryset=None, empty_label=None)
    days = forms.TypedChoiceField(
        label=_("Expires after"),
        choices=LIFETIME_CHOICES,
        coerce=int,
        initial=API_TOKEN_DEFAULT_DAYS,
        help_text=_("Create a new token before it expires, then revoke the old one."),
    )

    def __init__(self, *args, colleges, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["college"].queryset = colleges
        if len(colleges) == 1:
            self.fields["college"].initial = colleges[0].pk
            self.fields["college"].widget = forms.HiddenInput()
