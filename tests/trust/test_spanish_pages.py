"""Every page a student or the public sees, rendered in Spanish, holds no English.

The pages come from the URL configuration through the access matrix's table
(tests/trust/test_access_matrix.py: EXPECTED, which fails when a URL has no entry): every
URL the anonymous visitor or the student persona gets as a page (200), with real object
ids from the access matrix's world (tests/trust/access_world.py), built once for the
module. A few states a bare GET does not reach are added by hand (EXTRA): searches with
and without results, forms sent empty (their error messages), the registration review,
the set-password step of a reset link, a student whose email is not confirmed yet, and
the page for an address that does not exist. The search's CSV file has a test of its own.

Each page is requested with the language cookie set to Spanish. Its visible text (text
nodes, and the alt, title, aria-label, placeholder and confirmation attributes, and the
value of buttons; not scripts or styles) is taken without the data the world holds
(every text value in the database: names, titles, codes, emails, and what a consortium
typed, such as its fee instructions), and the test fails

- when a word of ENGLISH (common English interface words that are never Spanish) is
  left, and
- when a message of the catalog of three words or more shows verbatim (its English).

The failure names the page and the words, each with a little of the text around it.
"""

import ast
import csv
import importlib
import io
import re
import unicodedata
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django import forms
from django.apps import apps
from django.conf import settings
from django.db import models, transaction
from django.template.base import Template
from django.test import Client
from django.urls import reverse
from django.utils import translation

from organisations.clusters import NATIONAL_CLUSTER_NAMES
from organisations.grades import GradeScale
from organisations.models import CareerCluster
from reports.tables import WHAT, what_text
from tests.student.test_i18n import po_entries
from tests.trust.access_world import (
    ADMIN,
    ANONYMOUS,
    REGISTRAR,
    SPECIALIST,
    STATE,
    STUDENT,
    TEACHER,
    World,
    build_world,
    signed_in_session,
)
from tests.trust.test_access_matrix import EXPECTED
from tests.world import S, add_agreement, add_enrollment, add_section, add_student, localdate

# Common English interface words that no Spanish sentence uses. Words that are Spanish
# too ("no", "a", "he", "has", "total", "final", "general", "college", "cookies") stay out;
# test_the_word_list_never_matches_the_spanish_catalog keeps it that way.
ENGLISH_WORDS = """
    the your you yours and with this that these those there here what when which who whom
    why how will would can cannot could should must may might have been was were are is it
    its of to for or at by be an if not from into onto about after before than then also
    only any each every all other more less some none yes our we us they their them my
    class classes register registered registering registration search searching sign
    signed save saved credit credits teacher teachers school schools download downloads
    next previous show showing shown status grade grades graded back help home dashboard
    profile account password email page pages result results filter filters clear apply
    submit cancel continue confirm confirmed withdraw withdrawn request requested requests
    privacy report problem statement accessibility language change changed open closed
    close name first last date year years fee fees paid unpaid waived pending agreement
    agreements course courses high skills center district subject minimum hours term
    section student students view views viewed record records log time details detail
    learn find enter required optional errors loading new edit add remove delete
    upload file letter points percent per out up need needs please thank thanks welcome
    skip main content menu navigation contact send sent link expired invalid valid today
    week month day days print printable catalog cluster career any share shared people
    person staff admin specialist transcript transcribed attained weeks
"""
ENGLISH = frozenset(ENGLISH_WORDS.split())

# Names that stay in English in Spanish text (the catalog uses them as they are).
PROPER_NAMES = ("CTE Dual Credit",)

# --- the pages --------------------------------------------------------------------------------


# Not pages: the health checks (plain text, JSON) and the search's CSV file (its own test
# below). The API for college systems (api-v1:) has no page for students or the public.
NOT_PAGES = {"healthz", "readyz", "articulations:search_csv"}


def _pages_for(persona: str) -> list[str]:
    return sorted(
        key
        for key, entry in EXPECTED.items()
        if entry.get is not None
        and entry.get[persona] == 200
        and not key.startswith("api-v1:")
        and key not in NOT_PAGES
    )


