"""Search filters. Every filter is a GET parameter, so a search is a shareable URL."""

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from organisations.clusters import ClusterField
from organisations.models import AcademicYear, CareerCluster, College, District, HighSchool

from .forms import FastSelect
from .models import Articulation
from .selectors import offered_at_school_q, offered_in_district_q, text_search_q


class SchoolField(forms.ModelChoiceField):
    def label_from_instance(self, obj: HighSchool) -> str:
        if obj.is_skills_center:
            return _("%(name)s (skills center)") % {"name": obj.name}
        return obj.name


class SchoolChoiceFilter(django_filters.ModelChoiceFilter):
    field_class = SchoolField


class ClusterChoiceFilter(django_filters.ModelChoiceFilter):
    field_class = ClusterField


class ArticulationSearchFilter(django_filters.FilterSet):
    """The public search. The school year is applied by the view (it is always one year)."""

    q = django_filters.CharFilter(
        label=_("Course title or code"),
        method="filter_text",
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    year = django_filters.ModelChoiceFilter(
        label=_("School year"),
        queryset=AcademicYear.objects.order_by("-start_date"),
        to_field_name="code",
        method="filter_nothing",
        empty_label=None,
        widget=FastSelect,
    )
    district = django_filters.ModelChoiceFilter(
        label=_("School district"),
        queryset=District.objects.order_by("name"),
        method="filter_district",
        empty_label=_("Any district"),
        widget=FastSelect,
    )
    high_school = SchoolChoiceFilter(
        label=_("High school or skills center"),
        queryset=HighSchool.objects.order_by("name"),
        method="filter_high_school",
        empty_label=_("Any school"),
        widget=FastSelect,
    )
    college = django_filters.ModelChoiceFilter(
        label=_("College"),
        queryset=College.objects.order_by("name"),
        empty_label=_("Any college"),
        widget=FastSelect,
    )
    cluster = ClusterChoiceFilter(
        label=_("Career cluster"),
        queryset=CareerCluster.objects.filter(is_active=True).order_by("name"),
        empty_label=_("Any cluster"),
        widget=FastSelect,
    )

    class Meta:
        model = Articulation
        fields = ["q", "year", "district", "high_school", "college", "cluster"]

    def filter_text(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(text_search_q(value)) if value.strip() else queryset

    def filter_nothing(self, queryset: QuerySet, name: str, value) -> QuerySet:
        return queryset

    def filter_district(self, queryset: QuerySet, name: str, value: District) -> QuerySet:
        return queryset.filter(offered_in_district_q(value.pk)) if value else queryset

    def filter_high_school(self, queryset: QuerySet, name: str, value: HighSchool) -> QuerySet:
        return queryset.filter(offered_at_school_q(value.pk)) if value else queryset


class ArticulationWorkFilter(django_filters.FilterSet):
    """Staff list of agreements in any status, inside the user's scope."""

    q = django_filters.CharFilter(
        label=_("Course, code or agreement number"),
        method="filter_text",
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"),
        choices=Articulation.Status.choices,
        empty_label=_("Any status"),
        widget=FastSelect,
    )
    college = django_filters.ModelChoiceFilter(
        label=_("College"),
        queryset=College.objects.none(),
        empty_label=_("Any college"),
        widget=FastSelect,
    )
    cluster = ClusterChoiceFilter(
        label=_("Career cluster"),
        queryset=CareerCluster.objects.filter(is_active=True).order_by("name"),
        empty_label=_("Any cluster"),
        widget=FastSelect,
    )
    year = django_filters.ModelChoiceFilter(
        label=_("Valid in"),
        queryset=AcademicYear.objects.order_by("-start_date"),
        to_field_name="code",
        field_name="valid_years",
        empty_label=_("Any year"),
        widget=FastSelect,
    )

    class Meta:
        model = Articulation
        fields = ["q", "status", "college", "cluster", "year"]

    def __init__(self, *args, colleges: QuerySet | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if colleges is not None:
            self.filters["college"].queryset = colleges
            self.form.fields["college"].queryset = colleges

    def filter_text(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(text_search_q(value)) if value.strip() else queryset
