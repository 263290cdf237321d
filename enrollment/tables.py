"""Tables of the staff lists (django-tables2). Rows come with what they show already
loaded (see selectors), so a page costs the same number of queries at any size."""

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from enrollment.selectors.registrar import transcription_blockers
from sers.formatting import display_date, money

from .models import Enrollment, EnrollmentStatus, Fee
from .rules import transcription_undo_until

S = EnrollmentStatus
TABLE_TEMPLATE = "articulations/table.html"  # caption, aria-sort and a translated pager
PLACEHOLDER_ID = 987654321  # stands in for an id in a URL reversed once per table

STATUS_BADGES = {
    S.REGISTERED: "text-bg-secondary",
    S.CONFIRMED: "text-bg-primary",
    S.GRADED: "text-bg-info",
    S.ATTAINED: "text-bg-success",
    S.NOT_ATTAINED: "text-bg-warning",
    S.TRANSCRIBED: "text-bg-dark",
    S.WITHDRAWN: "text-bg-light border",
    S.REMOVED: "text-bg-light border",
}
FEE_BADGES = {
    Fee.Status.PAID: "text-bg-success",
    Fee.Status.WAIVED: "text-bg-success",
    Fee.Status.UNPAID: "text-bg-warning",
}


def status_badge(enrollment: Enrollment):
    return format_html(
        '<span class="badge {}">{}</span>',
        STATUS_BADGES.get(enrollment.status, "text-bg-secondary"),
        enrollment.get_status_display(),
    )


class _UrlPattern:
    """reverse() once per table; rows swap in their id."""

    def __init__(self, name: str):
        self.url = reverse(name, args=[PLACEHOLDER_ID])

    def __call__(self, pk: int) -> str:
        return self.url.replace(str(PLACEHOLDER_ID), str(pk))


class _StudentColumnMixin:
    def render_student(self, record):
        student = record.student
        return format_html(
            '<a href="{}">{}</a><br><span class="small text-body-secondary">SERS {}</span>',
            self.enrollment_url(record.pk),
            student.legal_name,
            student.sers_id,
        )

    def render_course(self, record):
        section = record.section
        courses = format_html_join(
            ", ", "{}", ((c.code,) for c in section.articulation.college_courses.all())
        )
        return format_html(
            "{}<br><span class='small text-body-secondary'>{} · {} {}</span>",
            section.articulation.high_school_course.title,
            courses,
            section.academic_year.code,
            section.get_term_display(),
        )


class WaitingTable(_StudentColumnMixin, tables.Table):
    """Enrollments of the registrar's college not ready to transcribe, and why."""

    student = tables.Column(
        verbose_name=_("Student"),
        empty_values=(),
        order_by=("student__legal_last_name", "student__legal_first_name"),
    )
    course = tables.Column(verbose_name=_("Course"), empty_values=(), orderable=False)
    school = tables.Column(
        verbose_name=_("High school"),
        accessor="section__high_school__name",
        order_by=("section__high_school__name",),
    )
    status = tables.Column(verbose_name=_("Status"), order_by=("status",))
    blockers = tables.Column(verbose_name=_("Waiting for"), empty_values=(), orderable=False)

    class Meta:
        template_name = TABLE_TEMPLATE
        attrs = {"class": "table table-sm align-top"}
        order_by = "student"
        empty_text = _("Nothing is waiting.")

    caption = _("Enrollments not ready to transcribe")
    htmx_target = "queue-results"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.enrollment_url = _UrlPattern("enrollment:staff_enrollment")

    def render_status(self, record):
        return status_badge(record)

    def render_blockers(self, record):
        return format_html(
            '<ul class="list-unstyled mb-0">{}</ul>',
            format_html_join("", "<li>{}</li>", ((b,) for b in transcription_blockers(record))),
        )