PUBLIC = _pages_for(ANONYMOUS)
STUDENT_PAGES = _pages_for(STUDENT)


def _url(world: World, key: str) -> str:
    entry = EXPECTED[key]
    return reverse(key, kwargs=entry.kw(world) if entry.kw else None)


UNVERIFIED = "unverified"  # a student who has not confirmed their email yet

# name: (persona, how it is asked for, its URL): states a bare GET does not reach.
EXTRA = {
    "set a new password (the reset link, followed)": (
        ANONYMOUS,
        "follow",
        lambda w: _url(w, "accounts:password_reset_confirm"),
    ),
    "email not confirmed yet": (UNVERIFIED, "follow", lambda w: reverse("enrollment:dashboard")),
    "search: results": (
        ANONYMOUS,
        "get",
        lambda w: reverse("articulations:search") + "?q=Web",
    ),
    "search: nothing found": (
        ANONYMOUS,
        "get",
        lambda w: reverse("articulations:search") + "?q=zzzz-no-such-class",
    ),
    "search: one school": (
        ANONYMOUS,
        "get",
        lambda w: reverse("articulations:search") + f"?high_school={w.here.school.pk}",
    ),
    "search: the results, as the page asks for them (htmx)": (
        ANONYMOUS,
        "htmx",
        lambda w: reverse("articulations:search") + "?q=Web",
    ),
    "agreement in grade points": (
        ANONYMOUS,
        "get",
        lambda w: reverse("articulations:detail", kwargs={"pk": w.extra["points"].pk}),
    ),
    "agreement in percent": (
        ANONYMOUS,
        "get",
        lambda w: reverse("articulations:detail", kwargs={"pk": w.extra["percent"].pk}),
    ),
    "a page that does not exist": (ANONYMOUS, "get", lambda w: "/no-such-page/"),
    "registration review": (STUDENT, "review", lambda w: reverse("enrollment:register_review")),
    "registration review, nothing picked": (
        STUDENT,
        "post",
        lambda w: reverse("enrollment:register_review"),
    ),
    "profile, sent empty": (STUDENT, "post", lambda w: reverse("enrollment:profile")),
    "student's 404": (STUDENT, "get", lambda w: "/no-such-page/"),
}
# Public forms sent empty: their error messages.
for _key, _entry in EXPECTED.items():
    if _entry.post is not None and _entry.post[ANONYMOUS] == 200:
        EXTRA[f"{_key}, sent empty"] = (ANONYMOUS, "post", lambda w, k=_key: _url(w, k))

CASES = [
    *(pytest.param(ANONYMOUS, "get", key, id=f"public-{key}") for key in PUBLIC),
    *(pytest.param(STUDENT, "get", key, id=f"student-{key}") for key in STUDENT_PAGES),
    *(pytest.param(p, m, name, id=name) for name, (p, m, _u) in EXTRA.items()),
]


# --- the world, built once for the module -----------------------------------------------------


@pytest.fixture(scope="module")
def spanish_world(django_db_setup, django_db_blocker):
    """The access matrix's world, plus what shows more of the student's pages: classes in
    the two other grade scales (one attained, one transcribed, one open to register), staff
    who looked at the student's record (for "who viewed my record"), and a student who has
    not confirmed their email."""
    patch = pytest.MonkeyPatch()
    patch.setattr("django.utils.timezone.localdate", localdate)
    patch.setattr(Template, "_render", lambda self, context: self.nodelist.render(context))
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            world = build_world()
            here = world.here
            world.extra = {}
            for scale, grade, course, status in (
                (GradeScale.POINTS, "3.0", "Digital Photography", S.ATTAINED),
                (GradeScale.PERCENT, "80", "Culinary Arts", S.TRANSCRIBED),
            ):
                agreement = add_agreement(
                    here.consortium,
                    here.college,
                    [world.year],
                    schools=[here.school],
                    minimum_grade_scale=scale,
                    minimum_grade=grade,
                    high_school_course__title=course,
                )
                section = add_section(
                    agreement, school=here.school, year=world.year, teacher=here.teacher
                )
                add_enrollment(world.student, section, status, grade=grade)
                world.extra[scale] = agreement
            open_class = add_agreement(
                here.consortium,
                here.college,
                [world.year],
                schools=[here.school],
                minimum_grade_scale=GradeScale.POINTS,
                minimum_grade="2.5",
                high_school_course__title="Robotics",
            )
            world.extra["open_section"] = add_section(
                open_class, school=here.school, year=world.year
            )
            for staff in (here.admin, here.registrar, here.specialist):
                client = Client()
                client.force_login(staff)
                page = client.get(
                    reverse("enrollment:staff_student", kwargs={"pk": world.student.pk})
                )
                assert page.status_code == 200
            unverified = add_student(here.school, verified=False)
            world.sessions[UNVERIFIED] = signed_in_session(unverified.user)
            world.data = data_strings()
            yield world
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            patch.undo()


