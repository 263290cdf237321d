"""The teachers qualified to teach under an agreement: adding, removing and inviting one.
The roster is the consortium's to keep current while the agreement is open."""

import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import Role, RoleMembership, User
from accounts.permissions import Capability
from organisations.services import teacher_invite

from ..models import Articulation, TeacherQualification
from .access import require_manager

logger = logging.getLogger(__name__)


def _require_open_for_teachers(articulation: Articulation, actor) -> None:
    require_manager(actor, articulation.consortium_id, Capability.MANAGE_TEACHERS)
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
