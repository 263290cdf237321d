"""Tests of enrollment.services.transitions: the one writer of Enrollment.status. (Over
600 lines because every rule of the transitions table, single and in bulk, is here, beside
the concurrency tests of the row lock.)"""

import datetime
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from accesslog.models import AccessLogEntry
from enrollment.models import Enrollment, EnrollmentStatus, EnrollmentStatusChange
from enrollment.services.transitions import (
    ALLOWED_TRANSITIONS,
    REASON_REQUIRED,
    StatusChange,
    TransitionNotAllowed,
    change_log_record,
    enrollment_change_status,
    enrollment_record_created,
    enrollment_status_changed,
    enrollments_change_status,
)
from tests import factories as f
from tests.world import advance, build_place

S = EnrollmentStatus
TRANSCRIBED_ON = datetime.date(2027, 7, 15)

# How to reach each status from a new enrollment: (to_status, extra arguments) steps.
PATHS: dict[str, list[tuple[str, dict]]] = {
    S.REGISTERED: [],
    S.CONFIRMED: [(S.CONFIRMED, {})],
    S.GRADED: [(S.CONFIRMED, {}), (S.GRADED, {"grade": "B"})],
    S.ATTAINED: [(S.CONFIRMED, {}), (S.GRADED, {"grade": "B"}), (S.ATTAINED, {})],
    S.NOT_ATTAINED: [(S.CONFIRMED, {}), (S.GRADED, {"grade": "B"}), (S.NOT_ATTAINED, {})],
    S.TRANSCRIBED: [
        (S.CONFIRMED, {}),
        (S.GRADED, {"grade": "B"}),
        (S.ATTAINED, {}),
        (S.TRANSCRIBED, {"transcribed_on": TRANSCRIBED_ON, "college_student_id": "C-1"}),
    ],
    S.WITHDRAWN: [(S.WITHDRAWN, {})],
    S.REMOVED: [(S.REMOVED, {"reason": "Not in my class"})],
}


def enrollment_in(status: str) -> Enrollment:
    enrollment = f.EnrollmentFactory()
    for to_status, step in PATHS[status]:
        extra = dict(step)
        enrollment_change_status(
            enrollment_id=enrollment.pk,
            to_status=to_status,
            actor=enrollment.section.teacher,
            reason=extra.pop("reason", "setup"),
            **extra,
        )
    enrollment.refresh_from_db()
    assert enrollment.status == status
    return enrollment


def arguments_for(to_status: str, enrollment: Enrollment) -> dict:
    """What a caller must pass to move into `to_status`."""
    if to_status == S.GRADED:
        return {"grade": "A" if enrollment.grade != "A" else "C"}
    if to_status == S.TRANSCRIBED:
        return {"transcribed_on": TRANSCRIBED_ON, "college_student_id": "C-7"}
    return {}


def history(enrollment) -> list[tuple]:
    return list(
        EnrollmentStatusChange.objects.filter(enrollment=enrollment).values_list(
            "from_status", "to_status", "grade", "changed_by", "reason"
        )
    )


ALLOWED = sorted((a, b) for a, targets in ALLOWED_TRANSITIONS.items() for b in targets)
REFUSED = [
    (S.REGISTERED, S.GRADED),
    (S.REGISTERED, S.ATTAINED),
    (S.REGISTERED, S.TRANSCRIBED),
    (S.CONFIRMED, S.REGISTERED),
    (S.CONFIRMED, S.ATTAINED),
    (S.GRADED, S.CONFIRMED),
    (S.GRADED, S.TRANSCRIBED),
    (S.GRADED, S.WITHDRAWN),
    (S.ATTAINED, S.GRADED),
    (S.ATTAINED, S.WITHDRAWN),
    (S.NOT_ATTAINED, S.TRANSCRIBED),
    (S.TRANSCRIBED, S.REGISTERED),
    (S.TRANSCRIBED, S.NOT_ATTAINED),
    (S.WITHDRAWN, S.REGISTERED),
    (S.WITHDRAWN, S.CONFIRMED),
    (S.REMOVED, S.CONFIRMED),
    (S.REMOVED, S.REGISTERED),
]


def _pair_id(pair) -> str:
    return f"{pair[0]}->{pair[1]}"


def test_the_table_covers_every_status():
    assert set(ALLOWED_TRANSITIONS) == set(S.values)
    for targets in ALLOWED_TRANSITIONS.values():
        assert targets <= set(S.values)
    assert set(REASON_REQUIRED) <= set(ALLOWED)
    assert not set(REFUSED) & set(ALLOWED)


