"""Cached content of the signed-in pages read far more often than they change: a
student's dashboard and class list, a teacher's roster, a registrar's queue.

In a registration surge a student opens the same class list and dashboard again and
again, and a teacher the same roster, while what those pages show changes a few times a
day. So the rendered content (everything inside <main> but the messages; the layout
around it is rendered for each request) is kept in the cache (Redis in production)
under a key that holds the *versions* of everything it shows:

- ``student:<id>``   the student's record: enrollments, grades, fees, identity
- ``user:<id>``      the account: email confirmed, name, active
- ``section:<id>``   a class's enrollments and the class itself
- ``college:<id>``   the college's transcription queue: enrollments in its classes, and
                     their students' fees, identity and confirmed email
- ``offers``         classes, teachers, consortium policies (what the class list offers)
- ``catalog``        the public catalog (agreements, courses, schools: articulations.cache)

plus the page, its parameters, the language and today's date (windows, deadlines and
the undo period are days). Every change replaces the versions it touches: the signals
below for saves and deletes, ``_log_change`` and the bulk status writer in
enrollment.services for the writes that send no signal (sers.versions keeps the
versions and replaces them at once and again at commit). Cached content also expires after
CONTENT_SECONDS, a safety net for writes that bypass both (raw SQL, COPY).

The CSRF token and the CSP nonce differ for each session and request: content is
rendered with placeholders and they are put in when it is served. Whatever a page must do
on every view besides rendering (the access log) it still does; the cache keeps what it
needs (the student ids shown) beside the HTML. If the cache is down the page is rendered
as if nothing was cached.
"""

import hashlib
import logging
import zlib
from collections.abc import Callable, Iterable

from django.core.cache import cache
from django.db.models import Q
from django.db.models.signals import post_delete, post_save
from django.middleware.csp import get_nonce
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from accounts.models import User
from articulations import cache as catalog_cache
from articulations.models import Articulation
from organisations.models import ConsortiumPolicy
from organisations.services import teacher_active_changed
from sers import versions

from .models import Enrollment, Fee, IdentityChange, Section, StudentProfile

logger = logging.getLogger(__name__)

CONTENT_SECONDS = 5 * 60  # the safety net: content not renewed by any change expires
CSRF_PLACEHOLDER = "sers-csrf-token-placeholder"
NONCE_PLACEHOLDER = "sers-csp-nonce-placeholder"
OFFERS = "offers"
CATALOG = catalog_cache.CATALOG  # renewed by articulations.cache
FORMAT = "z1"  # of the kept value (zlib-compressed HTML, extra); part of the key


def student_scope(student_id: int) -> str:
    return f"student:{student_id}"


def user_scope(user_id: int) -> str:
    return f"user:{user_id}"


def section_scope(section_id: int) -> str:
    return f"section:{section_id}"


def college_scope(college_id: int) -> str:
    return f"college:{college_id}"


def content_changed(scopes: Iterable[str]) -> None:
    """What these scopes show changed: their cached content is left behind, now and at
    commit."""
    versions.changed(scopes)


def students_changed(student_ids: Iterable[int], *, section_ids: Iterable[int] = ()) -> None:
    """These students' records changed, in these classes (and so at these classes'
    colleges and every college where the students have a class)."""
    student_ids, section_ids = set(student_ids), set(section_ids)
    content_changed(
        [
            *map(student_scope, student_ids),
            *map(section_scope, section_ids),
            *map(college_scope, _colleges_of(student_ids=student_ids, section_ids=section_ids)),
        ]
    )


def _colleges_of(
    *,
    student_ids: set[int] = frozenset(),
    section_ids: set[int] = frozenset(),
    user_id: int | None = None,
) -> set[int]:
    """The colleges of these classes and of every class of these students (or of the
    student with this account). One query."""
    if not (section_ids or student_ids or user_id is not None):
        return set()

    # Each part a subquery on its own index; the agreements table is small.
    where = Q(pk__in=[])
    if section_ids:
        where |= Q(pk__in=Section.objects.filter(pk__in=section_ids).values("articulation_id"))
    if student_ids:
        where |= Q(
            pk__in=Enrollment.objects.filter(student_id__in=student_ids).values(
                "section__articulation_id"
            )
        )
    if user_id is not None:
        where |= Q(
            pk__in=Enrollment.objects.filter(student__user_id=user_id).values(
                "section__articulation_id"
            )
        )
    return set(
        Articulation.objects.filter(where)
        .order_by()
        .values_list("college_id", flat=True)
        .distinct()
    )


