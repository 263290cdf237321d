"""Every page answers in a fixed number of queries, whatever the size of the data.
(One module over 600 lines: a table of every page with its budget, run against one
world that is grown once, reads best whole.)

Each GET page of the app (file downloads and the main htmx fragments included) is opened
by the person who can open it, with real object ids, in a small world (tests/scale/world.py:
one unit of everything) and again after the world grew to GROWTH units (more students in
the class, more classes, years of history, agreements, fees, duplicates, report jobs, log
entries, consortia...). A page passes when

- it answers with the expected status in both worlds (so the page itself was measured,
  not a 403 or a redirect to the sign-in),
- its query count did not grow with the data (an N+1 fails here; the SQL statements whose
  count grew are listed), and
- its query count stays within the bound written in the table below (a regression that
  adds queries fails here even when they do not grow with the data).

The table is keyed by URL name and checked against django.urls.get_resolver(): a new
page without an entry fails test_every_route_is_listed, and so does an entry left behind
by a removed page. Routes that only take POST are listed separately, and their GET must
answer 405.

The two worlds are built and every page measured once per module (inside a transaction
that is rolled back), so each page's test only compares numbers: the file stays fast.
Measurements start from a fresh session with an empty cache. Set SERS_QUERY_TABLE=1 (with
-s) to print the table of counts.
"""

import collections
import os
import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db import connection, transaction
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accesslog.models import AccessLogEntry
from accounts.models import RoleMembership
from accounts.twofactor import SESSION_KEY, VERIFY
from api.models import ApiToken
from api.services import api_token_create
from articulations.models import Articulation, RolloverRun
from enrollment.models import Fee, PossibleDuplicate, SectionRequest
from enrollment.views.student_signup import RECOVERY_HINT_SESSION_KEY
from organisations.models import AcademicYear, Consortium
from reports.models import ReportJob
from tests.factories import UserFactory
from tests.scale.world import LOOKUP_NAME, World, build_world
from tests.world import localdate

# Every test is marked, so that the test database is set up even when only page tests run.
pytestmark = pytest.mark.django_db

GROWTH = 4  # the large world has this many units of everything; the small one has 1
HEADROOM = 2  # bound = the count measured when the table was written + this


@dataclass(frozen=True)
class Page:
    route: str  # URL name, with its namespace
    persona: str  # who opens it (see PERSONAS)
    path: Callable[[World], str]
    max_queries: int
    variant: str = ""
    htmx: bool = False
    headers: tuple = ()
    status: int = 200
    session: Callable[[World], dict] | None = None
    prepare: Callable[[Client, World], None] | None = None
    slack: int = 0  # queries the large world may add; every use says why

    @property
    def id(self) -> str:
        name = f"{self.route}[{self.persona}]"
        return f"{name}-{self.variant}" if self.variant else name


PERSONAS: dict[str, Callable[[World], object]] = {
    "anonymous": lambda w: None,
    "student": lambda w: w.student.user,
    "unverified student": lambda w: w.unverified.user,
    "teacher": lambda w: w.teacher,
    "career specialist": lambda w: w.specialist,
    "registrar": lambda w: w.registrar,
    "college approver": lambda w: w.approver,
    "consortium admin": lambda w: w.admin,
    "state staff": lambda w: w.state,
}


def url(name: str, *args, query: str = "") -> Callable[[World], str]:
    """A path builder: args are attribute paths on the world ("section.pk") or constants."""

    def build(w: World) -> str:
        values = []
        for arg in args:
            if callable(arg):
                values.append(arg(w))
            elif isinstance(arg, str) and "." in arg:
                value = w
                for part in arg.split("."):
                    value = getattr(value, part)
                values.append(value)
            else:
                values.append(arg)
        path = reverse(name, args=values)
        return f"{path}?{query}" if query else path

    return build


def _reset_confirm(w: World) -> str:
    return reverse("accounts:password_reset_confirm", args=w.password_reset_path())


def _open_reset_link(client: Client, w: World) -> None:
    # The link from the email puts its token in the session and redirects to set-password.
    assert client.get(_reset_confirm(w)).status_code == 302


def _set_password(w: World) -> str:
    uid, _token = w.password_reset_path()
    return reverse("accounts:password_reset_confirm", args=[uid, "set-password"])


