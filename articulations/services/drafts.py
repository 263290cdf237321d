"""Writing the terms of an agreement (the terms and their validation: terms.py): a new
agreement, edits to a draft, a revision of an approved or active agreement into a new
draft version, and discarding a draft.

Only drafts are edited in place. An approved or active agreement is revised by
`articulation_revise`, which copies it into a new draft version; the old version stays
readable and keeps its classes (sections) and enrollments.
"""

import logging
import uuid

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, ProtectedError
from django.utils.translation import gettext as _

from ..models import Articulation, ArticulationStatusChange, HighSchoolCourse, TeacherQualification
from ..terms import AGREEMENT_NUMBER_RE, AgreementTerms, TermsContext, terms_validate
from .access import require_manager

logger = logging.getLogger(__name__)

S = Articulation.Status


def _high_school_course_for(consortium_id: int, terms: AgreementTerms) -> HighSchoolCourse:
    course, created = HighSchoolCourse.objects.get_or_create(
        consortium_id=consortium_id,
        title=terms.high_school_course_title,
        cip_code=terms.cip_code,
        defaults={"local_code": terms.local_code},
    )
    if not created and terms.local_code and course.local_code != terms.local_code:
        course.local_code = terms.local_code
        course.save(update_fields=["local_code"])
    return course


def _write_terms(articulation: Articulation, terms: AgreementTerms) -> None:
    """Save validated terms onto a draft (fields and every relation)."""
    articulation.high_school_course = _high_school_course_for(articulation.consortium_id, terms)
    articulation.college_id = terms.college_id
    articulation.cluster_id = terms.cluster_id
    articulation.minimum_grade_scale = terms.minimum_grade_scale
    articulation.minimum_grade = terms.minimum_grade
    articulation.competencies = terms.competencies
    articulation.renew_each_year = terms.renew_each_year
    articulation.save()
    articulation.high_schools.set(terms.high_school_ids)
    articulation.college_courses.set(terms.college_course_ids)
    articulation.valid_years.set(terms.valid_year_ids)
    current = set(articulation.qualifications.values_list("teacher_id", flat=True))
    articulation.qualifications.filter(teacher_id__in=current - terms.teacher_ids).delete()
    TeacherQualification.objects.bulk_create(
        TeacherQualification(articulation=articulation, teacher_id=teacher_id)
        for teacher_id in sorted(terms.teacher_ids - current)
    )


def _validate_agreement_number(number: str) -> str:
    number = number.strip()
    if not AGREEMENT_NUMBER_RE.match(number):
        raise ValidationError(
            {
                "agreement_number": _(
                    "Use up to 20 letters, digits, dots, dashes or slashes, such as CC-2026-014."
                )
            }
        )
    return number


def articulation_create(
    *,
    actor,
    consortium_id: int,
    terms: AgreementTerms,
    agreement_number: str = "",
    note: str = "",
    context: TermsContext | None = None,
) -> Articulation:
    """A new agreement, version 1, in draft. Blank `agreement_number` numbers it SERS-nnnnnn."""
    require_manager(actor, consortium_id)
    context = context or TermsContext.load(consortium_id)
    terms = terms_validate(context=context, terms=terms)
    number = _validate_agreement_number(agreement_number) if agreement_number.strip() else ""
    with transaction.atomic():
        if number and Articulation.objects.filter(agreement_number__iexact=number).exists():
            raise ValidationError(
                {"agreement_number": _("An agreement with this number already exists.")}
            )
        articulation = Articulation(
            consortium_id=consortium_id,
            agreement_number=number or f"new-{uuid.uuid4().hex[:16]}",
            status=S.DRAFT,
        )
        _write_terms(articulation, terms)
        if not number:
            articulation.agreement_number = f"SERS-{articulation.pk:06d}"
            articulation.save(update_fields=["agreement_number"])
        ArticulationStatusChange.objects.create(
            articulation=articulation,
            from_status="",
            to_status=S.DRAFT,
            changed_by=actor,
            note=note or _("Created."),
        )
    logger.info("articulation created: id=%s by user_id=%s", articulation.pk, actor.pk)
    return articulation


