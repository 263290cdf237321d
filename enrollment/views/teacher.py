"""Teachers' pages (/teacher/): their classes, asking to teach a class, the roster,
grades, completing a class and the grade upload."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.permissions import Capability, get_in_scope
from enrollment import importers, pagecache, rules
from enrollment.selectors import oneroster, teaching, visible
from organisations.models import AcademicYear, HighSchool
from organisations.selectors import academic_year_current
from sers.templatetags.sers_ui import EXTRA, SummaryItem

from ..forms import (
    CsvUploadForm,
    RemovalForm,
    SectionRequestForm,
)
from ..models import (
    Enrollment,
    EnrollmentStatus,
    SectionRequest,
)
from ..services import (
    class_requests,
    grading,
    rosters,
)
from .common import (
    add_errors,
    error_text,
    is_fragment,
    log_view,
    require_capability,
    row_summary_item,
    upload_apply,
    upload_summary,
    year_from,
)

# --- teachers -----------------------------------------------------------------------------------


@login_required
@require_GET
def teacher_classes(request):
    access = require_capability(request, Capability.MANAGE_ROSTER)
    year = year_from(request)
    classes = teaching.teacher_classes(access=access, year=year)
    return render(
        request,
        "enrollment/staff/teacher_classes.html",
        {
            "year": year,
            "years": AcademicYear.objects.order_by("-start_date"),
            "classes": classes,
            "requests": teaching.teacher_section_requests(access=access),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def teacher_class_request(request):
    access = require_capability(request, Capability.MANAGE_ROSTER)
    year = academic_year_current()
    years = (
        AcademicYear.objects.filter(start_date__gte=year.start_date)
        if year
        else AcademicYear.objects.none()
    ).order_by("start_date")
    form = SectionRequestForm(
        request.POST or None,
        initial={"academic_year": year.pk if year else None},
        articulations=teaching.requestable_articulations(access=access, year=year),
        schools=HighSchool.objects.filter(pk__in=access.teacher_high_school_ids).order_by("name"),
        years=years,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            class_requests.section_request_create(
                actor=request.user,
                articulation_id=data["articulation"].pk,
                high_school_id=data["high_school"].pk,
                academic_year_id=data["academic_year"].pk,
                term=data["term"],
                section_code=data["section_code"],
                note=data["note"],
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(
                request, _("Your request is sent. The consortium will approve or decline it.")
            )
            return redirect("enrollment:teacher_classes")
    return render(request, "enrollment/staff/teacher_class_request.html", {"form": form})


@login_required
@require_POST
def teacher_class_request_cancel(request, pk: int):
    require_capability(request, Capability.MANAGE_ROSTER)
    get_in_scope(SectionRequest.objects.all(), Q(teacher=request.user), pk=pk)
    try:
        class_requests.section_request_cancel(actor=request.user, request_id=pk)
    except ValidationError as error:
        messages.error(request, error_text(error))
    else:
        messages.success(request, _("Your request is cancelled."))
    return redirect("enrollment:teacher_classes")


def _teacher_section(request, pk: int):
    access = require_capability(request, Capability.MANAGE_ROSTER)
    return access, teaching.teacher_section(access=access, section_id=pk)


@login_required
@require_GET
def teacher_roster(request, pk: int):
    access = require_capability(request, Capability.MANAGE_ROSTER)
    # Served from the cache the page needs only to know the class is the teacher's; the
    # class with its course, school and year is loaded when the content is built.
    section_id = teaching.teacher_section_id(access=access, section_id=pk)
    content, extra = pagecache.roster_page(
        request,
        section_id=section_id,
        build=lambda: _roster_content(
            request, teaching.teacher_section(access=access, section_id=section_id)
        ),
    )
    log_view(request, what="class roster", student_ids=extra["student_ids"], role="teacher")
    return render(request, "enrollment/staff/roster.html", {"content": content})


def _roster_content(request, section) -> tuple[str, dict]:
    roster = teaching.section_roster(section=section)
    html = pagecache.render_content(
        request,
        "enrollment/staff/partials/roster_content.html",
        {
            "section": section,
            "roster": roster,
            "waiting": sum(1 for e in roster if e.status == EnrollmentStatus.REGISTERED),
            "closed": section.completed_at is not None,
            # The school's own class list (its SIS), when the class is matched to it.
            "school_list": oneroster.section_school_list(section=section, roster=roster),
        },
    )
    return html, {"student_ids": [e.student_id for e in roster]}


@login_required
@require_POST
def teacher_roster_confirm(request, pk: int):
    _access, section = _teacher_section(request, pk)
    if request.POST.get("all"):
        ids = None
    else:
        try:
            ids = [int(value) for value in request.POST.getlist("enrollment")]
        except ValueError:
            ids = []
    try:
        count = rosters.roster_confirm(
            actor=request.user, section_id=section.pk, enrollment_ids=ids
        )
    except ValidationError as error:
        messages.error(request, error_text(error))
    else:
        messages.success(
            request,
            ngettext("%(count)s student confirmed.", "%(count)s students confirmed.", count)
            % {"count": count},
        )
    return redirect("enrollment:teacher_roster", pk=section.pk)


@login_required
@require_http_methods(["GET", "POST"])
def teacher_remove(request, pk: int):
    access = require_capability(request, Capability.MANAGE_ROSTER)
    enrollment = teaching.teacher_enrollment(access=access, enrollment_id=pk)
    form = RemovalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            rosters.roster_remove(
                actor=request.user,
                enrollment_id=enrollment.pk,
                reason_code=form.cleaned_data["reason"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(
                request,
                _("%(name)s is removed from the class.") % {"name": enrollment.student.legal_name},
            )
            return redirect("enrollment:teacher_roster", pk=enrollment.section_id)
    return render(request, "enrollment/staff/remove.html", {"enrollment": enrollment, "form": form})


GRADES_SAVED_KEY = "enrollment_grades_saved"


def _posted_grades(request, roster) -> dict[int, str]:
    ids = {e.pk for e in roster}
    grades = {}
    for key, value in request.POST.items():
        if key.startswith("grade_"):
            try:
                enrollment_id = int(key.removeprefix("grade_"))
            except ValueError:
                continue
            if enrollment_id in ids:
                grades[enrollment_id] = value
    return grades


def _unsaved(result, enrollment) -> bool:
    """Whether a grade box holds something other than the enrollment's saved grade."""
    if result is None:
        return False
    return bool(result.error) or result.grade != enrollment.grade