@pytest.mark.django_db
@pytest.mark.parametrize("pair", ALLOWED, ids=_pair_id)
def test_every_allowed_transition_writes_one_history_row(pair):
    from_status, to_status = pair
    enrollment = enrollment_in(from_status)
    actor = f.make_staff("registrar", enrollment.section.articulation.college)
    before = history(enrollment)

    result = enrollment_change_status(
        enrollment_id=enrollment.pk,
        to_status=to_status,
        actor=actor,
        reason="  Checked with the teacher  ",
        **arguments_for(to_status, enrollment),
    )

    enrollment.refresh_from_db()
    assert result.status == enrollment.status == to_status
    after = history(enrollment)
    assert after[: len(before)] == before
    assert len(after) == len(before) + 1
    new_from, new_to, grade, changed_by, reason = after[-1]
    assert (new_from, new_to, changed_by, reason) == (
        from_status,
        to_status,
        actor.pk,
        "Checked with the teacher",
    )
    graded = to_status in (S.GRADED, S.ATTAINED, S.NOT_ATTAINED, S.TRANSCRIBED)
    assert grade == (enrollment.grade if graded else "")


@pytest.mark.django_db
@pytest.mark.parametrize("pair", REFUSED, ids=_pair_id)
def test_refused_transitions_change_nothing(pair, django_capture_on_commit_callbacks):
    from_status, to_status = pair
    enrollment = enrollment_in(from_status)
    before = history(enrollment)
    snapshot = Enrollment.objects.filter(pk=enrollment.pk).values().get()

    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(TransitionNotAllowed) as caught,
    ):
        enrollment_change_status(
            enrollment_id=enrollment.pk,
            to_status=to_status,
            actor=enrollment.section.teacher,
            reason="Trying anyway",
            **arguments_for(to_status, enrollment),
        )

    assert caught.value.code == "transition_not_allowed"
    assert str(S(from_status).label) in caught.value.messages[0]
    assert Enrollment.objects.filter(pk=enrollment.pk).values().get() == snapshot
    assert history(enrollment) == before
    assert announcements(callbacks) == []  # (the actor made above renews its own page version)


@pytest.mark.django_db
@pytest.mark.parametrize("pair", sorted(REASON_REQUIRED), ids=_pair_id)
@pytest.mark.parametrize("reason", ["", "   "], ids=["empty", "blank"])
def test_reason_is_required_for_removals_and_reversals(pair, reason):
    from_status, to_status = pair
    enrollment = enrollment_in(from_status)
    before = history(enrollment)

    with pytest.raises(ValidationError) as caught:
        enrollment_change_status(
            enrollment_id=enrollment.pk,
            to_status=to_status,
            actor=enrollment.section.teacher,
            reason=reason,
            **arguments_for(to_status, enrollment),
        )

    assert caught.value.code == "reason_required"
    assert not isinstance(caught.value, TransitionNotAllowed)
    enrollment.refresh_from_db()
    assert enrollment.status == from_status
    assert history(enrollment) == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("from_status", "to_status", "code"),
    [
        (S.CONFIRMED, S.GRADED, "grade_required"),
        (S.ATTAINED, S.TRANSCRIBED, "transcribed_on_required"),
    ],
)
def test_missing_grade_or_transcription_date_is_explained(from_status, to_status, code):
    """Refused with a message, not by the database's check constraint (IntegrityError)."""
    enrollment = enrollment_in(from_status)
    before = history(enrollment)
    with pytest.raises(ValidationError) as caught:
        enrollment_change_status(enrollment_id=enrollment.pk, to_status=to_status, actor=None)
    assert caught.value.code == code
    enrollment.refresh_from_db()
    assert enrollment.status == from_status
    assert history(enrollment) == before


@pytest.mark.django_db
def test_an_unknown_status_is_refused_as_a_transition():
    enrollment = f.EnrollmentFactory()
    with pytest.raises(TransitionNotAllowed):
        enrollment_change_status(enrollment_id=enrollment.pk, to_status="lost", actor=None)
    enrollment.refresh_from_db()
    assert enrollment.status == S.REGISTERED


