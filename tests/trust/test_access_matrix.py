"""The access matrix: every URL of SERS, with real object ids, for every persona, against
the outcome it must give. Built from the URL configuration: a URL without an entry in
EXPECTED fails `test_every_url_has_an_entry`, so nothing is added unguarded. (One
module over 600 lines: the matrix is one table, and splitting it would hide a missing URL.)

Personas (tests/trust/access_world.py): anonymous, student, other_student, teacher,
other_teacher, specialist (career specialist, our district), registrar, other_registrar,
admin (consortium admin), other_admin, state. Every object a URL names is "ours"; each
"other_" persona holds the same role with objects of its own but not ours in scope: the
other admin runs a second consortium; the other registrar (a second college), the other
teacher (a second school) and the other student (our student's classmate) are inside our
consortium. The world is built once for the module; each check runs in a transaction
rolled back after it, signed in with a session made once per persona (two-factor sign-in
is off in the test settings).

The rule: the anonymous visitor is sent to sign in; a persona whose role can never use
the page gets 403; one with the role but without the object in scope gets 404 (an
outsider learns nothing, not even that the object exists); the rest get the page.

Adding an entry is one line, keyed by the URL's name ("namespace:name"):

    "enrollment:fee_detail": page("admin", "other_admin", kw=lambda w: {"pk": w.fee.pk}, post=True),

- page(ok, hidden="", kw=None, get=200, post=False, anon=LOGIN, others=403, get_for=None,
  post_for=None): a GET page. `ok`: the personas (space-separated) who get it (outcome
  `get`: 200, or REDIRECT for a 302 elsewhere than the sign-in page); `hidden`: those who
  get 404; everyone else signed in gets `others` (403). post=True also POSTs an empty form:
  `ok` personas then get DONE (anything but 403/404/405/500 or the sign-in page; the POST
  runs in a transaction rolled back after the test).
- action(ok, hidden="", kw=None): a POST-only action: a GET gives 405 to everyone signed in.
- public(get=200, kw=None, post=None): the same outcome for every persona.
- get_for / post_for: {persona: outcome} for the few exceptions, each with its reason.
- kw: a function of the World giving the URL's kwargs (real ids).

Outcomes: 200, 403, 404, 405, LOGIN (302 to the sign-in page), REDIRECT (302 elsewhere),
DONE (POST accepted: not refused). A refused POST that reached the view (403, 404) must
leave the records unchanged; that is checked too.

No hint that an object exists: `test_an_id_that_names_nothing` asks every URL that carries
an id again with an id that names nothing. Each persona must get what it got for the real
object (sign in, 403, 405), or 404 where it got the page or a 404, and an outsider's 404
page must be the very page shown for the missing id.

Django admin URLs (admin/...) are covered by one rule: no persona is is_staff, so every
admin page sends them to the admin's sign-in page (the sign-in page itself shows). Every
admin URL is enumerated, so a new one is covered by the rule.
"""

import re
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.template.base import Template
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.converters import IntConverter

from accounts.models import RoleMembership, User
from api.models import ApiToken
from api.services import api_token_create
from articulations.models import Articulation, TeacherQualification
from enrollment.models import (
    Enrollment,
    Fee,
    IdentityChange,
    PossibleDuplicate,
    Section,
    SectionRequest,
    StudentProfile,
)
from organisations.models import ConsortiumPolicy
from reports.models import ReportJob
from tests.trust.access_world import ANONYMOUS, PERSONAS, World, build_world
from tests.world import localdate

LOGIN = "accounts:login"
REDIRECT = "redirect"
DONE = "done"
REFUSED = {LOGIN, 403, 404, 405}
SIGNED_IN = tuple(p for p in PERSONAS if p != ANONYMOUS)


@dataclass(frozen=True)
class Entry:
    get: dict | None = None  # persona -> outcome; None: GET not tried
    post: dict | None = None
    kw: object = None  # World -> kwargs of the URL


