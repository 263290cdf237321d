"""Tests of enrollment.services.registration: every rule, in the service and the database."""

import datetime
import threading
from collections import Counter
from decimal import Decimal
from unittest import mock

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from accesslog.models import AccessLogEntry
from accounts.models import SentEmail
from articulations.models import Articulation
from enrollment.models import Enrollment, EnrollmentStatusChange, Fee
from enrollment.models import EnrollmentStatus as S
from enrollment.services import registration, transitions
from enrollment.services.registration import (
    RegistrationBatchRefused,
    RegistrationRefused,
    enrollment_register,
    enrollment_register_many,
    enrollment_send_registration_confirmation,
    enrollment_withdraw,
)
from enrollment.services.transitions import enrollment_change_status
from tests.factories import (
    AcademicYearFactory,
    ConsortiumPolicyFactory,
    EnrollmentFactory,
    UserFactory,
)
from tests.faults import InjectedFailure, failing_on_call, race
from tests.world import TODAY, make_class

pytestmark = pytest.mark.django_db


def register(student, section, **kwargs):
    kwargs.setdefault("today", TODAY)
    return enrollment_register(student=student, section=section, actor=student.user, **kwargs)


def refusal_code(student, section, **kwargs) -> str:
    with pytest.raises(RegistrationRefused) as refused:
        register(student, section, **kwargs)
    assert Enrollment.objects.filter(student=student, section=section).count() == 0
    return refused.value.code


def test_register_creates_the_enrollment_its_history_and_the_fee(world, student):
    section = world.sections[0]
    enrollment = register(student, section)
    assert enrollment.status == S.REGISTERED
    assert enrollment.registered_by is None
    history = list(EnrollmentStatusChange.objects.filter(enrollment=enrollment))
    assert [(h.from_status, h.to_status, h.changed_by) for h in history] == [
        ("", S.REGISTERED, student.user)
    ]
    fee = Fee.objects.get(student=student)
    assert (fee.consortium, fee.academic_year, fee.amount) == (
        world.consortium,
        world.year,
        Decimal("50.00"),
    )
    assert fee.status == Fee.Status.UNPAID


def test_a_second_class_in_the_same_consortium_does_not_add_a_fee(world, student):
    register(student, world.sections[0])
    register(student, world.sections[1])
    assert Fee.objects.filter(student=student).count() == 1


def test_a_zero_fee_policy_creates_a_settled_fee(world, student):
    world.policy.annual_fee = Decimal("0")
    world.policy.save()
    register(student, world.sections[0])
    fee = Fee.objects.get(student=student)
    assert fee.amount == 0
    assert fee.is_settled


def test_staff_registering_on_behalf_are_recorded(world, student):
    helper = UserFactory()
    enrollment = enrollment_register(
        student=student, section=world.sections[0], actor=helper, on_behalf=True, today=TODAY
    )
    assert enrollment.registered_by == helper
    change = enrollment.status_changes.get()
    assert change.changed_by == helper
    assert change.reason


@pytest.mark.parametrize(
    ("today", "code"),
    [
        (datetime.date(2026, 8, 31), "window_not_open"),
        (datetime.date(2027, 3, 16), "window_closed"),
    ],
)
def test_only_inside_the_registration_window(world, student, today, code):
    assert refusal_code(student, world.sections[0], today=today) == code


def test_the_window_edges_are_inside(world, student):
    register(student, world.sections[0], today=world.policy.registration_opens)
    register(student, world.sections[1], today=world.policy.registration_closes)


def test_no_policy_for_the_year_means_closed(world, student):
    world.policy.delete()
    assert refusal_code(student, world.sections[0]) == "window_closed"


def test_only_the_current_school_year(world, student):
    last_year = AcademicYearFactory(start_year=2025)
    ConsortiumPolicyFactory(consortium=world.consortium, academic_year=last_year)
    old_class = make_class(world=world, year=last_year)
    assert refusal_code(student, old_class) == "wrong_year"
    next_year = AcademicYearFactory(start_year=2027)
    ConsortiumPolicyFactory(consortium=world.consortium, academic_year=next_year)
    assert refusal_code(student, make_class(world=world, year=next_year)) == "wrong_year"


def test_not_twice_in_the_same_class(world, student):
    register(student, world.sections[0])
    assert refusal_code_after_first(student, world.sections[0]) == "duplicate"


def refusal_code_after_first(student, section):
    with pytest.raises(RegistrationRefused) as refused:
        register(student, section)
    assert Enrollment.objects.filter(student=student, section=section).count() == 1
    return refused.value.code


def test_not_in_two_classes_of_the_same_course(world, student):
    first = world.sections[0]
    other_teacher = make_class(world=world)
    other_teacher.articulation = first.articulation
    other_teacher.save()
    register(student, first)
    assert refusal_code(student, other_teacher) == "duplicate_course"


