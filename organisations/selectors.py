"""Reads for organisations and the school calendar, and the organisations state staff manage."""

import datetime

from django.db.models import Count, Model, Q, QuerySet
from django.utils import timezone

from accounts.permissions import Access, Capability

from .models import AcademicYear, College, Consortium, ConsortiumPolicy, District, HighSchool


def academic_year_current(*, today: datetime.date | None = None) -> AcademicYear | None:
    """The school year containing today, else the latest one that has started."""
    today = today or timezone.localdate()
    year = AcademicYear.objects.filter(start_date__lte=today, end_date__gte=today).first()
    if year is None:
        year = AcademicYear.objects.filter(start_date__lte=today).order_by("-start_date").first()
    return year


def policy_for(*, consortium_id: int, academic_year_id: int) -> ConsortiumPolicy | None:
    return ConsortiumPolicy.objects.filter(
        consortium_id=consortium_id, academic_year_id=academic_year_id
    ).first()


def organisations_managed(*, access: Access, model: type[Model], query: str = "") -> QuerySet:
    """The consortia, colleges, districts or high schools state staff manage (all of them),
    with what their list shows, in one query; `query` finds a name or code."""
    if not access.can(Capability.MANAGE_ORGANIZATIONS):
        return model.objects.none()
    if model is Consortium:
        queryset = Consortium.objects.annotate(
            college_count=Count("colleges", distinct=True),
            district_count=Count("districts", distinct=True),
        )
        found = Q(name__icontains=query) | Q(slug__icontains=query)
    elif model is College:
        queryset = College.objects.select_related("consortium")
        found = Q(name__icontains=query) | Q(code__icontains=query)
    elif model is District:
        queryset = District.objects.select_related("consortium").annotate(
            school_count=Count("high_schools")
        )
        found = Q(name__icontains=query) | Q(code__icontains=query)
    else:
        queryset = HighSchool.objects.select_related("district__consortium")
        found = Q(name__icontains=query) | Q(code__icontains=query) | Q(city__icontains=query)
    if query:
        queryset = queryset.filter(found)
    return queryset.order_by("name", "pk")
