"""Tests of enrollment.services.grading: grades, completing a class, and the override."""

import datetime
import threading
from unittest import mock

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from accesslog.models import AccessLogEntry
from enrollment.models import Enrollment, EnrollmentStatusChange, Fee
from enrollment.services import grading, rosters
from enrollment.services.grading import GradesRefused, grades_save
from enrollment.services.registration import enrollment_register
from tests.factories import StudentProfileFactory
from tests.faults import InjectedFailure, failing_on_call, race
from tests.world import TODAY, S, add_teacher, advance, build_place, settle_fee

pytestmark = pytest.mark.django_db

GRADES = ["A", "B+", "C", "D", "F", "A-"]
LETTER_ERROR = "Enter a letter grade from A to F, such as B+ or C."


def grades_for(place) -> dict[int, str]:
    return {e.pk: GRADES[i % len(GRADES)] for i, e in enumerate(place.enrollments)}


def save_queries(place, grades) -> int:
    with CaptureQueriesContext(connection) as captured:
        grading.grades_save(actor=place.teacher, section_id=place.section.pk, grades=grades)
    return len(captured.captured_queries)


def statuses(place):
    return [Enrollment.objects.get(pk=e.pk).status for e in place.enrollments]


def history(enrollment):
    return list(
        EnrollmentStatusChange.objects.filter(enrollment=enrollment)
        .order_by("id")
        .values_list("from_status", "to_status", "grade", "reason", "kind")
    )


def rows_of(place) -> list[tuple]:
    """The class's enrollments, their history and the change log: to show nothing moved."""
    return [
        sorted(
            Enrollment.objects.filter(section=place.section).values_list(
                "pk", "status", "grade", "graded_by", "status_changed_at"
            )
        ),
        EnrollmentStatusChange.objects.count(),
        AccessLogEntry.objects.count(),
    ]


@pytest.fixture
def small(year, today):
    return build_place(year, name="Small", students=5)


@pytest.fixture
def large(year, today):
    return build_place(year, name="Large", students=30)


# --- checking a grade -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "grade", "attained", "error"),
    [
        (" b+ ", "B+", True, ""),
        ("B", "B", True, ""),
        ("C", "C", False, ""),
        ("87", "", None, LETTER_ERROR),
        ("", "", None, "Enter a grade."),
    ],
)
def test_a_grade_is_read_in_the_agreements_scale_against_its_minimum(
    here, raw, grade, attained, error
):
    row = grading.grade_check(articulation=here.articulation, raw=raw)
    assert (row.grade, row.attained, row.error) == (grade, attained, error)


# --- saving grades --------------------------------------------------------------------------
# A constant number of queries whatever the size of the class, the same rules and history
# as one row at a time, all or nothing.


def test_saving_grades_costs_the_same_queries_for_5_and_30_students(small, large):
    # Registered students: each is confirmed, then graded (two history rows each).
    five = save_queries(small, grades_for(small))
    thirty = save_queries(large, grades_for(large))
    assert five == thirty
    assert thirty <= 25  # was about 4 per student (over 120 for 30) one row at a time
    for place in (small, large):
        assert set(
            Enrollment.objects.filter(section=place.section).values_list("status", flat=True)
        ) == {S.GRADED}
        assert EnrollmentStatusChange.objects.filter(
            enrollment__section=place.section
        ).count() == 2 * len(place.enrollments)

    # A second save that changes every grade: graded → graded, still constant.
    regrade = dict.fromkeys(grades_for(small), "B")
    regrade_large = dict.fromkeys(grades_for(large), "B")
    assert save_queries(small, regrade) == save_queries(large, regrade_large)


