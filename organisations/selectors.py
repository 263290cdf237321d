"""Reads for organisations and the school calendar."""

import datetime

from django.utils import timezone

from .models import AcademicYear, ConsortiumPolicy


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
