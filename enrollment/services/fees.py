"""Fees: consortium admins record payments and waivers; every change is a history line."""

import logging
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _

from accounts.permissions import Capability, access_for
from organisations.selectors import policy_for

from .. import tasks
from ..models import (
    Enrollment,
    EnrollmentStatus,
    Fee,
    FeeChange,
)
from ..rules import local_today
from .transitions import change_log_record

logger = logging.getLogger(__name__)


S = EnrollmentStatus


# --- consortium admins: fees ------------------------------------------------------------------


def _fee_for_admin(actor, fee_id: int, *, lock: bool = True) -> Fee:
    access = access_for(actor)
    access.require(Capability.RECORD_PAYMENTS)
    queryset = Fee.objects.filter(pk=fee_id, consortium_id__in=access.consortium_ids)
    if lock:
        queryset = queryset.select_for_update()
    fee = queryset.first()
    if fee is None:
        raise Http404
    return fee


def fee_record(
    *,
    actor,
    fee_id: int,
    status: str,
    paid_amount: Decimal | None = None,
    paid_on: date | None = None,
    receipt_number: str = "",
    waiver_reason: str = "",
    note: str = "",
    today: date | None = None,
    notify: bool = True,
) -> Fee:
    """Record a payment (amount, date, receipt number), a waiver (one of the consortium's
    reasons) or, as a correction with a note, set a fee back to unpaid. Each change gets
    a history row; recording what is already recorded does nothing."""
    receipt_number, waiver_reason, note = (
        receipt_number.strip(),
        waiver_reason.strip(),
        note.strip(),
    )
    errors: dict[str, str] = {}
    with transaction.atomic():
        fee = _fee_for_admin(actor, fee_id)
        if status == Fee.Status.PAID:
            if paid_on is None:
                errors["paid_on"] = _("Enter the date of the payment.")
            elif paid_on > local_today(today):
                errors["paid_on"] = _("The payment date cannot be in the future.")
            if paid_amount is None:
                paid_amount = fee.amount
            if paid_amount < 0:
                errors["paid_amount"] = _("The amount cannot be negative.")
            if not receipt_number:
                errors["receipt_number"] = _("Enter the receipt number.")
            new = {
                "status": status,
                "paid_amount": paid_amount,
                "paid_on": paid_on,
                "receipt_number": receipt_number,
                "waiver_reason": "",
            }
        elif status == Fee.Status.WAIVED:
            policy = policy_for(
                consortium_id=fee.consortium_id, academic_year_id=fee.academic_year_id
            )
            allowed = policy.waiver_reason_list if policy else []
            if not waiver_reason:
                errors["waiver_reason"] = _("Choose the reason for the waiver.")
            elif allowed and waiver_reason not in allowed:
                errors["waiver_reason"] = _("Choose one of the consortium's waiver reasons.")
            new = {
                "status": status,
                "paid_amount": None,
                "paid_on": None,
                "receipt_number": "",
                "waiver_reason": waiver_reason,
            }
        elif status == Fee.Status.UNPAID:
            if not note:
                errors["note"] = _("Say why the fee is set back to unpaid.")
            new = {
                "status": status,
                "paid_amount": None,
                "paid_on": None,
                "receipt_number": "",
                "waiver_reason": "",
            }
        else:
            raise ValidationError({"status": _("Choose paid, waived or unpaid.")})
        if errors:
            raise ValidationError(errors)
        if all(getattr(fee, name) == value for name, value in new.items()):
            return fee
        from_status = fee.status
        for name, value in new.items():
            setattr(fee, name, value)
        fee.recorded_by = actor
        fee.save(update_fields=[*new, "recorded_by", "updated_at"])
        fee_history_add(fee, from_status=from_status, note=note, actor=actor)
        change_log_record(actor=actor, what="fee recorded", student_ids=[fee.student_id])
        if notify and fee.is_settled:
            _notify_credit_eligible_for_fee(fee)
    logger.info("fee %s: fee_id=%s by user_id=%s", fee.status, fee.pk, actor.pk)
    return fee


def _notify_credit_eligible_for_fee(fee: Fee) -> None:
    """A settled fee may make the student's attained credits of that year eligible."""
    ids = list(
        Enrollment.objects.filter(
            student_id=fee.student_id,
            status=S.ATTAINED,
            section__articulation__consortium_id=fee.consortium_id,
            section__academic_year_id=fee.academic_year_id,
        ).values_list("pk", flat=True)
    )
    if ids:
        tasks.send_student_notifications.delay_on_commit("credit_eligible", ids)


def fees_record_many(*, actor, rows: list[dict], today: date | None = None) -> int:
    """Record many payments or waivers (the bulk upload): every row, or none."""
    changed = 0
    with transaction.atomic():
        for row in rows:
            before = Fee.objects.filter(pk=row["fee_id"]).values_list("updated_at", flat=True)
            stamp = before.first()
            fee = fee_record(actor=actor, today=today, **row)
            changed += int(fee.updated_at != stamp)
    return changed


def fee_history_add(fee, *, note: str, actor, from_status: str | None = None) -> None:
    """The fee's history line for what was just saved on it (from `from_status`; without
    it, a step such as a merge that leaves the status as it was)."""
    FeeChange.objects.create(
        fee=fee,
        from_status=fee.status if from_status is None else from_status,
        to_status=fee.status,
        paid_amount=fee.paid_amount,
        paid_on=fee.paid_on,
        receipt_number=fee.receipt_number,
        waiver_reason=fee.waiver_reason,
        note=note,
        changed_by=actor,
    )