def _grade_rows(section, roster, *, typed=None, results=None, saved=None) -> list[dict]:
    """One row per student for the grade page: what is shown in the box and beside it."""
    typed, results, saved = typed or {}, results or {}, saved or {}
    rows = []
    for enrollment in roster:
        if not enrollment.is_active:
            continue
        value = typed.get(enrollment.pk, enrollment.grade)
        result = results.get(enrollment.pk)
        if result is None and value:
            result = grading.grade_check(articulation=section.articulation, raw=value)
        rows.append(
            {
                "enrollment": enrollment,
                "value": value,
                "result": result,
                # Typed but not saved: shown without the saved result's badge.
                "pending": _unsaved(result, enrollment),
                "editable": enrollment.status in rules.GRADABLE_STATUSES,
                "saved": saved.get(str(enrollment.pk), ""),
            }
        )
    return rows


def _refused_rows_summary(roster, refused: dict) -> list[SummaryItem]:
    """The error summary of a refused save: one item per refused row, in the page's order,
    named as the row's box is labelled and linked to it (grade_row.html)."""
    items = []
    shown = set()
    for enrollment in roster:
        row = refused.get(enrollment.pk)
        if row is None or not row.error:
            continue
        shown.add(enrollment.pk)
        target = f"grade-{enrollment.pk}" if enrollment.is_active else ""
        items.append(row_summary_item(enrollment.student, row.error, target))
    # A row the page does not show (the student left the class meanwhile): said, unlinked.
    items += [
        SummaryItem(row.error) for pk, row in refused.items() if row.error and pk not in shown
    ]
    return items


def _grades_context(request, section, roster, **rows) -> dict:
    closed = rules.grading_closed_reason(section)
    return {
        "section": section,
        "rows": _grade_rows(section, roster, **rows),
        "closed": closed,
        "deadline": rules.grading_deadline(section),
        "may_complete": section.completed_at is None,
    }