def test_a_mixed_class_is_saved_with_the_history_of_every_move(here):
    registered, confirmed, graded = here.enrollments
    advance(confirmed, S.CONFIRMED)
    advance(graded, S.GRADED, grade="C")
    rows = grading.grades_save(
        actor=here.teacher,
        section_id=here.section.pk,
        grades={registered.pk: "a", confirmed.pk: "B", graded.pk: "C"},
    )
    assert {row.enrollment_id: row.changed for row in rows} == {
        registered.pk: True,
        confirmed.pk: True,
        graded.pk: False,  # the same grade again: nothing to write
    }
    for enrollment, grade in ((registered, "A"), (confirmed, "B")):
        enrollment.refresh_from_db()
        assert (enrollment.status, enrollment.grade) == (S.GRADED, grade)
        assert enrollment.graded_by == here.teacher
        assert enrollment.graded_at == enrollment.status_changed_at
    history = list(
        EnrollmentStatusChange.objects.filter(enrollment=registered)
        .order_by("pk")
        .values_list("from_status", "to_status", "grade", "changed_by", "kind")
    )
    assert history[-2:] == [
        (S.REGISTERED, S.CONFIRMED, "", here.teacher.pk, "change"),
        (S.CONFIRMED, S.GRADED, "A", here.teacher.pk, "change"),
    ]
    assert EnrollmentStatusChange.objects.filter(enrollment=graded, to_status=S.GRADED).count() == 1


def test_saved_grades_are_logged_for_the_students_whose_grade_changed(here):
    first, second, third = here.enrollments
    advance(second, S.GRADED, grade="C")
    grades_save(
        actor=here.teacher,
        section_id=here.section.pk,
        grades={first.pk: "A", second.pk: "C", third.pk: " "},
    )
    entry = AccessLogEntry.objects.get()
    assert (entry.action, entry.what, entry.actor) == ("change", "grades saved", here.teacher)
    assert set(entry.students.values_list("student_id", flat=True)) == {first.student_id}
    assert Enrollment.objects.get(pk=third.pk).status == S.REGISTERED  # an empty box


def test_a_wrong_row_saves_no_grade_and_each_wrong_row_says_why(here, there):
    first, second, third = here.enrollments
    rosters.roster_remove(actor=here.teacher, enrollment_id=third.pk, reason_code="dropped")
    outsider = there.enrollments[0]
    before = rows_of(here)
    with pytest.raises(GradesRefused) as refused:
        grades_save(
            actor=here.teacher,
            section_id=here.section.pk,
            grades={first.pk: "A", second.pk: "87", third.pk: "B", outsider.pk: "A"},
        )
    assert refused.value.code == "grades_refused"
    assert refused.value.messages == [
        "No grade was saved: correct the rows marked below, then save again."
    ]
    assert {pk: row.error for pk, row in refused.value.rows.items()} == {
        first.pk: "",
        second.pk: LETTER_ERROR,
        third.pk: "This student is removed: the grade cannot change here.",
        outsider.pk: "This student is not in the class.",
    }
    assert rows_of(here) == before
    assert Enrollment.objects.get(pk=outsider.pk).status == S.REGISTERED


def test_after_the_grading_deadline_the_teacher_cannot_change_grades(here):
    enrollment = advance(here.enrollments[0], S.GRADED, grade="B")
    before = rows_of(here)
    with pytest.raises(ValidationError) as refused:
        grades_save(
            actor=here.teacher,
            section_id=here.section.pk,
            grades={enrollment.pk: "A"},
            today=datetime.date(2027, 6, 26),
        )
    assert refused.value.code == "grading_closed"
    assert refused.value.messages == [
        "The grading deadline (June 25, 2027) has passed. To change a grade now, ask your "
        "consortium admin."
    ]
    assert rows_of(here) == before
    # The deadline day itself is still open.
    grades_save(
        actor=here.teacher,
        section_id=here.section.pk,
        grades={enrollment.pk: "A"},
        today=datetime.date(2027, 6, 25),
    )
    assert Enrollment.objects.get(pk=enrollment.pk).grade == "A"


@pytest.mark.parametrize("who", ["another teacher", "the consortium admin"])
def test_only_the_teacher_of_the_class_saves_its_grades(here, who):
    actor = add_teacher(here.school) if who == "another teacher" else here.admin
    before = rows_of(here)
    with pytest.raises(PermissionDenied):
        grades_save(actor=actor, section_id=here.section.pk, grades={here.enrollments[0].pk: "A"})
    assert rows_of(here) == before


# A failure injected half-way leaves the database exactly as before (the injection:
# tests/faults.py).


def snapshot() -> tuple:
    return (
        sorted(Enrollment.objects.values_list("pk", "student_id", "section_id", "status", "grade")),
        sorted(EnrollmentStatusChange.objects.values_list("pk", "enrollment_id", "to_status")),
        sorted(Fee.objects.values_list("pk", "student_id", "consortium_id", "amount")),
    )


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


