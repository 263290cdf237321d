"""Duplicate students: dismissing a pair, and merging two records into one."""

import logging
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from accesslog.models import AccessLogStudent
from accesslog.services import access_log_record
from accounts.models import User
from accounts.permissions import Capability, access_for, student_scope
from accounts.security import user_sessions_end
from sers import bulk
from sers.formatting import money

from ..models import (
    INACTIVE_STATUSES,
    Enrollment,
    EnrollmentStatus,
    EnrollmentStatusChange,
    Fee,
    FeeChange,
    IdentityChange,
    PossibleDuplicate,
    StudentMerge,
    StudentProfile,
)
from .fees import fee_history_add
from .rosters import REMOVAL_REASONS
from .transitions import change_log_record, enrollment_change_status

logger = logging.getLogger(__name__)


S = EnrollmentStatus


# --- consortium admins: duplicate students -----------------------------------------------------
# Pairs come from sign-up, legal-name corrections and the statewide duplicate check
# (services/duplicates.py); here staff settle them: two people, or one merged record.


def possible_duplicate_dismiss(*, actor, duplicate_id: int) -> PossibleDuplicate:
    """Staff checked a pair: two different people."""
    with transaction.atomic():
        pair = PossibleDuplicate.objects.select_for_update().get(pk=duplicate_id)
        if pair.status != PossibleDuplicate.Status.OPEN:
            raise ValidationError(_("This pair has been reviewed already."))
        pair.status = PossibleDuplicate.Status.DIFFERENT_PEOPLE
        pair.reviewed_at = timezone.now()
        pair.reviewed_by = actor
        pair.save(update_fields=["status", "reviewed_at", "reviewed_by"])
        change_log_record(
            actor=actor,
            what="duplicate pair: different people",
            student_ids=[pair.student_id, pair.existing_student_id],
        )
    return pair


@dataclass
class MergeConflict:
    """Something the two records disagree on that staff must decide before a merge."""

    key: str
    message: str
    choices: list[tuple[str, str]] = field(default_factory=list)  # empty: cannot be decided


class MergeRefused(ValidationError):
    """The merge cannot go ahead as asked; `conflicts` lists what needs a decision."""

    def __init__(self, message: str, conflicts: list[MergeConflict]):
        self.conflicts = conflicts
        super().__init__(message, code="merge_conflict")


def merge_conflicts(*, survivor: StudentProfile, merged: StudentProfile) -> list[MergeConflict]:
    """What the two records disagree on: birth dates, two active places in one class,
    two paid fees for one consortium and year. Two queries."""
    conflicts: list[MergeConflict] = []
    keep_survivor = _("Keep the record being kept (SERS %(id)s)") % {"id": survivor.sers_id}
    keep_merged = _("Keep the merged record's (SERS %(id)s)") % {"id": merged.sers_id}
    if survivor.birth_date != merged.birth_date:
        conflicts.append(
            MergeConflict(
                "birth_date",
                _("The birth dates differ: %(a)s and %(b)s. Which one is right?")
                % {
                    "a": formats.date_format(survivor.birth_date),
                    "b": formats.date_format(merged.birth_date),
                },
                [
                    ("survivor", formats.date_format(survivor.birth_date)),
                    ("merged", formats.date_format(merged.birth_date)),
                ],
            )
        )
    active = {}
    for enrollment in (
        Enrollment.objects.filter(student__in=[survivor, merged])
        .exclude(status__in=INACTIVE_STATUSES)
        .select_related("section__articulation__high_school_course")
    ):
        active.setdefault(enrollment.section_id, {})[enrollment.student_id] = enrollment
    removable = (S.REGISTERED, S.CONFIRMED)
    for section_id, pair in sorted(active.items()):
        if len(pair) < 2:
            continue
        a, b = pair[survivor.pk], pair[merged.pk]
        choices = []
        if b.status in removable:
            choices.append(("survivor", keep_survivor))
        if a.status in removable:
            choices.append(("merged", keep_merged))
        conflicts.append(
            MergeConflict(
                f"class:{section_id}",
                _(
                    "Both records are in %(course)s (%(a)s and %(b)s). The place not kept is "
                    "removed as a duplicate."
                )
                % {
                    "course": a.section.articulation.high_school_course.title,
                    "a": a.get_status_display(),
                    "b": b.get_status_display(),
                },
                choices,
            )
        )
    fees = {}
    for fee in Fee.objects.filter(student__in=[survivor, merged]).select_related(
        "consortium", "academic_year"
    ):
        fees.setdefault((fee.consortium_id, fee.academic_year_id), {})[fee.student_id] = fee
    for (consortium_id, year_id), pair in sorted(fees.items()):
        if len(pair) == 2 and all(f.status == Fee.Status.PAID for f in pair.values()):
            a, b = pair[survivor.pk], pair[merged.pk]
            conflicts.append(
                MergeConflict(
                    f"fee:{consortium_id}:{year_id}",
                    _(
                        "Both records paid the %(consortium)s fee for %(year)s (receipts "
                        "%(a)s and %(b)s). Keep one payment; the other is noted for a refund."
                    )
                    % {
                        "consortium": a.consortium.name,
                        "year": a.academic_year.code,
                        "a": a.receipt_number or "-",
                        "b": b.receipt_number or "-",
                    },
                    [("survivor", keep_survivor), ("merged", keep_merged)],
                )
            )
    return conflicts


