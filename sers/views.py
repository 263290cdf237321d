"""The site's own pages: the home page, the liveness check, and the pages every footer
links to (help and contact, report a problem, accessibility, privacy, cookies)."""

import hashlib
import logging
from datetime import date

from django.conf import settings
from django.contrib import messages
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.core.mail import EmailMessage
from django.db import connection
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from accounts.permissions import access_for
from accounts.security import client_ip
from organisations.selectors import academic_year_current
from reports.selectors.home import home_panels

from .forms import ProblemReportForm
from .metrics import email_sending

logger = logging.getLogger(__name__)

# "Report a problem" sends an email: at most this many an hour from one address.
PROBLEM_REPORTS_PER_HOUR = 5
# When the accessibility statement was last checked against the site (change it then).
ACCESSIBILITY_REVIEWED = date(2026, 12, 6)


def home(request):
    """The landing page for visitors; for a signed-in user, real numbers for each role."""
    year = academic_year_current()
    panels = []
    if request.user.is_authenticated:
        panels = home_panels(access=access_for(request.user), year=year)
    return render(request, "home.html", {"year": year, "panels": panels})


@never_cache
def healthz(request):
    """Liveness and database check for the load balancer; also the trivial benchmark view."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")


# --- the footer's pages ---------------------------------------------------------------------


@require_GET
def help_page(request):
    """Help and contact: who answers which question, and the help desk."""
    return render(request, "pages/help.html")


@require_GET
def accessibility(request):
    return render(request, "pages/accessibility.html", {"reviewed_on": ACCESSIBILITY_REVIEWED})


@require_GET
def privacy(request):
    """What SERS keeps, who sees it, how to ask for the record (FERPA), how long it is kept."""
    return render(
        request,
        "pages/privacy.html",
        {
            "report_file_days": settings.SERS_REPORT_FILE_DAYS,
            "session_idle_minutes": settings.SESSION_COOKIE_AGE // 60,
            "session_max_hours": settings.SERS_SESSION_MAX_SECONDS // 3600,
        },
    )


@require_GET
def cookies(request):
    """Every cookie SERS sets, by its configured name: none of them tracks anyone."""
    return render(
        request,
        "pages/cookies.html",
        {
            "session_cookie": settings.SESSION_COOKIE_NAME,
            "csrf_cookie": settings.CSRF_COOKIE_NAME,
            "language_cookie": settings.LANGUAGE_COOKIE_NAME,
            "messages_cookie": CookieStorage.cookie_name,
            "session_idle_minutes": settings.SESSION_COOKIE_AGE // 60,
        },
    )


def _report_allowed(request) -> bool:
    """Counts this address's reports in the last hour (a keyed hash of the address, never
    the address itself); False once it has sent PROBLEM_REPORTS_PER_HOUR."""
    address = client_ip(request) or "unknown"
    digest = hashlib.sha256(f"{settings.SECRET_KEY}:{address}".encode()).hexdigest()[:32]
    key = f"sers:problem-reports:{digest}"
    cache.add(key, 0, timeout=60 * 60)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=60 * 60)
        count = 1
    return count <= PROBLEM_REPORTS_PER_HOUR


def _send_problem_report(request, data: dict) -> None:
    user = request.user
    lines = [
        f"What were you doing?\n{data['doing']}",
        f"What went wrong?\n{data['wrong']}",
        f"Page: {data['page'] or '-'}",
        f"Signed in: {f'yes, user id {user.pk}' if user.is_authenticated else 'no'}",
        f"Language: {request.LANGUAGE_CODE}",
        f"Browser: {request.headers.get('User-Agent', '-')[:300]}",
        f"Request id: {getattr(request, 'request_id', '-')}",
    ]
    message = EmailMessage(
        subject="SERS: a problem report",
        body="\n\n".join(lines) + "\n",
        to=[settings.SERS_HELP_EMAIL],
        reply_to=[data["email"]] if data["email"] else None,
    )
    with email_sending("problem_report"):
        message.send()


@require_http_methods(["GET", "POST"])
def report_problem(request):
    """Sends the help desk what went wrong, by email. Nothing of it is stored or logged."""
    initial = {"page": request.GET.get("from", "")[:300]}
    form = ProblemReportForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        if not _report_allowed(request):
            form.add_error(
                None,
                _(
                    "You have sent several reports in the last hour. Try again later, or "
                    "email the help desk at %(email)s."
                )
                % {"email": settings.SERS_HELP_EMAIL},
            )
        else:
            try:
                _send_problem_report(request, form.cleaned_data)
            except Exception as error:  # any mail failure: say so, keep what was typed
                logger.warning("problem report not sent: %s", type(error).__name__)
                form.add_error(
                    None,
                    _(
                        "Your report could not be sent just now. Try again in a few "
                        "minutes, or email the help desk at %(email)s."
                    )
                    % {"email": settings.SERS_HELP_EMAIL},
                )
            else:
                logger.info("problem report sent")
                messages.success(
                    request,
                    _(
                        "Thank you: your report went to the help desk. If you gave your "
                        "email address, they reply within two working days."
                    ),
                )
                return redirect("report_problem")
    return render(request, "pages/report_problem.html", {"form": form})
