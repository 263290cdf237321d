"""In a browser, on a phone: a sign-up that looks like an existing student (a twin with
the same name as her sister's, a common name) is asked, and goes on with "none of these
accounts is mine": the account is made, flagged for staff, and the next page says what
happens next and whom to ask."""

import datetime

from django.urls import reverse

from enrollment.models import PossibleDuplicate, StudentProfile
from tests.browser.axe import axe_check
from tests.factories import HighSchoolFactory, StudentProfileFactory

BORN = datetime.date(2009, 6, 3)
PASSWORD = "amber-falcon-meadow-73"


def fill(page, school):
    page.get_by_label("Legal first name").fill("Jon")
    page.get_by_label("Legal last name").fill("Reyes")
    page.locator("#id_birth_date").fill(BORN.isoformat())
    page.get_by_label("Personal email").fill("jon.reyes.twin@example.org")
    page.locator("#id_high_school").select_option(str(school.pk))
    page.locator("#id_graduation_year").select_option(index=1)
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)


def test_not_me_goes_on_to_a_flagged_account_on_a_phone(phone_page, db):
    school = HighSchoolFactory(district__consortium__contact_email="help@cascade.example")
    existing = StudentProfileFactory(
        legal_first_name="Jonathan", legal_last_name="Reyes", birth_date=BORN, high_school=school
    )
    page = phone_page
    page.goto(reverse("enrollment:sign_up"))
    fill(page, school)
    with page.expect_navigation():
        page.get_by_role("button", name="Create my account").click()
    assert page.get_by_role("heading", name="You may already have an account").is_visible()
    assert page.get_by_role("heading", name="None of these accounts is yours?").is_visible()
    assert "help@cascade.example" in page.content()
    axe_check(page)

    # The steps lead to the tick box, from the keyboard too.
    page.get_by_role("link", name="None of these accounts is mine").focus()
    page.keyboard.press("Enter")
    checkbox = page.locator("#id_different_person")
    checkbox.check()
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Create my account").click()
    assert page.get_by_role("heading", name="What happens next").is_visible()
    assert "two different people" in page.content()
    assert "help@cascade.example" in page.content()
    new = StudentProfile.objects.get(user__email="jon.reyes.twin@example.org")
    pair = PossibleDuplicate.objects.get(student=new)
    assert pair.existing_student == existing
    assert pair.status == PossibleDuplicate.Status.OPEN
    assert page.js_errors == []
