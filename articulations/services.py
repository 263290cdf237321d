"""Every write to articulation agreements, and the business rules behind them.

- One function, `articulation_change_status`, writes `Articulation.status`: it locks the
  row, checks the transitions table and the actor's role and scope, and writes a
  history row. Replacing a version, expiring at roll-over and retiring all go through it.
- Only drafts are edited in place. An approved or active agreement is revised by
  `articulation_revise`, which copies it into a new draft version; the old version stays
  readable and keeps its classes (sections) and enrollments.
- The annual roll-over (`rollover_apply`) and the bulk import (`articulation_import`) are
  idempotent: running them again changes nothing more.
"""

import logging
import re
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, ProtectedError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Role, RoleMembership, User
from accounts.permissions import Capability, access_for
from accounts.services import email_send_once
from organisations.models import AcademicYear, College, Consortium
from organisations.services import teacher_invite

from . import tasks
from .cache import catalog_changed
from .importers import parse_file, plan_import
from .models import (
    Articulation,
    ArticulationStatusChange,
    CollegeCourse,
    HighSchoolCourse,
    RolloverRun,
    TeacherQualification,
)
from .selectors import rollover_plan
from .terms import AGREEMENT_NUMBER_RE, AgreementTerms, TermsContext, terms_validate

logger = logging.getLogger(__name__)

S = Articulation.Status
MANAGE = Capability.MANAGE_ARTICULATIONS
APPROVE = Capability.APPROVE_ARTICULATIONS


@dataclass(frozen=True)
class Transition:
    """Who may move an agreement between two statuses, and what they must give."""

    capabilities: frozenset[Capability]
    label: object  # a lazily translated button label
    note_required: bool = False
    by_system: bool = False  # also made by the system: replacing a version, roll-over


# The only ways an agreement's status may move. Anything else is refused.
TRANSITIONS: dict[tuple[str, str], Transition] = {
    (S.DRAFT, S.SUBMITTED): Transition(frozenset({MANAGE}), gettext_lazy("Submit for approval")),
    (S.SUBMITTED, S.APPROVED): Transition(frozenset({APPROVE}), gettext_lazy("Approve")),
    (S.SUBMITTED, S.DRAFT): Transition(
        frozenset({APPROVE, MANAGE}), gettext_lazy("Send back for changes"), note_required=True
    ),
    (S.APPROVED, S.ACTIVE): Transition(frozenset({MANAGE}), gettext_lazy("Activate")),
    (S.APPROVED, S.RETIRED): Transition(
        frozenset({MANAGE}), gettext_lazy("Retire"), note_required=True, by_system=True
    ),
    (S.ACTIVE, S.RETIRED): Transition(
        frozenset({MANAGE}), gettext_lazy("Retire"), note_required=True, by_system=True
    ),
    (S.ACTIVE, S.EXPIRED): Transition(
        frozenset({MANAGE}), gettext_lazy("Mark expired"), by_system=True
    ),
}


class TransitionNotAllowed(ValidationError):
    """The agreement cannot move from its current status to the one asked for."""


# ---------------------------------------------------------------------------------------
# Who may act on an agreement


def approver_college_ids(*, user) -> frozenset[int]:
    """Colleges where the user is faculty/dean. Registrars of a college do not approve."""
    if user is None or not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_sers_approver_college_ids", None)
    if cached is None:
        cached = frozenset(
            RoleMembership.objects.filter(user_id=user.pk, role=Role.COLLEGE_APPROVER).values_list(
                "college_id", flat=True
            )
        )
        user._sers_approver_college_ids = cached
    return cached


def actor_may(*, actor, capability: Capability, articulation: Articulation) -> bool:
    """Whether the actor holds `capability` in the scope that capability needs here."""
    access = access_for(actor)
    if not access.can(capability):
        return False
    if capability == APPROVE:
        return articulation.college_id in approver_college_ids(user=actor)
    if capability in (MANAGE, Capability.MANAGE_TEACHERS):
        return articulation.consortium_id in access.consortium_ids
    return False


def _require_manager(actor, consortium_id: int, capability: Capability = MANAGE) -> None:
    access = access_for(actor)
    if not access.can(capability) or consortium_id not in access.consortium_ids:
        raise PermissionDenied


