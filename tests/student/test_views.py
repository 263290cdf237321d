"""Each student page: the normal case, anonymous, wrong role (403), another student (404),
and the query counts of the dashboard and the register page."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.core.cache import cache
from django.urls import reverse

from accounts.models import Role
from enrollment.models import Enrollment, Fee, IdentityChange
from enrollment.models import EnrollmentStatus as S
from enrollment.services.registration import enrollment_register
from enrollment.services.transitions import enrollment_change_status
from tests.factories import (
    AcademicYearFactory,
    ConsortiumPolicyFactory,
    EnrollmentFactory,
    FeeFactory,
    make_staff,
)
from tests.world import TODAY, make_class

pytestmark = pytest.mark.django_db

# (url name, kwargs-needing object?, method)
STUDENT_PAGES = [
    ("enrollment:dashboard", "get"),
    ("enrollment:register", "get"),
    ("enrollment:register_review", "post"),
    ("enrollment:register_confirm", "post"),
    ("enrollment:confirmation", "get"),
    ("enrollment:credits", "get"),
    ("enrollment:profile", "get"),
    ("enrollment:identity_change", "post"),
    ("enrollment:verify_sent", "get"),
    ("enrollment:verify_resend", "post"),
]


def register(student, section):
    return enrollment_register(student=student, section=section, actor=student.user, today=TODAY)


def walk_to(enrollment, status, teacher, grade="A"):
    path = {
        S.CONFIRMED: [S.CONFIRMED],
        S.GRADED: [S.CONFIRMED, S.GRADED],
        S.ATTAINED: [S.CONFIRMED, S.GRADED, S.ATTAINED],
        S.TRANSCRIBED: [S.CONFIRMED, S.GRADED, S.ATTAINED, S.TRANSCRIBED],
    }[status]
    for step in path:
        extra = {"grade": grade} if step == S.GRADED else {}
        if step == S.TRANSCRIBED:
            extra = {"transcribed_on": TODAY}
        enrollment_change_status(
            enrollment_id=enrollment.pk, to_status=step, actor=teacher, **extra
        )


@pytest.mark.parametrize(("name", "method"), STUDENT_PAGES)
def test_anonymous_users_are_sent_to_sign_in(client, world, name, method):
    response = getattr(client, method)(reverse(name))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


@pytest.mark.parametrize(("name", "method"), STUDENT_PAGES)
@pytest.mark.parametrize("role", [Role.CAREER_SPECIALIST, Role.CONSORTIUM_ADMIN, Role.STATE_STAFF])
def test_staff_without_a_student_profile_get_403(client, world, name, method, role):
    scope = {
        Role.CAREER_SPECIALIST: world.district,
        Role.CONSORTIUM_ADMIN: world.consortium,
        Role.STATE_STAFF: None,
    }[role]
    client.force_login(make_staff(role, scope))
    assert getattr(client, method)(reverse(name)).status_code == 403


def test_object_pages_answer_404_for_another_students_records(student_client, world, other_student):
    theirs = register(other_student, world.sections[0])
    change = IdentityChange.objects.create(
        student=other_student,
        old_first_name="A",
        old_last_name="B",
        old_birth_date=other_student.birth_date,
        new_first_name="C",
        new_last_name="B",
        new_birth_date=other_student.birth_date,
        reason="typo",
        status=IdentityChange.Status.PENDING,
        requested_by=other_student.user,
    )
    withdraw = reverse("enrollment:withdraw", kwargs={"pk": theirs.pk})
    assert student_client.get(withdraw).status_code == 404
    assert student_client.post(withdraw).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == S.REGISTERED
    confirmation = reverse("enrollment:confirmation") + f"?ids={theirs.pk}"
    assert student_client.get(confirmation).status_code == 404
    cancel = reverse("enrollment:identity_change_cancel", kwargs={"pk": change.pk})
    assert student_client.post(cancel).status_code == 404
    change.refresh_from_db()
    assert change.status == IdentityChange.Status.PENDING
    assert student_client.get(reverse("enrollment:confirmation") + "?ids=x").status_code == 404


def test_object_pages_for_anonymous_and_staff(client, world, other_student):
    theirs = register(other_student, world.sections[0])
    withdraw = reverse("enrollment:withdraw", kwargs={"pk": theirs.pk})
    assert client.get(withdraw).url.startswith(reverse("accounts:login"))
    client.force_login(make_staff(Role.CONSORTIUM_ADMIN, world.consortium))
    assert client.get(withdraw).status_code == 403


def test_a_student_sees_only_their_own_classes(student_client, world, student, other_student):
    register(student, world.sections[0])
    register(other_student, world.sections[1])
    page = student_client.get(reverse("enrollment:dashboard")).content.decode()
    assert "Accounting Principles" in page
    assert "Web Design" not in page
    assert other_student.sers_id not in page


# --- the dashboard --------------------------------------------------------------------------


def test_the_dashboard_shows_status_fees_and_the_next_step(student_client, world, student):
    enrollment = register(student, world.sections[0])
    walk_to(enrollment, S.CONFIRMED, world.sections[0].teacher)
    response = student_client.get(reverse("enrollment:dashboard"))
    page = response.content.decode()
    assert student.sers_id in page
    assert "Confirmed by your teacher" in page
    assert "$50.00" in page
    assert "Pay at the Cascade College cashier." in page
    assert "June 20, 2027" in page
    assert response.context["next_step"].text.startswith("Pay the $50.00 fee")
    timeline = response.context["rows"][0]["timeline"]
    assert [s.state for s in timeline] == ["done", "done", "current", "todo", "todo"]


def test_the_next_step_of_a_new_student_is_to_verify_then_register(client, world, student):
    student.user.email_verified_at = None
    student.user.save()
    client.force_login(student.user)
    steps = client.get(reverse("enrollment:dashboard")).context
    assert steps["next_step"].url == reverse("enrollment:verify_sent")
    assert steps["more_steps"][0].url == reverse("enrollment:register")


def test_a_waived_fee_and_a_withdrawn_class(student_client, world, student):
    enrollment = register(student, world.sections[0])
    Fee.objects.filter(student=student).update(status="waived", waiver_reason="Foster youth")
    student_client.post(reverse("enrollment:withdraw", kwargs={"pk": enrollment.pk}))
    response = student_client.get(reverse("enrollment:dashboard"))
    assert response.context["fee_lines"][0].state == "waived"
    timeline = response.context["rows"][0]["timeline"]
    assert [s.state for s in timeline] == ["done", "stopped"]
    assert not response.context["rows"][0]["can_withdraw"]


def add_history(student, world, offsets=(1, 2, 3), per_year=3):
    """Past years of attained, transcribed and graded classes for the same student."""
    for offset in offsets:
        year = AcademicYearFactory(start_year=2026 - offset)
        ConsortiumPolicyFactory(consortium=world.consortium, academic_year=year)
        FeeFactory(student=student, consortium=world.consortium, academic_year=year)
        for n in range(per_year):
            section = make_class(world=world, year=year)
            enrollment = EnrollmentFactory(student=student, section=section)
            status = [S.ATTAINED, S.TRANSCRIBED, S.GRADED][n % 3]
            walk_to(enrollment, status, section.teacher)


def test_dashboard_queries_do_not_grow_with_the_students_history(
    student_client, world, student, django_assert_max_num_queries
):
    register(student, world.sections[0])
    add_history(student, world, offsets=[1], per_year=1)
    student_client.get(reverse("enrollment:dashboard"))  # warm the session
    cache.clear()  # the page built, not served from the cache
    with django_assert_max_num_queries(20) as first:
        student_client.get(reverse("enrollment:dashboard"))
    add_history(student, world, offsets=[2, 3, 4, 5])
    register(student, world.sections[1])
    register(student, world.sections[2])
    cache.clear()
    with django_assert_max_num_queries(len(first.captured_queries)):
        response = student_client.get(reverse("enrollment:dashboard"))
    assert len(response.context["rows"]) == 3
    assert response.context["credit_count"] == 1 + 4 * 2


def test_register_page_queries_do_not_grow(
    student_client, world, student, django_assert_max_num_queries
):
    student_client.get(reverse("enrollment:register"))
    cache.clear()  # the page built, not served from the cache
    with django_assert_max_num_queries(20) as first:
        student_client.get(reverse("enrollment:register"))
    add_history(student, world, offsets=[1, 2, 3])
    for _n in range(5):
        make_class(world=world)
    register(student, world.sections[0])
    cache.clear()
    with django_assert_max_num_queries(len(first.captured_queries)):
        response = student_client.get(reverse("enrollment:register"))
    assert len(response.context["offers"]) == 7


def test_credits_page_queries_do_not_grow(
    student_client, world, student, django_assert_max_num_queries
):
    """Built, not served from the page cache: the cache is emptied before each view."""
    add_history(student, world, offsets=[1], per_year=1)
    student_client.get(reverse("enrollment:credits"))
    cache.clear()
    with django_assert_max_num_queries(15) as first:
        student_client.get(reverse("enrollment:credits"))
    add_history(student, world, offsets=[2, 3, 4])
    cache.clear()
    with django_assert_max_num_queries(len(first.captured_queries)):
        response = student_client.get(reverse("enrollment:credits"))
    assert len(response.context["lines"]) == 1 + 3 * 2


def test_the_credits_page_is_served_from_the_cache_until_the_record_changes(
    student_client, world, student, django_assert_max_num_queries
):
    add_history(student, world, offsets=[1], per_year=1)
    first = student_client.get(reverse("enrollment:credits")).content.decode()
    with django_assert_max_num_queries(6):
        again = student_client.get(reverse("enrollment:credits")).content.decode()
    assert again.count('class="card mb-3"') == first.count('class="card mb-3"') == 1
    add_history(student, world, offsets=[2])  # a new credit: the student's record changed
    after = student_client.get(reverse("enrollment:credits")).content.decode()
    assert after.count('class="card mb-3"') == 3


# --- registration pages ---------------------------------------------------------------------


def test_the_register_page_lists_this_years_classes_at_the_students_school(student_client, world):
    retired = make_class(world=world, title="Retired Course")
    retired.articulation.status = "retired"
    retired.articulation.save()
    make_class(world=world, year=AcademicYearFactory(start_year=2025), title="Last Year Course")
    response = student_client.get(reverse("enrollment:register"))
    page = response.content.decode()
    assert response.context["school"] == world.school
    assert "Accounting Principles" in page
    assert "Web Design" in page
    assert "Automotive Technology" not in page  # taught at the skills center
    assert "Retired Course" not in page
    assert "Last Year Course" not in page
    assert "5.0 college credits" in page
    assert "Minimum grade for credit:" in page
    groups = [label for label, _schools in response.context["school_form"].fields["school"].choices]
    assert groups == ["Your high school", "Skills centers serving your district"]


def test_the_skills_center_classes_and_htmx(student_client, world):
    url = reverse("enrollment:register") + f"?school={world.skills_center.pk}"
    page = student_client.get(url).content.decode()
    assert "Automotive Technology" in page
    partial = student_client.get(url, HTTP_HX_REQUEST="true")
    assert b"<html" not in partial.content
    assert b'id="class-list"' in partial.content
    assert b"Automotive Technology" in partial.content


def test_several_teachers_and_classes_that_cannot_be_registered(student_client, world):
    second = make_class(world=world, title="Second Teacher")
    second.articulation = world.sections[0].articulation
    second.save()
    world.sections[1].teacher.is_active = False
    world.sections[1].teacher.save()
    response = student_client.get(reverse("enrollment:register"))
    offer = next(o for o in response.context["offers"] if o.articulation == second.articulation)
    assert len(offer.choices) == 2
    assert b"Pick your teacher:" in response.content
    assert b"account is deactivated" in response.content


def test_review_then_confirm_registers_and_emails_once(
    student_client, world, student, django_capture_on_commit_callbacks
):
    chosen = {"school": world.school.pk, "sections": [world.sections[0].pk, world.sections[1].pk]}
    review = student_client.post(reverse("enrollment:register_review"), chosen)
    assert review.status_code == 200
    assert b"Confirm registration" in review.content
    assert b"$50.00 for the whole school year" in review.content
    assert not Enrollment.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = student_client.post(reverse("enrollment:register_confirm"), chosen)
    assert response.status_code == 302
    assert Enrollment.objects.filter(student=student, status=S.REGISTERED).count() == 2
    assert len(mail.outbox) == 1
    confirmation = student_client.get(response.url)
    page = confirmation.content.decode()
    assert "Registration confirmation" in page
    assert "Accounting Principles" in page
    assert "Web Design" in page
    assert student.sers_id in page
    assert "<caption>" in page


def test_one_teacher_per_course_and_at_least_one_class(student_client, world):
    second = make_class(world=world)
    second.articulation = world.sections[0].articulation
    second.save()
    response = student_client.post(
        reverse("enrollment:register_review"),
        {"school": world.school.pk, "sections": [world.sections[0].pk, second.pk]},
    )
    assert b"Pick only one teacher for Accounting Principles" in response.content
    response = student_client.post(
        reverse("enrollment:register_review"), {"school": world.school.pk}
    )
    assert b"Tick at least one class." in response.content


def test_a_class_that_closed_meanwhile_is_reported_and_nothing_is_registered(
    student_client, world, student, monkeypatch
):
    chosen = {"school": world.school.pk, "sections": [world.sections[0].pk, world.sections[1].pk]}
    # The page was loaded in time; the window closes before the student confirms (a race
    # the page cannot see, so the service's own check answers).
    from enrollment.services import registration

    original = registration.enrollment_register

    def closed_for_web_design(*, section, **kwargs):
        if section.pk == world.sections[1].pk:
            raise registration.RegistrationRefused(
                "Registration for this class closed on March 15, 2027.", code="window_closed"
            )
        return original(section=section, **kwargs)

    monkeypatch.setattr(registration, "enrollment_register", closed_for_web_design)
    response = student_client.post(reverse("enrollment:register_confirm"), chosen)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Nothing was registered" in page
    assert "closed on March 15, 2027" in page
    assert not Enrollment.objects.exists()


def test_a_class_at_an_unlisted_school_cannot_be_posted(student_client, world, student):
    elsewhere = make_class(world=world, school=world.skills_center)
    response = student_client.post(
        reverse("enrollment:register_confirm"),
        {"school": world.school.pk, "sections": [elsewhere.pk]},
    )
    assert response.status_code == 200
    assert not Enrollment.objects.exists()


def test_withdraw_page(student_client, world, student):
    enrollment = register(student, world.sections[0])
    url = reverse("enrollment:withdraw", kwargs={"pk": enrollment.pk})
    assert b"Withdraw from Accounting Principles?" in student_client.get(url).content
    response = student_client.post(url, follow=True)
    assert b"You withdrew from Accounting Principles." in response.content
    enrollment.refresh_from_db()
    assert enrollment.status == S.WITHDRAWN


def test_withdraw_after_grading_is_refused_on_the_page(student_client, world, student):
    enrollment = register(student, world.sections[0])
    walk_to(enrollment, S.GRADED, world.sections[0].teacher)
    url = reverse("enrollment:withdraw", kwargs={"pk": enrollment.pk})
    assert b"can no longer be withdrawn" in student_client.get(url).content
    response = student_client.post(url, follow=True)
    assert b"already graded" in response.content
    enrollment.refresh_from_db()
    assert enrollment.status == S.GRADED


# --- credits --------------------------------------------------------------------------------


def test_my_college_credits_across_years(student_client, world, student):
    old_year = AcademicYearFactory(start_year=2024)
    ConsortiumPolicyFactory(consortium=world.consortium, academic_year=old_year)
    transcribed = EnrollmentFactory(student=student, section=make_class(world=world, year=old_year))
    walk_to(transcribed, S.TRANSCRIBED, transcribed.section.teacher)
    waiting = register(student, world.sections[0])
    walk_to(waiting, S.ATTAINED, world.sections[0].teacher)
    not_attained = register(student, world.sections[1])
    walk_to(not_attained, S.GRADED, world.sections[1].teacher, grade="D")
    response = student_client.get(reverse("enrollment:credits"))
    lines = {line.enrollment.pk: line for line in response.context["lines"]}
    assert set(lines) == {transcribed.pk, waiting.pk}
    assert lines[transcribed.pk].transcript == "transcribed"
    assert lines[waiting.pk].transcript == "fee_due"  # this year's $50 is unpaid
    assert lines[waiting.pk].credits == Decimal("5.0")
    page = response.content.decode()
    assert "On your college transcript" in page
    assert "Waiting for your fee" in page
    assert "Request an official transcript" in page
    assert "2024-25" in page


def test_home_page_links_students_to_their_dashboard(student_client, world):
    page = student_client.get(reverse("home")).content.decode()
    assert reverse("enrollment:dashboard") in page


def test_the_menu_shows_student_entries_only_to_students(client, world, student):
    visitor = client.get(reverse("home")).content.decode()
    assert reverse("enrollment:sign_up") in visitor
    assert reverse("enrollment:register") not in visitor
    client.force_login(student.user)
    page = client.get(reverse("home")).content.decode()
    assert reverse("enrollment:register") in page
    assert reverse("enrollment:credits") in page
    assert "Create a student account" not in page
    client.force_login(make_staff(Role.STATE_STAFF))
    assert reverse("enrollment:register") not in client.get(reverse("home")).content.decode()


def test_the_login_page_links_to_sign_up_and_forgot_email(client, world):
    page = client.get(reverse("accounts:login")).content.decode()
    assert reverse("enrollment:sign_up") in page
    assert reverse("enrollment:forgot_email") in page


def test_dates_outside_the_window_show_on_the_register_page(student_client, world, monkeypatch):
    monkeypatch.setattr(
        "django.utils.timezone.localdate", lambda *a, **k: datetime.date(2027, 4, 1)
    )
    response = student_client.get(reverse("enrollment:register"))
    assert b"closed on March 15, 2027" in response.content
    assert b'name="sections"' not in response.content


def test_confirm_goes_straight_to_the_service_without_rebuilding_the_offer(
    student_client, world, student, django_assert_max_num_queries
):
    for _n in range(6):  # a bigger offer must not cost the post anything
        make_class(world=world)
    chosen = {"school": world.school.pk, "sections": [world.sections[0].pk]}
    with django_assert_max_num_queries(40) as captured:
        response = student_client.post(reverse("enrollment:register_confirm"), chosen)
    assert response.status_code == 302
    assert Enrollment.objects.filter(student=student, status=S.REGISTERED).count() == 1
    sql = " ".join(q["sql"] for q in captured.captured_queries)
    assert "served_districts" not in sql  # the school menu of the whole page


def test_confirm_refuses_two_teachers_of_one_course_as_the_page_does(student_client, world):
    second = make_class(world=world)
    second.articulation = world.sections[0].articulation
    second.save()
    response = student_client.post(
        reverse("enrollment:register_confirm"),
        {"school": world.school.pk, "sections": [world.sections[0].pk, second.pk]},
    )
    assert response.status_code == 200
    assert b"Pick only one teacher for Accounting Principles" in response.content
    assert not Enrollment.objects.exists()


def test_confirm_of_a_class_already_held_registers_nothing_more(student_client, world, student):
    register(student, world.sections[0])
    response = student_client.post(
        reverse("enrollment:register_confirm"),
        {"school": world.school.pk, "sections": [world.sections[0].pk, world.sections[1].pk]},
    )
    assert response.status_code == 200
    assert b"One of the ticked classes cannot be registered" in response.content
    assert Enrollment.objects.filter(student=student).count() == 1


def test_confirm_of_a_class_whose_teacher_left_says_why(student_client, world):
    teacher = world.sections[1].teacher
    teacher.is_active = False
    teacher.save()
    response = student_client.post(
        reverse("enrollment:register_confirm"),
        {"school": world.school.pk, "sections": [world.sections[0].pk, world.sections[1].pk]},
    )
    assert response.status_code == 200
    assert not Enrollment.objects.exists()
