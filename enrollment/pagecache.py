"""Cached content of the signed-in pages read far more often than they change: a
student's dashboard, class list and credits, a teacher's roster and grade page, a
registrar's queue.

In a registration surge a student opens the same class list and dashboard again and
again, and a teacher the same roster, while what those pages show changes a few times a
day. So the rendered content (everything inside <main> but the messages; the layout
around it is rendered for each request) is kept in the cache (Redis in production)
under a key that holds the *versions* of everything it shows:

- ``student:<id>``   the student's record: enrollments, grades, fees, identity
- ``user:<id>``      the account: email confirmed, name, active
- ``section:<id>``   a class's enrollments, the class itself and the school's class list
                     (SIS) mapped to it
- ``college:<id>``   the college's transcription queue: enrollments in its classes, and
                     their students' fees, identity and confirmed email
- ``offers``         classes, teachers, consortium policies (what the class list offers)
- ``catalog``        the public catalog (agreements, courses, schools: articulations.cache)

plus the page, its path and query, the language, today's date (windows, deadlines and the
undo period are days) and the code version (sers.release: after a deploy no host serves
content the other release made). This module owns freshness: each page names its scopes
here (``student_page``, ``roster_page``, ``registrar_queue_page``), and every write of a
model the pages show (``WATCHED``) renews the scopes it touches through one path, the
receivers at the bottom: ``post_save``/``post_delete`` for saves and deletes, and
``sers.bulk.rows_written`` for bulk writes, which application code can only make through
sers.bulk (tests/bulkguard.py fails a test that writes a watched table any other way).
sers.versions keeps the versions and replaces them at once and again at commit. The demo
data, which writes whole tables with COPY, renews the ``everything`` scope every page
holds (``everything_changed``). Cached content also expires after CONTENT_SECONDS, a
safety net for writes outside the application (raw SQL in a shell).

Content is rendered from its context alone (``render_content``): no context processors,
no user, and the request reduced to its path and query, so nothing of the viewer but
what the key holds can end up in a kept entry.
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
from sers import bulk, metrics, release, versions

from .models import (
    Enrollment,
    Fee,
    IdentityChange,
    Section,
    SisClassMapping,
    SisImport,
    StudentProfile,
)

logger = logging.getLogger(__name__)

CONTENT_SECONDS = 5 * 60  # the safety net: content not renewed by any change expires
CSRF_PLACEHOLDER = "sers-csrf-token-placeholder"
NONCE_PLACEHOLDER = "sers-csp-nonce-placeholder"
OFFERS = "offers"
CATALOG = catalog_cache.CATALOG  # renewed by articulations.cache
FORMAT = "z1"  # of the kept value (zlib-compressed HTML, extra); part of the key
EVERYTHING = "everything"  # in every page's scopes: see everything_changed


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


def everything_changed() -> None:
    """Whole tables were written at once, past the model signals and sers.bulk (the demo
    data's COPY and its reset): every cached page is left behind, the public search's
    included."""
    content_changed([EVERYTHING, CATALOG])


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


class ContentRequest:
    """All cached content may know of the request: its path and query parameters (both
    part of the key). Templates and django-tables2 read ``request.GET`` and
    ``request.path`` for links; there is no user, session, cookie or header here."""

    def __init__(self, request):
        self.path = request.path
        self.GET = request.GET.copy()
        self.method = "GET"
        self.META = {}

    def get_full_path(self) -> str:
        query = self.GET.urlencode()
        return f"{self.path}?{query}" if query else self.path


def render_content(request, template: str, context: dict) -> str:
    """Render a page's content for the cache: from `context` alone, with the request
    reduced to ContentRequest, no context processors (so no user, permissions or
    messages), and placeholders for the per-request CSRF token and CSP nonce."""
    return render_to_string(
        template,
        {
            **context,
            "request": ContentRequest(request),
            "csrf_token": CSRF_PLACEHOLDER,
            "csp_nonce": NONCE_PLACEHOLDER,
        },
    )


def _cached_content(
    request, *, page: str, scopes: list[str], build: Callable[[], tuple[str, dict]]
) -> tuple[SafeString, dict]:
    """(html, extra) of a page's content: from the cache while every scope's version is
    unchanged, else from ``build()`` (which renders with ``render_content``) and kept.
    The key holds the path and query too (the content's links are made from them)."""
    key = None
    hit = None
    try:
        current = versions.versions(scopes)
        raw = "|".join(
            [
                release.code_version(),
                page,
                request.path,
                request.GET.urlencode(),
                get_language() or "",
                timezone.localdate().isoformat(),
                *scopes,
                *current,
            ]
        )
        digest = hashlib.sha256(raw.encode()).hexdigest()[:32]
        key = f"enrollment:page:{FORMAT}:{page}:{digest}"
        hit = cache.get(key)
    except Exception:
        logger.exception("cache unavailable; the page is rendered uncached")
    result = "error" if key is None else "miss" if hit is None else "hit"
    metrics.PAGE_CACHE.labels(page=page, result=result).inc()
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
    return fill_placeholders(request, html), extra


def fill_placeholders(request, html: str) -> SafeString:
    """Content rendered by render_content, with this request's CSRF token and CSP nonce."""
    if CSRF_PLACEHOLDER in html:
        html = html.replace(CSRF_PLACEHOLDER, get_token(request))
    if NONCE_PLACEHOLDER in html:
        html = html.replace(NONCE_PLACEHOLDER, str(get_nonce(request)))
    return mark_safe(html)  # noqa: S308 (rendered by our templates, escaped there)


# --- the cached pages and what each shows ---------------------------------------------------
# Each page names its scopes here, beside the receivers below that renew them.


def student_page(
    request, *, page: str, student_id: int, build: Callable[[], tuple[str, dict]]
) -> tuple[SafeString, dict]:
    """A student's own page (dashboard, class list, credits): their record and account, the
    classes offered and the catalog."""
    return _cached_content(
        request,
        page=page,
        scopes=[
            student_scope(student_id),
            user_scope(request.user.pk),
            OFFERS,
            CATALOG,
            EVERYTHING,
        ],
        build=build,
    )


def roster_page(
    request, *, section_id: int, build: Callable[[], tuple[str, dict]]
) -> tuple[SafeString, dict]:
    """A teacher's class roster: the class and its enrollments, the school's class list
    mapped to it, the teacher's account, and the course and school names in its header."""
    return _cached_content(
        request,
        page="roster",
        scopes=[section_scope(section_id), user_scope(request.user.pk), CATALOG, EVERYTHING],
        build=build,
    )


def grade_page(
    request, *, section_id: int, build: Callable[[], tuple[str, dict]]
) -> tuple[SafeString, dict]:
    """A teacher's grade-entry page as it opens: the class and its enrollments, the
    consortium's grading deadline (a policy), the agreement's minimum grade (catalog) and
    the teacher's account."""
    return _cached_content(
        request,
        page="grades",
        scopes=[
            section_scope(section_id),
            user_scope(request.user.pk),
            OFFERS,
            CATALOG,
            EVERYTHING,
        ],
        build=build,
    )


def registrar_queue_page(
    request, *, page: str, college_ids: Iterable[int], build: Callable[[], tuple[str, dict]]
) -> tuple[SafeString, dict]:
    """A registrar's transcription queue, the same for every registrar of these
    colleges: the colleges' queues, the classes and the catalog."""
    return _cached_content(
        request,
        page=page,
        scopes=[*map(college_scope, sorted(college_ids)), OFFERS, CATALOG, EVERYTHING],
        build=build,
    )


# --- what replaces the versions -----------------------------------------------------------
# Every write of a watched model reaches one of these: save() and delete() through the
# model signals, bulk writes through sers.bulk.rows_written.


def _renew_enrollments(student_ids: set[int], section_ids: set[int]) -> None:
    students_changed(student_ids, section_ids=section_ids)


def _renew_student_records(student_ids: set[int]) -> None:
    """Fees and identity changes: the student's own pages."""
    students_changed(student_ids)


def _renew_profiles(student_ids: set[int]) -> None:
    """The profile itself: the student's pages, and every roster that shows the name."""
    students_changed(
        student_ids,
        section_ids=Enrollment.objects.filter(student_id__in=student_ids).values_list(
            "section_id", flat=True
        ),
    )


def _renew_sections(section_ids: set[int]) -> None:
    content_changed([*map(section_scope, section_ids), OFFERS])


def _renew_offers() -> None:
    content_changed([OFFERS])


def _renew_school_lists(high_school_ids: set[int]) -> None:
    """A school's class lists (a new import, or one no longer current): the rosters of the
    classes mapped to its SIS classes."""
    section_ids = SisClassMapping.objects.filter(
        high_school_id__in=high_school_ids, section__isnull=False
    ).values_list("section_id", flat=True)
    content_changed(map(section_scope, set(section_ids)))


def _renew_mapped_sections(section_ids: set[int]) -> None:
    """An SIS class mapped to a class, or to another: both classes' rosters."""
    content_changed(map(section_scope, section_ids))


# Saves of these fields alone change nothing a cached page shows but the account's own
# scope (sign-in time, password) or only the student's own pages (email confirmed).
_ACCOUNT_ONLY_FIELDS = frozenset({"last_login", "password", "email", "email_verified_at"})


def _renew_users(user_ids: set[int], *, created: bool, fields: frozenset[str] | None) -> None:
    """`fields`: what was written (None: every field)."""
    if fields is not None and fields <= {"last_login"}:
        return
    scopes = list(map(user_scope, user_ids))
    if not created and not (fields is not None and fields <= _ACCOUNT_ONLY_FIELDS):
        scopes.append(OFFERS)  # a teacher activated, renamed or deactivated
    if not created and (fields is None or "email_verified_at" in fields):
        # A student's confirmed email lets the registrars of the classes transcribe.
        for user_id in user_ids:
            scopes.extend(map(college_scope, _colleges_of(user_id=user_id)))
    content_changed(scopes)


# The models the cached pages show. (History rows, EnrollmentStatusChange and FeeChange,
# are only written together with their enrollment or fee, which renews the same pages.
# The rows of a school's class list, SisClass, SisStudent and SisEnrollment, are written
# before their SisImport becomes current and never changed after, and a roster shows
# only a current import's: SisImport's writes renew the rosters they show on.)
WATCHED = (
    Enrollment,
    Fee,
    IdentityChange,
    StudentProfile,
    Section,
    ConsortiumPolicy,
    User,
    SisImport,
    SisClassMapping,
)


def _values(queryset, rows, values: dict, *names: str) -> list[set]:
    """For each field name, the values the written rows had (read from `rows`, or with one
    query from `queryset`), plus the value the write sets, if it sets that field."""
    found = [set() for _name in names]
    if rows is not None:
        records = [tuple(getattr(row, name) for name in names) for row in rows]
    else:
        records = queryset.order_by().values_list(*names).distinct()
    for record in records:
        for seen, value in zip(found, record, strict=True):
            seen.add(value)
    for seen, name in zip(found, names, strict=True):
        new = values.get(name, values.get(name.removesuffix("_id")))
        if new is not None:
            seen.add(getattr(new, "pk", new))
    for seen in found:
        seen.discard(None)
    return found


def _renew(sender, *, queryset, rows, values: dict, created: bool, fields) -> None:
    """Renew what these rows of a watched model touch: `rows` (or `queryset`) as they
    were before the write, `values` what it sets, `fields` the fields written (None:
    every field)."""
    if sender is Enrollment:
        _renew_enrollments(*_values(queryset, rows, values, "student_id", "section_id"))
    elif sender in (Fee, IdentityChange):
        _renew_student_records(*_values(queryset, rows, values, "student_id"))
    elif sender is StudentProfile:
        _renew_profiles(*_values(queryset, rows, values, "pk"))
    elif sender is Section:
        _renew_sections(*_values(queryset, rows, values, "pk"))
    elif sender is ConsortiumPolicy:
        _renew_offers()
    elif sender is User:
        _renew_users(*_values(queryset, rows, values, "pk"), created=created, fields=fields)
    elif sender is SisImport:
        _renew_school_lists(*_values(queryset, rows, values, "high_school_id"))
    elif sender is SisClassMapping:
        _renew_mapped_sections(*_values(queryset, rows, values, "section_id"))


def _saved(sender, instance, created=False, update_fields=None, **kwargs) -> None:
    """post_save and post_delete of a watched model."""
    fields = None if update_fields is None else frozenset(update_fields)
    _renew(sender, queryset=None, rows=[instance], values={}, created=created, fields=fields)


def _bulk_written(sender, queryset, rows, values, **kwargs) -> None:
    """sers.bulk.rows_written: before an update (the rows still have their old values) or
    after an insert."""
    created = queryset is None
    fields = None if created else frozenset(values)
    _renew(sender, queryset=queryset, rows=rows, values=values, created=created, fields=fields)


def connect_signals() -> None:
    """Called from EnrollmentConfig.ready()."""
    bulk.watch(*WATCHED)
    for model in WATCHED:
        uid = f"sers.pagecache.{model._meta.label_lower}"
        post_save.connect(_saved, sender=model, dispatch_uid=uid + ".save")
        post_delete.connect(_saved, sender=model, dispatch_uid=uid + ".delete")
        bulk.rows_written.connect(_bulk_written, sender=model, dispatch_uid=uid + ".bulk")