def transitions_for(*, articulation: Articulation, actor) -> list[tuple[str, Transition]]:
    """The status moves this actor may make on this agreement now, in table order."""
    return [
        (to_status, rule)
        for (from_status, to_status), rule in TRANSITIONS.items()
        if from_status == articulation.status
        and any(
            actor_may(actor=actor, capability=capability, articulation=articulation)
            for capability in rule.capabilities
        )
    ]


# ---------------------------------------------------------------------------------------
# Status


def _readiness_problems(articulation: Articulation, to_status: str) -> list[str]:
    """What stops an agreement from being submitted or activated (empty when ready)."""
    problems: list[str] = []
    if to_status in (S.SUBMITTED, S.APPROVED, S.ACTIVE):
        if not articulation.high_schools.exists():
            problems.append(_("Add at least one high school that teaches the course."))
        if not articulation.college_courses.exists():
            problems.append(_("Add at least one college course."))
        if not articulation.valid_years.exists():
            problems.append(_("Add at least one school year the agreement is valid for."))
    if to_status == S.ACTIVE:
        for course in articulation.college_courses.filter(is_active=False):
            problems.append(
                _("%(course)s is no longer offered by the college.") % {"course": course.code}
            )
        newer = Articulation.objects.filter(
            agreement_number=articulation.agreement_number,
            version__gt=articulation.version,
            status=S.ACTIVE,
        ).first()
        if newer is not None:
            problems.append(
                _("Version %(version)s of this agreement is already active.")
                % {"version": newer.version}
            )
    return problems


def articulation_change_status(
    *,
    articulation_id: int,
    to_status: str,
    actor,
    note: str = "",
    by_system: bool = False,
) -> Articulation:
    """Move an agreement to `to_status`: the one function that writes `status`.

    Locks the row, checks the transitions table and (unless `by_system`) that the actor
    holds the needed role for this agreement's consortium or college, saves the status
    and writes a history row. Activating a version retires the older approved or active
    versions of the same agreement in the same transaction. Asking for the status it
    already has does nothing. `by_system` is for moves the system makes on a person's
    behalf (roll-over expiry, replacing a version); the actor is still recorded.
    """
    with transaction.atomic():
        articulation = Articulation.objects.select_for_update().get(pk=articulation_id)
        from_status = articulation.status
        if to_status == from_status:
            return articulation
        rule = TRANSITIONS.get((from_status, to_status))
        if rule is None or (by_system and not rule.by_system):
            raise TransitionNotAllowed(
                _("This agreement is %(from)s and cannot become %(to)s.")
                % {"from": S(from_status).label.lower(), "to": S(to_status).label.lower()},
                code="transition_not_allowed",
            )
        if not by_system and not any(
            actor_may(actor=actor, capability=capability, articulation=articulation)
            for capability in rule.capabilities
        ):
            raise PermissionDenied
        note = note.strip()
        if rule.note_required and not note:
            raise ValidationError(_("Give a reason for this change."), code="note_required")
        problems = _readiness_problems(articulation, to_status)
        if problems:
            raise ValidationError(problems, code="not_ready")

        if to_status == S.ACTIVE:
            replaced = Articulation.objects.filter(
                agreement_number=articulation.agreement_number,
                version__lt=articulation.version,
                status__in=[S.APPROVED, S.ACTIVE],
            ).order_by("version")
            for older in replaced:
                articulation_change_status(
                    articulation_id=older.pk,
                    to_status=S.RETIRED,
                    actor=actor,
                    note=_("Replaced by version %(version)s.") % {"version": articulation.version},
                    by_system=True,
                )

        articulation.status = to_status
        articulation.save(update_fields=["status", "updated_at"])
        change = ArticulationStatusChange.objects.create(
            articulation=articulation,
            from_status=from_status,
            to_status=to_status,
            changed_by=actor if getattr(actor, "pk", None) else None,
            note=note,
        )
        tasks.notify_articulation_status_change.delay_on_commit(change.pk)
    logger.info(
        "articulation status: id=%s %s->%s by user_id=%s",
        articulation.pk,
        from_status,
        to_status,
        getattr(actor, "pk", None),
    )
    return articulation


# Who hears about a status change: approvers when there is something to approve, the
# consortium office when the college answered.
NOTIFY_APPROVERS = frozenset({S.SUBMITTED})
NOTIFY_CONSORTIUM = frozenset({S.APPROVED})