def _api_token_pk(w: World) -> int:
    """The registrar's API token (made on first use)."""
    token = ApiToken.objects.filter(college=w.college).first()
    if token is None:
        token, _secret = api_token_create(
            actor=w.registrar, college=w.college, label="Scale", days=30
        )
    return token.pk


def _api_sign_in(client: Client, w: World) -> None:
    """The API's sign-in: a new token of the registrar's college on every call."""
    _token, secret = api_token_create(actor=w.registrar, college=w.college, label="Scale", days=30)
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {secret}"


HX = {"htmx": True}
A, T, ST = "anonymous", "teacher", "student"
ADM, REG, SPEC, STATE = "consortium admin", "registrar", "career specialist", "state staff"

# The bound of each page (max_queries) is the count measured in the large world when the
# table was written, plus HEADROOM. Lower it when a page gets cheaper.
PAGES: list[Page] = [
    # --- accounts and sign-in ------------------------------------------------------------------
    Page("set_language", A, url("set_language", query="next=/"), 2, status=302),
    Page("healthz", A, url("healthz"), 3),
    Page("readyz", A, url("readyz"), 7),
    # Without SERS_METRICS_TOKEN (and without the right bearer token) a page that does not
    # exist; the scrape itself is measured in tests/ops/test_metrics.py.
    Page("metrics", A, url("metrics"), 0, status=404),
    Page("accounts:login", A, url("accounts:login"), 2),
    Page("accounts:password_change", ST, url("accounts:password_change"), 9),
    Page("accounts:password_change_done", ST, url("accounts:password_change_done"), 9),
    Page("accounts:password_reset", A, url("accounts:password_reset"), 2),
    Page("accounts:password_reset_done", A, url("accounts:password_reset_done"), 2),
    Page("accounts:password_reset_confirm", A, _reset_confirm, 7, status=302),
    Page(
        "accounts:password_reset_confirm",
        A,
        _set_password,
        7,
        variant="set-password",
        prepare=_open_reset_link,
    ),
    Page("accounts:password_reset_complete", A, url("accounts:password_reset_complete"), 2),
    Page(
        "organisations:teacher_activate",
        A,
        lambda w: reverse("organisations:teacher_activate", args=w.activation_path()),
        3,
    ),
    Page("accounts:two_factor_manage", ADM, url("accounts:two_factor_manage"), 10),
    Page(
        "accounts:two_factor_verify",
        ADM,
        url("accounts:two_factor_verify"),
        9,
        session=lambda w: {SESSION_KEY: VERIFY},
    ),
    Page("accounts:two_factor_enrol", ADM, url("accounts:two_factor_enrol"), 12),
    # --- consortium set-up ---------------------------------------------------------------------
    Page("organisations:consortium_policies", ADM, url("organisations:consortium_policies"), 12),
    Page(
        "organisations:consortium_policy_edit",
        ADM,
        url("organisations:consortium_policy_edit", "consortium.pk", "year.code"),
        14,
    ),
    Page(
        "organisations:consortium_payment_instructions",
        ADM,
        url("organisations:consortium_payment_instructions", "consortium.pk"),
        12,
    ),
    Page("organisations:consortium_teachers", ADM, url("organisations:consortium_teachers"), 13),
    Page(
        "organisations:consortium_teacher",
        ADM,
        url("organisations:consortium_teacher", "teacher.pk"),
        14,
    ),
    # --- state staff: the organisations ---------------------------------------------------------
    Page(
        "organisations:state_organisations_home",
        STATE,
        url("organisations:state_organisations_home"),
        10,
    ),
    *(
        Page(
            "organisations:state_organisations",
            STATE,
            url("organisations:state_organisations", kind),
            10,
            variant=kind,
        )
        for kind in ("consortia", "colleges", "districts", "high-schools")
    ),
    Page(
        "organisations:state_organisation_new",
        STATE,
        url("organisations:state_organisation_new", "high-schools"),
        10,
    ),
    Page(
        "organisations:state_organisation",
        STATE,
        url("organisations:state_organisation", "high-schools", "school.pk"),
        14,
    ),
    # --- home, per role ------------------------------------------------------------------------
    Page("home", A, url("home"), 3),
    Page("home", ST, url("home"), 14),
    Page("home", T, url("home"), 12),
    Page("home", SPEC, url("home"), 12),
    Page("home", REG, url("home"), 11),
    Page("home", "college approver", url("home"), 11),
    Page("home", ADM, url("home"), 14),
    Page("home", STATE, url("home"), 15),
    # --- the footer's pages --------------------------------------------------------------------
    *(Page(name, A, url(name), 2) for name in ("help", "accessibility", "privacy", "cookies")),
    Page("report_problem", A, url("report_problem"), 2),
    Page("report_problem", ST, url("report_problem"), 6),
    # --- reports -------------------------------------------------------------------------------
    Page("reports:report_jobs", REG, url("reports:report_jobs"), 11),
    Page("reports:report_jobs", STATE, url("reports:report_jobs"), 11),
    Page("reports:report_jobs", ADM, url("reports:report_jobs"), 11),
    Page("reports:report_job_detail", REG, url("reports:report_job_detail", "job.pk"), 10),
    Page(
        "reports:report_job_detail",
        REG,
        url("reports:report_job_detail", "job.pk"),
        10,
        variant="htmx",
        status=286,
        **HX,
    ),
    Page("reports:report_job_download", REG, url("reports:report_job_download", "job.pk"), 15),
    Page("reports:report_transcript_new", REG, url("reports:report_transcript_new"), 13),
    Page("reports:report_transcript_new", STATE, url("reports:report_transcript_new"), 13),
    Page("reports:report_dashboard", STATE, url("reports:report_dashboard"), 22),
    *[
        Page(
            "reports:report_dashboard",
            STATE,
            url("reports:report_dashboard", query=f"dimension={dimension}"),
            22,
            variant=dimension,
        )
        for dimension in ("academic_year", "college", "high_school", "cluster", "gender")
    ],
    Page(
        "reports:report_dashboard",
        STATE,
        url("reports:report_dashboard", query="dimension=district"),
        22,
        variant="htmx",
        htmx=True,
        headers=(("HX-Target", "dashboard-results"),),
    ),
    Page("reports:report_dashboard", ADM, url("reports:report_dashboard"), 23),
    Page("reports:report_dashboard", SPEC, url("reports:report_dashboard"), 23),
    Page("reports:access_log", ADM, url("reports:access_log"), 16),
    Page("reports:access_log", STATE, url("reports:access_log"), 16),
    # --- operations (state staff) ---------------------------------------------------------------
    Page("operations:home", STATE, url("operations:home"), 14),
    Page("reports:access_log_student", ADM, url("reports:access_log_student", "student.pk"), 17),
    Page("reports:access_log_staff", ADM, url("reports:access_log_staff", "teacher.pk"), 18),
    Page("reports:record_views", ST, url("reports:record_views"), 12),
    # --- agreements: public --------------------------------------------------------------------
    Page("articulations:index", A, url("articulations:index"), 2, status=302),
    Page("articulations:search", A, url("articulations:search"), 14),
    Page("articulations:search", A, url("articulations:search"), 8, variant="htmx", **HX),
    Page(
        "articulations:search",
        A,
        url("articulations:search", query="q=Computer"),
        14,
        variant="text",
    ),
    Page("articulations:search_csv", A, url("articulations:search_csv"), 7),
    Page("articulations:detail", A, url("articulations:detail", "articulation.pk"), 8),
    Page("articulations:detail", ADM, url("articulations:detail", "articulation.pk"), 16),
    Page("articulations:catalog", A, url("articulations:catalog", "school.pk"), 10),
    # --- agreements: staff ---------------------------------------------------------------------
    Page("articulations:manage_list", ADM, url("articulations:manage_list"), 17),
    Page(
        "articulations:manage_list",
        ADM,
        url("articulations:manage_list"),
        14,
        variant="htmx",
        **HX,
    ),
    Page("articulations:manage_list", STATE, url("articulations:manage_list"), 16),
    Page("articulations:manage_list", REG, url("articulations:manage_list"), 16),
    Page("articulations:manage_list", "college approver", url("articulations:manage_list"), 16),
    Page("articulations:manage_create", ADM, url("articulations:manage_create"), 16),
    Page(
        "articulations:manage_detail",
        ADM,
        url("articulations:manage_detail", "articulation.pk"),
        18,
    ),
    Page(
        "articulations:manage_detail",
        "college approver",
        url("articulations:manage_detail", "articulation.pk"),
        18,
    ),
    Page("articulations:manage_edit", ADM, url("articulations:manage_edit", "draft.pk"), 20),
    Page(
        "articulations:manage_teachers",
        ADM,
        url("articulations:manage_teachers", "articulation.pk"),
        18,
    ),
    Page("articulations:manage_courses", ADM, url("articulations:manage_courses"), 11),
    Page("articulations:rollover", ADM, url("articulations:rollover"), 25),
    Page(
        "articulations:rollover_runs",
        ADM,
        lambda w: reverse("articulations:rollover_runs") + f"?consortium={w.consortium.pk}",
        11,
        **HX,
    ),
    Page("articulations:import", ADM, url("articulations:import"), 12),
    Page("articulations:import_template_csv", ADM, url("articulations:import_template_csv"), 17),
    Page("articulations:import_template_xlsx", ADM, url("articulations:import_template_xlsx"), 17),
    # --- students ------------------------------------------------------------------------------
    Page("enrollment:sign_up", A, url("enrollment:sign_up"), 3),
    Page("enrollment:forgot_email", A, url("enrollment:forgot_email"), 2),
    Page(
        "enrollment:recovery_sent",
        A,
        url("enrollment:recovery_sent"),
        6,
        session=lambda w: {RECOVERY_HINT_SESSION_KEY: "p***@example.org"},
    ),
    Page("enrollment:verify_sent", "unverified student", url("enrollment:verify_sent"), 10),
    Page(
        "enrollment:verify_email",
        A,
        lambda w: url("enrollment:verify_email", w.verification_token())(w),
        3,
    ),
    Page("enrollment:dashboard", ST, url("enrollment:dashboard"), 19),
    Page("enrollment:register", ST, url("enrollment:register"), 16),
    Page("enrollment:register", ST, url("enrollment:register"), 16, variant="htmx", **HX),
    Page("enrollment:confirmation", ST, url("enrollment:confirmation"), 16),
    Page(
        "enrollment:confirmation",
        ST,
        lambda w: reverse("enrollment:confirmation") + f"?ids={w.enrollment.pk}",
        15,
        variant="ids",
    ),
    Page("enrollment:withdraw", ST, url("enrollment:withdraw", "enrollment.pk"), 11),
    Page("enrollment:credits", ST, url("enrollment:credits"), 13),
    Page("enrollment:profile", ST, url("enrollment:profile"), 13),
    # --- teachers ------------------------------------------------------------------------------
    Page("enrollment:teacher_classes", T, url("enrollment:teacher_classes"), 13),
    Page("enrollment:teacher_class_request", T, url("enrollment:teacher_class_request"), 14),
    # + 2: the school's class list mapped to the class (enrollment.selectors.oneroster)
    Page("enrollment:teacher_roster", T, url("enrollment:teacher_roster", "section.pk"), 17),
    Page("enrollment:teacher_grades", T, url("enrollment:teacher_grades", "section.pk"), 17),
    Page(
        "enrollment:teacher_grade_check",
        T,
        lambda w: (
            reverse("enrollment:teacher_grade_check", args=[w.section.pk])
            + f"?grade_{w.enrollment.pk}=B"
        ),
        10,
        **HX,
    ),
    Page("enrollment:teacher_complete", T, url("enrollment:teacher_complete", "section.pk"), 11),
    Page("enrollment:teacher_upload", T, url("enrollment:teacher_upload", "section.pk"), 10),
    Page("enrollment:teacher_remove", T, url("enrollment:teacher_remove", "enrollment.pk"), 10),
    # --- staff: enrollments and students -------------------------------------------------------
    Page(
        "enrollment:staff_enrollment", ADM, url("enrollment:staff_enrollment", "enrollment.pk"), 16
    ),
    Page("enrollment:staff_enrollment", T, url("enrollment:staff_enrollment", "enrollment.pk"), 16),
    Page("enrollment:staff_enrollment", REG, url("enrollment:staff_enrollment", "ready.pk"), 16),
    Page(
        "enrollment:staff_enrollment", SPEC, url("enrollment:staff_enrollment", "enrollment.pk"), 16
    ),
    Page(
        "enrollment:staff_lookup",
        SPEC,
        url("enrollment:staff_lookup", query=f"name={LOOKUP_NAME}"),
        14,
    ),
    Page(
        "enrollment:staff_lookup",
        SPEC,
        url("enrollment:staff_lookup", query=f"name={LOOKUP_NAME}"),
        14,
        variant="htmx",
        **HX,
    ),
    Page(
        "enrollment:staff_lookup",
        ADM,
        url("enrollment:staff_lookup", query=f"name={LOOKUP_NAME}"),
        14,
    ),
    Page("enrollment:staff_student", SPEC, url("enrollment:staff_student", "student.pk"), 17),
    Page("enrollment:staff_student", ADM, url("enrollment:staff_student", "student.pk"), 17),
    Page("enrollment:staff_student", REG, url("enrollment:staff_student", "student.pk"), 17),
    Page("enrollment:staff_student", STATE, url("enrollment:staff_student", "student.pk"), 17),
    Page("enrollment:staff_register", ADM, url("enrollment:staff_register", "student.pk"), 12),
    # --- the schools' class lists --------------------------------------------------------------
    Page("enrollment:sis_imports", SPEC, url("enrollment:sis_imports"), 11),
    Page("enrollment:sis_imports", T, url("enrollment:sis_imports"), 11),
    Page(
        "enrollment:sis_mapping",
        SPEC,
        url("enrollment:sis_mapping", "sis_import.pk", query="all=1"),
        14,
    ),
    # --- consortium admins ---------------------------------------------------------------------
    Page("enrollment:consortium_home", ADM, url("enrollment:consortium_home"), 14),
    Page("enrollment:fee_list", ADM, url("enrollment:fee_list"), 19),
    Page("enrollment:fee_list", ADM, url("enrollment:fee_list"), 17, variant="htmx", **HX),
    Page(
        "enrollment:fee_list",
        ADM,
        url("enrollment:fee_list", query="status=paid"),
        19,
        variant="paid",
    ),
    Page("enrollment:fee_upload", ADM, url("enrollment:fee_upload"), 12),
    Page("enrollment:fee_detail", ADM, url("enrollment:fee_detail", "fee.pk"), 16),
    Page("enrollment:duplicate_list", ADM, url("enrollment:duplicate_list"), 11),
    Page(
        "enrollment:duplicate_review", ADM, url("enrollment:duplicate_review", "duplicate.pk"), 20
    ),
    Page("enrollment:merge_start", ADM, url("enrollment:merge_start", "student.pk"), 10),
    Page(
        "enrollment:student_merge",
        ADM,
        url("enrollment:student_merge", "student.pk", "dup_student.pk"),
        21,
    ),
    Page("enrollment:section_requests", ADM, url("enrollment:section_requests"), 11),
    # --- registrars ----------------------------------------------------------------------------
    Page("enrollment:registrar_queue", REG, url("enrollment:registrar_queue"), 20),
    *[
        Page(
            "enrollment:registrar_queue",
            REG,
            url("enrollment:registrar_queue", query=f"view={view}"),
            19,
            variant=view,
        )
        for view in ("waiting", "transcribed")
    ],
    Page(
        "enrollment:registrar_queue",
        REG,
        url("enrollment:registrar_queue", query="view=waiting"),
        16,
        variant="htmx",
        **HX,
    ),
    Page(
        "enrollment:registrar_transcribe_one",
        REG,
        url("enrollment:registrar_transcribe_one", "ready.pk"),
        10,
    ),
    Page("enrollment:registrar_undo", REG, url("enrollment:registrar_undo", "transcribed.pk"), 10),
    Page("enrollment:registrar_upload", REG, url("enrollment:registrar_upload"), 9),
    # --- college systems: the registrars' API tokens, and the API (a token, no session) ---------
    Page("api:tokens", REG, url("api:tokens"), 10, prepare=lambda c, w: _api_token_pk(w)),
    Page("api:token_new", REG, url("api:token_new"), 9),
    Page("api:token_revoke", REG, url("api:token_revoke", _api_token_pk), 9),
    Page("api-v1:credits_ready", A, url("api-v1:credits_ready"), 12, prepare=_api_sign_in),
    Page("api-v1:credit", A, url("api-v1:credit", "ready.pk"), 11, prepare=_api_sign_in),
    Page("api-v1:agreements", A, url("api-v1:agreements"), 9, prepare=_api_sign_in),
    Page("api-v1:openapi-json", A, url("api-v1:openapi-json"), 0),
    Page("api-v1:openapi-view", A, url("api-v1:openapi-view"), 0),
    Page("api-v1:api-root", A, url("api-v1:api-root"), 0, status=404),
    Page("api-v1:not-found", A, url("api-v1:not-found"), 0, status=404),
]

