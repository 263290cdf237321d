"""Response headers: the Content-Security-Policy with its nonce, the other security headers,
no caching of signed-in pages, the deployment checks, and the friendly error pages."""

import re

import pytest
from django.core.checks import Error
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.template import loader
from django.test import Client, override_settings
from django.urls import path, reverse
from django.utils.csp import CSP

from accounts.security import check_content_security_policy, check_session_engine
from sers.urls import urlpatterns as site_urlpatterns
from tests.test_settings import GOOD_PRODUCTION_ENV, run_python

pytestmark = pytest.mark.django_db


def csp_directives(response) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def test_every_page_gets_a_strict_content_security_policy(client):
    response = client.get(reverse("home"))
    csp = csp_directives(response)
    assert csp["default-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["style-src"] == ["'self'"]
    scripts = csp["script-src"]
    assert "'unsafe-inline'" not in scripts
    assert "'unsafe-eval'" not in scripts
    nonce = next(v for v in scripts if v.startswith("'nonce-"))[len("'nonce-") : -1]
    assert len(nonce) >= 16
    # Every script tag of the page carries this response's nonce.
    tags = re.findall(r"<script\b[^>]*>", response.content.decode())
    assert tags
    assert all(f'nonce="{nonce}"' in tag for tag in tags if "vendor/" in tag)


def test_the_nonce_is_new_on_every_response(client):
    first = csp_directives(client.get(reverse("home")))["script-src"]
    second = csp_directives(client.get(reverse("home")))["script-src"]
    assert first != second


def _assert_no_inline_code(html: str, url: str) -> None:
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), url
    assert "<style" not in html, url
    assert not re.search(r"\sstyle=", html), url
    assert "{#" not in html, url  # a template comment left visible (they are one line)


def test_pages_carry_no_inline_script_or_style(client, student):
    """No <script> without src, no <style>, no style attribute: the policy blocks them."""
    for url in [reverse("home"), reverse("accounts:login"), reverse("articulations:search")]:
        _assert_no_inline_code(client.get(url).content.decode(), url)
    client.force_login(student.user)
    for name in [
        "home",
        "enrollment:profile",
        "enrollment:dashboard",
        "accounts:two_factor_manage",
    ]:
        _assert_no_inline_code(client.get(reverse(name)).content.decode(), name)


def test_htmx_is_told_not_to_inject_its_style_element(client):
    html = client.get(reverse("home")).content.decode()
    assert (
        '<meta name="htmx-config" content=\'{"includeIndicatorStyles":false,'
        '"attributesToSettle":["class","width","height"]}\'>'
    ) in html


def test_security_headers(client):
    response = client.get(reverse("home"))
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"


def test_signed_in_pages_are_never_cached(client, student):
    public = client.get(reverse("articulations:search"))
    assert "no-store" not in public.headers.get("Cache-Control", "")

    client.force_login(student.user)
    for name in ["home", "enrollment:profile", "enrollment:dashboard"]:
        response = client.get(reverse(name))
        assert response.status_code == 200
        cache_control = response.headers["Cache-Control"]
        assert "no-store" in cache_control, name
        assert "private" in cache_control, name


def test_the_session_and_csrf_cookies_are_httponly_and_samesite(client, student, settings):
    client.force_login(student.user)
    response = client.get(reverse("enrollment:profile"))
    session = client.cookies[settings.SESSION_COOKIE_NAME]
    assert session["httponly"] is True
    assert session["samesite"] == "Lax"
    csrf = response.cookies.get(settings.CSRF_COOKIE_NAME) or client.cookies.get(
        settings.CSRF_COOKIE_NAME
    )
    assert csrf is not None
    assert csrf["httponly"] is True
    assert csrf["samesite"] == "Lax"


# --- the checks ---------------------------------------------------------------------------


def test_the_policy_check_passes_with_the_real_settings():
    assert check_content_security_policy() == []
    assert check_session_engine() == []


@pytest.mark.parametrize("empty", [{}, None])
def test_manage_py_check_fails_when_the_policy_is_empty(empty):
    with override_settings(SECURE_CSP=empty):
        assert [e.id for e in check_content_security_policy()] == ["sers.E001"]
        with pytest.raises(SystemCheckError, match=r"sers\.E001"):
            call_command("check")


@pytest.mark.parametrize(
    ("change", "error_id"),
    [
        ({"script-src": [CSP.SELF, CSP.UNSAFE_INLINE]}, "sers.E004"),
        ({"script-src": [CSP.SELF, "https:"]}, "sers.E004"),
        ({"object-src": [CSP.SELF]}, "sers.E005"),
        ({"base-uri": None}, "sers.E005"),
        ({"frame-ancestors": [CSP.SELF]}, "sers.E005"),
    ],
)
def test_the_check_fails_when_the_policy_is_loosened(settings, change, error_id):
    settings.SECURE_CSP = {**settings.SECURE_CSP, **change}
    errors = check_content_security_policy()
    assert error_id in [e.id for e in errors]
    assert all(isinstance(e, Error) for e in errors)


def test_the_check_fails_without_the_middleware(settings):
    settings.MIDDLEWARE = [
        m
        for m in settings.MIDDLEWARE
        if m != "django.middleware.csp.ContentSecurityPolicyMiddleware"
    ]
    assert "sers.E002" in [e.id for e in check_content_security_policy()]