# Left out, as SERS's own words rather than data: the access log's (reports/tables.py: WHAT)
# and the national career clusters' names (organisations/clusters.py).
PROJECT_APPS = ("accounts", "organisations", "articulations", "enrollment", "reports", "api")
TEXT_FIELDS = (models.CharField, models.TextField)
NOT_SHOWN = {"password", "session_key", "token_hash", "key"}


def data_strings() -> list[str]:
    """Every text value the world holds (fields with choices hold codes, not text: their
    labels are the interface's), longest first, so a name inside a longer one goes last."""
    found = set()
    for model in apps.get_models():
        if not model.__module__.startswith(PROJECT_APPS) or model is CareerCluster:
            continue
        fields = [
            f.attname
            for f in model._meta.concrete_fields
            if isinstance(f, TEXT_FIELDS) and not f.choices and f.attname not in NOT_SHOWN
        ]
        if not fields:
            continue
        for row in model.objects.values_list(*fields):
            for value in row:
                for part in [value, *(value or "").splitlines()]:
                    if part and part.strip() and len(part.strip()) > 1:
                        found.add(part.strip())
    return sorted(found, key=len, reverse=True)


# --- the text of a page -----------------------------------------------------------------------

SHOWN_ATTRIBUTES = {"alt", "title", "aria-label", "placeholder", "hx-confirm", "data-confirm"}
BUTTON_TYPES = {"submit", "button", "reset"}


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.hidden += 1
        values = dict(attrs)
        for name in SHOWN_ATTRIBUTES & values.keys():
            self.parts.append(values[name] or "")
        if tag == "input" and (values.get("type") or "").lower() in BUTTON_TYPES:
            self.parts.append(values.get("value") or "")

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self.hidden:
            self.hidden -= 1

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return re.sub(r"\s+", " ", " ".join(parser.parts)).strip()


def without(text: str, strings) -> str:
    for value in strings:
        if value in text:
            text = re.sub(rf"(?<!\w){re.escape(value)}(?!\w)", " ", text)
    return text


# A word: letters, not part of a file name, an identifier or an address (first_name,
# courses.csv, /student/register/, high-school).
WORD = r"(?<![\w./-])[^\W\d_]+(?:'[^\W\d_]+)?(?![\w/-]|\.\w)"


def english_words(text: str) -> list[str]:
    text = re.sub(r"\S+@\S+", " ", without(text, PROPER_NAMES))  # email addresses
    found = []
    for match in re.finditer(WORD, text):
        word = match.group().lower().removesuffix("'s")
        if word in ENGLISH:
            start, end = max(0, match.start() - 30), match.end() + 30
            found.append(f"{match.group()!r} in …{text[start:end]}…")
    return found


def _segments(msgid: str) -> list[str]:
    """The stretches of a message without placeholders or markup."""
    plain = re.sub(r"<[^>]+>|%\(\w+\)[sd]|%[sd]|\{\w*\}", "\x00", msgid.replace("\\n", " "))
    return [re.sub(r"\s+", " ", s).strip(" .,:;") for s in plain.split("\x00")]


def english_sentences(text: str) -> list[str]:
    """Messages of the catalog, three words or more, that show in English."""
    found = []
    for msgid, entry in CATALOG.items():
        spanish = " ".join(entry["msgstr"])
        for segment in _segments(msgid):
            if len(segment.split()) >= 3 and segment in text and segment not in spanish:
                found.append(segment)
    return found


