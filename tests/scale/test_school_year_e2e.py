"""A whole school year, end to end, in a real browser (Playwright + chromium).

Seeded only with what a deployment has before the year starts: the consortium, its
college and schools, the career clusters (data migration), last year's policy and its
approved agreement with last year's teacher, the staff accounts (consortium admin,
registrar, state staff) and a student from an earlier year. Everything else happens the
way people do it, through the pages:

 1. the consortium admin sets this year's policy and rolls the agreements over;
 2. invites a new teacher from the agreement's page; the teacher activates from the email;
 3. the teacher asks to teach the class; the consortium admin approves it;
 4. a new student signs up, confirms her email from the message and registers;
 5. a returning student tries to sign up again under a nickname: the near-duplicate is
    caught, he resets the password of his existing account from the email and registers;
 6. the teacher confirms the roster, enters the grades and marks the class complete;
 7. the consortium records one fee as paid and waives the other;
 8. the nightly transcript-credit report is built by the worker's task (as beat runs it),
    the registrar follows the email's link, gets the rows as CSV, fills in the college
    student ids and uploads the file back as posted;
 9. the student sees her credit as transcribed;
10. state staff see the year in the reports dashboard and download the export.

Two-step sign-in is on, as in production: the consortium admin, the registrar and state
staff set it up at their first sign-in, typing the code an authenticator app would show
(computed with django_otp's TOTP from the key on the page).

Emails come from django.core.mail.outbox (the test settings' locmem backend); their
links are opened in the browser. Celery runs tasks in-process (CELERY_TASK_ALWAYS_EAGER).
"""

import base64
import csv
import datetime
import io
import re
import time
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from playwright.sync_api import expect

from accounts.models import Role, RoleMembership, User
from articulations.models import (
    Articulation,
    CollegeCourse,
    HighSchoolCourse,
    TeacherQualification,
)
from enrollment.models import Enrollment, EnrollmentStatus, Fee, StudentProfile
from organisations.models import (
    AcademicYear,
    College,
    Consortium,
    ConsortiumPolicy,
    District,
    HighSchool,
)
from reports import tasks as report_tasks
from tests.browser.fixtures import DESKTOP, _new_page, log_in
from tests.factories import TEST_PASSWORD, StudentProfileFactory, UserFactory, cluster

pytestmark = pytest.mark.browser

NEW_PASSWORD = "a-new-year-of-credit-2026"


# --- the world before the year starts -------------------------------------------------------


def _years(today: datetime.date) -> tuple[AcademicYear, AcademicYear]:
    """Last school year and this one (July 1 to June 30), whatever day the test runs."""
    start = today.year if today.month >= 7 else today.year - 1
    years = []
    for first in (start - 1, start):
        years.append(
            AcademicYear.objects.create(
                code=AcademicYear.code_for_start(first),
                start_date=datetime.date(first, 7, 1),
                end_date=datetime.date(first + 1, 6, 30),
            )
        )
    return years[0], years[1]


def _staff(email: str, first: str, last: str, role: str, **scope):
    user = UserFactory(email=email, first_name=first, last_name=last)
    RoleMembership.objects.create(user=user, role=role, **scope)
    return user