def test_the_check_fails_with_sessions_outside_the_database(settings):
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
    assert [e.id for e in check_session_engine()] == ["sers.E006"]


PRODUCTION_VALUES = (
    "import django; django.setup(); from django.conf import settings as s; "
    "print(s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SESSION_COOKIE_SECURE, "
    "s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.SESSION_COOKIE_SAMESITE, "
    "s.SECURE_SSL_REDIRECT, s.SERS_TWO_FACTOR_REQUIRED, s.AXES_ENABLED, "
    "s.AUTHENTICATION_BACKENDS[0], s.SESSION_COOKIE_AGE, s.SERS_SESSION_MAX_SECONDS)"
)


def test_production_settings_keep_every_protection_on():
    result = run_python(["-c", PRODUCTION_VALUES], **GOOD_PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "31536000",
        "True",
        "True",
        "True",
        "True",
        "Lax",
        "True",
        "True",
        "True",
        "axes.backends.AxesStandaloneBackend",
        "1800",
        "43200",
    ]


def test_production_refuses_to_turn_two_step_sign_in_off():
    result = run_python(
        ["-c", PRODUCTION_VALUES], **GOOD_PRODUCTION_ENV, SERS_TWO_FACTOR_REQUIRED="false"
    )
    assert result.returncode != 0
    assert "Two-step sign-in stays required" in result.stderr


def test_check_deploy_passes_and_fails_on_an_empty_policy():
    command = ["manage.py", "check", "--deploy", "--fail-level", "WARNING"]
    assert run_python(command, **GOOD_PRODUCTION_ENV).returncode == 0
    emptied = run_python(
        [
            "-c",
            "import sys, django; from django.conf import settings; django.setup(); "
            "settings.SECURE_CSP = {}; from django.core.management import call_command; "
            "call_command('check', '--deploy', '--fail-level', 'WARNING')",
        ],
        **GOOD_PRODUCTION_ENV,
    )
    assert emptied.returncode != 0
    assert "sers.E001" in emptied.stderr


# --- error pages ---------------------------------------------------------------------------

SECRET_DETAIL = "internal-detail-that-must-not-leak"


def _explode(request):
    raise RuntimeError(SECRET_DETAIL)


def _forbid(request):
    from django.core.exceptions import PermissionDenied

    raise PermissionDenied(SECRET_DETAIL)


urlpatterns = [path("boom/", _explode), path("forbidden/", _forbid), *site_urlpatterns]


def test_404_is_friendly_and_says_nothing_about_the_address(client):
    response = client.get("/no-such-page/<b>probe</b>/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Page not found" in html
    main = html[html.index("<main") : html.index("</main>")]
    assert "probe" not in main
    assert "<b>probe" not in html
    assert "Traceback" not in html


def test_403_is_friendly_and_hides_the_reason(client, student):
    client.force_login(student.user)
    response = client.get(reverse("reports:report_dashboard"))
    assert response.status_code == 403
    html = response.content.decode()
    assert "You cannot open this page" in html
    assert "Content-Security-Policy" in response.headers


@override_settings(ROOT_URLCONF=__name__)
def test_500_is_friendly_and_leaks_nothing(db):
    client = Client(raise_request_exception=False)
    response = client.get("/boom/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong" in html
    assert SECRET_DETAIL not in html
    assert "RuntimeError" not in html
    assert "Traceback" not in html
    assert "Content-Security-Policy" in response.headers


@override_settings(ROOT_URLCONF=__name__)
def test_403_from_a_view_does_not_show_the_exception_text(client):
    response = client.get("/forbidden/")
    assert response.status_code == 403
    assert SECRET_DETAIL not in response.content.decode()


def test_500_template_renders_without_any_request_or_context():
    html = loader.get_template("500.html").render()
    assert "Something went wrong" in html


def test_csrf_failure_page_is_friendly(student):
    client = Client(enforce_csrf_checks=True)
    client.force_login(student.user)
    response = client.post(reverse("enrollment:profile"), {"email": "x@example.org"})
    assert response.status_code == 403
    html = response.content.decode()
    assert "Please try again" in html
    assert "CSRF" not in html


# --- NUL bytes -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url", "data"),
    [
        ("get", "/articulations/", {"year": "\x00"}),
        ("get", "/articulations/", {"q\x00": "x"}),
        ("post", "/accounts/login/", {"username": "a\x00@example.org", "password": "x"}),
        ("get", "/verify/abc%00def/", {}),
    ],
)
def test_input_with_a_nul_byte_gets_a_plain_400_page(client, method, url, data):
    response = getattr(client, method)(url, data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Something in the request is not right" in html
    assert "Traceback" not in html


def test_the_nul_refusal_speaks_the_readers_language_not_the_last_requests(client):
    spanish = Client()
    spanish.cookies["django_language"] = "es"
    assert spanish.get("/").status_code == 200  # this thread's last language: Spanish
    english = client.get("/articulations/", {"q": "\x00"}).content.decode()
    assert '<html lang="en">' in english
    assert "Something in the request is not right" in english
    answer = spanish.get("/articulations/", {"q": "\x00"}).content.decode()
    assert '<html lang="es">' in answer


def test_a_cookie_with_a_nul_byte_is_ignored(client, settings):
    client.cookies[settings.SESSION_COOKIE_NAME] = "abcdefgh\x00ijkl"
    response = client.get(reverse("home"))
    assert response.status_code == 200