def _names(text: str) -> set[str]:
    names = set(text.split())
    unknown = names - set(PERSONAS)
    assert not unknown, f"unknown personas {unknown}"
    return names


def _grid(ok, hidden, *, ok_outcome, anon, others, exceptions) -> dict:
    ok, hidden = _names(ok), _names(hidden)
    grid = {}
    for persona in PERSONAS:
        if persona == ANONYMOUS:
            grid[persona] = anon
        elif persona in ok:
            grid[persona] = ok_outcome
        elif persona in hidden:
            grid[persona] = 404
        else:
            grid[persona] = others
    grid.update(exceptions or {})
    return grid


def page(
    ok,
    hidden="",
    *,
    kw=None,
    get=200,
    post=False,
    anon=LOGIN,
    others=403,
    get_for=None,
    post_for=None,
):
    get_grid = _grid(ok, hidden, ok_outcome=get, anon=anon, others=others, exceptions=get_for)
    post_grid = None
    if post:
        post_grid = _grid(
            ok,
            hidden,
            ok_outcome=DONE,
            anon=LOGIN if anon == LOGIN else DONE,
            others=others,
            exceptions=post_for,
        )
    return Entry(get=get_grid, post=post_grid, kw=kw)


def action(ok, hidden="", *, kw=None, anon=LOGIN, post_for=None):
    get_grid = {p: (anon if p == ANONYMOUS else 405) for p in PERSONAS}
    post_grid = _grid(ok, hidden, ok_outcome=DONE, anon=anon, others=403, exceptions=post_for)
    return Entry(get=get_grid, post=post_grid, kw=kw)


def public(get=200, *, kw=None, post=None, get_for=None, post_for=None):
    get_grid = dict.fromkeys(PERSONAS, get) | (get_for or {})
    post_grid = None
    if post is not None:
        post_grid = dict.fromkeys(PERSONAS, post) | (post_for or {})
    return Entry(get=get_grid, post=post_grid, kw=kw)


EVERYONE_SIGNED_IN = " ".join(SIGNED_IN)
STUDENTS = "student other_student"
TEACHERS = "teacher other_teacher"
REGISTRARS = "registrar other_registrar"
ADMINS = "admin other_admin"
SIGNED_IN_REDIRECT = dict.fromkeys(SIGNED_IN, REDIRECT)

# kwargs: real ids of "our" objects.
SECTION = lambda w: {"pk": w.section.pk}  # noqa: E731
ENROLLMENT = lambda w: {"pk": w.enrollment.pk}  # noqa: E731
STUDENT_PK = lambda w: {"pk": w.student.pk}  # noqa: E731
TEACHER_ID = lambda w: {"user_id": w.here.teacher.pk}  # noqa: E731
ARTICULATION = lambda w: {"pk": w.here.articulation.pk}  # noqa: E731
JOB = lambda w: {"job_id": w.report_job.pk}  # noqa: E731


def _api_token(w) -> dict:
    """Our registrar's API token, made on first use (inside the check's transaction)."""
    token = ApiToken.objects.filter(college=w.here.college).first()
    if token is None:
        token, _secret = api_token_create(
            actor=w.here.registrar, college=w.here.college, label="Matrix", days=30
        )
    return {"pk": token.pk}


