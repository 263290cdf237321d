"""Every student-facing page and email is complete in Spanish, and every string SERS marks
for translation, in any template or Python module, has its Spanish in the catalog
(tests/trust/test_spanish_pages.py reads the pages themselves)."""

import ast
import gettext as gettext_module
import re
from pathlib import Path

import django
import pytest
from django.conf import settings
from django.core import mail
from django.test import override_settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation.template import templatize

from enrollment.services import signup
from enrollment.services.registration import enrollment_register_many
from tests.factories import StudentProfileFactory
from tests.world import TODAY

BASE = Path(settings.BASE_DIR)
PO = BASE / "locale" / "es" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")

# The student journey, the shared layout, sign-in and password pages, and student emails.
STUDENT_FILES = [
    *sorted((BASE / "enrollment" / "templates").rglob("*.html")),
    *sorted((BASE / "templates" / "components").glob("*.html")),
    BASE / "templates" / "base.html",
    BASE / "templates" / "registration" / "login.html",
    *sorted((BASE / "templates" / "registration").glob("password_*")),
    *sorted((BASE / "enrollment" / "templates" / "enrollment" / "emails").glob("student_*.txt")),
    BASE / "templates" / "home.html",
    BASE / "reports" / "templates" / "reports" / "access_log" / "record_views.html",
]
STUDENT_PYTHON = [
    *sorted(
        str(path.relative_to(BASE))
        for folder in ("services", "selectors", "views")
        for path in (BASE / "enrollment" / folder).glob("*.py")
    ),
    "enrollment/rules.py",
    "enrollment/forms.py",
    "sers/navigation.py",
    "reports/views_access.py",
    "reports/tables.py",
]


def po_entries() -> dict[str, dict]:
    """msgid → {"msgstr": [...], "fuzzy": bool, "refs": [...]} from the Spanish catalog."""
    entries = {}
    for block in PO.read_text(encoding="utf-8").split("\n\n"):
        fields: dict[str, str] = {}
        key = None
        refs, fuzzy = [], False
        for line in block.splitlines():
            if line.startswith("#:"):
                refs += [ref.rsplit(":", 1)[0] for ref in line[2:].split()]
            elif line.startswith("#,"):
                fuzzy = fuzzy or "fuzzy" in line
            elif line.startswith(("msgid", "msgstr", "msgctxt")):
                key, _sep, value = line.partition(" ")
                fields[key] = value.strip()[1:-1]
            elif line.startswith('"') and key:
                fields[key] += line[1:-1]
        if fields.get("msgid"):
            entries[fields["msgid"].replace('\\"', '"')] = {
                "msgstr": [v for k, v in fields.items() if k.startswith("msgstr")],
                "fuzzy": fuzzy,
                "refs": refs,
            }
    return entries


STUDENT_REFS = (
    "enrollment/",
    "templates/base.html",
    "templates/components/",
    "templates/registration/login.html",
    "templates/registration/password_",
    "enrollment/templates/enrollment/emails/student_",
    "sers/navigation.py",
    "templates/home.html",
    "reports/templates/reports/access_log/record_views.html",
)


def test_every_student_string_in_the_catalog_is_translated():
    untranslated = [
        msgid
        for msgid, entry in po_entries().items()
        if any(
            ref.startswith(STUDENT_REFS) and not ref.startswith("enrollment/admin.py")
            for ref in entry["refs"]
        )
        and (entry["fuzzy"] or not all(entry["msgstr"]))
    ]
    assert untranslated == []


def _template_msgids(text: str) -> set[str]:
    found = set(re.findall(r'{%\s*translate\s+"([^"]*)"', text))
    found |= set(re.findall(r"{%\s*translate\s+'([^']*)'", text))
    for body in re.findall(
        r"{%\s*blocktranslate[^%]*%}(.*?){%\s*endblocktranslate\s*%}", text, re.S
    ):
        singular = re.split(r"{%\s*plural\s*%}", body)[0]
        found.add(re.sub(r"{{\s*(\w+)\s*}}", r"%(\1)s", singular))
    return found


@pytest.mark.parametrize("path", STUDENT_FILES, ids=lambda p: str(p.relative_to(BASE)))
def test_every_template_string_is_in_the_catalog(path):
    catalog = po_entries()
    missing = [m for m in _template_msgids(path.read_text(encoding="utf-8")) if m not in catalog]
    assert missing == [], "run makemessages -l es and translate"