def seed() -> dict:
    today = timezone.localdate()
    last_year, this_year = _years(today)
    consortium = Consortium.objects.create(
        name="Cascade Tech Prep", slug="cascade", contact_email="office@cascade.example.org"
    )
    ConsortiumPolicy.objects.create(
        consortium=consortium,
        academic_year=last_year,
        registration_opens=last_year.start_date,
        registration_closes=last_year.end_date,
        payment_deadline=last_year.end_date,
        grading_deadline=last_year.end_date,
        annual_fee=Decimal("50.00"),
    )
    college = College.objects.create(
        consortium=consortium,
        name="Cascade Community College",
        code="CCC",
        registrar_email="registrar@ccc.example.edu",
    )
    district = District.objects.create(consortium=consortium, name="Riverside SD", code="D10001")
    school = HighSchool.objects.create(
        district=district, name="Riverside High School", code="HS10001", city="Riverside"
    )
    HighSchool.objects.create(
        district=district, name="Lakeview High School", code="HS10002", city="Lakeview"
    )
    course = CollegeCourse.objects.create(
        college=college, prefix="CS", number="110", title="Computer Essentials", credits=5
    )
    hs_course = HighSchoolCourse.objects.create(
        consortium=consortium, title="Computer Applications", cip_code="11.0601"
    )
    agreement = Articulation.objects.create(
        consortium=consortium,
        college=college,
        agreement_number="CTP-0001",
        high_school_course=hs_course,
        cluster=cluster("IT"),
        minimum_grade_scale="letter",
        minimum_grade="B",
        competencies="Use spreadsheets\nWrite a business letter",
        status=Articulation.Status.ACTIVE,
    )
    agreement.high_schools.add(school)
    agreement.college_courses.add(course)
    agreement.valid_years.add(last_year)
    # Last year's teacher, still teaching there: the agreement renews (it has one).
    veteran = _staff(
        "r.alvarez@riverside.example.org",
        "Rosa",
        "Alvarez",
        Role.TEACHER,
        high_school=school,
    )
    TeacherQualification.objects.create(articulation=agreement, teacher=veteran)
    returning = StudentProfileFactory(
        user__email="jonathan.reyes@example.net",
        user__first_name="Jonathan",
        user__last_name="Reyes",
        legal_first_name="Jonathan",
        legal_last_name="Reyes",
        birth_date=datetime.date(2009, 3, 14),
        high_school=school,
        graduation_year=this_year.end_date.year,
    )
    return {
        "today": today,
        "last_year": last_year,
        "this_year": this_year,
        "consortium": consortium,
        "college": college,
        "school": school,
        "agreement": agreement,
        "returning": returning,
        "admin": _staff(
            "dana.admin@cascade.example.org",
            "Dana",
            "Whitfield",
            Role.CONSORTIUM_ADMIN,
            consortium=consortium,
        ),
        "registrar": _staff(
            "sam.registrar@ccc.example.edu",
            "Sam",
            "Okoye",
            Role.REGISTRAR,
            college=college,
        ),
        "state": _staff("lee.state@sbctc.example.gov", "Lee", "Parker", Role.STATE_STAFF),
    }


# --- helpers -----------------------------------------------------------------------------------


def link_from_email(to: str, pattern: str) -> str:
    """The path of the newest link to this site, in an email to `to`, matching `pattern`."""
    for message in reversed(mail.outbox):
        if to not in message.to:
            continue
        for url in re.findall(r"https?://\S+", message.body):
            path = urlsplit(url).path
            if re.search(pattern, path):
                return path
    subjects = [(m.to, m.subject) for m in mail.outbox]
    raise AssertionError(f"no email to {to} with a link like {pattern!r}; outbox: {subjects}")


def field(scope, label: str):
    """The form field with exactly this label (crispy adds "*" to required ones)."""
    pattern = re.escape(label).replace("\\ ", " ")
    return scope.get_by_label(re.compile(rf"^\s*{pattern}\s*\*?\s*$"))


def set_up_two_step(page) -> None:
    """First sign-in of staff who must use two steps: add the key to an "authenticator
    app" (django_otp's TOTP, as the app computes it) and enter the code it shows."""
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    field(page, "Code").fill(f"{totp(key):06d}")
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    page.get_by_role("link", name=re.compile("I have saved my codes")).click()
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    assert urlsplit(page.url).path == reverse("home")


