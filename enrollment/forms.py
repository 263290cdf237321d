"""Forms of the student pages: sign-up, account recovery, registration and profile."""

import re
from datetime import date

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from articulations.forms import FastSelect
from organisations.models import HighSchool
from sers.text import TextBlockField, TextLineField

from .models import Section, StudentProfile
from .services.rosters import REMOVAL_REASONS

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
    # TextLine: white space collapsed to single spaces, control characters refused.
    legal_first_name = TextLineField(
        label=_("Legal first name"),
        max_length=100,
        help_text=_("Exactly as on your birth certificate or passport."),
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    legal_middle_name = TextLineField(
        label=_("Legal middle name"),
        max_length=100,
        required=False,
        help_text=_("Leave empty if you have none."),
        widget=forms.TextInput(attrs={"autocomplete": "additional-name"}),
    )
    legal_last_name = TextLineField(
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
    phone = TextLineField(
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
        # No "already used" error: that would tell anyone which addresses have an account.
        # The sign-up service emails the owner of an address in use instead.
        return User.objects.normalize_email(self.cleaned_data["email"]).lower()

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
    # Every school with classes this year (~330 at state size): built in Python.
    school = forms.TypedChoiceField(
        label=_("School"), coerce=int, widget=FastSelect(attrs={"class": "form-select"})
    )

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
    phone = TextLineField(
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
    reason = TextBlockField(
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


# --- staff forms --------------------------------------------------------------------------------


class RemovalForm(forms.Form):
    """Why a teacher takes a student off the roster."""

    reason = forms.ChoiceField(
        label=_("Why is this student removed?"), widget=forms.RadioSelect, choices=()
    )
    # One line in the enrollment's history ("reason: note"), as a TextLine.
    note = TextLineField(
        label=_("Note (optional)"), max_length=300, required=False, widget=forms.TextInput
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].choices = list(REMOVAL_REASONS.items())


class CsvUploadForm(forms.Form):
    file = forms.FileField(
        label=_("CSV or Excel file"),
        help_text=_("A CSV file (UTF-8 or Windows) or an Excel workbook (.xlsx), up to 2 MB."),
        widget=forms.ClearableFileInput(
            attrs={
                "accept": ".csv,text/csv,.xlsx,"
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
        ),
    )


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field; cleaned into a list."""

    def __init__(self, *, max_files: int, **kwargs):
        self.max_files = max_files
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data]
        if len(files) > self.max_files:
            raise forms.ValidationError(
                _("Choose at most %(n)s files.") % {"n": self.max_files}, code="max_files"
            )
        return [super(MultipleFileField, self).clean(item, initial) for item in files]


class SisUploadForm(forms.Form):
    """A high school's OneRoster export: its zip, or its CSV files."""

    high_school = forms.ModelChoiceField(label=_("High school"), queryset=None)
    files = MultipleFileField(
        max_files=20,
        label=_("The export: its zip file, or its CSV files"),
        help_text=_(
            "A OneRoster 1.2 CSV export from the school's student information system: the "
            "zip, or manifest.csv, orgs.csv, academicSessions.csv, courses.csv, classes.csv, "
            "users.csv and enrollments.csv chosen together."
        ),
        widget=MultipleFileInput(attrs={"accept": ".zip,application/zip,.csv,text/csv"}),
    )

    def __init__(self, *args, schools, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["high_school"].queryset = schools
        if len(schools) == 1:
            self.fields["high_school"].initial = schools[0].pk


class PostedCreditsUploadForm(CsvUploadForm):
    posted_on = forms.DateField(
        label=_("Posting date"),
        required=False,
        widget=DateInput(),
        help_text=_("Used for rows of the file without a posting date."),
    )


class FeeUploadForm(CsvUploadForm):
    academic_year = forms.ModelChoiceField(label=_("School year"), queryset=None)
    status = forms.ChoiceField(
        label=_("Record as"),
        choices=[("paid", _("Paid")), ("waived", _("Waived"))],
        help_text=_("For rows of the file without a status column."),
    )
    paid_on = forms.DateField(label=_("Payment date"), required=False, widget=DateInput())
    receipt_number = TextLineField(label=_("Receipt number"), max_length=60, required=False)
    waiver_reason = forms.ChoiceField(label=_("Waiver reason"), required=False, choices=())

    def __init__(self, *args, years, waiver_reasons: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["academic_year"].queryset = years
        self.fields["waiver_reason"].choices = [("", "—"), *((r, r) for r in waiver_reasons)]


class FeeRecordForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Record"),
        widget=forms.RadioSelect,
        choices=[
            ("paid", _("A payment")),
            ("waived", _("A waiver")),
            ("unpaid", _("A correction: not paid")),
        ],
    )
    paid_amount = forms.DecimalField(
        label=_("Amount paid"), max_digits=7, decimal_places=2, min_value=0, required=False
    )
    paid_on = forms.DateField(label=_("Payment date"), required=False, widget=DateInput())
    receipt_number = TextLineField(label=_("Receipt number"), max_length=60, required=False)
    waiver_reason = forms.ChoiceField(label=_("Waiver reason"), required=False, choices=())
    note = TextBlockField(
        label=_("Note"),
        max_length=500,
        required=False,
        help_text=_("Required for a correction."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    # Each choice's own follow-up fields, shown only while it is chosen (GOV.UK's
    # conditional reveal, static/js/sers.js; without JavaScript every field shows).
    REVEAL = {
        "paid_amount": "status=paid",
        "paid_on": "status=paid",
        "receipt_number": "status=paid",
        "waiver_reason": "status=waived",
    }

    def __init__(self, *args, waiver_reasons: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["waiver_reason"].choices = [("", "—"), *((r, r) for r in waiver_reasons)]
        for name, rule in self.REVEAL.items():
            self.fields[name].widget.attrs["data-reveal-when"] = rule


class StudentLookupForm(forms.Form):
    sers_id = TextLineField(
        label=_("SERS ID"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    name = TextLineField(label=_("Name"), max_length=200, required=False)
    birth_date = forms.DateField(label=_("Birth date"), required=False, widget=DateInput())
    email = forms.EmailField(label=_("Email"), required=False)

    def clean_sers_id(self):
        value = "".join(c for c in self.cleaned_data["sers_id"] if not c.isspace())
        if value and not (value.isdigit() and len(value) == 9):
            raise forms.ValidationError(_("A SERS ID has nine digits."))
        return value

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not any(cleaned.get(k) for k in self.fields):
            raise forms.ValidationError(_("Fill in at least one box to look a student up."))
        return cleaned


class RegisterOnBehalfForm(forms.Form):
    section = forms.TypedChoiceField(label=_("Class"), coerce=int)
    override_reason = TextBlockField(
        label=_("Late registration: reason (consortium admins only)"),
        max_length=500,
        required=False,
        help_text=_(
            "Only to register after the registration window. The reason goes into the "
            "enrollment's history."
        ),
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, sections, may_override: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["section"].choices = [
            (
                s.pk,
                f"{s.articulation.high_school_course.title} · {s.high_school.name} · "
                f"{s.teacher.get_full_name()} · {s.section_code}",
            )
            for s in sections
        ]
        if not may_override:
            del self.fields["override_reason"]


class GradeOverrideForm(forms.Form):
    grade = TextLineField(label=_("New grade"), max_length=5)
    reason = TextBlockField(
        label=_("Reason for the override"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class TranscribeForm(forms.Form):
    college_student_id = TextLineField(label=_("College student ID"), max_length=30)
    transcribed_on = forms.DateField(label=_("Posting date"), widget=DateInput())


class PostingDateForm(forms.Form):
    transcribed_on = forms.DateField(label=_("Posting date"), widget=DateInput())


class UndoTranscriptionForm(forms.Form):
    reason = TextBlockField(
        label=_("Why undo it?"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )


class SectionRequestForm(forms.Form):
    articulation = forms.ModelChoiceField(label=_("Course (agreement)"), queryset=None)
    high_school = forms.ModelChoiceField(label=_("School"), queryset=None)
    academic_year = forms.ModelChoiceField(label=_("School year"), queryset=None)
    term = forms.ChoiceField(label=_("Term"), choices=())
    section_code = TextLineField(
        label=_("Period or section"), max_length=20, initial="1", help_text=_("For example P3.")
    )
    note = TextBlockField(
        label=_("Note to the consortium (optional)"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, articulations, schools, years, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["articulation"].queryset = articulations
        self.fields["articulation"].label_from_instance = lambda a: (
            f"{a.high_school_course.title} · {a.college.name} ({a.agreement_number})"
        )
        self.fields["high_school"].queryset = schools
        self.fields["academic_year"].queryset = years
        self.fields["term"].choices = Section.Term.choices


class SectionRequestDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        widget=forms.RadioSelect,
        choices=[("approve", _("Approve: create the class")), ("decline", _("Decline"))],
    )
    note = TextBlockField(
        label=_("Note to the teacher"),
        max_length=1000,
        required=False,
        help_text=_("Required when declining."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class MergeForm(forms.Form):
    """Why two records are one student, and a decision for each conflict between them.
    Which record is kept is part of the page's address."""

    reason = TextBlockField(
        label=_("Why are these the same student?"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, conflicts, **kwargs):
        super().__init__(*args, **kwargs)
        self.conflict_names = []
        for conflict in conflicts:
            name = "decide_" + conflict.key.replace(":", "_")
            self.fields[name] = forms.ChoiceField(
                label=conflict.message,
                choices=conflict.choices,
                widget=forms.RadioSelect,
                required=False,
            )
            self.conflict_names.append((conflict.key, name))

    def decisions(self) -> dict[str, str]:
        return {key: self.cleaned_data.get(name) or "" for key, name in self.conflict_names}