def _teacher_grades_page(request, pk: int):
    """The grade page as it opens: from the page cache (enrollment/pagecache.py) unless it
    shows which rows a save just changed."""
    access = require_capability(request, Capability.MANAGE_ROSTER)
    saved = request.session.pop(GRADES_SAVED_KEY, None) or {}

    def build() -> tuple[str, dict]:
        section = teaching.teacher_section(access=access, section_id=section_id)
        roster = teaching.section_roster(section=section)
        context = _grades_context(request, section, roster, saved=saved)
        html = pagecache.render_content(
            request, "enrollment/staff/partials/grades_content.html", context
        )
        return html, {"student_ids": [e.student_id for e in roster]}

    section_id = teaching.teacher_section_id(access=access, section_id=pk)
    if saved:
        content, extra = build()
        content = pagecache.fill_placeholders(request, content)
    else:
        content, extra = pagecache.grade_page(request, section_id=section_id, build=build)
    log_view(request, what="grade entry", student_ids=extra["student_ids"], role="teacher")
    return render(request, "enrollment/staff/grades.html", {"content": content})


@login_required
@require_http_methods(["GET", "POST"])
def teacher_grades(request, pk: int):
    """The whole roster's grades on one page: a plain form post saves every row (or, with a
    row's own button, that row) in one transaction; htmx saves rows one by one."""
    if request.method == "GET":
        return _teacher_grades_page(request, pk)
    _access, section = _teacher_section(request, pk)
    roster = teaching.section_roster(section=section)
    typed = _posted_grades(request, roster)
    only = request.POST.get("save_row", "")
    # A row's own button (no JavaScript) saves that row; the main button, and Enter in any
    # box (the form's hidden default button), save them all.
    only_id = int(only) if only.isdigit() else None
    typed_to_save = {only_id: typed.get(only_id, "")} if only_id is not None else typed
    try:
        rows = grading.grades_save(actor=request.user, section_id=section.pk, grades=typed_to_save)
    except grading.GradesRefused as refused:
        messages.error(request, refused.messages[0])
        context = _grades_context(request, section, roster, typed=typed, results=refused.rows)
        context[EXTRA] = _refused_rows_summary(roster, refused.rows)
        return render(request, "enrollment/staff/grades.html", context, status=400)
    except ValidationError as error:
        messages.error(request, error_text(error))
        context = _grades_context(request, section, roster, typed=typed)
        return render(request, "enrollment/staff/grades.html", context, status=400)
    changed = [row for row in rows if row.changed]
    saved = {
        str(row.enrollment_id): (_("Saved: attained") if row.attained else _("Saved: not attained"))
        for row in changed
    }
    messages.success(
        request,
        ngettext("%(count)s grade saved.", "%(count)s grades saved.", len(changed))
        % {"count": len(changed)},
    )
    if only_id is not None:
        # One row saved: what was typed in the other rows stays on the page, unsaved.
        roster = teaching.section_roster(section=section)
        others = {
            pk: raw
            for pk, raw in typed.items()
            if pk != only_id
            and raw.strip()
            and _unsaved(
                grading.grade_check(articulation=section.articulation, raw=raw),
                next(e for e in roster if e.pk == pk),
            )
        }
        if others:
            messages.warning(
                request,
                ngettext(
                    "%(count)s other grade you typed is not saved yet: use “Save all grades”.",
                    "%(count)s other grades you typed are not saved yet: use “Save all grades”.",
                    len(others),
                )
                % {"count": len(others)},
            )
            context = _grades_context(request, section, roster, typed=others, saved=saved)
            return render(request, "enrollment/staff/grades.html", context)
    request.session[GRADES_SAVED_KEY] = saved
    return redirect("enrollment:teacher_grades", pk=section.pk)


