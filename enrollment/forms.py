"""Forms of the student pages: sign-up, account recovery, registration and profile."""

import re
from datetime import date

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from consortia.models import HighSchool, User

from .models import StudentProfile

MIN_AGE, MAX_AGE = 10, 25
PHONE_DIGITS = re.compile(r"\d")
PHONE_ALLOWED = re.compile(r"^[0-9 +().\-]*$")


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


def _age_on(birth_date: date, today: date) -> int:
    return (
        today.year
        - birth_date.year
        - ((today.month, today.day) < (birth_date.month, birth_date.day))
    )


def clean_birth_date_value(value: date) -> date:
    today = timezone.localdate()
    if value > today:
        raise forms.ValidationError(_("A birth date cannot be in the future."))
    age = _age_on(value, today)
    if age < MIN_AGE or age > MAX_AGE:
        raise forms.ValidationError(
            _("Check the year: this birth date makes you %(age)s years old."),
            params={"age": age},
        )
    return value


def clean_phone_value(value: str) -> str:
    value = value.strip()
    if not value:
        return ""
    digits = len(PHONE_DIGITS.findall(value))
    if not PHONE_ALLOWED.match(value) or not 7 <= digits <= 15:
        raise forms.ValidationError(
            _("Enter a phone number with 7 to 15 digits, or leave it empty.")
        )
    return value


def graduation_year_choices(current: int | None = None) -> list[tuple[int, int]]:
    this_year = timezone.localdate().year
    years = list(range(this_year, this_year + 7))
    if current and current not in years:
        years.insert(0, current)
    return [(year, year) for year in years]


class HighSchoolChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: HighSchool) -> str:
        return f"{obj.name} ({obj.city})" if obj.city else obj.name


def high_school_field(**kwargs) -> HighSchoolChoiceField:
    return HighSchoolChoiceField(
        queryset=HighSchool.objects.order_by("name"),
        label=_("High school"),
        empty_label=_("Choose your high school"),
        **kwargs,
    )


