"""Result tables. Rows come with their schools and courses prefetched (see selectors)."""

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from organisations.clusters import cluster_name

from .models import Articulation

PLACEHOLDER_ID = 987654321  # stands in for a school id in a URL built once per table

STATUS_BADGES = {
    Articulation.Status.DRAFT: "text-bg-secondary",
    Articulation.Status.SUBMITTED: "text-bg-warning",
    Articulation.Status.APPROVED: "text-bg-info",
    Articulation.Status.ACTIVE: "text-bg-success",
    Articulation.Status.EXPIRED: "text-bg-light border",
    Articulation.Status.RETIRED: "text-bg-dark",
}


def status_badge(articulation: Articulation) -> str:
    return format_html(
        '<span class="badge {}">{}</span>',
        STATUS_BADGES.get(articulation.status, "text-bg-secondary"),
        articulation.get_status_display(),
    )


def college_course_list(articulation: Articulation):
    return format_html(
        '<ul class="list-unstyled mb-0">{}</ul>',
        format_html_join(
            "",
            "<li><span class='text-nowrap'>{}</span> {}</li>",
            ((course.code, course.title) for course in articulation.college_courses.all()),
        ),
    )


class ArticulationSearchTable(tables.Table):
    """Public results: both sides of each agreement at a glance."""

    course = tables.Column(
        verbose_name=_("High-school course"),
        accessor="high_school_course__title",
        order_by=("high_school_course__title", "agreement_number"),
    )
    schools = tables.Column(verbose_name=_("Schools"), empty_values=(), orderable=False)
    college_courses = tables.Column(
        verbose_name=_("College course(s)"), empty_values=(), orderable=False
    )
    credits = tables.Column(verbose_name=_("Credits"), accessor="credits")
    minimum = tables.Column(verbose_name=_("Minimum grade"), empty_values=(), orderable=False)
    cluster = tables.Column(
        verbose_name=_("Career cluster"), accessor="cluster__name", order_by=("cluster__name",)
    )
    college = tables.Column(
        verbose_name=_("College"), accessor="college__name", order_by=("college__name",)
    )

    class Meta:
        template_name = "articulations/table.html"
        attrs = {"class": "table table-sm align-top"}
        order_by = "course"
        empty_text = _("No active agreements match these filters.")
        per_page = 25

    caption = _("Dual-credit classes")
    htmx_target = "search-results"  # sort and page links reload only the results

    def __init__(self, *args, year=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.year = year
        # One reverse() per page rather than per school link: a row lists about ten schools.
        self.catalog_url = reverse("articulations:catalog", args=[PLACEHOLDER_ID])
        self.catalog_query = f"?year={year.code}" if year else ""

    def render_course(self, record: Articulation):
        url = reverse("articulations:detail", args=[record.pk])
        return format_html(
            '<a href="{}">{}</a><br><span class="small text-body-secondary">{} {}</span>',
            url,
            record.high_school_course.title,
            _("CIP"),
            record.high_school_course.cip_code,
        )

    def render_schools(self, record: Articulation):
        placeholder = str(PLACEHOLDER_ID)
        return format_html(
            '<ul class="list-unstyled mb-0">{}</ul>',
            format_html_join(
                "",
                '<li><a href="{}{}">{}</a></li>',
                (
                    (
                        self.catalog_url.replace(placeholder, str(school.pk)),
                        self.catalog_query,
                        school.name,
                    )
                    for school in record.high_schools.all()
                ),
            ),
        )

    def render_college_courses(self, record: Articulation):
        return college_course_list(record)

    def render_cluster(self, value: str):
        return cluster_name(value)

    def render_minimum(self, record: Articulation):
        return record.minimum_grade_display


class ArticulationWorkTable(tables.Table):
    """Staff list: every version in scope, with its status."""

    agreement = tables.Column(
        verbose_name=_("Agreement"),
        accessor="agreement_number",
        order_by=("agreement_number", "-version"),
    )
    course = tables.Column(
        verbose_name=_("High-school course"),
        accessor="high_school_course__title",
        order_by=("high_school_course__title",),
    )
    college = tables.Column(
        verbose_name=_("College"), accessor="college__name", order_by=("college__name",)
    )
    cluster = tables.Column(
        verbose_name=_("Career cluster"), accessor="cluster__name", order_by=("cluster__name",)
    )
    status = tables.Column(verbose_name=_("Status"), order_by=("status",))
    updated_at = tables.DateColumn(verbose_name=_("Last change"), short=True)

    class Meta:
        template_name = "articulations/table.html"
        attrs = {"class": "table table-sm align-top"}
        order_by = "agreement"
        empty_text = _("No agreements match these filters.")
        per_page = 50

    caption = _("Agreements")
    htmx_target = "manage-results"

    def render_agreement(self, record: Articulation):
        return format_html(
            '<a href="{}">{} v{}</a>',
            reverse("articulations:manage_detail", args=[record.pk]),
            record.agreement_number,
            record.version,
        )

    def render_cluster(self, value: str):
        return cluster_name(value)

    def render_status(self, record: Articulation):
        return status_badge(record)