# Pages that show no list of the data the world grows (a form, one object, numbers, a
# fixed file). Every other page must render a bigger body in the large world, which
# shows that its rows were really rendered when its queries were counted.
FIXED_CONTENT = {
    *(f"home[{persona}]" for persona in (A, ST, T, SPEC, REG, "college approver", ADM, STATE)),
    "set_language[anonymous]",
    *(f"{name}[anonymous]" for name in ("help", "accessibility", "privacy", "cookies")),
    "report_problem[anonymous]",
    "report_problem[student]",
    # A form and its own history, which grows with changes to the consortium, not with data.
    "organisations:consortium_payment_instructions[consortium admin]",
    "healthz[anonymous]",
    "readyz[anonymous]",
    "metrics[anonymous]",
    "accounts:login[anonymous]",
    "accounts:password_change[student]",
    "accounts:password_change_done[student]",
    "accounts:password_reset[anonymous]",
    "accounts:password_reset_done[anonymous]",
    "accounts:password_reset_confirm[anonymous]",
    "accounts:password_reset_confirm[anonymous]-set-password",
    "accounts:password_reset_complete[anonymous]",
    "organisations:teacher_activate[anonymous]",
    "accounts:two_factor_manage[consortium admin]",
    "accounts:two_factor_verify[consortium admin]",
    "accounts:two_factor_enrol[consortium admin]",
    "reports:report_job_detail[registrar]",
    "reports:report_job_detail[registrar]-htmx",
    "reports:report_job_download[registrar]",
    "articulations:index[anonymous]",
    "articulations:import[consortium admin]",
    "articulations:import_template_csv[consortium admin]",
    "articulations:import_template_xlsx[consortium admin]",
    "enrollment:forgot_email[anonymous]",
    "enrollment:recovery_sent[anonymous]",
    "enrollment:verify_sent[unverified student]",
    "enrollment:verify_email[anonymous]",
    "enrollment:withdraw[student]",
    "enrollment:teacher_grade_check[teacher]",
    "enrollment:teacher_complete[teacher]",
    "enrollment:teacher_upload[teacher]",
    "enrollment:teacher_remove[teacher]",
    "enrollment:merge_start[consortium admin]",
    "enrollment:registrar_transcribe_one[registrar]",
    "enrollment:registrar_undo[registrar]",
    "enrollment:registrar_upload[registrar]",
    "api:tokens[registrar]",
    "api:token_new[registrar]",
    "api:token_revoke[registrar]",
    "api-v1:credit[anonymous]",
    "api-v1:openapi-json[anonymous]",
    "api-v1:openapi-view[anonymous]",
    "api-v1:api-root[anonymous]",
    "api-v1:not-found[anonymous]",
}

