"""Filters of the access-log pages. Every filter is a GET parameter, so a filtered list is
a shareable URL. A value that does not parse is shown as a form error and not applied."""

import datetime

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from accesslog.models import AccessLogEntry

from .selectors import access as access_selectors


class AccessLogFilterForm(forms.Form):
    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end date must be on or after the start date."))
        return data


def _search(**attrs):
    return forms.TextInput(attrs={"type": "search", "autocomplete": "off", **attrs})


class AccessLogFilter(django_filters.FilterSet):
    """Entries by student, staff member, action, page or export, and date (local days)."""

    student = django_filters.CharFilter(
        label=_("Student name or SERS ID"), method="filter_student", widget=_search()
    )
    staff = django_filters.CharFilter(
        label=_("Staff member name or email"), method="filter_staff", widget=_search()
    )
    action = django_filters.ChoiceFilter(
        label=_("Action"), choices=AccessLogEntry.Action.choices, empty_label=_("Any action")
    )
    what = django_filters.CharFilter(
        label=_("Page or export"), field_name="what", lookup_expr="icontains", widget=_search()
    )
    date_from = django_filters.DateFilter(
        label=_("From (date)"),
        method="filter_date_from",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    date_to = django_filters.DateFilter(
        label=_("To (date)"),
        method="filter_date_to",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    hide_reviews = django_filters.BooleanFilter(
        label=_("Leave out reviews of this log"),
        method="filter_hide_reviews",
        widget=forms.CheckboxInput,
    )

    class Meta:
        model = AccessLogEntry
        form = AccessLogFilterForm
        fields = ["student", "staff", "action", "what", "date_from", "date_to", "hide_reviews"]

    def __init__(self, *args, access, hide=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.access = access
        # The page of one student or one staff member has no use for that filter.
        for name in hide:
            self.filters.pop(name, None)

    def filter_student(self, queryset, name, value):
        return access_selectors.entries_matching_student(queryset, access=self.access, text=value)

    def filter_staff(self, queryset, name, value):
        return access_selectors.entries_matching_staff(queryset, text=value)

    def filter_hide_reviews(self, queryset, name, value):
        if value:
            return queryset.exclude(what__startswith=access_selectors.REVIEW)
        return queryset

    def filter_date_from(self, queryset, name, value):
        return queryset.filter(at__gte=access_selectors.local_day_start(value))

    def filter_date_to(self, queryset, name, value):
        next_day = value + datetime.timedelta(days=1)
        return queryset.filter(at__lt=access_selectors.local_day_start(next_day))