def articulation_notify_status_change(*, change_id: int) -> int:
    """Email the people who must act next. Safe to run twice: each email goes once."""
    change = (
        ArticulationStatusChange.objects.select_related(
            "articulation__high_school_course", "articulation__college"
        )
        .filter(pk=change_id)
        .first()
    )
    if change is None:
        return 0
    articulation = change.articulation
    returned = change.from_status == S.SUBMITTED and change.to_status == S.DRAFT
    if change.to_status in NOTIFY_APPROVERS:
        recipients = User.objects.filter(
            memberships__role=Role.COLLEGE_APPROVER,
            memberships__college_id=articulation.college_id,
        )
    elif change.to_status in NOTIFY_CONSORTIUM or returned:
        recipients = User.objects.filter(
            memberships__role=Role.CONSORTIUM_ADMIN,
            memberships__consortium_id=articulation.consortium_id,
        )
    else:
        return 0
    sent = 0
    for user in recipients.filter(is_active=True).exclude(pk=change.changed_by_id).distinct():
        sent += email_send_once(
            user=user,
            kind="articulation_status",
            dedupe_key=f"articulation_status:{change.pk}:{user.pk}",
            subject_template="articulations/emails/status_change_subject.txt",
            body_template="articulations/emails/status_change_body.txt",
            context={"change": change, "articulation": articulation, "returned": returned},
        )
    return sent


# ---------------------------------------------------------------------------------------
# Writing the terms of an agreement (the terms and their validation: terms.py)


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
    _require_manager(actor, consortium_id)
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
        _require_manager(actor, articulation.consortium_id)
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
        _require_manager(actor, source.consortium_id)
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
        _require_manager(actor, articulation.consortium_id)
        if articulation.status != S.DRAFT:
            raise ValidationError(_("Only drafts can be discarded."), code="not_draft")
        try:
            articulation.delete()
        except ProtectedError:
            raise ValidationError(
                _("This draft already has classes and cannot be discarded."), code="has_classes"
            ) from None
    logger.info("articulation draft discarded: id=%s by user_id=%s", articulation_id, actor.pk)


# ---------------------------------------------------------------------------------------
# Qualified teachers


def _require_open_for_teachers(articulation: Articulation, actor) -> None:
    _require_manager(actor, articulation.consortium_id, Capability.MANAGE_TEACHERS)
    if articulation.is_closed:
        raise ValidationError(
            _("This agreement is %(status)s; its teachers can no longer change.")
            % {"status": articulation.get_status_display().lower()},
            code="closed",
        )


def articulation_add_teacher(*, articulation_id: int, teacher_id: int, actor) -> bool:
    """Qualify a teacher who teaches at one of the agreement's schools. True when added.

    The teacher roster is the consortium's to keep current in any open status (a teacher
    leaves mid-year); the terms the college approved are not touched.
    """
    with transaction.atomic():
        articulation = Articulation.objects.select_for_update().get(pk=articulation_id)
        _require_open_for_teachers(articulation, actor)
        teaches_here = RoleMembership.objects.filter(
            user_id=teacher_id,
            role=Role.TEACHER,
            high_school__in=articulation.high_schools.all(),
        ).exists()
        if not teaches_here:
            raise ValidationError(
                _("This teacher does not teach at any of the agreement's schools."),
                code="not_at_school",
            )
        _qualification, created = TeacherQualification.objects.get_or_create(
            articulation=articulation, teacher_id=teacher_id
        )
    if created:
        logger.info(
            "teacher qualified: articulation_id=%s teacher_id=%s by user_id=%s",
            articulation_id,
            teacher_id,
            actor.pk,
        )
    return created


def articulation_remove_teacher(*, articulation_id: int, teacher_id: int, actor) -> bool:
    """Remove a teacher from an agreement. Their existing classes stay as they are."""
    with transaction.atomic():
        articulation = Articulation.objects.select_for_update().get(pk=articulation_id)
        _require_open_for_teachers(articulation, actor)
        deleted, _rows = TeacherQualification.objects.filter(
            articulation=articulation, teacher_id=teacher_id
        ).delete()
    if deleted:
        logger.info(
            "teacher unqualified: articulation_id=%s teacher_id=%s by user_id=%s",
            articulation_id,
            teacher_id,
            actor.pk,
        )
    return bool(deleted)


