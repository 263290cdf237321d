"""The student's dashboard and class list are kept in the cache (enrollment/pagecache.py):
served again without the database work, and never stale after a change they show."""

import datetime
import re

from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from enrollment.models import EnrollmentStatus as S
from enrollment.services.registration import enrollment_register
from enrollment.services.transitions import enrollment_change_status
from tests.factories import StudentProfileFactory
from tests.world import TODAY, make_class

DASHBOARD = reverse("enrollment:dashboard")
REGISTER = reverse("enrollment:register")
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def main(page: str) -> str:
    """The page's content, without the per-request CSRF token."""
    return CSRF_INPUT.sub("", page.split("<main", 1)[1].split("</main>", 1)[0])


def queries(django_assert_max_num_queries, client, url, most=30):
    with django_assert_max_num_queries(most) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries), response.content.decode()


def test_the_dashboard_is_served_again_without_its_queries(
    student_client, student, django_assert_max_num_queries
):
    built, first = queries(django_assert_max_num_queries, student_client, DASHBOARD)
    served, again = queries(django_assert_max_num_queries, student_client, DASHBOARD)
    assert served <= 8  # the session, the account, the student: no page query
    assert built >= served + 5
    assert main(again) == main(first)
    assert student.sers_id in again


def test_a_registration_shows_on_the_dashboard_at_once(student_client, student, world):
    assert "Accounting Principles" not in student_client.get(DASHBOARD).content.decode()
    enrollment_register(student=student, section=world.sections[0], actor=student.user, today=TODAY)
    assert "Accounting Principles" in student_client.get(DASHBOARD).content.decode()


def test_a_grade_entered_by_the_teacher_shows_on_the_dashboard(student_client, student, world):
    enrollment = enrollment_register(
        student=student, section=world.sections[0], actor=student.user, today=TODAY
    )
    teacher = world.sections[0].teacher
    assert "Grade: B+" not in student_client.get(DASHBOARD).content.decode()
    enrollment_change_status(enrollment_id=enrollment.pk, to_status=S.CONFIRMED, actor=teacher)
    enrollment_change_status(
        enrollment_id=enrollment.pk, to_status=S.GRADED, actor=teacher, grade="B+"
    )
    assert "Grade: B+" in student_client.get(DASHBOARD).content.decode()


def test_a_waived_fee_shows_on_the_dashboard(student_client, student, world):
    enrollment_register(student=student, section=world.sections[0], actor=student.user, today=TODAY)
    assert "Unpaid" in student_client.get(DASHBOARD).content.decode()
    fee = student.fees.get()
    fee.status = "waived"
    fee.waiver_reason = "Financial hardship"
    fee.save()
    page = student_client.get(DASHBOARD).content.decode()
    assert "Waived" in page
    assert "Unpaid" not in page


def test_each_student_sees_only_their_own_page(client, student, world):
    other = StudentProfileFactory(high_school=world.school)
    client.force_login(student.user)
    assert student.sers_id in client.get(DASHBOARD).content.decode()
    client.force_login(other.user)
    page = client.get(DASHBOARD).content.decode()
    assert other.sers_id in page
    assert student.sers_id not in page


def test_the_class_list_is_served_again_without_its_queries(
    student_client, django_assert_max_num_queries
):
    built, _page = queries(django_assert_max_num_queries, student_client, REGISTER)
    served, again = queries(django_assert_max_num_queries, student_client, REGISTER)
    assert served <= 8  # the session, the account, the student: no page query
    assert built >= served + 5
    assert "Accounting Principles" in again


def test_a_teacher_deactivated_shows_on_the_class_list(student_client, world):
    refusal = "account is deactivated"
    assert refusal not in student_client.get(REGISTER).content.decode()
    teacher = world.sections[0].teacher
    teacher.is_active = False
    teacher.save()
    assert refusal in student_client.get(REGISTER).content.decode()


def test_a_closed_window_and_a_new_class_show_on_the_class_list(student_client, world):
    assert "Marine Biology" not in student_client.get(REGISTER).content.decode()
    make_class(world=world, title="Marine Biology")
    assert "Marine Biology" in student_client.get(REGISTER).content.decode()
    world.policy.registration_closes = datetime.date(2026, 11, 30)
    world.policy.save()
    assert "Registration for this class closed on" in student_client.get(REGISTER).content.decode()


def test_the_class_list_follows_the_date(student_client, world, monkeypatch):
    assert "closed on" not in student_client.get(REGISTER).content.decode()
    later = TODAY + datetime.timedelta(days=200)
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *args, **kwargs: later)
    assert "closed on" in student_client.get(REGISTER).content.decode()


def test_a_confirmed_email_shows_on_the_class_list(client, world):
    student = StudentProfileFactory(high_school=world.school, user__email_verified_at=None)
    client.force_login(student.user)
    assert "Confirm your email address before you register" in client.get(REGISTER).content.decode()
    student.user.email_verified_at = datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC)
    student.user.save(update_fields=["email_verified_at"])
    assert "Confirm your email address before you register" not in (
        client.get(REGISTER).content.decode()
    )


def test_a_school_picked_is_its_own_page(student_client, world):
    own = student_client.get(REGISTER).content.decode()
    picked = student_client.get(REGISTER, {"school": world.skills_center.pk}).content.decode()
    assert "Accounting Principles" in own
    assert "Automotive Technology" not in own
    assert "Automotive Technology" in picked


def test_the_language_is_part_of_the_page(student_client):
    english = student_client.get(REGISTER).content.decode()
    spanish = student_client.get(REGISTER, headers={"accept-language": "es"}).content.decode()
    assert "Register for classes" in english
    assert "Register for classes" not in spanish.split("<main", 1)[1]


def test_a_cached_class_list_posts_from_another_session_of_the_same_student(student, world):
    """The CSRF token is put in for each request: a page kept from one session (a phone)
    posts from another (a laptop)."""
    phone = Client(enforce_csrf_checks=True)
    phone.force_login(student.user)
    phone.get(REGISTER)  # builds and keeps the page
    laptop = Client(enforce_csrf_checks=True)
    laptop.force_login(student.user)
    page = laptop.get(REGISTER).content.decode()
    token = CSRF_INPUT.search(page).group(1)
    response = laptop.post(
        reverse("enrollment:register_review"),
        {
            "csrfmiddlewaretoken": token,
            "school": world.school.pk,
            "sections": [world.sections[0].pk],
        },
    )
    assert response.status_code == 200
    assert "Accounting Principles" in response.content.decode()


def test_the_page_is_built_when_the_cache_is_down(student_client, monkeypatch):
    def down(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(cache, "get_many", down)
    response = student_client.get(DASHBOARD)
    assert response.status_code == 200
    assert "Your next step" in response.content.decode()


def test_no_placeholder_is_left_in_a_page_built_or_served(student_client, student, world):
    enrollment_register(student=student, section=world.sections[1], actor=student.user, today=TODAY)
    for _ in range(2):
        for url in (REGISTER, DASHBOARD):
            page = student_client.get(url).content.decode()
            assert "sers-csrf-token-placeholder" not in page
            assert "sers-csp-nonce-placeholder" not in page
            assert CSRF_INPUT.search(page) or url == DASHBOARD