@pytest.mark.django_db
@pytest.mark.parametrize("pair", [(S.REGISTERED, S.CONFIRMED), (S.CONFIRMED, S.WITHDRAWN)])
def test_no_reason_needed_for_ordinary_moves(pair):
    enrollment = enrollment_in(pair[0])
    enrollment_change_status(enrollment_id=enrollment.pk, to_status=pair[1], actor=None)
    enrollment.refresh_from_db()
    assert enrollment.status == pair[1]
    assert history(enrollment)[-1][4] == ""


def announcements(callbacks) -> list:
    """The on-commit callbacks but the cached pages' version renewals (sers.versions),
    which every change of an enrollment adds."""
    return [c for c in callbacks if c.__module__ != "sers.versions"]


@pytest.mark.django_db
@pytest.mark.parametrize("status", [S.REGISTERED, S.CONFIRMED, S.GRADED, S.TRANSCRIBED])
def test_same_status_with_nothing_changing_is_a_no_op(status, django_capture_on_commit_callbacks):
    enrollment = enrollment_in(status)
    before = history(enrollment)
    snapshot = Enrollment.objects.filter(pk=enrollment.pk).values().get()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        result = enrollment_change_status(
            enrollment_id=enrollment.pk,
            to_status=status,
            actor=f.UserFactory(),
            reason="Again",
            grade=enrollment.grade or None,
            transcribed_on=enrollment.transcribed_on,
        )

    assert result.status == status
    assert Enrollment.objects.filter(pk=enrollment.pk).values().get() == snapshot
    assert history(enrollment) == before
    assert announcements(callbacks) == []  # (the actor made above renews its own page version)


@pytest.mark.django_db
def test_grade_change_while_graded_is_recorded_with_the_grade():
    enrollment = enrollment_in(S.GRADED)
    teacher = enrollment.section.teacher
    enrollment_change_status(
        enrollment_id=enrollment.pk,
        to_status=S.GRADED,
        actor=teacher,
        grade="A-",
        reason="Late work accepted",
    )
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.grade, enrollment.graded_by) == (S.GRADED, "A-", teacher)
    assert enrollment.graded_at is not None
    assert history(enrollment)[-1] == (S.GRADED, S.GRADED, "A-", teacher.pk, "Late work accepted")
    # The earlier grading row keeps the grade it recorded.
    assert history(enrollment)[-2][:3] == (S.CONFIRMED, S.GRADED, "B")


@pytest.mark.django_db
def test_grade_change_on_a_final_result_is_refused():
    enrollment = enrollment_in(S.ATTAINED)
    with pytest.raises(TransitionNotAllowed):
        enrollment_change_status(
            enrollment_id=enrollment.pk, to_status=S.ATTAINED, actor=None, grade="C"
        )
    enrollment.refresh_from_db()
    assert enrollment.grade == "B"


@pytest.mark.django_db
def test_transcription_records_date_and_college_id_and_undo_clears_the_date():
    enrollment = enrollment_in(S.TRANSCRIBED)
    assert enrollment.transcribed_on == TRANSCRIBED_ON
    assert enrollment.college_student_id == "C-1"
    registrar = f.make_staff("registrar", enrollment.section.articulation.college)

    enrollment_change_status(
        enrollment_id=enrollment.pk,
        to_status=S.ATTAINED,
        actor=registrar,
        reason="Posted to the wrong term",
    )

    enrollment.refresh_from_db()
    assert enrollment.status == S.ATTAINED
    assert enrollment.transcribed_on is None
    assert enrollment.grade == "B"
    assert history(enrollment)[-1] == (
        S.TRANSCRIBED,
        S.ATTAINED,
        "B",
        registrar.pk,
        "Posted to the wrong term",
    )


@pytest.mark.django_db
def test_status_changed_at_moves_with_each_change():
    enrollment = f.EnrollmentFactory()
    first = enrollment.status_changed_at
    enrollment_change_status(enrollment_id=enrollment.pk, to_status=S.CONFIRMED, actor=None)
    enrollment.refresh_from_db()
    assert enrollment.status_changed_at >= first


@pytest.mark.django_db
def test_signal_fires_once_after_commit(django_capture_on_commit_callbacks):
    enrollment = f.EnrollmentFactory()
    received = []

    def receiver(sender, **kwargs):
        received.append((sender, kwargs))

    enrollment_status_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            enrollment_change_status(enrollment_id=enrollment.pk, to_status=S.CONFIRMED, actor=None)
            # Nothing is announced while the transaction is still open.
            assert received == []
        assert len(announcements(callbacks)) == 1
        assert received == []
        announcements(callbacks)[0]()
    finally:
        enrollment_status_changed.disconnect(receiver)

    assert len(received) == 1
    sender, kwargs = received[0]
    assert sender is Enrollment
    assert kwargs["enrollment_id"] == enrollment.pk
    assert (kwargs["from_status"], kwargs["to_status"]) == (S.REGISTERED, S.CONFIRMED)


