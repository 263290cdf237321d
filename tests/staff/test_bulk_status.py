"""enrollments_change_status, the bulk form of the one status writer, and the grade save
built on it: a constant number of queries whatever the size of the class, the same rules
and history as one row at a time, all or nothing."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accesslog.models import AccessLogEntry
from enrollment.models import Enrollment, EnrollmentStatusChange
from enrollment.services import grading
from enrollment.services.transitions import (
    StatusChange,
    TransitionNotAllowed,
    enrollment_status_changed,
    enrollments_change_status,
)
from tests.world import S, advance, build_place

pytestmark = pytest.mark.django_db

GRADES = ["A", "B+", "C", "D", "F", "A-"]


def grades_for(place) -> dict[int, str]:
    return {e.pk: GRADES[i % len(GRADES)] for i, e in enumerate(place.enrollments)}


def save_queries(place, grades) -> int:
    with CaptureQueriesContext(connection) as captured:
        grading.grades_save(actor=place.teacher, section_id=place.section.pk, grades=grades)
    return len(captured.captured_queries)


def post_queries(client, place, grades) -> int:
    client.force_login(place.teacher)
    url = reverse("enrollment:teacher_grades", args=[place.section.pk])
    data = {f"grade_{pk}": grade for pk, grade in grades.items()}
    with CaptureQueriesContext(connection) as captured:
        response = client.post(url, data)
    assert response.status_code == 302
    return len(captured.captured_queries)


@pytest.fixture
def small(year, today):
    return build_place(year, name="Small", students=5)


@pytest.fixture
def large(year, today):
    return build_place(year, name="Large", students=30)


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


def test_the_grade_page_post_costs_the_same_queries_for_5_and_30_students(client, small, large):
    five = post_queries(client, small, grades_for(small))
    thirty = post_queries(client, large, grades_for(large))
    assert five == thirty
    (entry,) = AccessLogEntry.objects.filter(what="grades saved", student_count=30)
    assert entry.actor == large.teacher


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


def test_one_refused_move_refuses_the_whole_batch(here):
    first, second, third = here.enrollments
    advance(second, S.GRADED)
    before = EnrollmentStatusChange.objects.count()
    with pytest.raises(TransitionNotAllowed):
        enrollments_change_status(
            changes=[
                StatusChange(first.pk, S.CONFIRMED),
                StatusChange(second.pk, S.CONFIRMED),  # graded cannot go back
                StatusChange(third.pk, S.CONFIRMED),
            ],
            actor=here.teacher,
        )
    assert [Enrollment.objects.get(pk=e.pk).status for e in (first, third)] == [S.REGISTERED] * 2
    assert EnrollmentStatusChange.objects.count() == before


def test_the_rules_of_one_row_hold_in_a_batch(here):
    first, second, _third = here.enrollments
    with pytest.raises(ValidationError) as refused:
        enrollments_change_status(changes=[StatusChange(first.pk, S.REMOVED)], actor=here.teacher)
    assert refused.value.code == "reason_required"
    advance(second, S.CONFIRMED)
    with pytest.raises(ValidationError) as refused:
        enrollments_change_status(changes=[StatusChange(second.pk, S.GRADED)], actor=here.teacher)
    assert refused.value.code == "grade_required"
    with pytest.raises(ValueError, match="only once"):
        enrollments_change_status(
            changes=[StatusChange(first.pk, S.CONFIRMED), StatusChange(first.pk, S.CONFIRMED)],
            actor=here.teacher,
        )
    with pytest.raises(Enrollment.DoesNotExist):
        enrollments_change_status(
            changes=[StatusChange(first.pk, S.CONFIRMED), StatusChange(10**9, S.CONFIRMED)],
            actor=here.teacher,
        )
    assert Enrollment.objects.get(pk=first.pk).status == S.REGISTERED


def test_a_batch_announces_every_change_once_committed(here, django_capture_on_commit_callbacks):
    heard = []

    def receiver(sender, enrollment_id, from_status, to_status, **kwargs):
        heard.append((enrollment_id, from_status, to_status))

    enrollment_status_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            result = enrollments_change_status(
                changes=[StatusChange(e.pk, S.CONFIRMED) for e in reversed(here.enrollments)],
                actor=here.teacher,
            )
            assert heard == []  # not before the commit
    finally:
        enrollment_status_changed.disconnect(receiver)
    assert heard == [(e.pk, S.REGISTERED, S.CONFIRMED) for e in reversed(here.enrollments)]
    assert [e.pk for e in result] == [e.pk for e in reversed(here.enrollments)]  # as asked


def test_a_batch_of_different_moves_keeps_each_rows_own_values(here):
    """Each field is written in one statement for all rows: a row whose grade does not
    change keeps its own grade, grader and time; the others get theirs."""
    regraded, finished, confirmed = here.enrollments
    advance(regraded, S.GRADED, grade="A")
    finished = advance(finished, S.GRADED, grade="C")
    advance(confirmed, S.CONFIRMED)
    enrollments_change_status(
        changes=[
            StatusChange(regraded.pk, S.GRADED, grade="B"),
            StatusChange(finished.pk, S.ATTAINED),
            StatusChange(confirmed.pk, S.GRADED, grade="D"),
        ],
        actor=here.admin,
    )
    rows = {e.pk: e for e in Enrollment.objects.filter(pk__in=[e.pk for e in here.enrollments])}
    assert (rows[regraded.pk].status, rows[regraded.pk].grade) == (S.GRADED, "B")
    assert (rows[finished.pk].status, rows[finished.pk].grade) == (S.ATTAINED, "C")
    assert (rows[confirmed.pk].status, rows[confirmed.pk].grade) == (S.GRADED, "D")
    assert rows[regraded.pk].graded_by == here.admin
    assert rows[confirmed.pk].graded_by == here.admin
    assert rows[finished.pk].graded_by == here.teacher
    assert rows[finished.pk].graded_at == finished.graded_at
    assert rows[regraded.pk].graded_at == rows[regraded.pk].status_changed_at
    assert rows[finished.pk].status_changed_at == rows[regraded.pk].status_changed_at
    history = {
        c.enrollment_id: (c.from_status, c.to_status, c.grade)
        for c in EnrollmentStatusChange.objects.filter(changed_by=here.admin)
    }
    assert history == {
        regraded.pk: (S.GRADED, S.GRADED, "B"),
        finished.pk: (S.GRADED, S.ATTAINED, "C"),
        confirmed.pk: (S.CONFIRMED, S.GRADED, "D"),
    }


def test_rows_are_locked_in_one_statement_in_primary_key_order(here):
    ids = [e.pk for e in here.enrollments]
    with CaptureQueriesContext(connection) as captured:
        enrollments_change_status(
            changes=[StatusChange(pk, S.CONFIRMED) for pk in reversed(ids)], actor=here.teacher
        )
    # The enrollment rows; the other read finds the colleges whose queues change.
    reads = [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].startswith('SELECT "enrollment_enrollment"')
    ]
    assert len(reads) == 1
    assert "ORDER BY" in reads[0]
    assert '"id" ASC' in reads[0]
    if connection.features.has_select_for_update:
        assert "FOR UPDATE" in reads[0]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_batches_over_the_same_rows_in_opposite_orders_do_not_deadlock(year, today):
    """Rows are locked in pk order whatever order they are given in: two batches over
    the same class wait for each other instead of deadlocking, and both are recorded."""
    import threading

    from django.db import connections

    place = build_place(year, name="Race", students=12)
    ids = [e.pk for e in place.enrollments]
    for pk in ids:
        advance(Enrollment.objects.get(pk=pk), S.GRADED, grade="A")
    barrier = threading.Barrier(2)
    errors = []

    def regrade(order, grade):
        try:
            barrier.wait(timeout=30)
            enrollments_change_status(
                changes=[StatusChange(pk, S.GRADED, grade=grade) for pk in order],
                actor=place.teacher,
            )
        except Exception as error:  # checked below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=regrade, args=(ids, "B")),
        threading.Thread(target=regrade, args=(list(reversed(ids)), "C")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    final = set(Enrollment.objects.filter(pk__in=ids).values_list("grade", flat=True))
    assert len(final) == 1  # one batch ran wholly after the other
    for pk in ids:
        graded = list(
            EnrollmentStatusChange.objects.filter(enrollment_id=pk, to_status=S.GRADED)
            .order_by("pk")
            .values_list("grade", flat=True)
        )
        assert sorted(graded[-2:]) == ["B", "C"]
        assert graded[-1] in final