def test_the_database_refuses_a_second_active_enrollment(world, student):
    section = world.sections[0]
    EnrollmentFactory(student=student, section=section)
    with pytest.raises(IntegrityError), transaction.atomic():
        EnrollmentFactory(student=student, section=section)


def test_a_race_on_the_constraint_becomes_a_clear_message(world, student, monkeypatch):
    """Two requests pass the check together; the loser gets the constraint's answer."""
    section = world.sections[0]
    EnrollmentFactory(student=student, section=section)
    # The service's own check sees no active enrollment, as if the other one were not
    # committed yet: the insert then hits the one-active-enrollment constraint.
    monkeypatch.setattr("enrollment.services.registration.INACTIVE_STATUSES", tuple(S.values))
    with pytest.raises(RegistrationRefused) as refused:
        register(student, section)
    assert refused.value.code == "duplicate"
    assert "already registered" in refused.value.messages[0]


def test_after_withdrawing_the_student_may_register_again(world, student):
    enrollment = register(student, world.sections[0])
    enrollment_withdraw(enrollment_id=enrollment.pk, actor=student.user)
    again = register(student, world.sections[0])
    assert again.pk != enrollment.pk


def test_the_teacher_account_must_be_active(world, student):
    section = world.sections[0]
    section.teacher.is_active = False
    section.teacher.save()
    assert refusal_code(student, section) == "teacher_inactive"


@pytest.mark.parametrize(
    "status",
    [
        Articulation.Status.DRAFT,
        Articulation.Status.APPROVED,
        Articulation.Status.EXPIRED,
        Articulation.Status.RETIRED,
    ],
)
def test_the_agreement_must_be_active(world, student, status):
    section = world.sections[0]
    Articulation.objects.filter(pk=section.articulation_id).update(status=status)
    assert refusal_code(student, section) == "articulation_inactive"


def test_the_agreement_must_cover_the_year(world, student):
    section = world.sections[0]
    section.articulation.valid_years.set([AcademicYearFactory(start_year=2025)])
    assert refusal_code(student, section) == "articulation_not_valid"


def test_the_email_must_be_verified(world, student):
    student.user.email_verified_at = None
    student.user.save()
    assert refusal_code(student, world.sections[0]) == "email_unverified"


def test_refusals_say_why_in_plain_words(world, student):
    with pytest.raises(RegistrationRefused) as refused:
        register(student, world.sections[0], today=datetime.date(2027, 4, 1))
    assert refused.value.messages == ["Registration for this class closed on March 15, 2027."]


# --- batches --------------------------------------------------------------------------------


def test_a_batch_registers_every_class_and_sends_one_email(
    world, student, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        enrollments = enrollment_register_many(
            student=student,
            section_ids=[world.sections[0].pk, world.sections[2].pk],
            actor=student.user,
            today=TODAY,
        )
    assert len(enrollments) == 2
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    assert "Accounting Principles" in body
    assert "Automotive Technology" in body
    assert student.sers_id in body
    assert SentEmail.objects.filter(kind="registration_confirmation").count() == 1
    # Re-running the job for the same batch does not send it again.
    assert not enrollment_send_registration_confirmation(
        student_id=student.pk, enrollment_ids=[e.pk for e in enrollments]
    )
    assert len(mail.outbox) == 1


def test_a_batch_is_all_or_nothing(world, student, django_capture_on_commit_callbacks):
    closed = world.sections[1]
    closed.teacher.is_active = False
    closed.teacher.save()
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RegistrationBatchRefused) as refused,
    ):
        enrollment_register_many(
            student=student,
            section_ids=[world.sections[0].pk, closed.pk, 999999],
            actor=student.user,
            today=TODAY,
        )
    assert set(refused.value.problems) == {closed.pk, 999999}
    assert "teacher" in refused.value.problems[closed.pk]
    assert not Enrollment.objects.filter(student=student).exists()
    assert not Fee.objects.filter(student=student).exists()
    assert mail.outbox == []


def test_an_empty_batch_is_refused(world, student):
    with pytest.raises(ValidationError):
        enrollment_register_many(student=student, section_ids=[], actor=student.user)


# --- withdrawal -----------------------------------------------------------------------------


@pytest.mark.parametrize("status", [S.REGISTERED, S.CONFIRMED])
def test_withdraw_until_graded(world, student, status):
    enrollment = register(student, world.sections[0])
    teacher = world.sections[0].teacher
    if status == S.CONFIRMED:
        enrollment_change_status(enrollment_id=enrollment.pk, to_status=S.CONFIRMED, actor=teacher)
    enrollment_withdraw(enrollment_id=enrollment.pk, actor=student.user)
    enrollment.refresh_from_db()
    assert enrollment.status == S.WITHDRAWN
    last = enrollment.status_changes.order_by("-id").first()
    assert (last.from_status, last.to_status, last.changed_by) == (
        status,
        S.WITHDRAWN,
        student.user,
    )
    assert last.reason == "Withdrawn by the student."