@pytest.mark.parametrize("module", STUDENT_PYTHON)
def test_every_python_string_is_in_the_catalog(module):
    text = (BASE / module).read_text(encoding="utf-8")
    catalog = po_entries()
    # Single-line literals in _() / gettext(); longer ones are checked by the catalog test.
    literals = re.findall(r'(?:\b_|gettext)\(\s*"((?:[^"\\]|\\.)*)"\s*\)', text)
    missing = [m for m in literals if m.replace('\\"', '"') not in catalog]
    assert missing == []


# --- every template and every Python file of the project -------------------------------------
# CI runs pytest: a string marked for translation anywhere in SERS that is not in the Spanish
# catalog, or is there without a Spanish translation, fails the build.

SKIP_DIRS = {".venv", "tests", "bench", "static", "node_modules", ".git"}


def _project_files(pattern: str) -> list[Path]:
    return sorted(
        path for path in BASE.rglob(pattern) if not SKIP_DIRS & set(path.relative_to(BASE).parts)
    )


ALL_TEMPLATES = [
    path
    for suffix in ("*.html", "*.txt")
    for path in _project_files(suffix)
    if "templates" in path.relative_to(BASE).parts
]
ALL_PYTHON = _project_files("*.py")

GETTEXT = {
    "_": 0,
    "gettext": 0,
    "gettext_lazy": 0,
    "gettext_noop": 0,
    "ngettext": 0,
    "ngettext_lazy": 0,
    "pgettext": 1,
    "pgettext_lazy": 1,
    "npgettext": 1,
    "npgettext_lazy": 1,
}
_LITERAL = r"""u('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")"""
# gettext(u'...'), pgettext(u'context', u'...'), ngettext(u'...', u'...', count): templatize's
_CALL = re.compile(rf"\b(n?p?gettext)\(\s*{_LITERAL}(?:\s*,\s*{_LITERAL})?")


def template_messages(text: str) -> set[str]:
    """The msgids of a template, as makemessages reads them (Django's templatize)."""
    found = set()
    for name, first, second in _CALL.findall(templatize(text)):
        message = second if name.startswith(("pgettext", "npgettext")) else first
        found.add(ast.literal_eval(message))
    return found


def python_messages(text: str) -> set[str]:
    """The msgids of a Python module: the literal first argument of _(), gettext() and
    the rest (the second of pgettext()), implicitly concatenated literals included."""
    found = set()
    for node in ast.walk(ast.parse(text)):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        position = GETTEXT.get(name)
        if position is None or len(node.args) <= position:
            continue
        argument = node.args[position]
        if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
            found.add(argument.value)
    return found


def in_catalog(message: str, catalog: dict) -> bool:
    key = message.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t")
    return any(k in catalog for k in (key, key.replace("%%", "%"), key.replace("%", "%%")))


@pytest.mark.parametrize("path", ALL_TEMPLATES, ids=lambda p: str(p.relative_to(BASE)))
def test_every_template_string_of_the_project_is_in_the_catalog(path):
    catalog = po_entries()
    messages = template_messages(path.read_text(encoding="utf-8"))
    missing = sorted(m for m in messages if not in_catalog(m, catalog))
    assert missing == [], "run makemessages -l es and translate"


@pytest.mark.parametrize("path", ALL_PYTHON, ids=lambda p: str(p.relative_to(BASE)))
def test_every_python_string_of_the_project_is_in_the_catalog(path):
    catalog = po_entries()
    messages = python_messages(path.read_text(encoding="utf-8"))
    missing = sorted(m for m in messages if m and not in_catalog(m, catalog))
    assert missing == [], "run makemessages -l es and translate"


def test_every_string_of_the_catalog_is_translated():
    """The whole catalog, not only the students' part: no empty and no fuzzy translation."""
    untranslated = sorted(
        msgid for msgid, entry in po_entries().items() if entry["fuzzy"] or not all(entry["msgstr"])
    )
    assert untranslated == []


def test_the_checks_read_templates_and_python_as_makemessages_does():
    template = (
        '{% load i18n %}{% translate "Save" %}{% translate "May" context "month" %}'
        "{% blocktranslate trimmed with n=count %}\n  Saved {{ n }}\n  rows, 50%\n"
        "{% endblocktranslate %}"
    )
    assert template_messages(template) == {"Save", "May", "Saved %(n)s rows, 50%%"}
    code = 'from x import _\n_("One " "two")\npgettext("ctx", "Three")\nprint("no")\n'
    assert python_messages(code) == {"One two", "Three"}


def test_the_compiled_catalog_matches_the_po_file():
    with MO.open("rb") as handle:
        compiled = gettext_module.GNUTranslations(handle)
    stale = [
        msgid
        for msgid, entry in po_entries().items()
        if len(entry["msgstr"]) == 1
        and entry["msgstr"][0]
        and not entry["fuzzy"]
        and compiled.gettext(msgid) != entry["msgstr"][0].replace('\\"', '"').replace("\\n", "\n")
    ]
    assert stale == [], "run manage.py compilemessages"


