"""Teachers asking to teach a class, and consortium admins deciding."""

import logging
from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role, RoleMembership
from accounts.permissions import Capability, access_for
from articulations.models import Articulation, TeacherQualification
from organisations.models import AcademicYear
from organisations.selectors import academic_year_current

from ..models import (
    Section,
    SectionRequest,
)
from ..rules import local_today

logger = logging.getLogger(__name__)


# --- teachers: asking to teach a class --------------------------------------------------------


def section_request_create(
    *,
    actor,
    articulation_id: int,
    high_school_id: int,
    academic_year_id: int,
    term: str,
    section_code: str,
    note: str = "",
    today: date | None = None,
) -> SectionRequest:
    """A teacher asks to teach an articulated course at one of their schools.

    Only at a school where they hold the teacher role, for an active agreement that
    covers the school and the year and names them as qualified, for this school year
    or a later one. The consortium admin approves or declines it.
    """

    section_code = section_code.strip() or "1"
    if term not in Section.Term.values:
        raise ValidationError({"term": _("Choose a term from the list.")})
    if not RoleMembership.objects.filter(
        user=actor, role=Role.TEACHER, high_school_id=high_school_id
    ).exists():
        raise ValidationError({"high_school": _("Choose one of the schools where you teach.")})
    articulation = Articulation.objects.filter(pk=articulation_id).first()
    if articulation is None or articulation.status != Articulation.Status.ACTIVE:
        raise ValidationError({"articulation": _("Choose an active agreement.")})
    if not articulation.high_schools.filter(pk=high_school_id).exists():
        raise ValidationError(
            {"articulation": _("This agreement does not cover the school you chose.")}
        )
    if not articulation.valid_years.filter(pk=academic_year_id).exists():
        raise ValidationError(
            {"academic_year": _("This agreement is not valid for the school year you chose.")}
        )
    current = academic_year_current(today=local_today(today))
    year = AcademicYear.objects.get(pk=academic_year_id)
    if current is not None and year.start_date < current.start_date:
        raise ValidationError({"academic_year": _("Choose this school year or a later one.")})
    if not TeacherQualification.objects.filter(articulation=articulation, teacher=actor).exists():
        raise ValidationError(
            {
                "articulation": _(
                    "You are not listed as qualified to teach this course. Ask your "
                    "consortium to add you to the agreement first."
                )
            }
        )
    if Section.objects.filter(
        articulation=articulation,
        teacher=actor,
        high_school_id=high_school_id,
        academic_year_id=academic_year_id,
        section_code=section_code,
    ).exists():
        raise ValidationError({"section_code": _("You already teach this class.")})
    try:
        with transaction.atomic():
            request = SectionRequest.objects.create(
                teacher=actor,
                articulation=articulation,
                high_school_id=high_school_id,
                academic_year_id=academic_year_id,
                term=term,
                section_code=section_code,
                note=note.strip(),
            )
    except IntegrityError:
        raise ValidationError(
            {"section_code": _("You already asked for this class; it is waiting for an answer.")}
        ) from None
    logger.info("class requested: request_id=%s teacher_id=%s", request.pk, actor.pk)
    return request


def section_request_cancel(*, actor, request_id: int) -> SectionRequest:
    with transaction.atomic():
        request = SectionRequest.objects.select_for_update().get(pk=request_id, teacher=actor)
        if request.status != SectionRequest.Status.PENDING:
            raise ValidationError(_("This request has been answered already."))
        request.status = SectionRequest.Status.CANCELLED
        request.save(update_fields=["status"])
    return request


def section_request_decide(
    *, actor, request_id: int, approve: bool, note: str = ""
) -> SectionRequest:
    """The consortium admin approves a class request (the class is created) or declines it."""

    access = access_for(actor)
    access.require(Capability.MANAGE_TEACHERS)
    note = note.strip()
    with transaction.atomic():
        request = (
            SectionRequest.objects.select_for_update()
            .select_related("articulation")
            .filter(pk=request_id, articulation__consortium_id__in=access.consortium_ids)
            .first()
        )
        if request is None:
            raise Http404
        if request.status != SectionRequest.Status.PENDING:
            raise ValidationError(_("This request has been answered already."))
        if not approve and not note:
            raise ValidationError({"note": _("Tell the teacher why the request is declined.")})
        request.decided_at = timezone.now()
        request.decided_by = actor
        request.decision_note = note
        if approve:
            section, created = Section.objects.get_or_create(
                articulation=request.articulation,
                teacher_id=request.teacher_id,
                high_school_id=request.high_school_id,
                academic_year_id=request.academic_year_id,
                section_code=request.section_code,
                defaults={"term": request.term},
            )
            if not created:
                raise ValidationError(_("This class exists already."))
            request.section = section
            request.status = SectionRequest.Status.APPROVED
        else:
            request.status = SectionRequest.Status.DECLINED
        request.save(
            update_fields=["status", "decided_at", "decided_by", "decision_note", "section"]
        )
    logger.info(
        "class request %s: request_id=%s by user_id=%s",
        request.status,
        request.pk,
        actor.pk,
    )
    return request