def articulation_invite_teacher(
    *,
    articulation_id: int,
    actor,
    email: str,
    first_name: str,
    last_name: str,
    high_school_id: int,
) -> User:
    """Invite a teacher by email (account inactive until activated) and qualify them here."""
    with transaction.atomic():
        articulation = Articulation.objects.select_for_update().get(pk=articulation_id)
        _require_open_for_teachers(articulation, actor)
        if not articulation.high_schools.filter(pk=high_school_id).exists():
            raise ValidationError(
                {"high_school": _("Choose one of the schools in this agreement.")}
            )
        teacher = teacher_invite(
            actor=actor,
            email=email,
            first_name=first_name,
            last_name=last_name,
            high_school_id=high_school_id,
        )
        TeacherQualification.objects.get_or_create(articulation=articulation, teacher=teacher)
    return teacher


# ---------------------------------------------------------------------------------------
# College courses


def college_course_create(
    *, actor, college_id: int, prefix: str, number: str, title: str, credits
) -> CollegeCourse:
    """Add a course to a college's catalog (the consortium keeps it for its colleges)."""
    college = College.objects.get(pk=college_id)
    _require_manager(actor, college.consortium_id)
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
        _require_manager(actor, course.college.consortium_id)
        if course.is_active != offered:
            course.is_active = offered
            course.save(update_fields=["is_active"])
            logger.info(
                "college course offered=%s: id=%s by user_id=%s", offered, course.pk, actor.pk
            )
    return course


# ---------------------------------------------------------------------------------------
# Annual roll-over


def _add_one_year(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


def academic_year_next(*, year: AcademicYear) -> AcademicYear:
    """The school year after `year`, created (one year later, same dates) when missing."""
    start = year.end_date + timedelta(days=1)
    code = AcademicYear.code_for_start(int(year.code[:4]) + 1)
    existing = AcademicYear.objects.filter(code=code).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return AcademicYear.objects.create(
                code=code,
                start_date=max(start, _add_one_year(year.start_date)),
                end_date=_add_one_year(year.end_date),
            )
    except IntegrityError:  # created meanwhile by another request
        return AcademicYear.objects.get(code=code)


@dataclass
class RolloverResult:
    renewed: int = 0
    already_renewed: int = 0
    lapsed: int = 0
    expired: int = 0


def rollover_apply(
    *,
    consortium_id: int,
    from_year_id: int,
    to_year_id: int,
    actor,
    today: date | None = None,
) -> RolloverResult:
    """Carry a consortium's active agreements from one school year into the next.

    What happens is exactly what `selectors.rollover_plan` previews (see its docstring
    for the rule): renewing agreements get the next year added to their valid years,
    and so do their revisions in progress; lapsing ones keep the years they have. Active
    agreements whose every valid year has ended are then marked expired.

    Idempotent: the consortium row is locked for the run, a year already added is not
    added again, and an expired agreement stays expired; a second run changes nothing.
    """
    today = today or timezone.localdate()
    with transaction.atomic():
        Consortium.objects.select_for_update().get(pk=consortium_id)
        from_year = AcademicYear.objects.get(pk=from_year_id)
        to_year = AcademicYear.objects.get(pk=to_year_id)
        plan = rollover_plan(
            consortium_id=consortium_id, from_year=from_year, to_year=to_year, today=today
        )
        renew_ids = [item.articulation.pk for item in plan.renew]
        revision_ids = list(
            Articulation.objects.filter(
                previous_version_id__in=renew_ids,
                status__in=[S.DRAFT, S.SUBMITTED, S.APPROVED],
            ).values_list("pk", flat=True)
        )
        Through = Articulation.valid_years.through
        already = set(
            Through.objects.filter(
                articulation_id__in=renew_ids + revision_ids, academicyear_id=to_year.pk
            ).values_list("articulation_id", flat=True)
        )
        Through.objects.bulk_create(
            Through(articulation_id=pk, academicyear_id=to_year.pk)
            for pk in renew_ids + revision_ids
            if pk not in already
        )
        catalog_changed()  # bulk_create sends no signal: the public search must see it
        expired = 0
        for articulation in plan.expire:
            note = (
                _("Roll-over: its last school year, %(year)s, has ended.")
                % {"year": articulation.last_year_code}
                if articulation.last_year_code
                else _("Roll-over: it is not valid for any school year.")
            )
            articulation_change_status(
                articulation_id=articulation.pk,
                to_status=S.EXPIRED,
                actor=actor,
                note=note,
                by_system=True,
            )
            expired += 1
    return RolloverResult(
        renewed=len(plan.renew),
        already_renewed=len(plan.already_renewed),
        lapsed=len(plan.lapse),
        expired=expired,
    )


def rollover_request(*, actor, consortium_id: int, from_year_id: int) -> RolloverRun:
    """Queue a roll-over run for a consortium (the work is done by a background job)."""
    _require_manager(actor, consortium_id)
    with transaction.atomic():
        from_year = AcademicYear.objects.get(pk=from_year_id)
        to_year = academic_year_next(year=from_year)
        run = RolloverRun.objects.create(
            consortium_id=consortium_id,
            from_year=from_year,
            to_year=to_year,
            requested_by=actor,
        )
        tasks.run_rollover.delay_on_commit(run.pk)
    logger.info("roll-over queued: run_id=%s by user_id=%s", run.pk, actor.pk)
    return run


def rollover_run(*, run_id: int) -> RolloverRun:
    """Carry out a queued roll-over run and record its counts (the background job's body).

    A run that finished is left alone, so a job delivered twice does the work once; a
    run left "running" by a worker that died is carried out again (the work is
    idempotent).
    """
    with transaction.atomic():
        run = RolloverRun.objects.select_for_update().get(pk=run_id)
        if run.status in (RolloverRun.Status.DONE, RolloverRun.Status.FAILED):
            return run
        run.status = RolloverRun.Status.RUNNING
        run.save(update_fields=["status"])
    try:
        result = rollover_apply(
            consortium_id=run.consortium_id,
            from_year_id=run.from_year_id,
            to_year_id=run.to_year_id,
            actor=run.requested_by,
        )
    except Exception as error:
        # The work rolled back as a whole; the run says so and can simply be asked again.
        logger.exception("roll-over failed: run_id=%s", run.pk)
        run.status = RolloverRun.Status.FAILED
        run.error = type(error).__name__[:200]
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "error", "finished_at"])
        return run
    run.status = RolloverRun.Status.DONE
    run.renewed_count = result.renewed
    run.already_renewed_count = result.already_renewed
    run.lapsed_count = result.lapsed
    run.expired_count = result.expired
    run.finished_at = timezone.now()
    run.save(
        update_fields=[
            "status",
            "renewed_count",
            "already_renewed_count",
            "lapsed_count",
            "expired_count",
            "finished_at",
        ]
    )
    logger.info(
        "roll-over done: run_id=%s renewed=%s lapsed=%s expired=%s",
        run.pk,
        result.renewed,
        result.lapsed,
        result.expired,
    )
    return run