FEE_RANK = {Fee.Status.PAID: 2, Fee.Status.WAIVED: 1, Fee.Status.UNPAID: 0}


def students_merge(
    *,
    actor,
    survivor_id: int,
    merged_id: int,
    reason: str,
    decisions: dict[str, str] | None = None,
) -> StudentMerge:
    """Merge two records of one student into `survivor`.

    Enrollments (with their history), fees, identity changes and access-log links move
    to the survivor; the other record is marked merged into it and its account is
    deactivated and signed out. Every conflict (merge_conflicts) needs an explicit
    decision in `decisions`, or nothing happens (MergeRefused). The merge is recorded
    with the decisions and shown on both SERS ids.
    """

    decisions = {k: v for k, v in (decisions or {}).items() if v}
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Say why these two records are the same student.")})
    if survivor_id == merged_id:
        raise ValidationError(_("Choose two different records."))
    access = access_for(actor)
    access.require(Capability.MERGE_STUDENTS)
    with transaction.atomic():
        profiles = {
            p.pk: p
            for p in StudentProfile.objects.select_for_update(of=("self",))
            .filter(pk__in=sorted([survivor_id, merged_id]))
            .filter(student_scope(access))
            .order_by("pk")
        }
        if len(profiles) != 2:
            raise Http404
        survivor, merged = profiles[survivor_id], profiles[merged_id]
        if survivor.merged_into_id or merged.merged_into_id:
            raise ValidationError(_("One of these records was merged already."))
        conflicts = merge_conflicts(survivor=survivor, merged=merged)
        undecided = [
            c for c in conflicts if decisions.get(c.key) not in {value for value, _l in c.choices}
        ]
        if undecided:
            raise MergeRefused(
                _("Nothing was merged: decide each conflict below first."), undecided
            )
        now = timezone.now()
        label = _("Merge of SERS %(merged)s into SERS %(survivor)s") % {
            "merged": merged.sers_id,
            "survivor": survivor.sers_id,
        }
        summary: dict[str, object] = {}
        decided = []
        for conflict in conflicts:
            choice = decisions[conflict.key]
            decided.append(
                {
                    "conflict": conflict.key,
                    "message": str(conflict.message),
                    "decision": choice,
                    "label": str(dict(conflict.choices)[choice]),
                }
            )
        # 1. Birth date: the survivor's, unless staff chose the other one.
        if decisions.get("birth_date") == "merged":
            IdentityChange.objects.create(
                student=survivor,
                old_first_name=survivor.legal_first_name,
                old_middle_name=survivor.legal_middle_name,
                old_last_name=survivor.legal_last_name,
                old_birth_date=survivor.birth_date,
                new_first_name=survivor.legal_first_name,
                new_middle_name=survivor.legal_middle_name,
                new_last_name=survivor.legal_last_name,
                new_birth_date=merged.birth_date,
                reason=f"{label}: {reason}",
                status=IdentityChange.Status.APPROVED,
                requested_by=actor,
                decided_by=actor,
                decided_at=now,
            )
            survivor.birth_date = merged.birth_date
            survivor.save(update_fields=["birth_date", "updated_at"])
        # 2. Two places in one class: the one not kept is removed as a duplicate.
        for conflict in conflicts:
            if not conflict.key.startswith("class:"):
                continue
            section_id = int(conflict.key.split(":")[1])
            drop_student = merged if decisions[conflict.key] == "survivor" else survivor
            drop = (
                Enrollment.objects.filter(student=drop_student, section_id=section_id)
                .exclude(status__in=INACTIVE_STATUSES)
                .get()
            )
            enrollment_change_status(
                enrollment_id=drop.pk,
                to_status=S.REMOVED,
                actor=actor,
                reason=f"{REMOVAL_REASONS['duplicate']} ({label})",
            )
        # 3. Enrollments move, each with a history row saying so.
        moved = list(Enrollment.objects.filter(student=merged).values_list("pk", "status"))
        bulk.bulk_update(Enrollment.objects.filter(student=merged), student=survivor)
        EnrollmentStatusChange.objects.bulk_create(
            EnrollmentStatusChange(
                enrollment_id=pk,
                from_status=status,
                to_status=status,
                grade="",
                changed_by=actor,
                reason=label,
                kind=EnrollmentStatusChange.Kind.MERGE,
            )
            for pk, status in moved
        )
        summary["enrollments"] = [pk for pk, _status in moved]
        # 4. Fees: one per consortium and year, the best-settled one kept.
        summary["fees"] = _merge_fees(
            actor=actor, survivor=survivor, merged=merged, decisions=decisions, label=label
        )
        # 5. Identity changes (a pending one of the merged record is moot now).
        bulk.bulk_update(
            IdentityChange.objects.filter(student=merged, status=IdentityChange.Status.PENDING),
            status=IdentityChange.Status.CANCELLED,
            decision_note=label,
        )
        summary["identity_changes"] = bulk.bulk_update(
            IdentityChange.objects.filter(student=merged), student=survivor
        )
        # 6. Access-log links (an entry that already names the survivor keeps both).
        summary["access_log_links"] = (
            AccessLogStudent.objects.filter(student=merged)
            .exclude(entry__in=AccessLogStudent.objects.filter(student=survivor).values("entry"))
            .update(student=survivor)
        )
        # 7. Duplicate pairs: this one is settled; others of the merged record follow it.
        PossibleDuplicate.objects.filter(
            Q(student=merged, existing_student=survivor)
            | Q(student=survivor, existing_student=merged)
        ).update(status=PossibleDuplicate.Status.MERGED, reviewed_at=now, reviewed_by=actor)
        survivor_pairs = PossibleDuplicate.objects.filter(
            Q(student=survivor) | Q(existing_student=survivor)
        )
        PossibleDuplicate.objects.filter(
            student=merged, status=PossibleDuplicate.Status.OPEN
        ).exclude(existing_student__in=survivor_pairs.values("existing_student")).exclude(
            existing_student=survivor
        ).update(student=survivor)
        PossibleDuplicate.objects.filter(
            existing_student=merged, status=PossibleDuplicate.Status.OPEN
        ).exclude(student__in=survivor_pairs.values("student")).exclude(student=survivor).update(
            existing_student=survivor
        )
        # 8. The merged record points at the survivor; its account is closed.
        merged.merged_into = survivor
        merged.save(update_fields=["merged_into", "updated_at"])
        bulk.bulk_update(User.objects.filter(pk=merged.user_id), is_active=False)
        transaction.on_commit(lambda: user_sessions_end(user_id=merged.user_id))
        record = StudentMerge.objects.create(
            survivor=survivor,
            merged=merged,
            merged_by=actor,
            reason=reason,
            decisions=decided,
            summary=summary,
        )
        access_log_record(
            actor=actor,
            action="change",
            what="merge of duplicate student records",
            student_ids=[survivor.pk, merged.pk],
            role="consortium_admin",
        )
    logger.info(
        "students merged: merge_id=%s merged=%s survivor=%s by user_id=%s",
        record.pk,
        merged.pk,
        survivor.pk,
        actor.pk,
    )
    return record


