"""One set of text rules for forms and uploads (sers.text).

Every text box of SERS's own forms is a TextLineField (one line: white space collapsed)
or a TextBlockField (several lines), the very fields the uploads clean each cell with
(sers.uploads.read_table): the same limits, a clear message for a control character, and
nothing cut short. A plain forms.CharField refuses only NUL, so a name typed "Ana\\x07"
would be stored and then printed on a transcript or sent to a college.
"""

import importlib
import importlib.util
import io

import pytest
from django import forms
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse

from accounts.models import User
from enrollment.models import EnrollmentStatusChange, SisImport, StudentProfile
from enrollment.oneroster.problems import Problems
from enrollment.oneroster.tables import SOURCE_SYSTEM_LENGTH, read_manifest
from enrollment.upload_rows import FEE_FIELDS, IDENTITY_FIELDS
from sers.text import TextBlockField, TextLineField, refuse_control_characters
from sers.uploads import check_upload, read_table
from tests.student.test_signup import sign_up_data
from tests.world import S

CONTROL_MESSAGE = "Remove the control character (a character that cannot be typed) from this text."

# The project's apps: every Form and ModelForm defined in one of them is walked.
APPS = (
    "accesslog",
    "accounts",
    "api",
    "articulations",
    "enrollment",
    "operations",
    "organisations",
    "reports",
    "sers",
)
# Where forms are defined (the admin modules are imported by Django's set-up anyway).
FORM_MODULES = ("forms", "admin", "filters", "twofactor")

# Text fields that are rightly not a TextLine or TextBlock, each with its reason.
PASSWORD = "a password: any character may be part of it, so it is neither normalised nor refused"
EXCEPTIONS = {
    ("enrollment.forms.SignUpForm", "password1"): PASSWORD,
    ("enrollment.forms.SignUpForm", "password2"): PASSWORD,
    ("enrollment.forms.ContactForm", "current_password"): PASSWORD,
    ("organisations.forms.TeacherActivationForm", "new_password1"): PASSWORD,
    ("organisations.forms.TeacherActivationForm", "new_password2"): PASSWORD,
    ("accounts.admin.UserCreationForm", "password1"): PASSWORD,
    ("accounts.admin.UserCreationForm", "password2"): PASSWORD,
}
# Field types whose own validator already admits only a narrow set of characters.
OWN_RULES = {
    forms.EmailField: "an address: Django's EmailValidator refuses control characters",
    forms.SlugField: "letters, digits, hyphens and underscores only (its validator)",
}

# Forms in files outside the change that switched the forms (the issue "Uploads follow
# weaker rules than forms"): each is expected to fail here until it is switched too; the
# strict xfail then fails, and its line must go.
PENDING: dict[str, str] = {}  # "module.Form": what is left to switch (an xfail until done)


