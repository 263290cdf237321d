"""The whole student journey in a real browser, on a 360x740 phone, in English and in
Spanish: sign up → confirm the email (the link from the test outbox) → register two
classes → dashboard, with axe on every page."""

import re

import pytest
from django.core import mail

from enrollment.models import Enrollment, StudentProfile
from tests.browser.axe import axe_check

# Serialized rollback, as every live-server test here (see tests/browser/fixtures.py): the
# career clusters of the data migration are back before each test.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


TEXT = {
    "en": {
        "sign_up": "Create your student account",
        "verify_sent": "Confirm your email address",
        "dashboard": "My CTE Dual Credit",
        "register": "Register for classes",
        "review": "Check your choices",
        "confirmation": "Registration confirmation",
        "registered": "Registered",
        "school_year": "School year 2026-27.",
    },
    "es": {
        "sign_up": "Crea tu cuenta de estudiante",
        "verify_sent": "Confirma tu correo electrónico",
        "dashboard": "Mi CTE Dual Credit",
        "register": "Inscribirme en clases",
        "review": "Revisa lo que elegiste",
        "confirmation": "Confirmación de inscripción",
        "registered": "Inscrito",
        "school_year": "Año escolar 2026-27.",
    },
}


def heading(page) -> str:
    return page.locator("h1").inner_text().strip()


def submit(page, form_selector: str) -> None:
    with page.expect_navigation():
        page.locator(f"{form_selector} [type=submit]").last.click()


@pytest.mark.parametrize("language", ["en", "es"])
def test_sign_up_verify_register_two_classes_dashboard(phone_page, live_server, world, language):
    page = phone_page
    text = TEXT[language]

    # The visitor's home page; Spanish speakers pick their language in the footer.
    page.goto("/")
    if language == "es":
        page.locator("#language-select").select_option("es")
        with page.expect_navigation():
            page.locator("footer form [type=submit]").click()
        assert page.locator("html").get_attribute("lang") == "es"
    axe_check(page)
    with page.expect_navigation():
        page.locator("main a[href='/signup/']").click()

    # Sign up.
    assert heading(page) == text["sign_up"]
    axe_check(page)
    page.fill("input[name=legal_first_name]", "Ana")
    page.fill("input[name=legal_last_name]", "Flores Vega")
    page.fill("input[name=birth_date]", "2009-04-12")
    page.fill("input[name=email]", f"ana.flores.{language}@gmail.com")
    page.fill("input[name=phone]", "509 555 0100")
    page.select_option("select[name=high_school]", str(world.school.pk))
    page.select_option("select[name=graduation_year]", "2027")
    page.fill("input[name=password1]", "violet-canyon-river-88")
    page.fill("input[name=password2]", "violet-canyon-river-88")
    axe_check(page)
    submit(page, "main form")
    assert heading(page) == text["verify_sent"], page.content()[:2000]
    axe_check(page)
    student = StudentProfile.objects.get(user__email=f"ana.flores.{language}@gmail.com")
    assert student.language == language
    # Not signed in yet, and no SERS id on the page: the answer is the same as for an
    # address that already has an account (see tests/trust/test_enumeration.py).
    assert f"ana.flores.{language}@gmail.com" in page.locator("main").inner_text()

    # The verification email, read from the test outbox; it has the SERS id.
    assert len(mail.outbox) == 1
    assert student.sers_id in mail.outbox[0].body
    verify_path = re.search(r"https?://[^/\s]+(/verify/\S+/)", mail.outbox[0].body).group(1)
    page.goto(verify_path)
    axe_check(page)
    submit(page, "main form")
    # Confirmed: now sign in, and land on the dashboard.
    page.fill("input[name=username]", f"ana.flores.{language}@gmail.com")
    page.fill("input[name=password]", "violet-canyon-river-88")
    submit(page, "main form")
    assert heading(page) == text["dashboard"]
    axe_check(page)
    student.user.refresh_from_db()
    assert student.user.email_verified
    assert len(mail.outbox) == 2  # the welcome email with the SERS id
    assert student.sers_id in mail.outbox[1].body

    # Register for two classes at the student's own school.
    with page.expect_navigation():
        page.locator("main a[href='/student/register/']").first.click()
    assert heading(page) == text["register"]
    axe_check(page)
    for section in world.sections[:2]:
        page.locator(f"#section-{section.pk}").check()
    submit(page, "#class-list form")
    assert heading(page) == text["review"]
    axe_check(page)
    submit(page, "main form")
    assert heading(page) == text["confirmation"]
    axe_check(page)
    assert Enrollment.objects.filter(student=student).count() == 2
    assert len(mail.outbox) == 3  # one confirmation for the batch
    for section in world.sections[:2]:
        assert section.articulation.high_school_course.title in page.locator("main").inner_text()

    # The dashboard shows both classes, their status and the fee.
    with page.expect_navigation():
        page.locator("main a[href='/student/dashboard/']").click()
    assert heading(page) == text["dashboard"]
    axe_check(page)
    main = page.locator("main").inner_text()
    assert text["school_year"] in main
    assert main.count(text["registered"]) >= 2
    assert "$50.00" in main
    # Nothing sticks out sideways on the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert page.js_errors == []


def test_the_other_student_pages_pass_axe_on_a_phone(phone_page, live_server, world, student):
    from enrollment.models import EnrollmentStatus as S
    from enrollment.services.registration import enrollment_register
    from enrollment.services.transitions import enrollment_change_status
    from tests.browser.fixtures import log_in

    page = phone_page
    kept = enrollment_register(
        student=student,
        section=world.sections[0],
        actor=student.user,
        today=world.policy.registration_opens,
    )
    credited = enrollment_register(
        student=student,
        section=world.sections[1],
        actor=student.user,
        today=world.policy.registration_opens,
    )
    teacher = world.sections[1].teacher
    for status, extra in [(S.CONFIRMED, {}), (S.GRADED, {"grade": "A"}), (S.ATTAINED, {})]:
        enrollment_change_status(
            enrollment_id=credited.pk, to_status=status, actor=teacher, **extra
        )

    # Public pages, including the answers with and without a match.
    for path in ["/accounts/login/", "/signup/forgot-email/", "/accounts/password/reset/"]:
        page.goto(path)
        axe_check(page)
    page.goto("/signup/forgot-email/")
    page.fill("input[name=legal_first_name]", "Maria")
    page.fill("input[name=legal_last_name]", "Lopez")
    page.fill("input[name=birth_date]", "2009-04-12")
    submit(page, "main form")
    # The same answer with or without a match; the link goes to the account's address.
    assert "Check your email" in page.locator("main").inner_text()
    assert "•••" not in page.locator("main").inner_text()
    axe_check(page)
    page.goto("/signup/")
    submit(page, "main form")  # empty: every field explains itself
    axe_check(page)

    log_in(page, student.user)
    for path in [
        "/student/dashboard/",
        "/student/credits/",
        "/student/profile/",
        f"/student/registrations/{kept.pk}/withdraw/",
        f"/student/register/?school={world.skills_center.pk}",
    ]:
        page.goto(path)
        axe_check(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, path
    # The school picker swaps the class list in place (htmx) and keeps the URL in step.
    page.goto("/student/register/")
    page.select_option("select[name=school]", str(world.skills_center.pk))
    page.wait_for_url(f"**/student/register/?school={world.skills_center.pk}")
    page.locator("#class-list", has_text="Automotive Technology").wait_for()
    axe_check(page)
    assert page.js_errors == []