EXPECTED: dict[str, Entry] = {
    # --- public and account pages ------------------------------------------------------------
    "home": public(),
    "healthz": public(),
    # the footer's pages; an empty problem report is refused on the page
    "help": public(),
    "report_problem": public(post=200),
    "accessibility": public(),
    "privacy": public(),
    "cookies": public(),
    # Prometheus only, with SERS_METRICS_TOKEN (tests/ops/test_metrics.py): to every
    # persona, and to every POST, a page that does not exist.
    "metrics": public(get=404, post=404),
    "readyz": public(),  # readiness (operations/health.py): no session, no CSRF
    "set_language": public(REDIRECT, post=REDIRECT),
    # a signed-in user is sent on to their start page
    "accounts:login": public(get_for=SIGNED_IN_REDIRECT, post=200, post_for=SIGNED_IN_REDIRECT),
    "accounts:logout": public(405, post=REDIRECT),
    "accounts:password_change": page(EVERYONE_SIGNED_IN, post=True),
    "accounts:password_change_done": page(EVERYONE_SIGNED_IN),
    "accounts:password_reset": public(post=200),
    "accounts:password_reset_done": public(),
    # a valid link: on to the set-password step (the token leaves the URL)
    "accounts:password_reset_confirm": public(
        REDIRECT, kw=lambda w: dict(zip(("uidb64", "token"), w.reset_token, strict=True))
    ),
    "accounts:password_reset_complete": public(),
    # an invitation already used: "this link is no longer valid", for everyone
    "organisations:teacher_activate": public(
        kw=lambda w: dict(zip(("uidb64", "token"), w.teacher_token, strict=True)), post=200
    ),
    "accounts:two_factor_manage": page(EVERYONE_SIGNED_IN, post=True),
    "accounts:two_factor_verify": page(EVERYONE_SIGNED_IN, get=REDIRECT, post=True),
    "accounts:two_factor_enrol": page(EVERYONE_SIGNED_IN, post=True),
    "enrollment:sign_up": public(get_for=SIGNED_IN_REDIRECT, post=200, post_for=SIGNED_IN_REDIRECT),
    "enrollment:sign_up_email_check": public(405, post=REDIRECT),  # htmx only
    "enrollment:forgot_email": public(post=200),
    "enrollment:account_recovery_send": public(405, post=REDIRECT),
    "enrollment:recovery_sent": public(REDIRECT),  # nothing looked up in this session
    # GET shows a button; POST confirms, then asks to sign in (unless signed in as the owner)
    "enrollment:verify_email": public(
        kw=lambda w: {"token": w.verify_token}, post=LOGIN, post_for={"student": REDIRECT}
    ),
    # --- public catalog ----------------------------------------------------------------------
    "articulations:index": public(REDIRECT),
    "articulations:search": public(),
    "articulations:search_csv": public(),
    "articulations:detail": public(kw=ARTICULATION),
    "articulations:catalog": public(kw=lambda w: {"pk": w.here.school.pk}),
    # --- students ----------------------------------------------------------------------------
    "enrollment:verify_sent": page(STUDENTS, get=REDIRECT),  # already confirmed
    "enrollment:verify_resend": action(STUDENTS),
    "enrollment:dashboard": page(STUDENTS),
    "enrollment:register": page(STUDENTS),
    "enrollment:register_review": action(STUDENTS),
    "enrollment:register_confirm": action(STUDENTS),
    "enrollment:confirmation": page(STUDENTS),
    "enrollment:withdraw": page("student", "other_student", kw=ENROLLMENT, post=True),
    "enrollment:credits": page(STUDENTS),
    "enrollment:profile": page(STUDENTS, post=True),
    "enrollment:identity_change": action(STUDENTS),
    "enrollment:identity_change_cancel": action(
        "student", "other_student", kw=lambda w: {"pk": w.identity_change.pk}
    ),
    # --- teachers ----------------------------------------------------------------------------
    "enrollment:teacher_classes": page(TEACHERS),
    "enrollment:teacher_class_request": page(TEACHERS, post=True),
    "enrollment:teacher_class_request_cancel": action(
        "teacher", "other_teacher", kw=lambda w: {"pk": w.section_request.pk}
    ),
    "enrollment:teacher_roster": page("teacher", "other_teacher", kw=SECTION),
    "enrollment:teacher_roster_confirm": action("teacher", "other_teacher", kw=SECTION),
    "enrollment:teacher_grades": page("teacher", "other_teacher", kw=SECTION, post=True),
    # without htmx: back to the grades page
    "enrollment:teacher_grade_check": page("teacher", "other_teacher", kw=SECTION, get=REDIRECT),
    "enrollment:teacher_grade_row": action(
        "teacher",
        "other_teacher",
        kw=lambda w: {"pk": w.section.pk, "enrollment_pk": w.enrollment.pk},
    ),
    "enrollment:teacher_complete": page("teacher", "other_teacher", kw=SECTION, post=True),
    "enrollment:teacher_upload": page("teacher", "other_teacher", kw=SECTION, post=True),
    "enrollment:teacher_remove": page("teacher", "other_teacher", kw=ENROLLMENT, post=True),
    # --- the schools' class lists: career specialists (their schools), teachers (their own) --
    "enrollment:sis_imports": page("teacher other_teacher specialist", post=True),
    # the school's upload is the staff's: a teacher sees only their own uploads
    "enrollment:sis_mapping": page(
        "specialist", "teacher other_teacher", kw=lambda w: {"pk": w.sis_import.pk}, post=True
    ),
    # --- staff: records in scope -------------------------------------------------------------
    "enrollment:staff_enrollment": page(
        "teacher specialist registrar admin state",
        "other_teacher other_registrar other_admin",
        kw=ENROLLMENT,
    ),
    "enrollment:staff_lookup": page("specialist state " + REGISTRARS + " " + ADMINS),
    "enrollment:staff_student": page(
        "specialist registrar admin state", "other_registrar other_admin", kw=STUDENT_PK
    ),
    "enrollment:staff_reveal_email": action("specialist admin", "other_admin", kw=STUDENT_PK),
    "enrollment:staff_resend_verification": action(
        "specialist admin", "other_admin", kw=STUDENT_PK
    ),
    "enrollment:staff_password_reset": action("specialist admin", "other_admin", kw=STUDENT_PK),
    "enrollment:staff_register": page("specialist admin", "other_admin", kw=STUDENT_PK, post=True),
    # --- consortium admins -------------------------------------------------------------------
    "enrollment:consortium_home": page(ADMINS),
    "enrollment:fee_list": page(ADMINS),
    "enrollment:fee_upload": page(ADMINS, post=True),
    "enrollment:fee_detail": page("admin", "other_admin", kw=lambda w: {"pk": w.fee.pk}, post=True),
    "enrollment:duplicate_list": page(ADMINS),
    "enrollment:duplicate_scan": action(ADMINS),
    "enrollment:duplicate_review": page(
        "admin", "other_admin", kw=lambda w: {"pk": w.duplicate.pk}
    ),
    "enrollment:duplicate_dismiss": action(
        "admin", "other_admin", kw=lambda w: {"pk": w.duplicate.pk}
    ),
    "enrollment:merge_start": page("admin", "other_admin", kw=STUDENT_PK),
    "enrollment:student_merge": page(
        "admin",
        "other_admin",
        post=True,
        kw=lambda w: {"keep": w.duplicate.existing_student_id, "merge": w.duplicate_student.pk},
    ),
    "enrollment:section_requests": page(ADMINS),
    "enrollment:section_request_decide": action(
        "admin", "other_admin", kw=lambda w: {"pk": w.section_request.pk}
    ),
    "enrollment:grade_override": action("admin", "other_admin", kw=ENROLLMENT),
    "organisations:consortium_policies": page(ADMINS),
    "organisations:consortium_policy_edit": page(
        "admin",
        "other_admin",
        post=True,
        kw=lambda w: {"consortium_id": w.here.consortium.pk, "year": w.year.code},
    ),
    "organisations:consortium_payment_instructions": page(
        "admin", "other_admin", post=True, kw=lambda w: {"consortium_id": w.here.consortium.pk}
    ),
    "organisations:consortium_public_settings": action(
        "admin", "other_admin", kw=lambda w: {"pk": w.here.consortium.pk}
    ),
    "organisations:consortium_teachers": page(ADMINS),
    "organisations:consortium_teacher_invite": action(ADMINS),
    "organisations:consortium_teacher": page("admin", "other_admin", kw=TEACHER_ID),
    "organisations:consortium_teacher_deactivate": action("admin", "other_admin", kw=TEACHER_ID),
    "organisations:consortium_teacher_activate": action("admin", "other_admin", kw=TEACHER_ID),
    "organisations:consortium_teacher_school_add": action("admin", "other_admin", kw=TEACHER_ID),
    "organisations:consortium_teacher_school_remove": action(
        "admin",
        "other_admin",
        kw=lambda w: {"user_id": w.here.teacher.pk, "school_id": w.here.school.pk},
    ),
    "organisations:teacher_invitation_resend": action("admin", "other_admin", kw=TEACHER_ID),
    # --- state staff: the organisations -------------------------------------------------------
    "organisations:state_organisations_home": page("state"),
    "organisations:state_organisations": page("state", kw=lambda w: {"kind": "colleges"}),
    "organisations:state_organisation_new": page(
        "state", post=True, kw=lambda w: {"kind": "districts"}
    ),
    "organisations:state_organisation": page(
        "state", post=True, kw=lambda w: {"kind": "high-schools", "pk": w.here.school.pk}
    ),
    # --- articulation work -------------------------------------------------------------------
    "articulations:manage_list": page("state " + REGISTRARS + " " + ADMINS),
    "articulations:manage_create": page(ADMINS, post=True),
    "articulations:manage_detail": page(
        "registrar admin state", "other_registrar other_admin", kw=ARTICULATION
    ),
    # an active agreement is revised, not edited: back to its page
    "articulations:manage_edit": page(
        "admin", "other_admin", kw=ARTICULATION, get=REDIRECT, post=True
    ),
    "articulations:manage_status": action(
        "registrar admin state", "other_registrar other_admin", kw=ARTICULATION
    ),
    "articulations:manage_revise": action("admin", "other_admin", kw=ARTICULATION),
    "articulations:manage_discard": action("admin", "other_admin", kw=ARTICULATION),
    "articulations:manage_teachers": page("admin", "other_admin", kw=ARTICULATION, post=True),
    "articulations:manage_teacher_remove": action(
        "admin",
        "other_admin",
        kw=lambda w: {"pk": w.here.articulation.pk, "teacher_id": w.here.teacher.pk},
    ),
    "articulations:manage_courses": page(ADMINS, post=True),
    "articulations:manage_course_offered": action(
        "admin", "other_admin", kw=lambda w: {"pk": w.here.course.pk}
    ),
    "articulations:rollover": page(ADMINS, post=True),
    "articulations:rollover_runs": page(ADMINS, get=REDIRECT),  # an htmx fragment only
    "articulations:import": page(ADMINS, post=True),
    "articulations:import_template_csv": page(ADMINS),
    "articulations:import_template_xlsx": page(ADMINS),
    # --- registrars --------------------------------------------------------------------------
    "enrollment:registrar_queue": page(REGISTRARS),
    "enrollment:registrar_transcribe": action(REGISTRARS),
    "enrollment:registrar_transcribe_one": page(
        "registrar", "other_registrar", kw=lambda w: {"pk": w.attained.pk}, post=True
    ),
    "enrollment:registrar_undo": page(
        "registrar", "other_registrar", kw=lambda w: {"pk": w.transcribed.pk}, post=True
    ),
    "enrollment:registrar_upload": page(REGISTRARS, post=True),
    "api:tokens": page(REGISTRARS),
    "api:token_new": page(REGISTRARS, post=True),
    "api:token_revoke": page("registrar", "other_registrar", kw=_api_token, post=True),
    # --- the API for college systems: a bearer token, never a session (tests/api/) ------------
    "api-v1:openapi-json": public(),
    "api-v1:openapi-view": public(),
    "api-v1:api-root": public(404, post=404),
    "api-v1:not-found": public(404, post=404),
    "api-v1:credits_ready": public(401, post=405),
    "api-v1:credits_acknowledge": public(405, post=401),
    "api-v1:credit": public(401, kw=lambda w: {"credit_id": w.attained.pk}, post=405),
    "api-v1:agreements": public(401, post=405),
    # --- reports -----------------------------------------------------------------------------
    "reports:report_jobs": page("specialist state " + REGISTRARS + " " + ADMINS),
    # a report is its requester's (our registrar's): other users of reports get 404
    "reports:report_job_detail": page(
        "registrar", "specialist other_registrar admin other_admin state", kw=JOB
    ),
    # still queued: no file yet, back to the report's page
    "reports:report_job_download": page(
        "registrar", "specialist other_registrar admin other_admin state", kw=JOB, get=REDIRECT
    ),
    "reports:report_job_retry": action(
        "registrar", "specialist other_registrar admin other_admin state", kw=JOB
    ),
    "reports:report_job_rerun": action(
        "registrar", "specialist other_registrar admin other_admin state", kw=JOB
    ),
    "reports:report_transcript_new": page("state " + REGISTRARS, post=True),
    "reports:report_dashboard": page("specialist state " + ADMINS),
    "reports:report_dashboard_export": action("specialist state " + ADMINS),
    "reports:report_enrollments_export": action("specialist state " + ADMINS),
    # the student-record access log (FERPA): consortium admins and state staff review it
    "reports:access_log": page("state " + ADMINS),
    "reports:access_log_student": page("admin state", "other_admin", kw=STUDENT_PK),
    "reports:access_log_staff": page(
        "admin state", "other_admin", kw=lambda w: {"user_id": w.here.registrar.pk}
    ),
    "reports:record_views": page(STUDENTS),  # a student's own "who looked at my record"
    # --- operations: state staff only (counts and job details, no student data) --------------
    "operations:home": page("state"),
    # our registrar's report is queued, so the retry is refused with a message (a redirect)
    "operations:report_job_retry": action("state", kw=JOB),
}


