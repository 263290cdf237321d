"""What every enrollment page shares: the signed-in student, the capability check
(403), the access-log entry of a page, htmx fragments, form errors, paging and
applying an upload."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accesslog.services import access_log_record
from accounts.permissions import Access, Capability, access_for
from enrollment.selectors import student
from organisations.models import AcademicYear
from organisations.selectors import academic_year_current
from sers.templatetags.sers_ui import SummaryItem, field_item

from ..models import (
    StudentProfile,
)


def request_student(request) -> StudentProfile:
    """The signed-in student's profile; 403 for anyone without one."""
    access = access_for(request.user)
    access.require(Capability.MANAGE_OWN_REGISTRATIONS)
    return student.student_own_profile(access=access)


def request_student_id(request) -> int:
    """The signed-in student's profile id, without loading the profile (a page served
    from the cache needs only the id); 403 for anyone without one."""
    access = access_for(request.user)
    access.require(Capability.MANAGE_OWN_REGISTRATIONS)
    return access.student_id


# =============================================================================================
# Staff pages: teachers (/teacher/), student lookup and help desk (/staff/), consortium
# admins (/consortium/) and college registrars (/registrar/).
#
# Each view: check the capability (403), load the object inside the user's scope (404),
# call one service, then redirect with a message or show the page with what went wrong.
# Every page that shows students' records logs the access (FERPA).
# =============================================================================================


def require_capability(request, capability) -> Access:
    access = access_for(request.user)
    access.require(capability)
    return access


def log_view(request, *, what: str, student_ids, role: str, action: str = "view") -> None:
    ids = list(student_ids)
    if ids:
        access_log_record(
            actor=request.user,
            action=action,
            what=what,
            student_ids=ids,
            role=role,
            request=request,
        )


def is_fragment(request) -> bool:
    """An HTMX request from the page itself (a history restore needs the whole page)."""
    return bool(request.htmx) and not request.htmx.history_restore_request


def error_text(error: ValidationError) -> str:
    return " ".join(error.messages)


def add_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error)


def year_from(request) -> AcademicYear | None:
    code = request.GET.get("year", "")
    if code:
        year = AcademicYear.objects.filter(code=code).first()
        if year is not None:
            return year
    return academic_year_current()


def paginate(request, items, per_page: int = 50, *, params=None):
    """A page of `items`, by the `page` of the query (the request's, or `params`)."""
    return Paginator(items, per_page).get_page(
        (request.GET if params is None else params).get("page")
    )


def upload_apply(request, form, run_import, applied_message):
    """Run an all-or-nothing file import from a valid upload form and report the outcome.

    `run_import(cleaned_data)` returns an import result; `applied_message(count)` words the
    success. Returns (result, status): 400 when the form, the file or any line is refused.
    """
    if request.method != "POST":
        return None, 200
    if not form.is_valid():
        return None, 400
    try:
        result = run_import(form.cleaned_data)
    except ValidationError as error:
        form.add_error("file", error)
        return None, 400
    if not result.ok:
        messages.error(request, _("Nothing was changed: fix the lines listed below."))
        return result, 400
    message = applied_message(result.applied)
    if result.skipped:
        # Said at the top too: a file of lines already done would otherwise read "0 ...".
        message += " " + ngettext(
            "%(count)s line was already done and is left as it was (listed below).",
            "%(count)s lines were already done and are left as they were (listed below).",
            len(result.skipped),
        ) % {"count": len(result.skipped)}
    messages.success(request, message)
    return result, 200


def row_summary_item(student, message: str, target: str) -> SummaryItem:
    """An error summary item about one student's row of a table, named as the row's box
    is labelled ("Last, First") and linked to it (`target`, empty: not linked)."""
    return SummaryItem(
        message, label=f"{student.legal_last_name}, {student.legal_first_name}", target=target
    )


def upload_summary(form, result, field: str = "file") -> list[SummaryItem]:
    """The error summary's item for a file whose lines were refused: how many lines need
    fixing (listed on the page), linked to the file's box to choose it again."""
    if result is None or result.ok:
        return []
    count = result.problem_lines
    return [
        field_item(
            form[field],
            ngettext(
                "%(count)s line needs fixing. Correct it (listed below), then upload the "
                "file again.",
                "%(count)s lines need fixing. Correct them (listed below), then upload the "
                "file again.",
                count,
            )
            % {"count": count},
        )
    ]
