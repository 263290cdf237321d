"""Forms for consortium pages: policies, public settings and teachers."""

from django import forms
from django.contrib.auth.forms import SetPasswordForm
from django.utils.translation import gettext_lazy as _

from .models import ConsortiumPolicy, HighSchool


class TeacherInvitationForm(forms.Form):
    """Invite a teacher by email; `high_schools` limits where they may be placed."""

    email = forms.EmailField(label=_("Email address"), help_text=_("The teacher's work email."))
    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    high_school = forms.ModelChoiceField(label=_("School"), queryset=HighSchool.objects.none())

    def __init__(self, *args, high_schools=None, **kwargs):
        super().__init__(*args, **kwargs)
        if high_schools is not None:
            self.fields["high_school"].queryset = high_schools


class TeacherActivationForm(SetPasswordForm):
    """Choose a password to activate an invited teacher account (validators included)."""


class PublicTeacherNamesForm(forms.Form):
    show_teacher_names_publicly = forms.BooleanField(
        label=_("Show teacher names on the public search and school catalogs"),
        required=False,
    )


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class ConsortiumPolicyForm(forms.ModelForm):
    """A consortium's rules for one school year."""

    class Meta:
        model = ConsortiumPolicy
        fields = list(ConsortiumPolicy.EDITABLE_FIELDS)
        labels = {
            "registration_opens": _("Registration opens"),
            "registration_closes": _("Registration closes"),
            "payment_deadline": _("Payment deadline"),
            "grading_deadline": _("Grading deadline"),
            "annual_fee": _("Annual fee per student ($)"),
            "waiver_reasons": _("Fee waiver reasons"),
            "grade_scale": _("Grade scale of the default minimum"),
            "default_minimum_grade": _("Default minimum grade"),
            "school_email_domains": _("School email domains to warn students about"),
        }
        widgets = {
            "registration_opens": DateInput(),
            "registration_closes": DateInput(),
            "payment_deadline": DateInput(),
            "grading_deadline": DateInput(),
            "waiver_reasons": forms.Textarea(attrs={"rows": 4}),
            "school_email_domains": forms.Textarea(attrs={"rows": 3}),
        }

    def clean(self):
        cleaned = super().clean()
        # consortium_policy_save checks the rules with a message per field; the model's
        # constraints (which back them in the database) would only say "violated".
        self._validate_constraints = False
        return cleaned


class TeacherDeactivateForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is the account deactivated?"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class TeacherSchoolForm(forms.Form):
    high_school = forms.ModelChoiceField(
        label=_("Add a school"), queryset=HighSchool.objects.none()
    )

    def __init__(self, *args, high_schools, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["high_school"].queryset = high_schools