# --- the URL configuration ----------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    key: str  # "namespace:name", or the route for an unnamed pattern
    route: str
    pattern: object


def _walk(resolver, prefix="", namespace=""):
    for item in resolver.url_patterns:
        if isinstance(item, URLResolver):
            ns = f"{namespace}{item.namespace}:" if item.namespace else namespace
            yield from _walk(item, prefix + str(item.pattern), ns)
        elif isinstance(item, URLPattern):
            route = prefix + str(item.pattern)
            key = f"{namespace}{item.name}" if item.name else route
            yield Route(key=key, route=route, pattern=item)


ROUTES = list(_walk(get_resolver()))
ADMIN_ROUTES = [r for r in ROUTES if r.route.startswith("admin/")]
APP_ROUTES = [r for r in ROUTES if not r.route.startswith("admin/")]


def test_every_url_has_an_entry():
    keys = [r.key for r in APP_ROUTES]
    assert len(keys) == len(set(keys)), "two URL patterns share a name"
    missing = sorted(set(keys) - set(EXPECTED))
    stale = sorted(set(EXPECTED) - set(keys))
    assert not missing, (
        f"URLs without an entry in EXPECTED of {__file__}: {missing}. "
        "Add one line per URL saying who may use it (see the module docstring)."
    )
    assert not stale, f"entries in EXPECTED for URLs that no longer exist: {stale}"