# Routes that only take a POST (a form's action): no page to measure. Their GET must be 405.
POST_ONLY = {
    "api-v1:credits_acknowledge",
    "accounts:logout",
    "organisations:teacher_invitation_resend",
    "organisations:consortium_public_settings",
    "organisations:consortium_teacher_invite",
    "organisations:consortium_teacher_deactivate",
    "organisations:consortium_teacher_activate",
    "organisations:consortium_teacher_school_add",
    "organisations:consortium_teacher_school_remove",
    "reports:report_job_retry",
    "operations:report_job_retry",
    "reports:report_job_rerun",
    "reports:report_dashboard_export",
    "reports:report_enrollments_export",
    "articulations:manage_status",
    "articulations:manage_revise",
    "articulations:manage_discard",
    "articulations:manage_teacher_remove",
    "articulations:manage_course_offered",
    "enrollment:sign_up_email_check",
    "enrollment:account_recovery_send",
    "enrollment:verify_resend",
    "enrollment:register_review",
    "enrollment:register_confirm",
    "enrollment:identity_change",
    "enrollment:identity_change_cancel",
    "enrollment:teacher_class_request_cancel",
    "enrollment:teacher_roster_confirm",
    "enrollment:teacher_grade_row",
    "enrollment:staff_reveal_email",
    "enrollment:staff_resend_verification",
    "enrollment:staff_password_reset",
    "enrollment:duplicate_scan",
    "enrollment:duplicate_dismiss",
    "enrollment:section_request_decide",
    "enrollment:grade_override",
    "enrollment:registrar_transcribe",
}


