"""A college's course catalog, kept by the consortium for its colleges: adding a course,
and retiring it (or bringing it back)."""

import logging
import re

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from organisations.models import College

from ..models import CollegeCourse
from .access import require_manager

logger = logging.getLogger(__name__)


def college_course_create(
    *, actor, college_id: int, prefix: str, number: str, title: str, credits
) -> CollegeCourse:
    """Add a course to a college's catalog (the consortium keeps it for its colleges)."""
    college = College.objects.get(pk=college_id)
    require_manager(actor, college.consortium_id)
    prefix = prefix.strip().upper()
    number = number.strip().upper()
    title = " ".join(title.split())
    errors: dict[str, str] = {}
    if not re.match(r"^[A-Z&]{2,8}$", prefix):
        errors["prefix"] = _("Use 2 to 8 capital letters, such as ACCT or CS.")
    if not re.match(r"^[0-9A-Z]{1,8}$", number):
        errors["number"] = _("Use up to 8 letters or digits, such as 101 or 110L.")
    if not title:
        errors["title"] = _("Enter the course title.")
    if credits is None or credits <= 0:
        errors["credits"] = _("Enter the credits, more than zero.")
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            course = CollegeCourse.objects.create(
                college=college, prefix=prefix, number=number, title=title, credits=credits
            )
    except IntegrityError:
        raise ValidationError(
            {"number": _("%(code)s is already in this college's catalog.") % {"code": number}}
        ) from None
    logger.info("college course created: id=%s by user_id=%s", course.pk, actor.pk)
    return course


def college_course_set_offered(*, actor, course_id: int, offered: bool) -> CollegeCourse:
    """Retire a college course (its agreements lapse at the next roll-over) or bring it back."""
    with transaction.atomic():
        course = (
            CollegeCourse.objects.select_for_update().select_related("college").get(pk=course_id)
        )
        require_manager(actor, course.college.consortium_id)
        if course.is_active != offered:
            course.is_active = offered
            course.save(update_fields=["is_active"])
            logger.info(
                "college course offered=%s: id=%s by user_id=%s", offered, course.pk, actor.pk
            )
    return course
