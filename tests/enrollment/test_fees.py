"""Tests of enrollment.services.fees: consortium admins record payments and waivers."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from accesslog.models import AccessLogEntry
from enrollment.models import Fee, FeeChange
from enrollment.services import fees
from tests.world import TODAY, S, advance

pytestmark = pytest.mark.django_db


def fee_of(enrollment) -> Fee:
    return Fee.objects.get(student=enrollment.student_id)


def rows() -> list:
    """Every fee, its history and the change log: to show nothing moved."""
    return [
        sorted(Fee.objects.values_list().order_by("pk")),
        FeeChange.objects.count(),
        AccessLogEntry.objects.count(),
    ]


def pay(place, fee, **fields):
    payment = {"status": "paid", "paid_on": TODAY, "receipt_number": "R-77"}
    return fees.fee_record(actor=place.admin, fee_id=fee.pk, **payment | fields)


# --- one fee --------------------------------------------------------------------------------


def test_a_payment_is_recorded_with_its_history_line_and_logged(here):
    fee = fee_of(here.enrollments[0])
    recorded = pay(here, fee, paid_on=datetime.date(2026, 11, 20), receipt_number=" R-77 ")
    fee.refresh_from_db()
    assert (fee.status, fee.paid_amount, fee.paid_on, fee.receipt_number, fee.recorded_by) == (
        "paid",
        Decimal("50.00"),  # the fee's amount when none is given
        datetime.date(2026, 11, 20),
        "R-77",
        here.admin,
    )
    assert recorded == fee
    change = FeeChange.objects.get(fee=fee)
    assert (change.from_status, change.to_status, change.receipt_number, change.changed_by) == (
        "unpaid",
        "paid",
        "R-77",
        here.admin,
    )
    entry = AccessLogEntry.objects.get()
    assert (entry.what, entry.role, entry.actor) == ("fee recorded", "consortium_admin", here.admin)
    assert entry.student_count == 1


def test_recording_what_is_already_recorded_does_nothing(here):
    fee = fee_of(here.enrollments[0])
    pay(here, fee)
    before = rows()
    pay(here, fee, receipt_number="  R-77")
    assert rows() == before


def test_a_waiver_then_a_correction_back_to_unpaid(here):
    fee = fee_of(here.enrollments[0])
    pay(here, fee)
    fees.fee_record(
        actor=here.admin, fee_id=fee.pk, status="waived", waiver_reason=" Foster youth "
    )
    fee.refresh_from_db()
    assert (fee.status, fee.waiver_reason, fee.paid_amount, fee.paid_on, fee.receipt_number) == (
        "waived",
        "Foster youth",
        None,
        None,
        "",
    )
    fees.fee_record(
        actor=here.admin, fee_id=fee.pk, status="unpaid", note="Waiver for the wrong student"
    )
    fee.refresh_from_db()
    assert (fee.status, fee.waiver_reason) == ("unpaid", "")
    assert list(
        FeeChange.objects.filter(fee=fee).order_by("pk").values_list("from_status", "to_status")
    ) == [("unpaid", "paid"), ("paid", "waived"), ("waived", "unpaid")]
    assert FeeChange.objects.filter(fee=fee).latest("pk").note == "Waiver for the wrong student"


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        (
            {"status": "paid", "paid_amount": Decimal("-1")},
            {
                "paid_on": ["Enter the date of the payment."],
                "paid_amount": ["The amount cannot be negative."],
                "receipt_number": ["Enter the receipt number."],
            },
        ),
        (
            {
                "status": "paid",
                "paid_on": TODAY + datetime.timedelta(days=1),
                "receipt_number": "R",
            },
            {"paid_on": ["The payment date cannot be in the future."]},
        ),
        ({"status": "waived"}, {"waiver_reason": ["Choose the reason for the waiver."]}),
        (
            {"status": "waived", "waiver_reason": "Made up reason"},
            {"waiver_reason": ["Choose one of the consortium's waiver reasons."]},
        ),
        ({"status": "unpaid", "note": "  "}, {"note": ["Say why the fee is set back to unpaid."]}),
        ({"status": "lost"}, {"status": ["Choose paid, waived or unpaid."]}),
    ],
    ids=["paid-missing", "paid-future", "waived-no-reason", "waived-made-up", "unpaid", "status"],
)
def test_fee_mistakes_are_refused_field_by_field_and_change_nothing(here, fields, errors):
    fee = fee_of(here.enrollments[0])
    if fields["status"] == "unpaid":
        pay(here, fee)
    before = rows()
    with pytest.raises(ValidationError) as refused:
        fees.fee_record(actor=here.admin, fee_id=fee.pk, **fields)
    assert refused.value.message_dict == errors
    assert rows() == before


@pytest.mark.parametrize(
    ("who", "refusal"),
    [
        ("teacher", PermissionDenied),
        ("registrar", PermissionDenied),
        ("specialist", PermissionDenied),
        ("admin there", Http404),
    ],
)
def test_only_a_consortium_admin_of_the_fee_records_it(here, there, who, refusal):
    actor = there.admin if who == "admin there" else getattr(here, who)
    fee = fee_of(here.enrollments[0])
    before = rows()
    with pytest.raises(refusal):
        fees.fee_record(
            actor=actor, fee_id=fee.pk, status="paid", paid_on=TODAY, receipt_number="R"
        )
    assert rows() == before


# --- the student is told --------------------------------------------------------------------


def test_a_settled_fee_tells_the_student_their_credit_is_ready(
    here, django_capture_on_commit_callbacks
):
    enrollment = advance(here.enrollments[0], S.ATTAINED)
    with django_capture_on_commit_callbacks(execute=True):
        fees.fee_record(
            actor=here.admin,
            fee_id=fee_of(enrollment).pk,
            status="paid",
            paid_on=TODAY,
            receipt_number="R1",
        )
    (email,) = mail.outbox
    assert "ready for the transcript" in email.subject
    assert email.to == [enrollment.student.user.email]


def test_without_notify_or_credit_nobody_is_told(here, django_capture_on_commit_callbacks):
    attained = advance(here.enrollments[0], S.ATTAINED)
    graded = advance(here.enrollments[1], S.GRADED)
    with django_capture_on_commit_callbacks(execute=True):
        pay(here, fee_of(attained), notify=False)
        pay(here, fee_of(graded))  # no credit yet
    assert mail.outbox == []


# --- many fees (the upload) -----------------------------------------------------------------


def test_many_fees_are_recorded_and_those_changed_counted(here):
    first, second, third = (fee_of(e) for e in here.enrollments)
    pay(here, first)
    changed = fees.fees_record_many(
        actor=here.admin,
        rows=[
            {"fee_id": first.pk, "status": "paid", "paid_on": TODAY, "receipt_number": "R-77"},
            {"fee_id": second.pk, "status": "paid", "paid_on": TODAY, "receipt_number": "R-78"},
            {"fee_id": third.pk, "status": "waived", "waiver_reason": "Financial hardship"},
        ],
    )
    assert changed == 2  # the first was recorded already
    recorded = Fee.objects.in_bulk([first.pk, second.pk, third.pk])
    assert [
        (recorded[fee.pk].status, recorded[fee.pk].recorded_by) for fee in (first, second, third)
    ] == [("paid", here.admin)] * 2 + [("waived", here.admin)]
    assert recorded[second.pk].receipt_number == "R-78"
    assert FeeChange.objects.filter(fee=first).count() == 1


@pytest.mark.parametrize(
    ("bad", "refusal"),
    [("no receipt", ValidationError), ("another consortium's fee", Http404)],
)
def test_many_fees_are_all_or_nothing(here, there, bad, refusal):
    first, second, _third = (fee_of(e) for e in here.enrollments)
    bad_row = {
        "no receipt": {"fee_id": second.pk, "status": "paid", "paid_on": TODAY},
        "another consortium's fee": {
            "fee_id": fee_of(there.enrollments[0]).pk,
            "status": "waived",
            "waiver_reason": "Foster youth",
        },
    }[bad]
    before = rows()
    with pytest.raises(refusal):
        fees.fees_record_many(
            actor=here.admin,
            rows=[
                {"fee_id": first.pk, "status": "paid", "paid_on": TODAY, "receipt_number": "1"},
                bad_row,
            ],
        )
    assert rows() == before
