"""Multi-row writes are all or nothing: a failure injected half-way (on the Nth row) leaves
the database exactly as before. (Agreement imports and the roll-over: tests/trust/agreements/.)

A failure is injected by wrapping a function the service calls once per row (or once per
bulk write); it raises on the Nth call. Without the service's transaction, what was written
before call N would stay.
"""

from unittest import mock

import pytest

from enrollment.models import Enrollment, EnrollmentStatusChange, Fee
from enrollment.services import registration, transitions
from enrollment.services.grading import grades_save
from enrollment.services.registration import enrollment_register, enrollment_register_many
from tests.factories import StudentProfileFactory
from tests.world import TODAY

pytestmark = pytest.mark.django_db


class InjectedFailure(Exception):
    pass


def failing_on_call(n: int, real):
    calls = 0

    def wrapper(*args, **kwargs):
        nonlocal calls
        calls += 1
        if calls == n:
            raise InjectedFailure(f"injected failure on call {n}")
        return real(*args, **kwargs)

    return wrapper


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


@pytest.mark.parametrize("failing_call", [1, 2])
def test_saving_a_class_of_grades_is_all_or_nothing(world, failing_call):
    section = world.sections[0]
    students = StudentProfileFactory.create_batch(3, high_school=world.school)
    enrollments = [
        enrollment_register(student=s, section=section, actor=s.user, today=TODAY) for s in students
    ]
    grades = {e.pk: grade for e, grade in zip(enrollments, ["A", "B+", "C"], strict=True)}
    before = snapshot()
    # The class is confirmed, then graded: two bulk status changes, each writing the
    # statuses and then the history. The history write fails after the statuses of every
    # row are written: of the confirmation (1), or of the grading (2).
    history = EnrollmentStatusChange.objects
    real = history.bulk_create
    with (
        mock.patch.object(history, "bulk_create", side_effect=failing_on_call(failing_call, real)),
        pytest.raises(InjectedFailure),
    ):
        grades_save(actor=section.teacher, section_id=section.pk, grades=grades, today=TODAY)
    assert snapshot() == before

    grades_save(actor=section.teacher, section_id=section.pk, grades=grades, today=TODAY)
    assert sorted(Enrollment.objects.filter(section=section).values_list("grade", flat=True)) == [
        "A",
        "B+",
        "C",
    ]
