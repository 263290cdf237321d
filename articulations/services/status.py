"""An agreement's status: the transitions table, the one writer of `Articulation.status`,
and who is emailed about a change.

`articulation_change_status` locks the row, checks the transitions table and the actor's
role and scope, and writes a history row. Replacing a version, expiring at roll-over and
retiring all go through it.
"""

import logging
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Role, User
from accounts.permissions import Capability
from accounts.services import email_send_once

from .. import tasks
from ..models import Articulation, ArticulationStatusChange
from .access import APPROVE, MANAGE, actor_may

logger = logging.getLogger(__name__)

S = Articulation.Status


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
