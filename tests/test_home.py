"""The home page: a landing page for visitors, real numbers for each role."""

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import Role
from enrollment.models import EnrollmentStatus as S
from enrollment.services.transitions import enrollment_change_status
from tests.factories import (
    AcademicYearFactory,
    ArticulationFactory,
    EnrollmentFactory,
    FeeFactory,
    SectionFactory,
    StudentProfileFactory,
    UserFactory,
    make_staff,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _today(today, year):
    """The factories' default year (2026-27, the `year` fixture) is the current one."""


def _numbers(response):
    """{label: value} for every stat card on the page."""
    return {
        str(stat.label): stat.value for panel in response.context["panels"] for stat in panel.stats
    }


def test_visitor_sees_the_landing_page_and_a_sign_in_link(client):
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert b"Career and Technical Education Dual Credit" in response.content
    assert reverse("accounts:login").encode() in response.content
    assert response.context["panels"] == []


def test_student_sees_their_own_numbers_only(client, year):
    student = StudentProfileFactory()
    section = SectionFactory(academic_year=year)
    mine = EnrollmentFactory(student=student, section=section)
    EnrollmentFactory(student=student)  # a second class, still registered
    EnrollmentFactory(section=section)  # a classmate: not counted
    FeeFactory(student=student, academic_year=year, consortium=section.articulation.consortium)
    enrollment_change_status(enrollment_id=mine.pk, to_status=S.CONFIRMED, actor=section.teacher)
    client.force_login(student.user)
    numbers = _numbers(client.get(reverse("home")))
    assert numbers["Classes this year"] == 2
    assert numbers["Waiting for teacher to confirm"] == 1
    assert numbers["Unpaid fees this year"] == 1


def test_teacher_sees_their_roster_counts(client, year):
    teacher = UserFactory()
    section = SectionFactory(teacher=teacher, academic_year=year)
    EnrollmentFactory.create_batch(3, section=section)
    EnrollmentFactory(section=SectionFactory(academic_year=year))  # another teacher's class
    from accounts.models import RoleMembership

    RoleMembership.objects.create(user=teacher, role=Role.TEACHER, high_school=section.high_school)
    client.force_login(teacher)
    numbers = _numbers(client.get(reverse("home")))
    assert numbers["Classes this year"] == 1
    assert numbers["Students to confirm"] == 3


def test_consortium_admin_counts_only_their_consortium(client, year):
    articulation = ArticulationFactory()
    SectionFactory(articulation=articulation, academic_year=year)
    EnrollmentFactory.create_batch(
        2, section__articulation=articulation, section__academic_year=year
    )
    EnrollmentFactory(section__academic_year=year)  # another consortium
    admin = make_staff(Role.CONSORTIUM_ADMIN, articulation.consortium)
    client.force_login(admin)
    numbers = _numbers(client.get(reverse("home")))
    assert numbers["Registrations this year"] == 2
    assert numbers["Students registered this year"] == 2
    assert numbers["Active agreements"] == 1


def test_state_staff_see_statewide_numbers(client, year):
    EnrollmentFactory.create_batch(3, section__academic_year=year)
    client.force_login(make_staff(Role.STATE_STAFF))
    numbers = _numbers(client.get(reverse("home")))
    assert numbers["Registrations this year"] == 3
    assert numbers["Credits attempted this year"] == 15  # three five-credit courses


def test_registrar_sees_what_is_ready_to_transcribe(client, year):
    section = SectionFactory(academic_year=year)
    enrollment = EnrollmentFactory(section=section)
    for status, extra in [(S.CONFIRMED, {}), (S.GRADED, {"grade": "A"}), (S.ATTAINED, {})]:
        enrollment_change_status(
            enrollment_id=enrollment.pk, to_status=status, actor=section.teacher, **extra
        )
    FeeFactory(
        student=enrollment.student,
        consortium=section.articulation.consortium,
        academic_year=year,
        status="waived",
        waiver_reason="Financial hardship",
    )
    registrar = make_staff(Role.REGISTRAR, section.articulation.college)
    client.force_login(registrar)
    numbers = _numbers(client.get(reverse("home")))
    assert numbers["Ready to transcribe"] == 1
    assert numbers["Attained but not ready"] == 0


def test_user_without_a_role_is_told_so(client):
    client.force_login(UserFactory())
    response = client.get(reverse("home"))
    assert b"has no role yet" in response.content


def test_home_query_count_does_not_grow_with_the_data(client, year, django_assert_max_num_queries):
    user = make_staff(Role.STATE_STAFF)
    client.force_login(user)
    EnrollmentFactory.create_batch(2, section__academic_year=year)
    with django_assert_max_num_queries(14) as few:
        client.get(reverse("home"))
    EnrollmentFactory.create_batch(10, section__academic_year=year)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("home"))