# --- the world, built once for the module -------------------------------------------------------


@pytest.fixture(scope="module")
def matrix_world(django_db_setup, django_db_blocker):
    patch = pytest.MonkeyPatch()
    patch.setattr("django.utils.timezone.localdate", localdate)
    # The test client keeps a copy of every template's context; nothing here reads them.
    patch.setattr(Template, "_render", lambda self, context: self.nodelist.render(context))
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield build_world()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            patch.undo()


FINGERPRINT = [
    (Enrollment, ("status", "grade", "transcribed_on")),
    (Fee, ("status", "amount")),
    (StudentProfile, ("merged_into_id", "legal_first_name")),
    (User, ("is_active", "password", "email")),
    (RoleMembership, ("role",)),
    (IdentityChange, ("status",)),
    (SectionRequest, ("status",)),
    (PossibleDuplicate, ("status",)),
    (Articulation, ("status",)),
    (TeacherQualification, ("teacher_id",)),
    (ConsortiumPolicy, ("annual_fee", "registration_closes")),
    (ReportJob, ("status", "attempts")),
    (ApiToken, ("revoked_at",)),
    (Section, ("teacher_id",)),
]


def _fingerprint_sql() -> str:
    def text(column):
        return f"COALESCE(CAST({column} AS TEXT), '')"

    parts = []
    for model, fields in FINGERPRINT:
        columns = " || '|' || ".join(text(model._meta.get_field(f).column) for f in fields)
        # names from the models' metadata, nothing from a request
        parts.append(
            f"SELECT '{model._meta.label}' AS m, {text('id')} || '|' || {columns} AS v "  # noqa: S608
            f"FROM {model._meta.db_table}"
        )
    return " UNION ALL ".join(parts) + " ORDER BY 1, 2"


