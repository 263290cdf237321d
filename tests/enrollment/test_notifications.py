"""Tests of enrollment.services.notifications: student emails and deadline reminders."""

# Emails to students (grade posted, credit eligible, transcribed) and the deadline
# reminders of the daily job: each sent once, however often the job runs.

import datetime

import pytest
from django.conf import settings
from django.core import mail

from accounts.models import SentEmail, User
from enrollment import tasks
from enrollment.services import notifications, rosters, transcription
from tests.factories import StudentProfileFactory
from tests.world import TODAY, S, advance, settle_fee

pytestmark = pytest.mark.django_db


def subjects():
    return [m.subject for m in mail.outbox]


def test_each_student_notification_is_sent_once(here):
    enrollment = advance(here.enrollments[0], S.ATTAINED)
    settle_fee(enrollment)
    for _ in range(2):
        tasks.send_student_notifications("grade_posted", [enrollment.pk])
        tasks.send_student_notifications("credit_eligible", [enrollment.pk])
    transcription.enrollments_transcribe(
        actor=here.registrar, college_student_ids={enrollment.pk: "C-5"}, transcribed_on=TODAY
    )
    for _ in range(2):
        tasks.send_student_notifications("transcribed", [enrollment.pk])
    title = here.articulation.high_school_course.title
    assert subjects() == [
        f"Your grade is posted: {title}",
        f"Your college credit is ready for the transcript: {title}",
        f"Your credit is on your {here.college.name} transcript",
    ]
    assert all(m.to == [enrollment.student.user.email] for m in mail.outbox)
    assert "C-5" in mail.outbox[2].body
    assert SentEmail.objects.filter(dedupe_key=f"transcribed:{enrollment.pk}").exists()


def test_nothing_is_sent_when_it_is_no_longer_true(here):
    enrollment = advance(here.enrollments[0], S.ATTAINED)  # fee unpaid: not eligible
    assert (
        notifications.student_notify(event="credit_eligible", enrollment_id=enrollment.pk) is False
    )
    assert notifications.student_notify(event="transcribed", enrollment_id=enrollment.pk) is False
    assert mail.outbox == []


def test_an_unknown_event_is_an_error(here):
    with pytest.raises(ValueError, match="unknown notification"):
        notifications.student_notify(event="grade_changed", enrollment_id=here.enrollments[0].pk)


@pytest.mark.parametrize(
    ("event", "status"),
    [
        ("grade_posted", S.NOT_ATTAINED),
        ("credit_eligible", S.ATTAINED),
        ("transcribed", S.TRANSCRIBED),
    ],
)
def test_a_closed_account_is_not_written_to(here, event, status):
    grade = "C" if status == S.NOT_ATTAINED else "A"
    still_open, closed = (advance(e, status, grade=grade) for e in here.enrollments[:2])
    for enrollment in (still_open, closed):
        settle_fee(enrollment)
    User.objects.filter(pk=closed.student.user_id).update(is_active=False)
    assert notifications.student_notify(event=event, enrollment_id=still_open.pk) is True
    assert notifications.student_notify(event=event, enrollment_id=closed.pk) is False
    assert [m.to for m in mail.outbox] == [[still_open.student.user.email]]


def test_a_grade_is_announced_only_once_the_class_is_complete(here):
    enrollment = advance(here.enrollments[0], S.GRADED)
    assert notifications.student_notify(event="grade_posted", enrollment_id=enrollment.pk) is False
    assert mail.outbox == []


def test_emails_go_out_in_the_students_language(here):
    enrollment = advance(here.enrollments[0], S.NOT_ATTAINED, grade="C")
    enrollment.student.language = "es"
    enrollment.student.save()
    notifications.student_notify(event="grade_posted", enrollment_id=enrollment.pk)
    assert mail.outbox[0].subject.startswith("Tu calificación")


def test_credit_that_becomes_eligible_later_is_announced_by_the_daily_job(here):
    enrollment = advance(here.enrollments[0], S.ATTAINED)
    settle_fee(enrollment)
    user = enrollment.student.user
    user.email_verified_at = None
    user.save()
    assert notifications.credit_eligible_sweep() == 0
    user.email_verified_at = datetime.datetime(2026, 11, 30, tzinfo=datetime.UTC)
    user.save()
    assert tasks.send_credit_eligible_notices() == 1
    assert tasks.send_credit_eligible_notices() == 0
    assert len(mail.outbox) == 1


def test_the_daily_reminders_are_scheduled():
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert schedule["enrollment-deadline-reminders"]["task"] == (
        "enrollment.tasks.send_deadline_reminders"
    )
    assert schedule["enrollment-credit-eligible-notices"]["task"] == (
        "enrollment.tasks.send_credit_eligible_notices"
    )
    assert "reports-transcript-credit-nightly" in schedule  # the other app's entry stays


def run_reminders(day):
    return notifications.deadline_reminders_send(today=day)


def test_registration_reminder_once_to_students_not_yet_registered(here, there):
    here.policy.registration_closes = TODAY + datetime.timedelta(days=5)
    here.policy.save()
    waiting = StudentProfileFactory(high_school=here.school, graduation_year=2028)
    StudentProfileFactory(high_school=here.school, graduation_year=2026)  # graduated
    StudentProfileFactory(high_school=there.school, graduation_year=2028)  # other consortium
    sent = run_reminders(TODAY)
    assert sent["registration"] == 1
    assert [m.to for m in mail.outbox] == [[waiting.user.email]]
    assert "registration closes" in mail.outbox[0].subject.lower()
    # The job runs again the next day: nothing new.
    assert run_reminders(TODAY + datetime.timedelta(days=1))["registration"] == 0
    assert len(mail.outbox) == 1
    # The deadline moves: that is a new reminder.
    here.policy.registration_closes = TODAY + datetime.timedelta(days=6)
    here.policy.save()
    assert run_reminders(TODAY)["registration"] == 1


def test_payment_reminder_once_per_unpaid_fee(here):
    here.policy.payment_deadline = TODAY + datetime.timedelta(days=7)
    here.policy.save()
    settle_fee(here.enrollments[0])
    rosters.roster_remove(
        actor=here.teacher, enrollment_id=here.enrollments[2].pk, reason_code="dropped"
    )
    assert run_reminders(TODAY)["payment"] == 1
    assert [m.to for m in mail.outbox] == [[here.students[1].user.email]]
    assert "$50.00" in mail.outbox[0].body
    assert run_reminders(TODAY)["payment"] == 0
    assert len(mail.outbox) == 1


def test_grading_reminder_once_to_teachers_with_classes_not_complete(here, there):
    here.policy.grading_deadline = TODAY + datetime.timedelta(days=2)
    here.policy.save()
    assert run_reminders(TODAY - datetime.timedelta(days=30))["grading"] == 0  # too early
    assert run_reminders(TODAY)["grading"] == 1
    (email,) = mail.outbox
    assert email.to == [here.teacher.email]
    assert f"/teacher/classes/{here.section.pk}/grades/" in email.body
    assert run_reminders(TODAY)["grading"] == 0
    assert len(mail.outbox) == 1


def test_the_reminder_job_as_beat_runs_it_sends_nothing_twice(here, monkeypatch):
    here.policy.grading_deadline = TODAY + datetime.timedelta(days=1)
    here.policy.payment_deadline = TODAY + datetime.timedelta(days=1)
    here.policy.save()
    first = tasks.send_deadline_reminders()
    second = tasks.send_deadline_reminders()
    assert first == {"registration": 0, "payment": 3, "grading": 1}
    assert second == {"registration": 0, "payment": 0, "grading": 0}
    assert len(mail.outbox) == 4