def app_routes() -> dict[str, URLPattern]:
    """Every named route of the app, recursively, without the Django admin."""
    routes: dict[str, URLPattern] = {}

    def walk(patterns, namespaces: tuple[str, ...]) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace == "admin" or pattern.app_name == "admin":
                    continue
                inner = namespaces + ((pattern.namespace,) if pattern.namespace else ())
                walk(pattern.url_patterns, inner)
            else:
                assert pattern.name, f"unnamed route {pattern.pattern}: name it to list it here"
                routes[":".join((*namespaces, pattern.name))] = pattern

    walk(get_resolver().url_patterns, ())
    return routes


# --- measuring -------------------------------------------------------------------------------


@dataclass
class Measure:
    count: int = 0
    status: int = 0
    sql: tuple = ()
    error: str = ""
    size: int = 0  # bytes of the body


def measure(world: World, page: Page) -> Measure:
    client = Client()
    user = PERSONAS[page.persona](world)
    try:
        if user is not None:
            client.force_login(user)
        if page.session:
            session = client.session
            session.update(page.session(world))
            session.save()
        if page.prepare:
            page.prepare(client, world)
        path = page.path(world)
        headers = dict(page.headers)
        if page.htmx:
            headers.setdefault("HX-Request", "true")
        cache.clear()
        ContentType.objects.clear_cache()  # as a new process: whatever ran before
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path, headers=headers)
            # A file download is read to the end (the test client then closes it).
            body = b"".join(response.streaming_content) if response.streaming else response.content
    except Exception as error:  # shown in the page's own test
        return Measure(error=f"{type(error).__name__}: {error}")
    statements = tuple(q["sql"] for q in captured.captured_queries)
    return Measure(
        count=len(statements), status=response.status_code, sql=statements, size=len(body)
    )


