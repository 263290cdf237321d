"""Pages of the student-record access log (FERPA): the review pages of consortium admins
and state staff (the log, one student's log, one staff member's actions) and a student's
"who has viewed my record". Read-only: the log has no edit or delete path.

Reviewing the log shows students' names, so each review page is itself logged as a view
of the students it shows ("access log review").
"""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import EmptyPage, PageNotAnInteger
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django_tables2.paginators import LazyPaginator

from accesslog.models import AccessLogEntry
from accesslog.services import access_log_record
from accounts.models import Role, RoleMembership
from accounts.permissions import Access, access_for
from enrollment.models import StudentProfile

from .filters import AccessLogFilter
from .selectors import access as selectors
from .tables import AccessLogTable, RecordViewsTable

PER_PAGE = 50
MAX_PAGE = 100_000  # a larger page number is not a real page (and would overflow SQLite)
REVIEW = selectors.REVIEW


def _reviewer(request) -> Access:
    access = access_for(request.user)
    if not selectors.may_review_access_log(access):
        raise PermissionDenied
    return access


def _role(access: Access) -> str:
    return Role.STATE_STAFF if access.is_state else Role.CONSORTIUM_ADMIN


def _paginate(request, table) -> None:
    """One page of a table without counting the whole log (it grows large)."""
    raw = request.GET.get("page", "1")
    number = int(raw) if raw.isdigit() and 0 < int(raw) <= MAX_PAGE else 1
    table.request = request
    try:
        table.paginate(paginator_class=LazyPaginator, per_page=PER_PAGE, page=number)
    except (EmptyPage, PageNotAnInteger):
        table.paginate(paginator_class=LazyPaginator, per_page=PER_PAGE, page=1)


def _review_page(request, access: Access, entries, *, hide=(), exclude=()):
    """Filter, decorate and paginate entries; returns the filter, table and students shown."""
    filterset = AccessLogFilter(request.GET, queryset=entries, access=access, hide=hide)
    table = AccessLogTable(
        selectors.entries_for_display(filterset.qs, access=access), access=access, exclude=exclude
    )
    _paginate(request, table)
    shown = {link.student_id for row in table.paginated_rows for link in row.record.shown_links}
    return filterset, table, shown


def _log_review(request, access: Access, *, what: str, student_ids) -> None:
    ids = set(student_ids)
    if ids:
        access_log_record(
            actor=request.user,
            action=AccessLogEntry.Action.VIEW,
            what=what,
            student_ids=ids,
            role=_role(access),
            request=request,
        )


@login_required
@require_GET
def access_log(request):
    """Every entry the user may review, newest first, with filters."""
    access = _reviewer(request)
    filterset, table, shown = _review_page(
        request, access, selectors.access_log_entries(access=access)
    )
    _log_review(request, access, what=REVIEW, student_ids=shown)
    return render(
        request,
        "reports/access_log/list.html",
        {"filter": filterset, "table": table, "is_state": access.is_state},
    )


@login_required
@require_GET
def access_log_student(request, pk: int):
    """Who saw, exported or changed one student's record."""
    access = _reviewer(request)
    student = selectors.access_log_student(access=access, student_id=pk)
    filterset, table, shown = _review_page(
        request,
        access,
        selectors.entries_about_student(access=access, student=student),
        hide=("student",),
    )
    _log_review(request, access, what=f"{REVIEW}: student", student_ids={student.pk, *shown})
    return render(
        request,
        "reports/access_log/student.html",
        {"filter": filterset, "table": table, "student": student},
    )


@login_required
@require_GET
def access_log_staff(request, user_id: int):
    """What one staff member looked at, exported or changed (students in the user's scope)."""
    access = _reviewer(request)
    member = selectors.access_log_staff_member(access=access, user_id=user_id)
    memberships = RoleMembership.objects.filter(user=member).select_related(
        "consortium", "college", "district", "high_school"
    )
    filterset, table, shown = _review_page(
        request,
        access,
        selectors.entries_by_staff_member(access=access, user=member),
        hide=("staff",),
        exclude=("actor",),
    )
    _log_review(request, access, what=f"{REVIEW}: staff member {member.pk}", student_ids=shown)
    return render(
        request,
        "reports/access_log/staff.html",
        {"filter": filterset, "table": table, "member": member, "memberships": memberships},
    )


@login_required
@require_GET
def record_views(request):
    """A student's own page: who has viewed, exported or changed their record."""
    access = access_for(request.user)
    if not selectors.may_see_own_record_views(access):
        raise PermissionDenied
    student = StudentProfile.objects.only("pk", "user_id").get(pk=access.student_id)
    table = RecordViewsTable(selectors.student_record_views(student=student))
    _paginate(request, table)
    return render(request, "reports/access_log/record_views.html", {"table": table})