def articulation_update(
    *,
    articulation_id: int,
    actor,
    terms: AgreementTerms,
    context: TermsContext | None = None,
) -> Articulation:
    """Change the terms of a draft. Anything further along is revised instead."""
    with transaction.atomic():
        articulation = Articulation.objects.select_for_update().get(pk=articulation_id)
        require_manager(actor, articulation.consortium_id)
        if not articulation.is_editable:
            raise ValidationError(
                _("Only drafts can be edited. Start a revision to change this agreement."),
                code="not_editable",
            )
        context = context or TermsContext.load(articulation.consortium_id)
        terms = terms_validate(context=context, terms=terms)
        _write_terms(articulation, terms)
    logger.info("articulation edited: id=%s by user_id=%s", articulation.pk, actor.pk)
    return articulation


def _copy_relations(source: Articulation, target: Articulation) -> None:
    target.high_schools.set(source.high_schools.all())
    target.college_courses.set(source.college_courses.all())
    target.valid_years.set(source.valid_years.all())
    TeacherQualification.objects.bulk_create(
        TeacherQualification(articulation=target, teacher_id=q.teacher_id)
        for q in source.qualifications.all()
    )


def articulation_revise(*, articulation_id: int, actor) -> Articulation:
    """Copy an approved or active agreement into a new draft version.

    The new version has the same courses, schools, teachers and years. The old version
    stays as it is (readable, and still in force) until the new one is activated, which
    retires it; classes and enrollments stay tied to the version they were made under.
    """
    with transaction.atomic():
        source = Articulation.objects.select_for_update().get(pk=articulation_id)
        require_manager(actor, source.consortium_id)
        if source.status not in (S.APPROVED, S.ACTIVE):
            raise ValidationError(
                _("Only approved or active agreements are revised; edit a draft directly."),
                code="not_revisable",
            )
        pending = Articulation.objects.filter(previous_version=source).first()
        if pending is not None:
            raise ValidationError(
                _("Version %(version)s of this agreement is already being prepared.")
                % {"version": pending.version},
                code="revision_exists",
            )
        latest = Articulation.objects.filter(agreement_number=source.agreement_number).aggregate(
            latest=Max("version")
        )["latest"]
        revision = Articulation.objects.create(
            consortium_id=source.consortium_id,
            college_id=source.college_id,
            agreement_number=source.agreement_number,
            version=latest + 1,
            previous_version=source,
            high_school_course_id=source.high_school_course_id,
            cluster_id=source.cluster_id,
            minimum_grade_scale=source.minimum_grade_scale,
            minimum_grade=source.minimum_grade,
            competencies=source.competencies,
            renew_each_year=source.renew_each_year,
            status=S.DRAFT,
        )
        _copy_relations(source, revision)
        ArticulationStatusChange.objects.create(
            articulation=revision,
            from_status="",
            to_status=S.DRAFT,
            changed_by=actor,
            note=_("Revision of version %(version)s.") % {"version": source.version},
        )
    logger.info(
        "articulation revised: id=%s -> id=%s by user_id=%s", source.pk, revision.pk, actor.pk
    )
    return revision


def articulation_discard_draft(*, articulation_id: int, actor) -> None:
    """Delete a draft that never took effect (an abandoned revision or a false start)."""
    with transaction.atomic():
        articulation = Articulation.objects.select_for_update().get(pk=articulation_id)
        require_manager(actor, articulation.consortium_id)
        if articulation.status != S.DRAFT:
            raise ValidationError(_("Only drafts can be discarded."), code="not_draft")
        try:
            articulation.delete()
        except ProtectedError:
            raise ValidationError(
                _("This draft already has classes and cannot be discarded."), code="has_classes"
            ) from None
    logger.info("articulation draft discarded: id=%s by user_id=%s", articulation_id, actor.pk)