CATALOG = po_entries()


def _fetch(client: Client, world: World, persona: str, method: str, url: str):
    client.cookies["django_language"] = "es"
    if persona != ANONYMOUS:
        client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[persona]
    if method == "get":
        return client.get(url)
    if method == "htmx":
        return client.get(url, headers={"HX-Request": "true"})
    if method == "follow":
        return client.get(url, follow=True)
    if method == "review":
        return client.post(
            url,
            {"sections": [world.extra["open_section"].pk], "school": world.here.school.pk},
        )
    return client.post(url, {})


@pytest.mark.django_db
@pytest.mark.parametrize(("persona", "method", "key"), CASES)
def test_the_page_is_all_spanish(spanish_world, persona, method, key):
    url = EXTRA[key][2](spanish_world) if key in EXTRA else _url(spanish_world, key)
    response = _fetch(Client(), spanish_world, persona, method, url)
    assert response.status_code in (200, 400, 404), f"{url}: {response.status_code}"
    assert response["Content-Type"].startswith("text/html"), f"{url}: not a page (NOT_PAGES)"
    html = response.content.decode()
    if method != "htmx":
        assert '<html lang="es"' in html, f"{url}: not served in Spanish"
    text = without(visible_text(html), spanish_world.data)
    english = english_words(text) + english_sentences(text)
    assert english == [], f"English on {url} ({persona}):\n" + "\n".join(english)


# Staff read SERS in Spanish too: every page each staff persona gets. Upload and report
# pages name a file's columns and a standard's terms as the file must hold them.
STAFF = (TEACHER, SPECIALIST, REGISTRAR, ADMIN, STATE)
FILE_FORMAT_WORDS = {
    "enrollment:teacher_upload": ("grade",),
    "enrollment:registrar_upload": ("course",),
    "enrollment:fee_upload": ("status", "paid", "waived"),
    "articulations:import": ("cluster", "teachers", "yes"),
    "reports:report_transcript_new": ("PESC College Transcript", "high-school dual credit"),
}
STAFF_CASES = [
    pytest.param(persona, key, id=f"{persona}-{key}")
    for persona in STAFF
    for key in _pages_for(persona)
    # Not Django's admin (its own catalog), nor the import's template files (their
    # columns are what the import reads).
    if not key.startswith("admin:")
    and key not in {"articulations:import_template_csv", "articulations:import_template_xlsx"}
]


@pytest.mark.django_db
@pytest.mark.parametrize(("persona", "key"), STAFF_CASES)
def test_every_staff_page_is_spanish(spanish_world, persona, key):
    url = _url(spanish_world, key)
    response = _fetch(Client(), spanish_world, persona, "get", url)
    assert response.status_code == 200, f"{url}: {response.status_code}"
    html = response.content.decode()
    assert '<html lang="es"' in html, f"{url}: not served in Spanish"
    text = without(visible_text(html), spanish_world.data)
    text = without(text, FILE_FORMAT_WORDS.get(key, ()))
    english = english_words(text) + english_sentences(text)
    assert english == [], f"English on {url} ({persona}):\n" + "\n".join(english)


@pytest.mark.django_db
def test_the_search_csv_is_spanish(spanish_world):
    client = Client()
    client.cookies["django_language"] = "es"
    response = client.get(reverse("articulations:search_csv"))
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    header = " ".join(rows[0])
    assert "Curso de escuela secundaria" in header
    assert english_words(header) == []
    cluster = spanish_world.here.articulation.cluster.name
    assert not [row for row in rows[1:] if cluster in row]  # the cluster's name in Spanish


# --- the checks themselves --------------------------------------------------------------------


def test_every_public_and_student_page_is_tried():
    """The pages come from the URL configuration: the catalog, the footer's pages, sign-in
    and sign-up, and the student's own pages are among them."""
    for key in (
        "home",
        "help",
        "articulations:search",
        "articulations:detail",
        "articulations:catalog",
        "accounts:login",
        "enrollment:sign_up",
    ):
        assert key in PUBLIC
    for key in (
        "enrollment:dashboard",
        "enrollment:register",
        "enrollment:confirmation",
        "enrollment:withdraw",
        "enrollment:credits",
        "enrollment:profile",
        "reports:record_views",
        "accounts:password_change",
    ):
        assert key in STUDENT_PAGES