@pytest.fixture(scope="module")
def measured(django_db_setup, django_db_blocker, tmp_path_factory):
    """Both worlds, every page measured in each; nothing is kept in the database."""
    media = tmp_path_factory.mktemp("scale-media")
    small, large = {}, {}
    with (
        django_db_blocker.unblock(),
        override_settings(MEDIA_ROOT=media),
        pytest.MonkeyPatch.context() as patch,
    ):
        patch.setattr("django.utils.timezone.localdate", localdate)
        with transaction.atomic():
            world = build_world()
            small_sizes = sizes(world)
            for page in PAGES:
                small[page.id] = measure(world, page)
            world.grow(GROWTH - 1)
            large_sizes = sizes(world)
            for page in PAGES:
                large[page.id] = measure(world, page)
            transaction.set_rollback(True)
    if os.environ.get("SERS_QUERY_TABLE"):
        print("\n| page | queries, small | queries, large | bound | bytes small → large |")
        print("|---|---|---|---|---|")
        for page in PAGES:
            s, g = small[page.id], large[page.id]
            print(
                f"| {page.id} | {s.count} | {g.count} | {page.max_queries} | {s.size} → {g.size} |"
            )
    return small, large, (small_sizes, large_sizes)


def sizes(w: World) -> dict[str, int]:
    """How much of what the pages list the world holds."""
    return {
        "students in the main class": w.section.enrollments.count(),
        "the teacher's classes this year": w.teacher.sections.filter(academic_year=w.year).count(),
        "the student's enrollments": w.student.enrollments.count(),
        "the student's fees": w.student.fees.count(),
        "the main enrollment's history": w.enrollment.status_changes.count(),
        "the main fee's history": w.fee.changes.count(),
        "school years": AcademicYear.objects.count(),
        "active agreements": Articulation.objects.filter(status="active").count(),
        "schools of the main agreement": w.articulation.high_schools.count(),
        "consortia": Consortium.objects.count(),
        "fees": Fee.objects.count(),
        "open possible duplicates": PossibleDuplicate.objects.filter(status="open").count(),
        "pending class requests": SectionRequest.objects.filter(status="pending").count(),
        "report jobs": ReportJob.objects.count(),
        "roll-over runs": RolloverRun.objects.count(),
        "access-log entries": AccessLogEntry.objects.count(),
        "teachers": RoleMembership.objects.filter(role="teacher").count(),
    }