# Concurrency on PostgreSQL: the saves really race in the database (tests/faults.py).


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
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


# --- completing the class -------------------------------------------------------------------


def test_completing_the_class_sets_each_result_and_tells_the_students(
    here, django_capture_on_commit_callbacks
):
    first, second, third = here.enrollments
    settle_fee(first)
    rosters.roster_remove(actor=here.teacher, enrollment_id=third.pk, reason_code="dropped")
    grades_save(
        actor=here.teacher, section_id=here.section.pk, grades={first.pk: "A", second.pk: "C"}
    )
    with django_capture_on_commit_callbacks(execute=True):
        counts = grading.section_complete(actor=here.teacher, section_id=here.section.pk)
    assert counts == {"attained": 1, "not_attained": 1}
    assert statuses(here) == [S.ATTAINED, S.NOT_ATTAINED, S.REMOVED]
    assert history(first)[-1][:2] == (S.GRADED, S.ATTAINED)
    assert history(second)[-1][:2] == (S.GRADED, S.NOT_ATTAINED)
    here.section.refresh_from_db()
    assert here.section.completed_by == here.teacher
    assert here.section.completed_at is not None
    entry = AccessLogEntry.objects.latest("pk")
    assert entry.what == "class completed"
    assert set(entry.students.values_list("student_id", flat=True)) == {
        first.student_id,
        second.student_id,
    }
    title = here.articulation.high_school_course.title
    assert sorted((m.to[0], m.subject) for m in mail.outbox) == sorted(
        [
            (first.student.user.email, f"Your grade is posted: {title}"),
            (second.student.user.email, f"Your grade is posted: {title}"),
            # Only the student whose fee is settled has credit ready for the transcript.
            (first.student.user.email, f"Your college credit is ready for the transcript: {title}"),
        ]
    )


def test_completing_is_refused_while_students_wait_for_a_grade(
    here, django_capture_on_commit_callbacks
):
    grades_save(
        actor=here.teacher, section_id=here.section.pk, grades={here.enrollments[0].pk: "A"}
    )
    before = rows_of(here)
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(ValidationError) as refused,
    ):
        grading.section_complete(actor=here.teacher, section_id=here.section.pk)
    assert refused.value.code == "ungraded"
    assert refused.value.messages == [
        "2 students have no grade yet: enter a grade or remove them first."
    ]
    assert rows_of(here) == before
    here.section.refresh_from_db()
    assert here.section.completed_at is None
    assert mail.outbox == []


def test_a_class_is_completed_once(here):
    grades_save(
        actor=here.teacher,
        section_id=here.section.pk,
        grades={e.pk: "B" for e in here.enrollments},
    )
    grading.section_complete(actor=here.teacher, section_id=here.section.pk)
    before = rows_of(here)
    with pytest.raises(ValidationError) as refused:
        grading.section_complete(actor=here.teacher, section_id=here.section.pk)
    assert refused.value.messages == ["This class is already marked complete."]
    assert rows_of(here) == before


def test_only_the_teacher_of_the_class_completes_it(here):
    grades_save(
        actor=here.teacher,
        section_id=here.section.pk,
        grades={e.pk: "B" for e in here.enrollments},
    )
    with pytest.raises(PermissionDenied):
        grading.section_complete(actor=add_teacher(here.school), section_id=here.section.pk)
    assert statuses(here) == [S.GRADED] * 3
    here.section.refresh_from_db()
    assert here.section.completed_at is None


