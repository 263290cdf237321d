"""Builds the yearly fees: paid, waived or unpaid as each consortium's policy says."""

from datetime import date, timedelta

from enrollment.models import Fee

from . import plan
from .context import DemoBuild
from .rows import Table

FEE = Table(Fee, pk=False)


def fee_row(
    b: DemoBuild, rng, c: plan.Consortium, policy: plan.Policy, sid: int, yi: int, first_reg
) -> tuple[tuple, date | None]:
    """One student's fee in a consortium and year, and the day it was settled (None while
    unpaid). `first_reg` is the timestamp of the student's first registration that year."""
    year_id = b.year_ids[yi]
    amount = policy.fee
    first_day = b.day_of(first_reg)
    if amount == 0:
        # Nothing to pay: the fee row exists (amount 0) and counts as settled.
        return _fee(sid, c, year_id, amount, b.dt(first_reg)), first_day
    roll = rng.random()
    if roll < 0.12:
        day = first_day + timedelta(days=rng.randint(1, 30))
        if day <= b.today:
            reason = rng.choice(policy.waivers)
            row = _fee(
                sid,
                c,
                year_id,
                amount,
                b.dt(b.ts(day, 10)),
                status=Fee.Status.WAIVED,
                waiver_reason=reason,
                recorded_by_id=c.admin_id,
            )
            return row, day
    elif roll < 0.82:
        day = min(first_day + timedelta(days=rng.randint(1, 75)), policy.payment_deadline)
        day = max(day, first_day)
        if day <= b.today:
            c.receipts += 1
            receipt = f"{c.spec.code}{b.year_starts[yi] % 100:02d}-{c.receipts:06d}"
            by = c.admin_id if rng.random() < 0.7 else None  # else a payment webhook
            row = _fee(
                sid,
                c,
                year_id,
                amount,
                b.dt(b.ts(day, 12)),
                status=Fee.Status.PAID,
                paid_amount=amount,
                paid_on=day,
                receipt_number=receipt,
                recorded_by_id=by,
            )
            return row, day
    return _fee(sid, c, year_id, amount, b.dt(first_reg)), None


def demo_student_fee_row(
    b: DemoBuild, c: plan.Consortium, sid: int, yi: int, paid: date | None, updated
) -> tuple:
    """The demo student's fee: paid on `paid` with a DEMO receipt, or unpaid."""
    policy = c.policies[yi]
    c.receipts += 1
    if paid is None:
        return _fee(sid, c, b.year_ids[yi], policy.fee, updated)
    return _fee(
        sid,
        c,
        b.year_ids[yi],
        policy.fee,
        updated,
        status=Fee.Status.PAID,
        paid_amount=policy.fee,
        paid_on=paid,
        receipt_number=f"{c.spec.code}-DEMO-{c.receipts:06d}",
        recorded_by_id=c.admin_id,
    )


def _fee(
    sid,
    c: plan.Consortium,
    year_id,
    amount,
    updated,
    *,
    status=Fee.Status.UNPAID,
    paid_amount=None,
    paid_on=None,
    receipt_number="",
    waiver_reason="",
    recorded_by_id=None,
) -> tuple:
    return FEE.row(
        student_id=sid,
        consortium_id=c.id,
        academic_year_id=year_id,
        amount=amount,
        status=status,
        paid_amount=paid_amount,
        paid_on=paid_on,
        receipt_number=receipt_number,
        waiver_reason=waiver_reason,
        recorded_by_id=recorded_by_id,
        updated_at=updated,
    )