def nav(page, label: str) -> None:
    """Follow an entry of the main menu."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name=label, exact=True).click()


def success(page, text: str) -> None:
    expect(page.locator(".alert-success", has_text=text).first).to_be_visible()


class People:
    """One browser context per person, as if each sat at their own computer."""

    def __init__(self, browser, live_server):
        self.browser, self.live_server, self.contexts = browser, live_server, []

    def page(self):
        context, page = _new_page(self.browser, self.live_server, {**DESKTOP})
        context.set_default_timeout(20_000)
        self.contexts.append(context)
        return page

    def signed_in(self, user, password=TEST_PASSWORD):
        page = self.page()
        log_in(page, user, password)
        return page

    def staff_signed_in(self, user):
        """Staff whose role requires two steps: the first sign-in leads to the set-up."""
        page = self.signed_in(user)
        assert urlsplit(page.url).path == reverse("accounts:two_factor_enrol"), page.url
        set_up_two_step(page)
        return page

    def dump(self):
        """On failure: where each person's browser is and what it shows."""
        for context in self.contexts:
            for page in context.pages:
                print(f"--- {page.url}\n{page.locator('body').inner_text()[:2500]}")

    def close(self):
        for context in self.contexts:
            context.close()


# --- the year ------------------------------------------------------------------------------------


def test_a_whole_school_year(browser, live_server, django_db_serialized_rollback, settings):
    # As in production: consortium admins, registrars and state staff sign in with two
    # steps (the test settings turn it off for the other tests). Teachers and students
    # do not need it.
    settings.SERS_TWO_FACTOR_REQUIRED = True
    world = seed()
    people = People(browser, live_server)
    try:
        play_the_year(people, world)
    except Exception:
        people.dump()
        raise
    finally:
        people.close()