def render_content(request, template: str, context: dict) -> str:
    """Render a page's content with placeholders for the per-request CSRF token and CSP
    nonce, so the HTML can be kept and served to the same user later."""
    return render_to_string(
        template,
        {**context, "csrf_token": CSRF_PLACEHOLDER, "csp_nonce": NONCE_PLACEHOLDER},
        request,
    )


def cached_content(
    request,
    *,
    page: str,
    scopes: list[str],
    build: Callable[[], tuple[str, dict]],
    parts: tuple = (),
) -> tuple[SafeString, dict]:
    """(html, extra) of a page's content: from the cache while every scope's version is
    unchanged, else from ``build()`` (which renders with ``render_content``) and kept.
    `parts` are the request's parameters that change the content (a school picked)."""
    key = None
    hit = None
    try:
        current = versions.versions(scopes)
        raw = "|".join(
            [
                page,
                get_language() or "",
                timezone.localdate().isoformat(),
                *scopes,
                *current,
                *map(str, parts),
            ]
        )
        digest = hashlib.sha256(raw.encode()).hexdigest()[:32]
        key = f"enrollment:page:{FORMAT}:{page}:{digest}"
        hit = cache.get(key)
    except Exception:
        logger.exception("cache unavailable; the page is rendered uncached")
    if hit is None:
        html, extra = build()
        if key is not None:
            try:
                # Compressed: a class list is ~33 kB of HTML, ~5 kB this way, and a
                # surge keeps one per student for CONTENT_SECONDS.
                cache.set(key, (zlib.compress(html.encode(), 1), extra), CONTENT_SECONDS)
            except Exception:
                logger.exception("cache unavailable")
    else:
        packed, extra = hit
        html = zlib.decompress(packed).decode()
    if CSRF_PLACEHOLDER in html:
        html = html.replace(CSRF_PLACEHOLDER, get_token(request))
    if NONCE_PLACEHOLDER in html:
        html = html.replace(NONCE_PLACEHOLDER, str(get_nonce(request)))
    return mark_safe(html), extra  # noqa: S308 (rendered by our templates, escaped there)


# --- what replaces the versions -------------------------------------------------------------------


def _enrollment_saved(sender, instance, **kwargs) -> None:
    students_changed([instance.student_id], section_ids=[instance.section_id])


def _student_record_saved(sender, instance, **kwargs) -> None:
    """Fees and identity changes: the student's own pages."""
    students_changed([instance.student_id])


def _profile_saved(sender, instance, **kwargs) -> None:
    """The profile itself: the student's pages, and every roster that shows the name."""

    students_changed(
        [instance.pk],
        section_ids=Enrollment.objects.filter(student_id=instance.pk).values_list(
            "section_id", flat=True
        ),
    )


def _section_saved(sender, instance, **kwargs) -> None:
    content_changed([section_scope(instance.pk), OFFERS])


def _offers_changed(sender, **kwargs) -> None:
    content_changed([OFFERS])


# Saves of these fields alone change nothing a cached page shows but the account's own
# scope (sign-in time, password) or only the student's own pages (email confirmed).
_ACCOUNT_ONLY_FIELDS = frozenset({"last_login", "password", "email", "email_verified_at"})


def _user_saved(sender, instance, created=False, update_fields=None, **kwargs) -> None:
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return
    scopes = [user_scope(instance.pk)]
    account_only = update_fields is not None and set(update_fields) <= _ACCOUNT_ONLY_FIELDS
    if not created and not account_only:
        scopes.append(OFFERS)  # a teacher activated, renamed or deactivated
    if not created and (update_fields is None or "email_verified_at" in update_fields):
        # A student's confirmed email lets the registrars of the classes transcribe.
        scopes.extend(map(college_scope, _colleges_of(user_id=instance.pk)))
    content_changed(scopes)


def _teacher_active_changed(sender, user_id: int, **kwargs) -> None:
    """A teacher deactivated or opened again (an UPDATE, no model signal): the class
    lists show whether a class's teacher is active."""
    content_changed([OFFERS, user_scope(user_id)])


def connect_signals() -> None:
    """Called from EnrollmentConfig.ready()."""

    def connect(handler, model, name):
        uid = f"sers.pagecache.{name}.{model._meta.label_lower}"
        post_save.connect(handler, sender=model, dispatch_uid=uid + ".save")
        post_delete.connect(handler, sender=model, dispatch_uid=uid + ".delete")

    connect(_enrollment_saved, Enrollment, "enrollment")
    for model in (Fee, IdentityChange):
        connect(_student_record_saved, model, "student")
    connect(_profile_saved, StudentProfile, "profile")
    connect(_section_saved, Section, "section")
    connect(_offers_changed, ConsortiumPolicy, "offers")
    connect(_user_saved, User, "user")
    teacher_active_changed.connect(_teacher_active_changed, dispatch_uid="sers.pagecache.teacher")