def _fingerprint():
    """The records a refused POST must not touch (access-log rows may be added): one query."""
    with connection.cursor() as cursor:
        cursor.execute(_fingerprint_sql())
        return cursor.fetchall()


@pytest.mark.django_db
def test_the_fingerprint_sees_a_change(matrix_world):
    before = _fingerprint()
    Fee.objects.filter(pk=matrix_world.fee.pk).update(amount=0)
    assert _fingerprint() != before


def _outcome(response, *, login_url: str):
    if response.status_code in (301, 302):
        return LOGIN if response.url.split("?")[0] == login_url else REDIRECT
    return response.status_code


def _check(client, world: World, persona: str, method: str, url: str, expected, *, login_url):
    if persona != ANONYMOUS:
        client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[persona]
    # A refused POST that reached the view (403, 404) must have changed nothing.
    before = _fingerprint() if method == "post" and expected in (403, 404) else None
    response = getattr(client, method)(url)
    got = _outcome(response, login_url=login_url)
    if expected == DONE:
        assert got not in REFUSED, f"{method.upper()} {url} as {persona}: refused with {got}"
        assert got in (200, 204, 400, REDIRECT), f"{method.upper()} {url} as {persona}: {got}"
    else:
        assert got == expected, f"{method.upper()} {url} as {persona}: {got}, expected {expected}"
    if before is not None:
        assert _fingerprint() == before, f"refused POST {url} as {persona} changed records"
    return response