# ---------------------------------------------------------------------------------------
# Bulk import


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


class ImportRejected(Exception):
    """The file had problems; nothing was written. `problems` are (line, message) pairs."""

    def __init__(self, problems: list[tuple[int, str]]):
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


def articulation_import(
    *, actor, consortium_id: int, filename: str, content: bytes
) -> ImportResult:
    """Import agreements from a CSV or XLSX file: every row checked first, then all or nothing.

    Rows are matched on (agreement_number, version), see importers.py for the columns.
    A new row becomes a draft (version 2+ is a revision of the version before it); a row
    matching a draft updates it when different; a row matching a version that is further
    along must be identical (to change it, import the next version). Identical rows
    change nothing, so importing the same file again changes nothing.
    """
    _require_manager(actor, consortium_id)
    rows, problems = parse_file(filename=filename, content=content)
    context = TermsContext.load(consortium_id)
    plan = plan_import(context=context, rows=rows)
    problems = sorted(problems + plan.problems)
    if problems:
        raise ImportRejected(problems)
    result = ImportResult(unchanged=len(plan.unchanged))
    note = _("Imported from %(file)s.") % {"file": filename[:100]}
    new_agreements = [i for i in plan.writes if i.existing is None and i.version == 1]
    with transaction.atomic():
        _import_create_drafts(actor, consortium_id, new_agreements, note)
        result.created += len(new_agreements)
        for item in plan.writes:
            if item.existing is None and item.version == 1:
                continue
            try:
                _import_write(actor, consortium_id, item, context, note)
            except ValidationError as error:
                # Rolls the whole file back; rows are checked first, so this is rare.
                raise ImportRejected([(item.line, m) for m in error.messages]) from None
            if item.existing is not None:
                result.updated += 1
            else:
                result.created += 1
    logger.info(
        "articulations imported: consortium_id=%s created=%s updated=%s unchanged=%s by user_id=%s",
        consortium_id,
        result.created,
        result.updated,
        result.unchanged,
        actor.pk,
    )
    return result