def _shape(sql: str) -> str:
    """A statement without its literal values, to tell repeated queries apart."""
    sql = re.sub(r'"s\d+_x\d+"', '"s?"', sql)  # savepoint names
    sql = re.sub(r"'(?:[^']|'')*'", "?", sql)
    sql = re.sub(r"\b\d+(\.\d+)?\b", "?", sql)
    sql = re.sub(r"\((\?(, )?)+\)", "(?)", sql)
    return re.sub(r"(\(\?\)(, )?)+", "(?)", sql)


def _grown(small: Measure, large: Measure) -> str:
    before = collections.Counter(_shape(q) for q in small.sql)
    after = collections.Counter(_shape(q) for q in large.sql)
    lines = [
        f"  {before[shape]} -> {n}: {shape[:300]}"
        for shape, n in after.items()
        if n > before[shape]
    ]
    return "\n".join(lines) or "  (the same statements, in other numbers)"


# --- the tests -------------------------------------------------------------------------------


def test_every_route_is_listed():
    routes = set(app_routes())
    listed = {page.route for page in PAGES}
    assert not listed & POST_ONLY, "a route is both a page and POST-only"
    missing = sorted(routes - listed - POST_ONLY)
    assert not missing, (
        "These routes have no entry in tests/scale/test_query_counts.py: add each GET page "
        f"to PAGES (with its persona and bound) or, if it only takes POST, to POST_ONLY: {missing}"
    )
    stale = sorted((listed | POST_ONLY) - routes)
    assert not stale, f"Entries for routes that no longer exist: {stale}"