CASES = [
    pytest.param(key, persona, method, id=f"{key}-{persona}-{method}")
    for key in sorted(EXPECTED)
    for method in ("get", "post")
    if getattr(EXPECTED[key], method) is not None
    for persona in PERSONAS
]


@pytest.mark.django_db
@pytest.mark.parametrize(("key", "persona", "method"), CASES)
def test_access(client, matrix_world, key, persona, method):
    entry = EXPECTED[key]
    url = reverse(key, kwargs=entry.kw(matrix_world) if entry.kw else None)
    expected = getattr(entry, method)[persona]
    _check(
        client, matrix_world, persona, method, url, expected, login_url=reverse("accounts:login")
    )


# --- no hint that an object exists ------------------------------------------------------------

MISSING_ID = 2_000_000_000


def _missing_outcome(expected):
    """For an id that names nothing: the refusals that come before any lookup stay
    (sign in, 403 for the wrong role, 405); whoever got the object, or 404 for it, gets 404.
    So a persona refused for an existing object gets exactly what it gets for none."""
    return expected if expected in (LOGIN, 403, 405) else 404


def _names_an_object(key: str) -> bool:
    """Whether the URL carries an id (not only a signed token)."""
    route = next(r for r in APP_ROUTES if r.key == key)
    return any(isinstance(c, IntConverter) for c in route.pattern.pattern.converters.values())


MISSING_CASES = [
    pytest.param(key, method, id=f"{key}-{method}")
    for key in sorted(EXPECTED)
    if key in {r.key for r in APP_ROUTES} and _names_an_object(key)
    for method in ("get", "post")
    if getattr(EXPECTED[key], method) is not None
]