# Staff pages and messages that quote the columns and values of the files staff upload
# (first_name, "paid or waived", "letter, points or percent"): the files spell them so.
FILE_FORMATS = (
    "articulations/importers.py",
    "enrollment/importers.py",
    "enrollment/oneroster/",
    "enrollment/templates/enrollment/staff/upload.html",
    "reports/templates/reports/transcript_new.html",
)


def test_the_word_list_never_matches_the_spanish_catalog():
    """No Spanish translation holds one of the English words, so a match is English."""
    spanish = {
        msgid: " ".join(_segments(" ".join(e["msgstr"])))
        for msgid, e in CATALOG.items()
        if not all(ref.startswith(FILE_FORMATS) for ref in e["refs"])
    }
    matches = {msgid: english_words(text) for msgid, text in spanish.items() if english_words(text)}
    assert matches == {}


def test_the_check_finds_english():
    html = (
        '<p>Hola <a title="Your classes">x</a></p><script>var the = 1;</script>'
        '<input type="submit" value="Save"><p>Find dual-credit classes</p>'
    )
    text = visible_text(html)
    assert "var" not in text
    assert [w.split()[0] for w in english_words(text)] == [
        "'Your'",
        "'classes'",
        "'Save'",
        "'Find'",
        "'classes'",
    ]
    assert "Find dual-credit classes" in english_sentences(text)


# --- the language menu and the grade scales ---------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "es"])
def test_the_language_menu_names_each_language_in_itself(client, language):
    client.cookies["django_language"] = language
    html = client.get(reverse("help")).content.decode()
    assert re.search(r'<option value="en" lang="en"[^>]*>English</option>', html)
    assert re.search(r'<option value="es" lang="es"[^>]*>Español</option>', html)


def test_grade_scale_names_are_spanish():
    with translation.override("es"):
        labels = [str(label) for label in GradeScale.labels]
    assert labels == ["Letra (A-F)", "Puntos de calificación (0.0-4.0)", "Porcentaje (0-100)"]


@pytest.mark.django_db
def test_grade_scales_read_in_spanish_on_the_agreement(spanish_world):
    client = Client()
    client.cookies["django_language"] = "es"
    points = client.get(_url_of(spanish_world, "points")).content.decode()
    percent = client.get(_url_of(spanish_world, "percent")).content.decode()
    assert "3.0 puntos de calificación" in visible_text(points)
    assert "grade points" not in points
    assert "80%" in visible_text(percent)


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "review"])
def test_the_minimum_grade_reads_in_spanish_when_registering(spanish_world, method):
    """On the registration page and its review, as on the agreement's page."""
    url = reverse("enrollment:register" if method == "get" else "enrollment:register_review")
    response = _fetch(Client(), spanish_world, STUDENT, method, url)
    assert "2.5 puntos de calificación" in visible_text(response.content.decode())


def _url_of(world, scale):
    return reverse("articulations:detail", kwargs={"pk": world.extra[scale].pk})


@pytest.mark.django_db
def test_a_student_reads_who_viewed_their_record_in_spanish(spanish_world):
    """What each entry concerned is stored in English and shown in the reader's language."""
    client = Client()
    client.cookies["django_language"] = "es"
    client.cookies[settings.SESSION_COOKIE_NAME] = spanish_world.sessions[STUDENT]
    text = visible_text(client.get(reverse("reports:record_views")).content.decode())
    assert text.count("Consultado expediente del estudiante") == 3  # admin, registrar, specialist
    assert "student record" not in text


def _logged_whats() -> set[str]:
    """The literal `what=` of every call in SERS's code (what the access log stores)."""
    found = set()
    for path in Path(settings.BASE_DIR).rglob("*.py"):
        if {".venv", "tests", "bench"} & set(path.parts):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                for keyword in node.keywords:
                    value = keyword.value
                    if keyword.arg == "what" and isinstance(value, ast.Constant) and value.value:
                        found.add(value.value)
    return found