def test_login_and_logout(client, password):
    user = UserFactory(email="teacher@example.org")
    response = client.post(
        reverse("accounts:login"), {"username": "Teacher@Example.org", "password": password}
    )
    assert response.status_code == 302
    assert response.url == reverse("home")
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
    assert user.pk


def test_login_with_a_wrong_password_shows_a_message(client):
    UserFactory(email="someone@example.org")
    response = client.post(
        reverse("accounts:login"), {"username": "someone@example.org", "password": "x"}
    )
    assert response.status_code == 200
    assert b"correct email address and password" in response.content


def test_password_reset_sends_a_link_through_the_task(client, django_capture_on_commit_callbacks):
    user = UserFactory(email="reset@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:password_reset"), {"email": "reset@example.org"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    link = next(line for line in body.splitlines() if "/accounts/password/reset/" in line)
    path = link.split("localhost:8000", 1)[1]
    response = client.get(path, follow=True)
    assert response.context["validlink"]
    response = client.post(
        response.redirect_chain[-1][0],
        {"new_password1": "a-brand-new-passphrase", "new_password2": "a-brand-new-passphrase"},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("a-brand-new-passphrase")


def test_password_reset_answers_the_same_for_an_unknown_address(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:password_reset"), {"email": "nobody@example.org"})
    assert response.status_code == 302
    assert response.url == reverse("accounts:password_reset_done")
    assert mail.outbox == []


def test_healthz(client):
    response = client.get(reverse("healthz"))
    assert response.content == b"ok"


@pytest.mark.parametrize("role", [Role.STATE_STAFF, Role.CONSORTIUM_ADMIN])
def test_home_and_reports_dashboard_count_the_same(client, year, role):
    """The same year, the same user: the home page and the reports dashboard give the same
    students and registrations (withdrawn and removed ones left out by both)."""
    articulation = ArticulationFactory()
    section = SectionFactory(articulation=articulation, academic_year=year)
    EnrollmentFactory.create_batch(12, section=section)
    twice = StudentProfileFactory()
    EnrollmentFactory(student=twice, section=section)
    EnrollmentFactory(
        student=twice, section=SectionFactory(articulation=articulation, academic_year=year)
    )
    for status in (S.WITHDRAWN, S.WITHDRAWN, S.REMOVED):
        EnrollmentFactory(section=section, status=status)
    last_year = AcademicYearFactory(start_year=2025)
    EnrollmentFactory(section=SectionFactory(articulation=articulation, academic_year=last_year))
    scope = articulation.consortium if role == Role.CONSORTIUM_ADMIN else None
    client.force_login(make_staff(role, scope))

    home = _numbers(client.get(reverse("home")))
    dashboard = client.get(reverse("reports:report_dashboard")).context["dashboard"]
    students, registrations = (cell.value for cell in dashboard.breakdown.total.cells[:2])

    assert (home["Students registered this year"], home["Registrations this year"]) == (
        students,
        registrations,
    )
    assert (students, registrations) == (13, 14)