# --- the pages, rendered in Spanish ---------------------------------------------------------


def h1(response) -> str:
    match = re.search(r"<h1[^>]*>(.*?)</h1>", response.content.decode(), re.S)
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name",
    [
        "enrollment:dashboard",
        "enrollment:register",
        "enrollment:credits",
        "enrollment:profile",
        "enrollment:confirmation",
    ],
)
def test_student_pages_in_spanish(client, world, student, name):
    client.force_login(student.user)
    english = client.get(reverse(name))
    client.cookies["django_language"] = "es"
    spanish = client.get(reverse(name))
    assert spanish.status_code == english.status_code == 200
    assert '<html lang="es">' in spanish.content.decode()
    assert h1(spanish) != h1(english)
    assert "Saltar al contenido principal" in spanish.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name",
    [
        "enrollment:sign_up",
        "enrollment:forgot_email",
        "accounts:login",
        "accounts:password_reset",
        "home",
    ],
)
def test_public_pages_in_spanish(client, world, name):
    english = client.get(reverse(name))
    client.cookies["django_language"] = "es"
    spanish = client.get(reverse(name))
    assert h1(spanish) != h1(english)


@pytest.mark.django_db
def test_student_emails_in_spanish(world, django_capture_on_commit_callbacks):
    translation.activate("en")
    student = StudentProfileFactory(high_school=world.school, language="es")
    with django_capture_on_commit_callbacks(execute=True):
        enrollment_register_many(
            student=student, section_ids=[world.sections[0].pk], actor=student.user, today=TODAY
        )
    signup.student_send_welcome_email(user_id=student.user_id)
    student.user.email_verified_at = None
    student.user.save()
    signup.user_send_verification_email(user_id=student.user_id)
    subjects = [m.subject for m in mail.outbox]
    assert subjects == [
        "Ya estás inscrito/a: CTE Dual Credit 2026-27",
        "Bienvenido/a a SERS: tu ID de SERS",
        "Confirma tu correo electrónico para SERS",
    ]
    assert "Te inscribiste en estas clases" in mail.outbox[0].body
    assert "Tu ID permanente de SERS es" in mail.outbox[1].body
    assert "El enlace funciona durante 3 días." in mail.outbox[2].body
    assert translation.get_language() == "en"  # the caller's language is left alone


@override_settings(LANGUAGE_CODE="en")
def test_english_is_the_default():
    assert translation.gettext("My dashboard") == "My dashboard"


# --- Django's own messages, in SERS's register -------------------------------------------------

DJANGO_CATALOGS = [
    Path(django.__file__).parent / "conf" / "locale" / "es" / "LC_MESSAGES" / "django.po",
    Path(django.__file__).parent
    / "contrib"
    / "auth"
    / "locale"
    / "es"
    / "LC_MESSAGES"
    / "django.po",
]


def test_django_messages_listed_for_the_catalog_are_djangos_own():
    """sers/django_messages.py must quote Django exactly, or SERS's translation never
    replaces Django's."""
    from sers.django_messages import DJANGO_MESSAGES

    django_text = "\n".join(path.read_text(encoding="utf-8") for path in DJANGO_CATALOGS)
    django_text = re.sub(r'"\n"', "", django_text)  # join wrapped lines
    for message in DJANGO_MESSAGES:
        singular = message._proxy____args[0] if hasattr(message, "_proxy____args") else message
        assert f'msgid "{singular}"'.replace("\\", "") in django_text.replace('\\"', '"'), singular


@pytest.mark.django_db
def test_form_and_password_messages_say_tu_not_usted(client):
    """Django's Spanish says usted ("Su contraseña...", "Introduzca..."); SERS's says tú."""
    with translation.override("es"):
        from django import forms as django_forms
        from django.contrib.auth.password_validation import password_validators_help_texts

        with pytest.raises(django_forms.ValidationError) as invalid:
            django_forms.EmailField().clean("not an address")
        (email_error,) = invalid.value.messages
        too_long = django_forms.CharField(max_length=3)
        helps = password_validators_help_texts()
        assert str(email_error) == "Escribe un correo electrónico válido."
        with pytest.raises(django_forms.ValidationError) as error:
            too_long.clean("abcdef")
        assert error.value.messages == ["Escribe como máximo 3 caracteres (tiene 6)."]
        assert "Tu contraseña debe tener al menos 8 caracteres." in helps
        text = " ".join([*helps, str(email_error)])
        assert not re.search(r"\b(Su|su|Introduzca|introduzca|Asegúrese)\b", text), text
