"""Concurrency on PostgreSQL: fifty simultaneous registrations of one student for one class
make exactly one enrollment, and every other attempt gets a clean refusal.

Each thread has its own database connection (Django's connections are per thread), so
the registrations really race in the database; a barrier starts them together.
"""

import threading
from collections import Counter

import pytest
from django.db import connection, connections

from enrollment.models import Enrollment, EnrollmentStatusChange, Fee
from enrollment.services.grading import grades_save
from enrollment.services.registration import RegistrationRefused, enrollment_register
from tests.world import TODAY

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

ATTEMPTS = 50


def race(target, count: int) -> list:
    """Run target() in `count` threads started together; returns each outcome."""
    barrier = threading.Barrier(count)
    outcomes: list = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            outcomes[index] = ("ok", target())
        except Exception as error:  # every outcome is checked by the test
            outcomes[index] = ("error", error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a registration hung"
    return outcomes


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


def test_two_saves_of_the_same_grade_at_once_lose_nothing(world, student):
    """The teacher saves a grade from two tabs at once: the saves run one after the other
    (the class row is locked), the last one wins, and the history shows both."""
    section = world.sections[0]
    enrollment = enrollment_register(
        student=student, section=section, actor=student.user, today=TODAY
    )
    grades = iter(["A", "C"])
    lock = threading.Lock()

    def save():
        with lock:
            grade = next(grades)
        grades_save(
            actor=section.teacher,
            section_id=section.pk,
            grades={enrollment.pk: grade},
            today=TODAY,
        )
        return grade

    outcomes = race(save, 2)
    assert [kind for kind, _v in outcomes] == ["ok", "ok"], outcomes
    enrollment.refresh_from_db()
    graded = list(
        EnrollmentStatusChange.objects.filter(enrollment=enrollment, to_status="graded")
        .order_by("pk")
        .values_list("grade", flat=True)
    )
    assert sorted(graded) == ["A", "C"]
    assert enrollment.grade == graded[-1], "the later save is the grade that stays"