def play_the_year(people, w):
    started = time.monotonic()

    def step(name):  # shown with -s or on failure: where the time goes
        print(f"[{time.monotonic() - started:5.1f}s] step {name}")

    this_year, last_year = w["this_year"], w["last_year"]
    admin_page = people.staff_signed_in(w["admin"])

    # 1. The consortium admin sets this year's policy, starting from last year's.
    step("1")
    nav(admin_page, "Consortium")
    admin_page.get_by_role("link", name="Policy per school year").click()
    admin_page.get_by_role("link", name=f"Set up the {this_year.code} policy").click()
    expect(admin_page.get_by_label("Registration opens")).to_have_value(
        this_year.start_date.isoformat()
    )
    admin_page.get_by_label("Annual fee per student ($)").fill("40.00")
    admin_page.get_by_role("button", name="Save the policy").click()
    success(admin_page, "The policy is saved")
    policy = ConsortiumPolicy.objects.get(consortium=w["consortium"], academic_year=this_year)
    assert policy.annual_fee == Decimal("40.00")
    assert policy.registration_open_on(w["today"])

    # ... and rolls last year's agreements over into this year.
    nav(admin_page, "Agreements")
    admin_page.get_by_role("link", name="Annual roll-over").click()
    admin_page.get_by_label("Renew agreements of").select_option(label=last_year.code)
    admin_page.get_by_role("button", name="Preview").click()
    admin_page.get_by_role("button", name=f"Run the roll-over into {this_year.code}").click()
    success(admin_page, "The roll-over from")
    runs = admin_page.locator("#rollover-runs")
    expect(runs.get_by_role("row").nth(1)).to_contain_text("Done")
    expect(runs.get_by_role("row").nth(1)).to_contain_text(f"{last_year.code} → {this_year.code}")
    assert w["agreement"].valid_years.filter(pk=this_year.pk).exists()

    # 2. A new teacher joins: invited from the agreement's teachers, activates from the email.
    step("2")
    nav(admin_page, "Agreements")
    admin_page.get_by_role("link", name="CTP-0001 v1").first.click()
    admin_page.get_by_role("link", name="Manage teachers").click()
    invite = admin_page.locator("form", has=admin_page.locator("input[value=invite]"))
    invite.get_by_label("Email address").fill("m.chen@riverside.example.org")
    invite.get_by_label("First name").fill("Mei")
    invite.get_by_label("Last name").fill("Chen")
    invite.get_by_label("School").select_option(label="Riverside High School")
    invite.get_by_role("button", name="Send invitation").click()
    expect(admin_page.get_by_text("Mei Chen").first).to_be_visible()

    teacher_page = people.page()
    teacher_page.goto(link_from_email("m.chen@riverside.example.org", r"/accounts/activate/"))
    field(teacher_page, "New password").fill(NEW_PASSWORD)
    teacher_page.get_by_label("New password confirmation").fill(NEW_PASSWORD)
    teacher_page.get_by_role("button", name="Activate my account").click()
    success(teacher_page, "Your account is active")
    log_in(teacher_page, User.objects.get(email="m.chen@riverside.example.org"), NEW_PASSWORD)

    # 3. The teacher asks to teach the class this year; the consortium approves.
    step("3")
    nav(teacher_page, "My classes")
    teacher_page.get_by_role("link", name="Ask to teach a class").click()
    teacher_page.get_by_label("Course (agreement)").select_option(index=1)
    field(teacher_page, "School").select_option(label="Riverside High School")
    expect(field(teacher_page, "School year")).to_have_value(str(this_year.pk))
    field(teacher_page, "Period or section").fill("P3")
    teacher_page.get_by_role("button", name="Send the request").click()
    success(teacher_page, "Your request is sent")

    nav(admin_page, "Consortium")
    admin_page.get_by_role("link", name="Class requests").click()
    admin_page.get_by_label("Approve: create the class").first.check()
    admin_page.get_by_role("button", name="Save the decision").first.click()
    success(admin_page, "The class is created")

    # 4. A new student signs up, confirms her email and registers.
    step("4")
    maya = people.page()
    maya.goto("/")
    nav(maya, "Create a student account")
    fill_sign_up(
        maya,
        first="Maya",
        last="Okafor",
        birth="2009-08-02",
        email="maya.okafor@example.net",
        school=w["school"],
    )
    maya.get_by_role("button", name="Create my account").click()
    expect(maya.get_by_role("heading", name="Confirm your email address")).to_be_visible()
    expect(maya.locator("main")).to_contain_text("maya.okafor@example.net")
    maya.goto(link_from_email("maya.okafor@example.net", r"/verify/"))
    maya.get_by_role("button", name="Confirm my email address").click()
    success(maya, "your email address is confirmed")
    log_in(maya, User.objects.get(email="maya.okafor@example.net"), NEW_PASSWORD)
    register_for_the_class(maya)

    # 5. A returning student signs up again under a nickname: caught, back to his account.
    step("5")
    jon = people.page()
    jon.goto("/signup/")
    fill_sign_up(
        jon,
        first="Jon",
        last="Reyes",
        birth="2009-03-14",
        email="jonreyes.new@example.net",
        school=w["school"],
    )
    jon.get_by_role("button", name="Create my account").click()
    expect(jon.get_by_role("heading", name="You may already have an account")).to_be_visible()
    assert not StudentProfile.objects.filter(legal_first_name="Jon").exists()
    jon.get_by_role("button", name="Send a password reset link to that address").click()
    jon.goto(link_from_email("jonathan.reyes@example.net", r"/accounts/password/reset/"))
    field(jon, "New password").fill(NEW_PASSWORD)
    jon.get_by_label("New password confirmation").fill(NEW_PASSWORD)
    jon.get_by_role("button", name=re.compile("password", re.I)).click()
    log_in(jon, w["returning"].user, NEW_PASSWORD)
    register_for_the_class(jon)
    assert StudentProfile.objects.filter(birth_date=datetime.date(2009, 3, 14)).count() == 1

    # 6. The teacher confirms the roster, grades and marks the class complete.
    step("6")
    nav(teacher_page, "My classes")
    teacher_page.get_by_role("link", name="Computer Applications").first.click()
    teacher_page.get_by_role("button", name=re.compile(r"Confirm (all )?(the )?2 waiting")).click()
    success(teacher_page, "2 students confirmed")
    nav(teacher_page, "My classes")
    teacher_page.get_by_role("link", name="Enter grades").click()
    # htmx (a deferred script) listens only once the page has loaded: a grade typed before
    # that is saved all the same, but not checked as it is typed.
    teacher_page.wait_for_url("**/grades/")  # waits for the page's load event too
    for name, grade in (("Okafor, Maya", "A"), ("Reyes, Jonathan", "B+")):
        teacher_page.get_by_label(name).fill(grade)
        # The page checks each grade against the minimum as it is typed (not saved yet).
        expect(teacher_page.get_by_role("row", name=name)).to_contain_text(
            "Not saved yet: meets the minimum"
        )
    teacher_page.get_by_role("button", name="Save all grades").click()
    success(teacher_page, "2 grades saved")
    for name in ("Okafor, Maya", "Reyes, Jonathan"):
        expect(teacher_page.get_by_role("row", name=name)).to_contain_text("Attained")
    teacher_page.get_by_role("link", name=re.compile("complete", re.I)).first.click()
    teacher_page.get_by_role("button", name="Mark the class complete").click()
    success(teacher_page, "The class is complete: 2 attained")

    # 7. The consortium records Maya's payment and waives Jonathan's fee.
    step("7")
    nav(admin_page, "Consortium")
    admin_page.get_by_role("link", name="Record payments and waivers").click()
    record_fee(admin_page, "Okafor", status="A payment", receipt="R-2041")
    nav(admin_page, "Consortium")
    admin_page.get_by_role("link", name="Record payments and waivers").click()
    record_fee(admin_page, "Reyes", status="A waiver", waiver="Free or reduced-price lunch")
    fees = Fee.objects.filter(academic_year=this_year)
    assert sorted(fees.values_list("status", flat=True)) == ["paid", "waived"]

    # 8. Night: the worker builds the college's transcript-credit report (beat's task).
    step("8")
    job_ids = report_tasks.build_nightly_transcript_reports.delay().get()
    assert len(job_ids) == 1
    registrar = people.staff_signed_in(w["registrar"])
    registrar.goto(link_from_email(w["registrar"].email, r"/reports/jobs/\d+/"))
    expect(registrar.get_by_role("link", name=f"Download report {job_ids[0]}")).to_be_visible()
    # The nightly file is a spreadsheet; the registrar asks for the same rows as CSV.
    registrar.get_by_label(re.compile("format", re.I)).select_option("csv")
    registrar.get_by_role("button", name="Run again").click()
    # The new report's page (its status updates itself; the download waits for it).
    expect(registrar.get_by_text(re.compile(r"the rows of report #\d+"))).to_be_visible()
    rows = download_csv(
        registrar, registrar.get_by_role("link", name=re.compile(r"Download report \d+"))
    )
    assert sorted(r["Legal last name"] for r in rows) == ["Okafor", "Reyes"]
    assert {(r["Course prefix"], r["Course number"], r["Credits"]) for r in rows} == {
        ("CS", "110", "5.0")
    }
    for number, row in enumerate(rows, start=1):
        row["College student ID"] = f"9010{number:05d}"
    posted = io.StringIO()
    writer = csv.DictWriter(posted, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)

    nav(registrar, "Transcription queue")
    registrar.get_by_role("link", name="Upload posted credits").click()
    registrar.locator("input[type=file]").set_input_files(
        {
            "name": "posted-credits.csv",
            "mimeType": "text/csv",
            "buffer": posted.getvalue().encode(),
        }
    )
    registrar.get_by_role("button", name="Check and apply the file").click()
    success(registrar, "2 credits marked transcribed")
    assert set(
        Enrollment.objects.filter(section__academic_year=this_year).values_list("status", flat=True)
    ) == {EnrollmentStatus.TRANSCRIBED}

    # 9. Maya sees her credit as transcribed.
    step("9")
    nav(maya, "My college credits")
    credits = maya.locator("main")
    expect(credits).to_contain_text("CS 110 Computer Essentials")
    expect(credits).to_contain_text(re.compile(r"Transcript\s+On your college transcript"))

    # 10. State staff see the year in the dashboard and download the export.
    step("10")
    state = people.staff_signed_in(w["state"])
    nav(state, "Reports")
    expect(state.locator("main")).to_contain_text("Cascade Tech Prep")
    check_dashboard_and_export(state, w)