@pytest.mark.parametrize("final", [S.GRADED, S.ATTAINED, S.NOT_ATTAINED, S.TRANSCRIBED])
def test_withdrawal_after_grading_is_refused(world, student, final):
    enrollment = register(student, world.sections[0])
    teacher = world.sections[0].teacher
    steps = {
        S.GRADED: [(S.CONFIRMED, {}), (S.GRADED, {"grade": "A"})],
        S.ATTAINED: [(S.CONFIRMED, {}), (S.GRADED, {"grade": "A"}), (S.ATTAINED, {})],
        S.NOT_ATTAINED: [(S.CONFIRMED, {}), (S.GRADED, {"grade": "D"}), (S.NOT_ATTAINED, {})],
        S.TRANSCRIBED: [
            (S.CONFIRMED, {}),
            (S.GRADED, {"grade": "A"}),
            (S.ATTAINED, {}),
            (S.TRANSCRIBED, {"transcribed_on": TODAY}),
        ],
    }[final]
    for status, extra in steps:
        enrollment_change_status(
            enrollment_id=enrollment.pk, to_status=status, actor=teacher, **extra
        )
    history = enrollment.status_changes.count()
    with pytest.raises(ValidationError) as refused:
        enrollment_withdraw(enrollment_id=enrollment.pk, actor=student.user)
    assert refused.value.code == "graded"
    assert "already graded" in refused.value.messages[0]
    enrollment.refresh_from_db()
    assert enrollment.status == final
    assert enrollment.status_changes.count() == history


def test_withdrawing_twice_is_refused(world, student):
    enrollment = register(student, world.sections[0])
    enrollment_withdraw(enrollment_id=enrollment.pk, actor=student.user)
    with pytest.raises(ValidationError) as refused:
        enrollment_withdraw(enrollment_id=enrollment.pk, actor=student.user)
    assert refused.value.code == "inactive"


# --- all or nothing -------------------------------------------------------------------------
# A failure injected half-way (on the Nth row) leaves the database exactly as before
# (the injection: tests/faults.py).


def snapshot() -> tuple:
    return (
        sorted(Enrollment.objects.values_list("pk", "student_id", "section_id", "status", "grade")),
        sorted(EnrollmentStatusChange.objects.values_list("pk", "enrollment_id", "to_status")),
        sorted(Fee.objects.values_list("pk", "student_id", "consortium_id", "amount")),
    )


@pytest.mark.parametrize("failing_row", [1, 2, 3])
def test_registering_several_classes_is_all_or_nothing(world, student, failing_row):
    section_ids = [section.pk for section in world.sections]
    before = snapshot()
    real = transitions.enrollment_record_created
    with (
        mock.patch.object(
            registration,
            "enrollment_record_created",
            side_effect=failing_on_call(failing_row, real),
        ),
        pytest.raises(InjectedFailure),
    ):
        enrollment_register_many(
            student=student, section_ids=section_ids, actor=student.user, today=TODAY
        )
    assert snapshot() == before

    # The same batch without the failure registers every class (the setup is sound).
    enrollment_register_many(
        student=student, section_ids=section_ids, actor=student.user, today=TODAY
    )
    assert Enrollment.objects.filter(student=student).count() == len(section_ids)


# --- concurrency (PostgreSQL) ---------------------------------------------------------------
# Fifty simultaneous registrations of one student for one class make exactly one
# enrollment, and every other attempt gets a clean refusal (the race: tests/faults.py).

