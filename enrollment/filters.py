"""Filters of the staff lists. Every filter is a GET parameter, so a filtered list is a
shareable URL (and htmx pushes it to the address bar)."""

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from articulations.models import CollegeCourse
from enrollment.selectors.staff_records import accent_insensitive_pattern
from organisations.models import AcademicYear, HighSchool

from .models import Enrollment, Fee, Section


def _name_or_sers_id(queryset: QuerySet, prefix: str, value: str) -> QuerySet:
    value = value.strip()
    if not value:
        return queryset
    if value.isdigit():
        return queryset.filter(**{f"{prefix}sers_id": value})
    for word in value.split():
        pattern = accent_insensitive_pattern(word)
        queryset = queryset.filter(
            Q(**{f"{prefix}legal_first_name__iregex": pattern})
            | Q(**{f"{prefix}legal_last_name__iregex": pattern})
        )
    return queryset


class RegistrarQueueFilter(django_filters.FilterSet):
    """The registrar's queue: school year, term, high school, college course, student."""

    q = django_filters.CharFilter(
        label=_("Student name or SERS ID"),
        method="filter_student",
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    year = django_filters.ModelChoiceFilter(
        label=_("School year"),
        field_name="section__academic_year",
        queryset=AcademicYear.objects.order_by("-start_date"),
        to_field_name="code",
        empty_label=_("Any year"),
    )
    term = django_filters.ChoiceFilter(
        label=_("Term"),
        field_name="section__term",
        choices=Section.Term.choices,
        empty_label=_("Any term"),
    )
    high_school = django_filters.ModelChoiceFilter(
        label=_("High school"),
        field_name="section__high_school",
        queryset=HighSchool.objects.none(),
        empty_label=_("Any school"),
    )
    course = django_filters.ModelChoiceFilter(
        label=_("College course"),
        field_name="section__articulation__college_courses",
        queryset=CollegeCourse.objects.none(),
        empty_label=_("Any course"),
    )

    class Meta:
        model = Enrollment
        fields = ["q", "year", "term", "high_school", "course"]

    def __init__(self, *args, college_ids, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["high_school"].queryset = (
            HighSchool.objects.filter(sections__articulation__college_id__in=college_ids)
            .distinct()
            .order_by("name")
        )
        self.filters["course"].queryset = CollegeCourse.objects.filter(
            college_id__in=college_ids
        ).order_by("prefix", "number")

    def filter_student(self, queryset, name, value):
        return _name_or_sers_id(queryset, "student__", value)


class FeeFilter(django_filters.FilterSet):
    """The consortium's fees of a school year, by school and status (unpaid first)."""

    q = django_filters.CharFilter(
        label=_("Student name or SERS ID"),
        method="filter_student",
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    year = django_filters.ModelChoiceFilter(
        label=_("School year"),
        field_name="academic_year",
        queryset=AcademicYear.objects.order_by("-start_date"),
        to_field_name="code",
        empty_label=_("Any year"),
    )
    high_school = django_filters.ModelChoiceFilter(
        label=_("High school"),
        field_name="student__high_school",
        queryset=HighSchool.objects.none(),
        empty_label=_("Any school"),
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"),
        method="filter_status",
        choices=Fee.Status.choices,
        empty_label=_("Any status"),
    )

    class Meta:
        model = Fee
        fields = ["q", "year", "high_school", "status"]

    def __init__(self, *args, consortium_ids, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["high_school"].queryset = HighSchool.objects.filter(
            district__consortium_id__in=consortium_ids
        ).order_by("name")

    def filter_student(self, queryset, name, value):
        return _name_or_sers_id(queryset, "student__", value)

    def filter_status(self, queryset, name, value):
        if value == Fee.Status.UNPAID:
            # A $0 fee is settled: it is not owed.
            return queryset.filter(status=value, amount__gt=0)
        return queryset.filter(status=value) if value else queryset