def test_everything_the_access_log_stores_has_its_spanish():
    whats = _logged_whats()
    assert "student record" in whats
    assert sorted(whats - set(WHAT)) == []
    with translation.override("es"):
        assert what_text("student record") == "expediente del estudiante"
        assert what_text("API token ab12…: credit") == "token de API ab12…: crédito"
        assert what_text("report job 7: Transcript-credit report") == (
            f"informe 7: {translation.gettext('Transcript-credit report')}"
        )
        assert what_text("something new") == "something new"  # shown as stored


# --- the national career clusters ------------------------------------------------------------


def test_the_translated_cluster_names_are_the_ones_sers_loads():
    migration = importlib.import_module("accounts.migrations.0002_career_clusters")
    assert {name for _code, name in migration.NATIONAL_CLUSTERS} == NATIONAL_CLUSTER_NAMES


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["search", "detail", "catalog"])
def test_career_clusters_read_in_spanish(spanish_world, page):
    """In the search's filter and table, on the agreement and in the school's catalog."""
    kwargs = {
        "search": None,
        "detail": {"pk": spanish_world.here.articulation.pk},
        "catalog": {"pk": spanish_world.here.school.pk},
    }[page]
    client = Client()
    client.cookies["django_language"] = "es"
    text = visible_text(
        client.get(reverse(f"articulations:{page}", kwargs=kwargs)).content.decode()
    )
    cluster = spanish_world.here.articulation.cluster.name
    with translation.override("es"):
        assert translation.gettext(cluster) != cluster
        assert translation.gettext(cluster) in text
    english = [name for name in NATIONAL_CLUSTER_NAMES if name in text]
    assert english == []


@pytest.mark.django_db
def test_the_cluster_filter_lists_the_clusters_in_the_readers_alphabetical_order(spanish_world):
    client = Client()
    client.cookies["django_language"] = "es"
    html = client.get(reverse("articulations:search")).content.decode()
    select = re.search(r'<select[^>]*name="cluster"[^>]*>(.*?)</select>', html, re.S).group(1)
    names = [
        unescape(name).strip()
        for value, name in re.findall(r'<option value="([^"]*)"[^>]*>(.*?)</option>', select)
        if value
    ]
    assert len(names) >= 16
    key = [
        "".join(
            c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c)
        ).casefold()
        for name in names
    ]
    assert key == sorted(key), names
    with translation.override("es"):
        assert translation.gettext("Agriculture, Food & Natural Resources") in names


def test_a_selects_empty_choice_is_in_the_readers_language():
    """Django's own empty choice ("- Select an option -") has no Spanish in Django's
    catalog: every select shows SERS's wording, translated (accounts.apps)."""
    field = forms.ModelChoiceField(queryset=CareerCluster.objects.none())
    with translation.override("es"):
        assert str(field.empty_label) == "Elige una opción"
    with translation.override("en"):
        assert str(field.empty_label) == "Choose one"


# One Spanish word for each role and thing, and one register (tú): the catalog never uses
# the variants on the right, which readers took for other people or other records.
NOT_OUR_WORDS = {
    "personal del estado": r"personal estatal",
    "registrador/a del college": r"oficina de registro",
    "administración del consorcio": r"administrador(?:a|es|as|/a|\(es\))? del consorcio",
    "expediente del college": r"expediente universitario",
    "ID de estudiante del college": r"ID de estudiante de la universidad",
    "maestro/a": r"\bprofesor(?:a|es|as)?\b",
    "entrar": r"\binicia(?:r)? (?:la )?sesi[oó]n",  # the noun "inicio de sesión" is fine
    "tú": r"\busted(?:es)?\b",
}


@pytest.mark.parametrize("ours", NOT_OUR_WORDS)
def test_the_catalog_uses_one_word_for_each_role_and_one_register(ours):
    variant = re.compile(NOT_OUR_WORDS[ours], re.IGNORECASE)
    found = [
        f"{msgid!r}: {text!r}"
        for msgid, entry in po_entries().items()
        for text in entry["msgstr"]
        if variant.search(text)
    ]
    assert found == [], f"say {ours!r}:\n" + "\n".join(found)