def _page_text(response, url: str) -> str:
    """The page without what changes from one request to the next (the address, the CSRF
    token, the CSP nonce)."""
    text = response.content.decode().replace(url, "")
    text = re.sub(r"[A-Za-z0-9]{64}", "", text)
    return re.sub(r'nonce="[^"]*"', "", text)


@pytest.mark.django_db
@pytest.mark.parametrize(("key", "method"), MISSING_CASES)
def test_an_id_that_names_nothing(client, matrix_world, key, method):
    """Every persona in turn, with every id in the URL replaced by one that names nothing."""
    entry = EXPECTED[key]
    kwargs = entry.kw(matrix_world)
    missing = {k: MISSING_ID if isinstance(v, int) else v for k, v in kwargs.items()}
    url = reverse(key, kwargs=missing)
    real_url = reverse(key, kwargs=kwargs)
    for persona, expected in getattr(entry, method).items():
        client.cookies.clear()
        response = _check(
            client,
            matrix_world,
            persona,
            method,
            url,
            _missing_outcome(expected),
            login_url=reverse("accounts:login"),
        )
        if expected == 404:  # an outsider: the same page as for nothing at all
            real = getattr(client, method)(real_url)
            assert _page_text(real, real_url) == _page_text(response, url), (
                f"{method.upper()} {real_url} as {persona}: the 404 differs from a missing id's"
            )


# --- Django admin: one rule for every admin URL -------------------------------------------------


def _admin_url(route: Route, world: World) -> str:
    pattern = route.pattern.pattern
    regex = str(pattern)
    values = {}
    for name in pattern.regex.groupindex:
        if name == "app_label":
            values[name] = re.search(r"\(\?P<app_label>([^)]+)\)", regex).group(1).split("|")[0]
        elif name == "url":
            values[name] = "no-such-page/"
        else:
            values[name] = str(world.enrollment.pk)
    if route.pattern.name:
        namespace = "admin:"
        return reverse(namespace + route.pattern.name, kwargs=values)
    # an unnamed pattern: fill the route by hand
    path = route.route
    for name, value in values.items():
        path = re.sub(rf"<(?:\w+:)?{name}>", value, path)
        path = re.sub(rf"\(\?P<{name}>[^)]*\)", value, path)
    return "/" + path.rstrip("$")


ADMIN_SAMPLE = (ANONYMOUS, "student", "state")


@pytest.mark.django_db
@pytest.mark.parametrize("route", ADMIN_ROUTES, ids=[r.key for r in ADMIN_ROUTES])
def test_admin(client, matrix_world, route):
    """One test per admin URL. The rule is the same for every non-staff user, so each URL
    is tried by the anonymous visitor, a student and state staff (the widest non-admin
    role); the admin's index and sign-in page by every persona."""
    url = _admin_url(route, matrix_world)
    login_url = reverse("admin:login")
    if route.key == "admin:login":
        expected = 200
    elif route.key == "admin:logout":
        expected = REDIRECT  # to the admin index, which sends them to sign in
    else:
        expected = LOGIN
    for persona in _admin_personas(route):
        client.cookies.clear()
        _check(client, matrix_world, persona, "get", url, expected, login_url=login_url)


def _admin_personas(route: Route) -> tuple[str, ...]:
    return PERSONAS if route.key in ("admin:index", "admin:login") else ADMIN_SAMPLE


def test_figures(capsys):
    """The size of the matrix (printed with -s; no personal data)."""
    missing = sum(len(PERSONAS) for _ in MISSING_CASES)
    admin = sum(len(_admin_personas(route)) for route in ADMIN_ROUTES)
    with capsys.disabled():
        print(
            f"\naccess matrix: {len(APP_ROUTES)} app URLs, {len(PERSONAS)} personas, "
            f"{len(CASES)} (URL, persona, method) checks, {missing} missing-id checks; "
            f"{len(ADMIN_ROUTES)} admin URLs, {admin} admin checks"
        )
    assert len(CASES) >= len(PERSONAS) * len(APP_ROUTES)