def _project_forms() -> list[type[forms.BaseForm]]:
    for app in APPS:
        for module in FORM_MODULES:
            name = f"{app}.{module}"
            if importlib.util.find_spec(app) and importlib.util.find_spec(name):
                importlib.import_module(name)
    found, stack = {}, [forms.BaseForm]
    while stack:
        for cls in stack.pop().__subclasses__():
            stack.append(cls)
            if cls.__module__.split(".")[0] in APPS:
                found[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return [found[name] for name in sorted(found)]


def _instance(cls: type[forms.BaseForm]) -> forms.BaseForm | None:
    """The form as a page makes it, when it needs no arguments (its __init__ may add a
    validator); None when it needs some, or is a ModelForm without a model (its
    base_fields are then checked alone)."""
    try:
        return cls()
    except (TypeError, ValueError):
        return None


def text_rule_breaches(cls: type[forms.BaseForm]) -> list[str]:
    """The text fields of a form (declared, or made from its model) that follow weaker
    rules than the uploads."""
    qualname = f"{cls.__module__}.{cls.__qualname__}"
    form = _instance(cls)
    fields = form.fields if form is not None else cls.base_fields
    breaches = []
    for name, field in fields.items():
        if not isinstance(field, forms.CharField):
            continue  # choices, dates, numbers, files, booleans: not free text
        if isinstance(field, TextLineField | TextBlockField):
            continue
        if (qualname, name) in EXCEPTIONS or isinstance(field, tuple(OWN_RULES)):
            continue
        if isinstance(field, forms.URLField):
            # Django's URLValidator lets a control character through in the path.
            if form is not None and refuse_control_characters in field.validators:
                continue
            breaches.append(f"{name}: a URLField without refuse_control_characters")
            continue
        breaches.append(f"{name}: {type(field).__name__}")
    return breaches


def _cases():
    for cls in _project_forms():
        name = f"{cls.__module__}.{cls.__qualname__}"
        marks = [pytest.mark.xfail(strict=True, reason=PENDING[name])] if name in PENDING else []
        yield pytest.param(cls, id=name, marks=marks)


@pytest.mark.parametrize("form_class", list(_cases()))
def test_every_text_field_of_a_form_follows_the_upload_rules(form_class):
    assert text_rule_breaches(form_class) == []


def test_the_walk_finds_the_forms_of_every_app():
    names = {f"{cls.__module__}.{cls.__qualname__}" for cls in _project_forms()}
    for expected in (
        "enrollment.forms.SignUpForm",
        "enrollment.forms.RemovalForm",
        "enrollment.admin.EnrollmentActionForm",
        "enrollment.admin.FeeForm",
        "organisations.forms.ConsortiumPolicyForm",
        "organisations.forms.HighSchoolForm",
        "articulations.forms.ArticulationForm",
        "api.forms.ApiTokenForm",
        "sers.forms.ProblemReportForm",
    ):
        assert expected in names
    assert set(PENDING) <= names, "a pending form was renamed or removed: update PENDING"
    assert {form for form, _field in EXCEPTIONS} <= names


def test_a_model_forms_text_fields_keep_their_labels_limits_and_widgets():
    from organisations.forms import ConsortiumForm, ConsortiumPolicyForm

    policy = ConsortiumPolicyForm()
    waiver = policy.fields["waiver_reasons"]
    assert isinstance(waiver, TextBlockField)
    assert (str(waiver.label), waiver.widget.attrs["rows"]) == ("Fee waiver reasons", 4)
    minimum = policy.fields["default_minimum_grade"]
    assert (type(minimum), minimum.max_length) == (TextLineField, 5)
    name = ConsortiumForm().fields["name"]
    assert (type(name), name.max_length, str(name.label)) == (TextLineField, 200, "Name")


def test_the_enrollment_admins_make_their_text_boxes_with_the_same_rules():
    request = RequestFactory().get("/")
    request.user = User(is_superuser=True, is_staff=True, is_active=True)
    checked = 0
    for model_admin in admin.site._registry.values():
        if model_admin.__module__ != "enrollment.admin":
            continue
        form = model_admin.get_form(request, None, change=False)
        for name, field in form.base_fields.items():
            if isinstance(field, forms.CharField) and not isinstance(field, forms.EmailField):
                assert isinstance(field, TextLineField | TextBlockField), (model_admin, name)
                checked += 1
    assert checked >= 5  # phone, section_code, college_student_id, receipt_number, waiver_reason


# --- the same input, typed or uploaded ----------------------------------------------------------


def _csv(text: str):
    upload = io.BytesIO(text.encode())
    upload.name = "rows.csv"
    upload.size = len(upload.getvalue())
    return check_upload(upload, kinds=("csv",))


def _uploaded(fields: dict, column: str, value: str):
    """What an upload makes of one cell: (the cleaned value, the messages)."""
    table = read_table(
        _csv(f'{column}\r\n"{value}"\r\n'), fields={column: fields[column]}, max_rows=10
    )
    (row,) = table.rows
    return row.get(column), [problem.message for problem in row.problems]


@pytest.mark.django_db
def test_sign_up_refuses_a_legal_name_with_a_control_character(client, world):
    for field, value in (("legal_first_name", "Ana\x07"), ("legal_last_name", "Lo\x1bpez")):
        response = client.post(reverse("enrollment:sign_up"), sign_up_data(world, **{field: value}))
        assert response.status_code == 200
        assert response.context["form"].errors[field] == [CONTROL_MESSAGE]
        assert CONTROL_MESSAGE in response.content.decode()
    assert not StudentProfile.objects.exists()
    assert not User.objects.filter(email="jon.reyes@gmail.com").exists()
    # A roster upload holds the name to the same rule, with the same words.
    column = "first_name"
    assert _uploaded(IDENTITY_FIELDS, column, "Ana\x07") == ("", [CONTROL_MESSAGE])


@pytest.mark.django_db
def test_sign_up_collapses_white_space_in_a_legal_name_as_an_upload_does(
    client, world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("enrollment:sign_up"),
            sign_up_data(world, legal_first_name=" Ana\tMaría ", legal_last_name="López\r\nRuiz"),
        )
    assert response.status_code == 302
    profile = StudentProfile.objects.get()
    assert (profile.legal_first_name, profile.legal_last_name) == ("Ana María", "López Ruiz")
    assert _uploaded(IDENTITY_FIELDS, "first_name", " Ana\tMaría ") == ("Ana María", [])


@pytest.mark.django_db
def test_a_removal_note_follows_the_rules_of_an_uploaded_note(client, here):
    enrollment = here.enrollments[0]
    client.force_login(here.teacher)
    url = reverse("enrollment:teacher_remove", args=[enrollment.pk])

    response = client.post(url, {"reason": "not_in_class", "note": "tab\there\x07"})
    assert response.status_code == 200
    assert response.context["form"].errors["note"] == [CONTROL_MESSAGE]
    enrollment.refresh_from_db()
    assert enrollment.status == S.REGISTERED
    assert not EnrollmentStatusChange.objects.filter(enrollment=enrollment, to_status=S.REMOVED)
    # The fee upload's note column answers the same cell in the same words.
    assert _uploaded(FEE_FIELDS, "note", "tab\there\x07") == ("", [CONTROL_MESSAGE])

    client.post(url, {"reason": "not_in_class", "note": "tab\there"})
    enrollment.refresh_from_db()
    assert enrollment.status == S.REMOVED
    change = EnrollmentStatusChange.objects.filter(enrollment=enrollment).latest("id")
    assert change.reason == "Not in my class: tab here"
    assert _uploaded(FEE_FIELDS, "note", "tab\there") == ("tab here", [])


def test_a_removal_note_longer_than_its_limit_is_refused_not_cut():
    from enrollment.forms import RemovalForm

    form = RemovalForm({"reason": "not_in_class", "note": "x" * 301})
    assert not form.is_valid()
    assert "300" in form.errors["note"][0]


# --- OneRoster: the source system's name ------------------------------------------------------


MANIFEST_HEAD = "propertyName,value\r\nmanifest.version,1.0\r\noneroster.version,1.2\r\n"


def test_a_source_system_name_too_long_to_keep_is_a_problem_not_a_cut():
    assert SisImport._meta.get_field("source_system").max_length == SOURCE_SYSTEM_LENGTH
    problems = Problems()
    name = "S" * (SOURCE_SYSTEM_LENGTH + 1)
    _source, _absent = read_manifest(MANIFEST_HEAD + f"source.systemName,{name}\r\n", problems)
    (problem,) = [p for p in problems.found if p.column == "value" and p.line == 4]
    assert problem.file == "manifest.csv"
    assert "101 characters long" in problem.message
    assert "at most 100" in problem.message


def test_a_source_system_name_that_fits_is_kept_whole():
    problems = Problems()
    name = "S" * SOURCE_SYSTEM_LENGTH
    source, _absent = read_manifest(MANIFEST_HEAD + f"source.systemName,{name}\r\n", problems)
    assert source == name
    assert not [p for p in problems.found if p.line == 4]


def test_a_source_system_name_with_a_control_character_is_a_problem():
    problems = Problems()
    read_manifest(MANIFEST_HEAD + "source.systemName,Syn\x07SIS\r\n", problems)
    assert [p.message for p in problems.found if p.line == 4] == [
        "The value holds a control character."
    ]