def _merge_fees(*, actor, survivor, merged, decisions, label) -> list[dict]:
    """Move the merged record's fees; where both have one for a consortium and year, keep
    one (paid over waived over unpaid, or staff's choice between two payments) and carry
    the other's history and details into it."""
    result = []
    survivor_fees = {
        (f.consortium_id, f.academic_year_id): f for f in Fee.objects.filter(student=survivor)
    }
    for fee in Fee.objects.filter(student=merged).select_for_update():
        key = (fee.consortium_id, fee.academic_year_id)
        other = survivor_fees.get(key)
        if other is None:
            bulk.bulk_update(Fee.objects.filter(pk=fee.pk), student=survivor)
            fee_history_add(fee, note=label, actor=actor)
            result.append({"fee": fee.pk, "action": "moved"})
            continue
        if fee.status == other.status == Fee.Status.PAID:
            keep_merged = decisions.get(f"fee:{key[0]}:{key[1]}") == "merged"
        else:
            keep_merged = FEE_RANK[fee.status] > FEE_RANK[other.status]
        keep, drop = (fee, other) if keep_merged else (other, fee)
        dropped = _(
            "%(label)s: combined with fee %(id)s (%(status)s, %(amount)s%(receipt)s%(waiver)s)."
        ) % {
            "label": label,
            "id": drop.pk,
            "status": drop.get_status_display(),
            "amount": money(drop.paid_amount if drop.paid_amount is not None else drop.amount),
            "receipt": f", receipt {drop.receipt_number}" if drop.receipt_number else "",
            "waiver": f", {drop.waiver_reason}" if drop.waiver_reason else "",
        }
        if drop.status == Fee.Status.PAID:
            dropped += " " + _("Second payment: refund due.")
        FeeChange.objects.filter(fee=drop).update(fee=keep)
        drop.delete()
        if keep_merged:
            bulk.bulk_update(Fee.objects.filter(pk=keep.pk), student=survivor)
        fee_history_add(keep, note=dropped, actor=actor)
        result.append(
            {
                "fee": keep.pk,
                "action": "combined",
                "dropped_fee": drop.pk if drop.pk else None,
                "dropped_status": drop.status,
                "refund_due": drop.status == Fee.Status.PAID,
            }
        )
    return result
