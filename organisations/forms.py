"""Forms for consortium pages (policies, public settings and teachers) and for state
staff's organisations (consortia, colleges, districts, high schools)."""

from django import forms
from django.contrib.auth.forms import SetPasswordForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from sers.text import TextBlockField, TextLineField, refuse_control_characters

from .models import College, Consortium, ConsortiumPolicy, District, HighSchool


def add_errors(form: forms.Form, error: ValidationError) -> None:
    """A service's refusal on the form: each message beside its field, if the form has
    it, else at the top."""
    if hasattr(error, "error_dict"):
        for name, errors in error.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error)


class TeacherInvitationForm(forms.Form):
    """Invite a teacher by email; `high_schools` limits where they may be placed."""

    email = forms.EmailField(label=_("Email address"), help_text=_("The teacher's work email."))
    first_name = TextLineField(label=_("First name"), max_length=150)
    last_name = TextLineField(label=_("Last name"), max_length=150)
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


class PaymentInstructionsForm(forms.Form):
    """How students pay the consortium's fee, in each language SERS speaks."""

    english = TextBlockField(
        label=_("How to pay, in English"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5, "lang": "en"}),
        help_text=_("Where and how to pay, and whom to ask about a waiver."),
    )
    spanish = TextBlockField(
        label=_("How to pay, in Spanish"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5, "lang": "es"}),
        help_text=_(
            "Students who read SERS in Spanish see this text. Left empty, they see the "
            "English text."
        ),
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
            "payment_url": _("Online payment page (optional)"),
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
        field_classes = {
            "waiver_reasons": TextBlockField,
            "default_minimum_grade": TextLineField,
            "school_email_domains": TextBlockField,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Django's URLField lets a control character through in the path.
        self.fields["payment_url"].validators.append(refuse_control_characters)

    def clean(self):
        cleaned = super().clean()
        # consortium_policy_save checks the rules with a message per field; the model's
        # constraints (which back them in the database) would only say "violated".
        self._validate_constraints = False
        return cleaned


class TeacherDeactivateForm(forms.Form):
    reason = TextBlockField(
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


# --- state staff: the organisations -----------------------------------------------------------


class OrganisationForm(forms.ModelForm):
    """The fields of one organisation. organisation_save checks uniqueness (ignoring case)
    and the moves between consortia, with a message for each field: the model's own
    checks would only say "already exists" or "violated".

    Each subclass's Meta.field_classes makes its names, codes and cities TextLines
    (sers.text); its website, if it has one, refuses control characters too."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "website" in self.fields:  # Django's URLField lets a control character through
            self.fields["website"].validators.append(refuse_control_characters)

    def clean(self):
        cleaned = super().clean()
        self._validate_unique = False
        self._validate_constraints = False
        return cleaned


class ConsortiumChoiceField(forms.ModelChoiceField):
    def __init__(self, **kwargs):
        super().__init__(queryset=Consortium.objects.order_by("name"), **kwargs)


class DistrictLabelMixin:
    def label_from_instance(self, obj: District) -> str:
        return f"{obj.name} ({obj.consortium.name})"


class DistrictChoiceField(DistrictLabelMixin, forms.ModelChoiceField):
    pass


class DistrictMultipleChoiceField(DistrictLabelMixin, forms.ModelMultipleChoiceField):
    pass


def _districts():
    return District.objects.select_related("consortium").order_by("name", "pk")


class ConsortiumForm(OrganisationForm):
    class Meta:
        model = Consortium
        fields = ["name", "slug", "contact_name", "contact_email", "contact_phone", "website"]
        labels = {
            "name": _("Name"),
            "slug": _("Short name for web addresses"),
            "contact_name": _("Contact person or office"),
            "contact_email": _("Contact email"),
            "contact_phone": _("Contact phone"),
            "website": _("Website"),
        }
        field_classes = {
            "name": TextLineField,
            "contact_name": TextLineField,
            "contact_phone": TextLineField,
        }
        help_texts = {
            "slug": _("Letters, digits and hyphens. Left blank, it is made from the name."),
            "contact_name": _(
                "Shown to students who need help, for example when a class takes no registrations."
            ),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slug"].required = False


class CollegeForm(OrganisationForm):
    consortium = ConsortiumChoiceField(label=_("Consortium"))

    class Meta:
        model = College
        fields = ["name", "code", "consortium", "registrar_email", "website"]
        labels = {
            "name": _("Name"),
            "code": _("College code"),
            "registrar_email": _("Registrar's email"),
            "website": _("Website"),
        }
        field_classes = {"name": TextLineField, "code": TextLineField}


class DistrictForm(OrganisationForm):
    consortium = ConsortiumChoiceField(label=_("Consortium"))

    class Meta:
        model = District
        fields = ["name", "code", "consortium"]
        labels = {"name": _("Name"), "code": _("State district code")}
        help_texts = {"code": ""}
        field_classes = {"name": TextLineField, "code": TextLineField}


class HighSchoolForm(OrganisationForm):
    district = DistrictChoiceField(label=_("District"), queryset=_districts())
    served_districts = DistrictMultipleChoiceField(
        label=_("Districts served (skills centers only)"),
        queryset=_districts(),
        required=False,
        help_text=_("The districts whose students a skills center serves."),
    )

    class Meta:
        model = HighSchool
        fields = ["name", "code", "kind", "district", "city", "served_districts"]
        labels = {
            "name": _("Name"),
            "code": _("State building code"),
            "kind": _("Kind of school"),
            "city": _("City"),
        }
        help_texts = {"code": ""}
        field_classes = {"name": TextLineField, "code": TextLineField, "city": TextLineField}
