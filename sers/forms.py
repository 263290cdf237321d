"""The site's own form: "Report a problem" (sers.views.report_problem)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from sers.text import TextBlockField, TextLineField


class ProblemReportForm(forms.Form):
    """GOV.UK's "Report a problem with this page": what the person was doing and what
    went wrong, the page, and an address only if they want a reply."""

    doing = TextBlockField(
        label=_("What were you doing?"),
        error_messages={"required": _("Say what you were doing.")},
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    wrong = TextBlockField(
        label=_("What went wrong?"),
        error_messages={"required": _("Say what went wrong.")},
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    page = TextLineField(
        label=_("Page where it happened (optional)"),
        max_length=300,
        required=False,
        help_text=_("The address of the page, for example /student/register/."),
    )
    email = forms.EmailField(
        label=_("Your email address (optional)"),
        required=False,
        help_text=_("Only if you want a reply. The help desk uses it for nothing else."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