class LegalIdentityFields(forms.Form):
    legal_first_name = forms.CharField(
        label=_("Legal first name"),
        max_length=100,
        help_text=_("Exactly as on your birth certificate or passport."),
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    legal_middle_name = forms.CharField(
        label=_("Legal middle name"),
        max_length=100,
        required=False,
        help_text=_("Leave empty if you have none."),
        widget=forms.TextInput(attrs={"autocomplete": "additional-name"}),
    )
    legal_last_name = forms.CharField(
        label=_("Legal last name"),
        max_length=100,
        help_text=_("All of your last names, as on your legal documents."),
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    birth_date = forms.DateField(
        label=_("Birth date"),
        widget=DateInput(attrs={"autocomplete": "bday"}),
        help_text=_("Your real birth date. Colleges use it to find your record."),
    )

    def clean_birth_date(self):
        return clean_birth_date_value(self.cleaned_data["birth_date"])

    def _strip(self, name: str) -> str:
        value = " ".join(self.cleaned_data.get(name, "").split())
        if name != "legal_middle_name" and not value:
            raise forms.ValidationError(_("This field is required."))
        return value

    def clean_legal_first_name(self):
        return self._strip("legal_first_name")

    def clean_legal_middle_name(self):
        return self._strip("legal_middle_name")

    def clean_legal_last_name(self):
        return self._strip("legal_last_name")


class SignUpForm(LegalIdentityFields):
    email = forms.EmailField(
        label=_("Personal email"),
        max_length=254,
        help_text=_(
            "An address you will keep after high school, not a school address: "
            "you sign in with it and the college writes to it."
        ),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = forms.CharField(
        label=_("Mobile phone (optional)"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    high_school = high_school_field()
    graduation_year = forms.TypedChoiceField(label=_("Year you finish high school"), coerce=int)
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_(
            "At least 8 characters. Not a common password, not only numbers, and not "
            "like your name or email."
        ),
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    different_person = forms.BooleanField(
        label=_("I have checked: none of the accounts above is mine. Create my account."),
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["graduation_year"].choices = [
            ("", _("Choose a year")),
            *graduation_year_choices(),
        ]
        self.fields["high_school"].queryset = HighSchool.objects.order_by("name")

    def clean_email(self):
        email = User.objects.normalize_email(self.cleaned_data["email"]).lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(
                _(
                    "An account already uses this email address. Sign in, or reset your "
                    "password if you forgot it."
                )
            )
        return email

    def clean_phone(self):
        return clean_phone_value(self.cleaned_data.get("phone", ""))

    def clean(self):
        cleaned = super().clean()
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", _("The two passwords are different."))
        elif password1:
            candidate = User(
                email=cleaned.get("email", ""),
                first_name=cleaned.get("legal_first_name", ""),
                last_name=cleaned.get("legal_last_name", ""),
            )
            try:
                password_validation.validate_password(password1, candidate)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class ForgotEmailForm(LegalIdentityFields):
    """Legal name and birth date, to find which address an account uses."""

    legal_middle_name = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["legal_first_name"].help_text = ""
        self.fields["legal_last_name"].help_text = ""
        self.fields["birth_date"].help_text = ""


class RecoveryForm(forms.Form):
    """Which of the accounts just found should get a password-reset link."""

    account = forms.IntegerField(min_value=0, widget=forms.HiddenInput)


class SchoolChoiceForm(forms.Form):
    school = forms.TypedChoiceField(label=_("School"), coerce=int)

    def __init__(self, *args, groups: list[tuple[str, list[HighSchool]]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].choices = [
            (label, [(school.pk, str(school)) for school in schools]) for label, schools in groups
        ]


class SectionSelectionForm(forms.Form):
    """The classes ticked on the register page: open ones only, one teacher per course."""

    sections = forms.TypedMultipleChoiceField(coerce=int, label=_("Classes"))

    def __init__(self, *args, offers: list, **kwargs):
        super().__init__(*args, **kwargs)
        self.offers = offers
        self.section_course = {}
        choices = []
        for offer in offers:
            for choice in offer.choices:
                if not choice.registered and not choice.refusal:
                    choices.append((choice.section.pk, str(choice.section.pk)))
                    self.section_course[choice.section.pk] = offer
        self.fields["sections"].choices = choices
        self.fields["sections"].error_messages = {
            "required": _("Tick at least one class."),
            "invalid_choice": _("One of the ticked classes cannot be registered. Look again."),
        }

    def clean_sections(self):
        chosen = self.cleaned_data["sections"]
        seen: dict[int, object] = {}
        for section_id in chosen:
            offer = self.section_course[section_id]
            if offer.articulation.pk in seen:
                raise forms.ValidationError(
                    _("Pick only one teacher for %(course)s."),
                    params={"course": offer.articulation.high_school_course.title},
                )
            seen[offer.articulation.pk] = offer
        return chosen

    def selected(self) -> list[tuple[object, object]]:
        """(offer, section) pairs of the ticked classes, in page order."""
        chosen = set(self.cleaned_data.get("sections", []))
        return [
            (offer, choice.section)
            for offer in self.offers
            for choice in offer.choices
            if choice.section.pk in chosen
        ]


class ContactForm(forms.Form):
    email = forms.EmailField(
        label=_("Personal email"),
        max_length=254,
        help_text=_("If you change it, you confirm the new address again before registering."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = forms.CharField(
        label=_("Mobile phone (optional)"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    high_school = high_school_field()
    graduation_year = forms.TypedChoiceField(label=_("Year you finish high school"), coerce=int)
    language = forms.ChoiceField(label=_("Language for emails"), choices=settings.LANGUAGES)
    gender = forms.ChoiceField(
        label=_("Gender (optional)"),
        required=False,
        choices=[("", _("Prefer not to say")), *StudentProfile.Gender.choices],
    )
    race_ethnicity = forms.ChoiceField(
        label=_("Race or ethnicity (optional)"),
        required=False,
        choices=[("", _("Prefer not to say")), *StudentProfile.RaceEthnicity.choices],
    )
    current_password = forms.CharField(
        label=_("Current password (only to change your email)"),
        strip=False,
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, student: StudentProfile, **kwargs):
        self.student = student
        kwargs.setdefault(
            "initial",
            {
                "email": student.user.email,
                "phone": student.phone,
                "high_school": student.high_school_id,
                "graduation_year": student.graduation_year,
                "language": student.language,
                "gender": student.gender,
                "race_ethnicity": student.race_ethnicity,
            },
        )
        super().__init__(*args, **kwargs)
        self.fields["graduation_year"].choices = graduation_year_choices(student.graduation_year)

    def clean_phone(self):
        return clean_phone_value(self.cleaned_data.get("phone", ""))

    def clean(self):
        cleaned = super().clean()
        email = User.objects.normalize_email(cleaned.get("email", "")).lower()
        if email and email != self.student.user.email.lower():
            password = cleaned.get("current_password") or ""
            if not self.student.user.check_password(password):
                self.add_error(
                    "current_password",
                    _("To change your email, enter your current password."),
                )
            elif User.objects.filter(email__iexact=email).exclude(pk=self.student.user_id).exists():
                self.add_error("email", _("Another account already uses this email address."))
        return cleaned


class IdentityChangeForm(LegalIdentityFields):
    reason = forms.CharField(
        label=_("Why does it need to change?"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For example: a typing mistake, or a legal name change."),
    )

    def __init__(self, *args, student: StudentProfile, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "legal_first_name": student.legal_first_name,
                "legal_middle_name": student.legal_middle_name,
                "legal_last_name": student.legal_last_name,
                "birth_date": student.birth_date,
            },
        )
        kwargs.setdefault("prefix", "identity")  # distinct ids from the contact form
        super().__init__(*args, **kwargs)
        for name in ("legal_first_name", "legal_middle_name", "legal_last_name", "birth_date"):
            self.fields[name].help_text = ""