ATTEMPTS = 50


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_fifty_simultaneous_registrations_make_one_enrollment(world, student):
    assert connection.vendor == "postgresql"
    section = world.sections[0]

    outcomes = race(
        lambda: enrollment_register(
            student=student, section=section, actor=student.user, today=TODAY
        ),
        ATTEMPTS,
    )

    kinds = Counter(kind for kind, _value in outcomes)
    errors = [value for kind, value in outcomes if kind == "error"]
    unexpected = [e for e in errors if not isinstance(e, RegistrationRefused)]
    assert unexpected == [], f"server errors: {unexpected[:3]}"
    assert kinds["ok"] == 1
    # "duplicate" from the check or from the database's unique constraint, never the
    # other-teacher wording for the same class.
    assert {e.code for e in errors} == {"duplicate"}
    assert all("already registered for this class" in e.messages[0] for e in errors)

    assert Enrollment.objects.filter(student=student, section=section).count() == 1
    enrollment = Enrollment.objects.get(student=student, section=section)
    assert EnrollmentStatusChange.objects.filter(enrollment=enrollment).count() == 1
    assert Fee.objects.filter(student=student).count() == 1
    print(  # the figures for the report (pytest -s)
        f"\n{ATTEMPTS} simultaneous registrations: {kinds['ok']} enrollment, "
        f"{len(errors)} refused {dict(Counter(e.code for e in errors))}, "
        f"{len(unexpected)} server errors"
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_simultaneous_registrations_for_different_classes_share_one_fee(world, student):
    """Three classes of one consortium registered at once: three enrollments, one fee."""
    sections = list(world.sections)
    pending = list(sections)
    lock = threading.Lock()

    def one():
        with lock:
            section = pending.pop()
        return enrollment_register(
            student=student, section=section, actor=student.user, today=TODAY
        )

    outcomes = race(one, len(sections))
    assert [kind for kind, _v in outcomes] == ["ok"] * len(sections), outcomes
    assert Enrollment.objects.filter(student=student).count() == len(sections)
    assert Fee.objects.filter(student=student).count() == 1


# --- the change log -------------------------------------------------------------------------


def changes():
    return list(
        AccessLogEntry.objects.filter(action=AccessLogEntry.Action.CHANGE)
        .order_by("id")
        .prefetch_related("students")
    )


def students_of(entry):
    return {link.student_id for link in entry.students.all()}


def test_a_students_own_withdrawal_is_logged_as_the_student(here):
    enrollment = here.enrollments[0]
    student = enrollment.student
    registration.enrollment_withdraw(enrollment_id=enrollment.pk, actor=student.user)
    (entry,) = changes()
    assert (entry.what, entry.role, entry.actor) == ("withdrawal", "student", student.user)
    assert students_of(entry) == {student.pk}


def test_a_registration_is_logged_and_a_refused_one_is_not(world, student):
    register(student, world.sections[0])
    (entry,) = changes()
    assert (entry.what, entry.actor) == ("registration", student.user)
    assert students_of(entry) == {student.pk}
    with pytest.raises(RegistrationRefused):
        register(student, world.sections[0])
    assert len(changes()) == 1


def test_a_refused_withdrawal_changes_and_logs_nothing(world, student):
    enrollment = register(student, world.sections[0])
    teacher = world.sections[0].teacher
    for status, extra in [(S.CONFIRMED, {}), (S.GRADED, {"grade": "B"})]:
        enrollment_change_status(
            enrollment_id=enrollment.pk, to_status=status, actor=teacher, **extra
        )
    logged = len(changes())
    with pytest.raises(ValidationError) as refused:
        enrollment_withdraw(enrollment_id=enrollment.pk, actor=student.user, reason="Too hard")
    assert refused.value.messages == [
        "Your teacher has already graded this class, so it can no longer be withdrawn."
    ]
    assert Enrollment.objects.get(pk=enrollment.pk).status == S.GRADED
    assert len(changes()) == logged


def test_a_withdrawal_keeps_the_reason_given(world, student):
    enrollment = register(student, world.sections[0])
    enrollment_withdraw(enrollment_id=enrollment.pk, actor=student.user, reason="  Moved away ")
    last = enrollment.status_changes.order_by("-id").first()
    assert (last.to_status, last.reason) == (S.WITHDRAWN, "Moved away")


# --- late registration ----------------------------------------------------------------------

AFTER_THE_WINDOW = datetime.date(2027, 4, 1)


def test_a_late_registration_with_a_reason_sets_the_window_aside(world, student):
    admin = UserFactory()
    enrollment = enrollment_register(
        student=student,
        section=world.sections[0],
        actor=admin,
        on_behalf=True,
        today=AFTER_THE_WINDOW,
        override_reason="  Moved in from Oregon ",
    )
    change = enrollment.status_changes.get()
    assert (change.kind, change.reason, change.changed_by) == (
        EnrollmentStatusChange.Kind.OVERRIDE,
        "Late registration after the window: Moved in from Oregon",
        admin,
    )
    assert enrollment.registered_by == admin
    assert Fee.objects.filter(student=student).count() == 1


def test_a_late_registration_sets_only_the_window_aside(world, student):
    student.user.email_verified_at = None
    student.user.save()
    assert (
        refusal_code(student, world.sections[0], today=AFTER_THE_WINDOW, override_reason="Moved in")
        == "email_unverified"
    )
    assert not EnrollmentStatusChange.objects.exists()


def test_a_late_registration_needs_a_policy(world, student):
    world.policy.delete()
    assert refusal_code(student, world.sections[0], override_reason="Moved in") == "window_closed"


def test_the_confirmation_names_only_the_students_own_enrollments(world, student, other_student):
    others = register(other_student, world.sections[0])
    assert not enrollment_send_registration_confirmation(
        student_id=student.pk, enrollment_ids=[others.pk]
    )
    assert mail.outbox == []