class TranscribedTable(_StudentColumnMixin, tables.Table):
    student = tables.Column(
        verbose_name=_("Student"),
        empty_values=(),
        order_by=("student__legal_last_name", "student__legal_first_name"),
    )
    course = tables.Column(verbose_name=_("Course"), empty_values=(), orderable=False)
    college_student_id = tables.Column(verbose_name=_("College student ID"))
    transcribed_on = tables.DateColumn(verbose_name=_("Posted on"), short=True)
    undo = tables.Column(verbose_name=_("Undo"), empty_values=(), orderable=False)

    class Meta:
        template_name = TABLE_TEMPLATE
        attrs = {"class": "table table-sm align-top"}
        order_by = "-transcribed_on"
        empty_text = _("Nothing transcribed yet.")

    caption = _("Transcribed credits")
    htmx_target = "queue-results"

    def __init__(self, *args, today, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        self.enrollment_url = _UrlPattern("enrollment:staff_enrollment")
        self.undo_url = _UrlPattern("enrollment:registrar_undo")

    def render_undo(self, record):
        until = transcription_undo_until(record)
        if self.today > until:
            return format_html('<span class="small text-body-secondary">{}</span>', _("Final"))
        return format_html(
            '<a href="{}" aria-label="{} {}">{}</a>',
            self.undo_url(record.pk),
            _("Undo the transcription of"),
            record.student.legal_name,
            _("Undo"),
        )


class FeeTable(tables.Table):
    student = tables.Column(
        verbose_name=_("Student"),
        empty_values=(),
        order_by=("student__legal_last_name", "student__legal_first_name"),
    )
    school = tables.Column(
        verbose_name=_("High school"),
        accessor="student__high_school__name",
        order_by=("student__high_school__name", "student__legal_last_name"),
    )
    year = tables.Column(
        verbose_name=_("School year"),
        accessor="academic_year__code",
        order_by=("-academic_year__start_date",),
    )
    amount = tables.Column(verbose_name=_("Amount"))
    status = tables.Column(verbose_name=_("Status"), order_by=("status",))
    details = tables.Column(verbose_name=_("Details"), empty_values=(), orderable=False)

    class Meta:
        template_name = TABLE_TEMPLATE
        attrs = {"class": "table table-sm align-top"}
        order_by = "school"
        empty_text = _("No fees match these filters.")

    caption = _("Fees")
    htmx_target = "fee-results"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fee_url = _UrlPattern("enrollment:fee_detail")

    def render_student(self, record):
        return format_html(
            '<a href="{}">{}</a><br><span class="small text-body-secondary">SERS {}</span>',
            self.fee_url(record.pk),
            record.student.legal_name,
            record.student.sers_id,
        )

    def render_amount(self, value):
        return money(value)

    def render_status(self, record):
        label = record.get_status_display()
        if record.status == Fee.Status.UNPAID and record.amount == 0:
            return format_html('<span class="badge text-bg-success">{}</span>', _("No fee"))
        return format_html(
            '<span class="badge {}">{}</span>', FEE_BADGES.get(record.status, ""), label
        )

    def render_details(self, record):
        if record.status == Fee.Status.PAID:
            return format_html(
                "{} · {} · {}",
                money(record.paid_amount),
                display_date(record.paid_on),
                record.receipt_number,
            )
        if record.status == Fee.Status.WAIVED:
            return record.waiver_reason
        return "—"


def match_reasons_html(pair) -> str:
    """Why a pair was flagged, in words (and what speaks against it), for staff."""
    reasons_for = pair.reasons_for or [pair.get_match_kind_display()]
    html = format_html(
        '<ul class="sers-reasons mb-0 ps-3">{}</ul>',
        format_html_join("", "<li>{}</li>", ((reason,) for reason in reasons_for)),
    )
    if pair.reasons_against:
        html += format_html(
            '<p class="small text-body-secondary mb-0">{} {}</p>',
            _("Against:"),
            "; ".join(pair.reasons_against),
        )
    return html


class DuplicateTable(tables.Table):
    pair = tables.Column(verbose_name=_("Students"), empty_values=(), orderable=False)
    match_kind = tables.Column(verbose_name=_("Why"), orderable=False)
    score = tables.Column(verbose_name=_("Weight"), orderable=False)
    source = tables.Column(verbose_name=_("Found by"), orderable=False)
    created_at = tables.DateColumn(verbose_name=_("Found on"), short=True, orderable=False)
    review = tables.Column(verbose_name=_("Review"), empty_values=(), orderable=False)

    class Meta:
        template_name = TABLE_TEMPLATE
        attrs = {"class": "table table-sm align-top"}
        empty_text = _("No likely duplicates to review.")

    caption = _("Likely duplicate students")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.review_url = _UrlPattern("enrollment:duplicate_review")

    def render_pair(self, record):
        rows = [
            (
                s.legal_name,
                s.sers_id,
                s.birth_date.isoformat(),
                s.high_school.name,
            )
            for s in (record.student, record.existing_student)
        ]
        return format_html(
            '<ul class="list-unstyled mb-0">{}</ul>',
            format_html_join("", "<li>{} · SERS {} · {} · {}</li>", rows),
        )

    def render_match_kind(self, record):
        return match_reasons_html(record)

    def render_score(self, record):
        return record.weight

    def render_review(self, record):
        return format_html(
            '<a href="{}" aria-label="{} {}">{}</a>',
            self.review_url(record.pk),
            _("Review"),
            record.student.sers_id,
            _("Review"),
        )