@login_required
@require_GET
def teacher_grade_check(request, pk: int):
    """htmx: whether the grade being typed meets the minimum (nothing is saved)."""
    _access, section = _teacher_section(request, pk)
    if not is_fragment(request):
        return redirect("enrollment:teacher_grades", pk=section.pk)
    key, raw = next(((k, v) for k, v in request.GET.items() if k.startswith("grade_")), ("", ""))
    result = grading.grade_check(articulation=section.articulation, raw=raw) if raw else None
    # Only the grade already saved shows as a result; anything else is "not saved yet".
    enrollment_id = key.removeprefix("grade_")
    saved_grade = (
        Enrollment.objects.filter(section=section, pk=int(enrollment_id))
        .values_list("grade", flat=True)
        .first()
        if enrollment_id.isdigit()
        else None
    )
    pending = result is not None and (bool(result.error) or result.grade != saved_grade)
    return render(
        request,
        "enrollment/staff/partials/grade_result.html",
        {"result": result, "pending": pending},
    )


@login_required
@require_POST
def teacher_grade_row(request, pk: int, enrollment_pk: int):
    """htmx: save one row and answer with the row; without htmx, back to the page."""
    _access, section = _teacher_section(request, pk)
    enrollment = get_in_scope(
        Enrollment.objects.select_related("student"), Q(section=section), pk=enrollment_pk
    )
    raw = request.POST.get(f"grade_{enrollment.pk}", "")
    saved, status = "", 200
    try:
        rows = grading.grades_save(
            actor=request.user, section_id=section.pk, grades={enrollment.pk: raw}
        )
    except grading.GradesRefused as refused:
        results, status = refused.rows, 400
    except ValidationError as error:
        if not is_fragment(request):
            messages.error(request, error_text(error))
            return redirect("enrollment:teacher_grades", pk=section.pk)
        results, status = {}, 400
        saved = error_text(error)
    else:
        results = {row.enrollment_id: row for row in rows}
        row = results.get(enrollment.pk)
        if row is not None and row.changed:
            saved = _("Saved: attained") if row.attained else _("Saved: not attained")
        elif row is not None:
            saved = _("No change")
    if not is_fragment(request):
        if status == 200:
            messages.success(request, saved or _("No change"))
        else:
            messages.error(request, _("The grade was not saved: correct it and try again."))
        return redirect("enrollment:teacher_grades", pk=section.pk)
    enrollment.refresh_from_db()
    row = _grade_rows(
        section,
        [enrollment],
        # Saved: the box shows the grade as saved; refused: what was typed, to correct it.
        typed={} if status == 200 else {enrollment.pk: raw},
        results=results,
        saved={str(enrollment.pk): saved},
    )[0]
    return render(
        request,
        "enrollment/staff/partials/grade_row.html",
        {"row": row, "section": section, "closed": rules.grading_closed_reason(section)},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def teacher_complete(request, pk: int):
    _access, section = _teacher_section(request, pk)
    if request.method == "POST":
        try:
            counts = grading.section_complete(actor=request.user, section_id=section.pk)
        except ValidationError as error:
            messages.error(request, error_text(error))
        else:
            messages.success(
                request,
                _(
                    "The class is complete: %(attained)s attained college credit, "
                    "%(not_attained)s did not. Students get an email."
                )
                % counts,
            )
            return redirect("enrollment:teacher_roster", pk=section.pk)
    counts = visible.status_counts(Enrollment.objects.filter(section=section))
    return render(
        request,
        "enrollment/staff/complete.html",
        {
            "section": section,
            "counts": counts,
            "ungraded": counts[EnrollmentStatus.REGISTERED] + counts[EnrollmentStatus.CONFIRMED],
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def teacher_upload(request, pk: int):
    _access, section = _teacher_section(request, pk)
    form = CsvUploadForm(request.POST or None, request.FILES or None)
    result, status = upload_apply(
        request,
        form,
        lambda data: importers.roster_import(
            actor=request.user, section=section, upload=data["file"]
        ),
        lambda count: (
            ngettext(
                "The file is applied: %(count)s student updated.",
                "The file is applied: %(count)s students updated.",
                count,
            )
            % {"count": count}
        ),
    )
    return render(
        request,
        "enrollment/staff/upload.html",
        {
            "form": form,
            "result": result,
            "title": _("Upload a class list"),
            "back_url": reverse("enrollment:teacher_roster", args=[section.pk]),
            "back_label": _("Back to the roster"),
            "section": section,
            "kind": "roster",
            EXTRA: upload_summary(form, result),
        },
        status=status,
    )