def _import_write(actor, consortium_id: int, item, context: TermsContext, note: str) -> None:
    if item.existing is not None:
        articulation_update(
            articulation_id=item.existing.pk, actor=actor, terms=item.terms, context=context
        )
    elif item.version == 1:
        articulation_create(
            actor=actor,
            consortium_id=consortium_id,
            terms=item.terms,
            agreement_number=item.agreement_number,
            note=note,
            context=context,
        )
    else:
        previous = Articulation.objects.get(
            agreement_number=item.agreement_number, version=item.version - 1
        )
        revision = articulation_revise(articulation_id=previous.pk, actor=actor)
        if revision.version != item.version:
            raise ValidationError(_("Versions must follow each other without gaps."))
        articulation_update(
            articulation_id=revision.pk, actor=actor, terms=item.terms, context=context
        )


def _import_create_drafts(actor, consortium_id: int, items: list, note: str) -> None:
    """New agreements (version 1, draft) from a checked file, in a fixed number of queries.

    Does what articulation_create does for each row, in bulk: a file of thousands of
    agreements is written in seconds, still in the caller's single transaction.
    """
    if not items:
        return
    local_codes: dict[tuple[str, str], str] = {}
    for item in items:
        key = (item.terms.high_school_course_title, item.terms.cip_code)
        if item.terms.local_code:
            local_codes.setdefault(key, item.terms.local_code)
        else:
            local_codes.setdefault(key, "")

    def course_map() -> dict[tuple[str, str], HighSchoolCourse]:
        return {
            (c.title, c.cip_code): c
            for c in HighSchoolCourse.objects.filter(
                consortium_id=consortium_id, title__in={title for title, _cip in local_codes}
            )
        }

    courses = course_map()
    HighSchoolCourse.objects.bulk_create(
        HighSchoolCourse(consortium_id=consortium_id, title=title, cip_code=cip, local_code=code)
        for (title, cip), code in local_codes.items()
        if (title, cip) not in courses
    )
    for key, course in courses.items():
        if local_codes[key] and course.local_code != local_codes[key]:
            course.local_code = local_codes[key]
            course.save(update_fields=["local_code"])
    courses = course_map()
    Articulation.objects.bulk_create(
        Articulation(
            consortium_id=consortium_id,
            agreement_number=item.agreement_number,
            version=1,
            status=S.DRAFT,
            college_id=item.terms.college_id,
            high_school_course=courses[(item.terms.high_school_course_title, item.terms.cip_code)],
            cluster_id=item.terms.cluster_id,
            minimum_grade_scale=item.terms.minimum_grade_scale,
            minimum_grade=item.terms.minimum_grade,
            competencies=item.terms.competencies,
            renew_each_year=item.terms.renew_each_year,
        )
        for item in items
    )
    ids = dict(
        Articulation.objects.filter(
            agreement_number__in=[item.agreement_number for item in items], version=1
        ).values_list("agreement_number", "pk")
    )
    relations = (
        (Articulation.high_schools.through, "highschool_id", "high_school_ids"),
        (Articulation.college_courses.through, "collegecourse_id", "college_course_ids"),
        (Articulation.valid_years.through, "academicyear_id", "valid_year_ids"),
    )
    for through, column, attribute in relations:
        through.objects.bulk_create(
            through(articulation_id=ids[item.agreement_number], **{column: value})
            for item in items
            for value in sorted(getattr(item.terms, attribute))
        )
    TeacherQualification.objects.bulk_create(
        TeacherQualification(articulation_id=ids[item.agreement_number], teacher_id=teacher_id)
        for item in items
        for teacher_id in sorted(item.terms.teacher_ids)
    )
    ArticulationStatusChange.objects.bulk_create(
        ArticulationStatusChange(
            articulation_id=ids[item.agreement_number],
            from_status="",
            to_status=S.DRAFT,
            changed_by=actor,
            note=note,
        )
        for item in items
    )