@pytest.mark.django_db
def test_signal_fires_when_the_outer_transaction_commits(django_capture_on_commit_callbacks):
    enrollment = f.EnrollmentFactory()
    received = []

    def receiver(sender, **kwargs):
        received.append(kwargs["to_status"])

    enrollment_status_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            enrollment_change_status(enrollment_id=enrollment.pk, to_status=S.CONFIRMED, actor=None)
            enrollment_change_status(enrollment_id=enrollment.pk, to_status=S.WITHDRAWN, actor=None)
    finally:
        enrollment_status_changed.disconnect(receiver)
    assert len(announcements(callbacks)) == 2
    assert received == [S.CONFIRMED, S.WITHDRAWN]


# --- many rows at once ----------------------------------------------------------------------
# enrollments_change_status, the bulk form of the one status writer: the same rules and
# history as one row at a time, all or nothing.


@pytest.mark.django_db
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


@pytest.mark.django_db
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


@pytest.mark.django_db
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


@pytest.mark.django_db
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


@pytest.mark.django_db
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


# --- overrides, the first history row and the change log --------------------------------------


@pytest.mark.django_db
def test_an_override_corrects_a_final_grade_with_a_reason_marked_in_the_history(here):
    enrollment = advance(here.enrollments[0], S.ATTAINED, grade="A")
    before = history(enrollment)
    with pytest.raises(ValidationError) as refused:
        enrollment_change_status(
            enrollment_id=enrollment.pk,
            to_status=S.ATTAINED,
            actor=here.admin,
            grade="B+",
            override=True,
        )
    assert refused.value.code == "reason_required"
    assert history(enrollment) == before

    enrollment_change_status(
        enrollment_id=enrollment.pk,
        to_status=S.ATTAINED,
        actor=here.admin,
        grade="B+",
        reason="Gradebook typo",
        override=True,
    )
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.grade, enrollment.graded_by) == (
        S.ATTAINED,
        "B+",
        here.admin,
    )
    last = EnrollmentStatusChange.objects.filter(enrollment=enrollment).latest("pk")
    assert (last.from_status, last.to_status, last.grade, last.reason, last.kind) == (
        S.ATTAINED,
        S.ATTAINED,
        "B+",
        "Gradebook typo",
        EnrollmentStatusChange.Kind.OVERRIDE,
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("override", "kind"),
    [(False, EnrollmentStatusChange.Kind.CHANGE), (True, EnrollmentStatusChange.Kind.OVERRIDE)],
)
def test_the_first_history_row_of_a_new_enrollment(here, override, kind):
    enrollment = f.EnrollmentFactory(student=here.students[0], section=f.SectionFactory())
    enrollment_record_created(
        enrollment=enrollment, actor=here.admin, reason="Late registration", override=override
    )
    (row,) = EnrollmentStatusChange.objects.filter(enrollment=enrollment)
    assert (row.from_status, row.to_status, row.changed_by, row.reason, row.kind) == (
        "",
        S.REGISTERED,
        here.admin,
        "Late registration",
        kind,
    )


@pytest.mark.django_db
def test_the_change_log_names_the_students_of_the_enrollments_changed(here):
    first, second, _third = here.enrollments
    change_log_record(
        actor=here.teacher,
        what="roster confirmed",
        student_ids=[first.student_id],
        enrollment_ids=[first.pk, second.pk],
    )
    entry = AccessLogEntry.objects.get()
    assert (entry.action, entry.what, entry.actor, entry.role) == (
        AccessLogEntry.Action.CHANGE,
        "roster confirmed",
        here.teacher,
        "teacher",
    )
    assert entry.student_count == 2
    assert set(entry.students.values_list("student_id", flat=True)) == {
        first.student_id,
        second.student_id,
    }


@pytest.mark.django_db
def test_the_change_log_writes_nothing_without_a_student(here):
    change_log_record(actor=here.teacher, what="nothing", student_ids=[], enrollment_ids=[])
    change_log_record(actor=here.teacher, what="gone", enrollment_ids=[10**9])
    assert not AccessLogEntry.objects.exists()