def test_page_ids_are_unique():
    ids = [page.id for page in PAGES]
    assert len(ids) == len(set(ids)), [i for i in ids if ids.count(i) > 1]


def test_post_only_routes_refuse_get(client):
    """What POST_ONLY claims: a signed-in GET gets 405, so there is no page to measure."""
    client.force_login(UserFactory())
    routes = app_routes()
    wrong = {}
    for name in sorted(POST_ONLY):
        pattern = routes[name]
        kwargs = {
            key: 1 if converter.__class__.__name__ == "IntConverter" else "x"
            for key, converter in pattern.pattern.converters.items()
        }
        status = client.get(reverse(name, kwargs=kwargs)).status_code
        if status != 405:
            wrong[name] = status
    assert not wrong, f"These POST_ONLY routes answer a GET: list them in PAGES: {wrong}"


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.id)
def test_query_count_is_bounded_and_does_not_grow(page, measured):
    small, large = measured[0][page.id], measured[1][page.id]
    assert not small.error, f"small world: {small.error}"
    assert not large.error, f"large world: {large.error}"
    assert (small.status, large.status) == (page.status, page.status), (
        f"expected {page.status} in both worlds, got {small.status} (small) and "
        f"{large.status} (large): the page was not measured"
    )
    assert large.count <= small.count + page.slack, (
        f"{page.id}: {small.count} queries with 1 unit of data, {large.count} with {GROWTH} "
        f"(an N+1). Statements that grew:\n{_grown(small, large)}"
    )
    assert max(small.count, large.count) <= page.max_queries, (
        f"{page.id}: {max(small.count, large.count)} queries, the bound is "
        f"{page.max_queries}. Find the new queries, or raise the bound if they are needed."
    )


def test_list_pages_render_more_rows_in_the_large_world(measured):
    """Each page that lists the data rendered a bigger body in the large world (else its
    rows were not there when its queries were counted: grow the world, or, if the page
    shows no list, add it to FIXED_CONTENT)."""
    ids = {page.id for page in PAGES}
    assert ids >= FIXED_CONTENT, FIXED_CONTENT - ids
    small, large = measured[0], measured[1]
    same = {
        page_id: (small[page_id].size, large[page_id].size)
        for page_id in sorted(ids - FIXED_CONTENT)
        if large[page_id].size <= small[page_id].size
    }
    assert not same, f"pages whose body did not grow with the data (bytes): {same}"


def test_the_large_world_lists_more(measured):
    """Guards the builder: what the pages list really grew between the two worlds."""
    small, large = measured[2]
    assert small.keys() == large.keys()
    for name in small:
        assert large[name] >= 2 * small[name] > 0, (name, small[name], large[name])