def test_mark_complete_rolls_back_when_one_change_fails(here, monkeypatch):
    grading.grades_save(
        actor=here.teacher,
        section_id=here.section.pk,
        grades={e.pk: "A" for e in here.enrollments},
    )

    # Every result is written, then the history write fails.
    def failing(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(EnrollmentStatusChange.objects, "bulk_create", failing)
    with pytest.raises(RuntimeError):
        grading.section_complete(actor=here.teacher, section_id=here.section.pk)
    assert statuses(here) == [S.GRADED] * 3
    here.section.refresh_from_db()
    assert here.section.completed_at is None
    assert mail.outbox == []


# --- the override ---------------------------------------------------------------------------


def override(place, enrollment, grade, reason="Gradebook typo", actor=None):
    return grading.grade_override(
        actor=actor or place.admin, enrollment_id=enrollment.pk, grade=grade, reason=reason
    )


def test_an_override_of_a_final_result_follows_the_minimum(
    here, django_capture_on_commit_callbacks
):
    enrollment = advance(here.enrollments[0], S.ATTAINED, grade="A")
    settle_fee(enrollment)
    override(here, enrollment, "c")
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.grade, enrollment.graded_by) == (
        S.NOT_ATTAINED,
        "C",
        here.admin,
    )
    assert history(enrollment)[-1] == (
        S.ATTAINED,
        S.NOT_ATTAINED,
        "C",
        "Gradebook typo",
        "override",
    )
    assert AccessLogEntry.objects.get().what == "grade override"

    with django_capture_on_commit_callbacks(execute=True):
        override(here, enrollment, "B+", reason="Second look")
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.grade) == (S.ATTAINED, "B+")
    (email,) = mail.outbox
    assert email.subject.startswith("Your college credit is ready for the transcript")


def test_an_override_of_a_registered_student_in_a_complete_class_sets_the_result(here):
    enrollment = here.enrollments[0]
    here.section.completed_at = datetime.datetime(2026, 11, 30, tzinfo=datetime.UTC)
    here.section.completed_by = here.teacher
    here.section.save()
    override(here, enrollment, "A", reason="Graded on paper")
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.grade) == (S.ATTAINED, "A")
    assert [h[:2] + h[3:] for h in history(enrollment)] == [
        (S.REGISTERED, S.CONFIRMED, "Graded on paper", "override"),
        (S.CONFIRMED, S.GRADED, "Graded on paper", "override"),
        (S.GRADED, S.ATTAINED, "Graded on paper", "override"),
    ]


def test_an_override_while_the_class_is_open_only_grades(here):
    enrollment = advance(here.enrollments[0], S.GRADED, grade="B")
    override(here, enrollment, "D")
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.grade) == (S.GRADED, "D")
    assert history(enrollment)[-1] == (S.GRADED, S.GRADED, "D", "Gradebook typo", "override")


@pytest.mark.parametrize(
    ("grade", "reason", "errors"),
    [
        ("C", "  ", {"reason": ["Give a reason for this override."]}),
        ("Z", "Typo", {"grade": [LETTER_ERROR]}),
    ],
    ids=["no-reason", "bad-grade"],
)
def test_an_override_without_a_reason_or_a_valid_grade_changes_nothing(here, grade, reason, errors):
    enrollment = advance(here.enrollments[0], S.ATTAINED, grade="A")
    before = rows_of(here)
    with pytest.raises(ValidationError) as refused:
        override(here, enrollment, grade, reason=reason)
    assert refused.value.message_dict == errors
    assert rows_of(here) == before


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (
            S.TRANSCRIBED,
            "This credit is on the college transcript: the registrar must undo that first.",
        ),
        (S.WITHDRAWN, "This student left the class: there is no grade to change."),
    ],
)
def test_a_transcribed_or_withdrawn_enrollment_is_not_overridden(here, status, message):
    enrollment = here.enrollments[0]
    if status == S.TRANSCRIBED:
        advance(enrollment, S.TRANSCRIBED)
    else:
        Enrollment.objects.filter(pk=enrollment.pk).update(status=S.WITHDRAWN)
    before = rows_of(here)
    with pytest.raises(ValidationError) as refused:
        override(here, enrollment, "C")
    assert refused.value.messages == [message]
    assert rows_of(here) == before


@pytest.mark.parametrize(
    ("who", "refusal"),
    [("teacher", PermissionDenied), ("registrar", PermissionDenied), ("other admin", Http404)],
)
def test_only_a_consortium_admin_of_the_class_overrides(here, there, who, refusal):
    actor = {"teacher": here.teacher, "registrar": here.registrar, "other admin": there.admin}
    enrollment = advance(here.enrollments[0], S.ATTAINED, grade="A")
    before = rows_of(here)
    with pytest.raises(refusal):
        override(here, enrollment, "C", actor=actor[who])
    assert rows_of(here) == before