def fill_sign_up(page, *, first, last, birth, email, school):
    page.get_by_label("Legal first name").fill(first)
    page.get_by_label("Legal last name").fill(last)
    page.get_by_label("Birth date").fill(birth)
    page.get_by_label("Personal email").fill(email)
    page.locator("#id_high_school").select_option(str(school.pk))
    page.get_by_label("Year you finish high school").select_option(index=1)
    field(page, "Password").fill(NEW_PASSWORD)
    page.get_by_label("Password again").fill(NEW_PASSWORD)


def register_for_the_class(page):
    nav(page, "Register for classes")
    page.get_by_role("checkbox", name=re.compile("Mei Chen · section P3")).check()
    page.get_by_role("button", name="Review my choices").click()
    page.get_by_role("button", name="Confirm registration").click()
    success(page, "You are registered")


def record_fee(page, last_name, *, status, receipt="", waiver=""):
    page.get_by_role("row", name=re.compile(last_name)).get_by_role("link").first.click()
    page.get_by_role("radio", name=status).check()
    if receipt:
        field(page, "Receipt number").fill(receipt)
    if waiver:
        field(page, "Waiver reason").select_option(label=waiver)
    page.get_by_role("button", name="Save", exact=True).click()
    success(page, "The fee is recorded")


def download_csv(page, link) -> list[dict]:
    """Click a download link; the rows of the CSV file the browser saved."""
    expect(link).to_be_visible()
    with page.expect_download() as info:
        link.click()
    assert info.value.suggested_filename.endswith(".csv"), info.value.suggested_filename
    with open(info.value.path(), encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def check_dashboard_and_export(page, w):
    this_year = w["this_year"]
    main = page.locator("main")
    expect(main).to_contain_text(f"Statewide, school year {this_year.code}")
    by_consortium = page.get_by_role("row", name=re.compile("^Cascade Tech Prep"))
    expect(by_consortium).to_be_visible()
    # Two students: every count stands for fewer than 10 and is shown as "<10" (privacy).
    expect(by_consortium.get_by_role("cell").nth(1)).to_have_text("<10")
    funnel = page.get_by_role("row", name=re.compile("^Transcribed"))
    expect(funnel).to_contain_text("<10")

    # The table export goes through a report job (built by the worker, here in-process).
    table_export = page.locator("form", has_text="Export “Students, enrollments, credits")
    table_export.get_by_role("button", name="CSV").click()
    rows = download_csv(page, page.get_by_role("link", name=re.compile(r"Download report \d+")))
    assert [r["Consortium"] for r in rows][:1] == ["Cascade Tech Prep"]
    assert rows[0]["Students"] == "<10"

    # The row-level export of the year: SERS ids, no names; exact numbers.
    nav(page, "Reports")
    export = page.locator("form", has=page.get_by_role("button", name="Export enrollments"))
    export.get_by_label("School year").select_option(label=this_year.code)
    export.get_by_label("File format").select_option("csv")
    export.get_by_role("button", name="Export enrollments").click()
    rows = download_csv(page, page.get_by_role("link", name=re.compile(r"Download report \d+")))
    students = StudentProfile.objects.filter(enrollments__section__academic_year=this_year)
    assert sorted(r["SERS ID"] for r in rows) == sorted(s.sers_id for s in students)
    assert len(rows) == 2
    for row in rows:
        assert row["School year"] == this_year.code
        assert row["Consortium"] == "Cascade Tech Prep"
        assert row["College"] == "Cascade Community College"
        assert row["Career cluster"] == "Information Technology"
        assert row["Status"] == "Transcribed"
        assert Decimal(row["Credits"]) == Decimal("5.0")
        assert row["Transcribed on"] == w["today"].isoformat()
    assert sorted(r["Fee"] for r in rows) == ["Paid", "Waived"]
    assert sorted(r["Grade"] for r in rows) == ["A", "B+"]
