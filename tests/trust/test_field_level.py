"""Field-level care: a student's birth date and email reach only the roles that need them.

The policy (accounts.permissions.student_fields): the student sees their own record;
the registrar sees the birth date (to post the transcript) and a masked email; the
consortium admin sees both; the career specialist sees the birth year and a masked email,
and the full email only through the logged "show it to the student" reveal; the teacher
and state staff see neither. Each test looks for the synthetic values themselves in the
page or the exported file, so it fails if a protection is removed.
"""

import datetime
import io
import zipfile

import pytest
from django.core.files.storage import default_storage
from django.db import transaction
from django.urls import reverse
from openpyxl import load_workbook

from accesslog.models import AccessLogEntry
from accounts.models import Role, RoleMembership
from accounts.permissions import (
    FieldView,
    access_for,
    can_see_birth_date,
    can_see_email,
    student_fields,
)
from reports.models import ReportJob
from reports.services import report_job_run
from tests.trust.access_world import (
    ADMIN,
    REGISTRAR,
    SPECIALIST,
    STATE,
    STUDENT,
    TEACHER,
    World,
    build_world,
)
from tests.world import localdate

BORN = datetime.date(2009, 2, 27)
EMAIL = "quill.fieldlevel@example.org"
# Every way the pages and files write the birth date in full.
BIRTH_DATE_FORMS = ("2009-02-27", "Feb. 27, 2009", "February 27, 2009", "02/27/2009")
# The attained student (waiting for the registrar) gets values of their own.
QUEUE_BORN = datetime.date(2008, 11, 19)
QUEUE_EMAIL = "wren.queue@example.org"
QUEUE_BIRTH_DATE_FORMS = ("2008-11-19", "Nov. 19, 2008", "November 19, 2008", "11/19/2008")


@pytest.fixture(scope="module")
def field_world(django_db_setup, django_db_blocker):
    patch = pytest.MonkeyPatch()
    patch.setattr("django.utils.timezone.localdate", localdate)
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            world = build_world()
            for profile, born, email in (
                (world.student, BORN, EMAIL),
                (world.attained.student, QUEUE_BORN, QUEUE_EMAIL),
            ):
                profile.birth_date = born
                profile.save(update_fields=["birth_date"])
                profile.user.email = email
                profile.user.save(update_fields=["email"])
            yield world
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            patch.undo()


def has_birth_date(text: str, forms=BIRTH_DATE_FORMS) -> bool:
    return any(form in text for form in forms)


def get(client, world: World, persona: str, url: str):
    client.force_login(world.users[persona])
    response = client.get(url)
    assert response.status_code == 200, (persona, url, response.status_code)
    return response.content.decode()


# --- the policy itself ---------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "birth_date", "email", "may_reveal"),
    [
        (TEACHER, FieldView.HIDDEN, FieldView.HIDDEN, False),
        (SPECIALIST, FieldView.MASKED, FieldView.MASKED, True),
        (REGISTRAR, FieldView.FULL, FieldView.MASKED, False),
        (ADMIN, FieldView.FULL, FieldView.FULL, False),
        (STATE, FieldView.HIDDEN, FieldView.HIDDEN, False),
    ],
)
def test_the_policy_per_role(field_world, persona, birth_date, email, may_reveal):
    access = access_for(field_world.users[persona])
    fields = student_fields(access, field_world.student.pk)
    assert (fields.birth_date, fields.email, fields.may_reveal_email) == (
        birth_date,
        email,
        may_reveal,
    )
    assert can_see_birth_date(access) is (birth_date == FieldView.FULL)
    assert can_see_email(access) is (email == FieldView.FULL)


@pytest.mark.django_db
def test_the_student_sees_their_own_and_no_one_elses(field_world):
    access = access_for(field_world.users[STUDENT])
    assert can_see_birth_date(access, field_world.student.pk)
    assert can_see_email(access, field_world.student.pk)
    other = field_world.attained.student.pk
    assert not can_see_birth_date(access, other)
    assert not can_see_email(access, other)


@pytest.mark.django_db
def test_several_roles_get_the_widest_view(field_world):
    user = field_world.users[TEACHER]  # now also a registrar of our college
    RoleMembership.objects.create(user=user, role=Role.REGISTRAR, college=field_world.here.college)
    access = access_for(type(user).objects.get(pk=user.pk))
    assert student_fields(access).birth_date == FieldView.FULL
    assert student_fields(access).email == FieldView.MASKED


# --- the pages -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_student_profile_shows_their_own(client, field_world):
    page = get(client, field_world, STUDENT, reverse("enrollment:profile"))
    assert has_birth_date(page)
    assert EMAIL in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "birth_date", "birth_year", "email", "hint"),
    [
        (SPECIALIST, False, True, False, True),
        (REGISTRAR, True, True, False, True),
        (ADMIN, True, True, True, False),
        (STATE, False, False, False, False),
    ],
)
def test_the_student_record(client, field_world, persona, birth_date, birth_year, email, hint):
    url = reverse("enrollment:staff_student", args=[field_world.student.pk])
    page = get(client, field_world, persona, url)
    assert has_birth_date(page) is birth_date
    assert ("2009" in page) is birth_year
    assert (EMAIL in page) is email
    assert ("q•••@e•••.org" in page) is hint
    assert ("quill.fieldlevel" in page) is email


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "birth_date", "birth_year"),
    [
        (SPECIALIST, False, True),
        (REGISTRAR, True, True),
        (ADMIN, True, True),
        (STATE, False, False),
    ],
)
def test_the_lookup_results(client, field_world, persona, birth_date, birth_year):
    url = reverse("enrollment:staff_lookup") + f"?sers_id={field_world.student.sers_id}"
    for headers in ({}, {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "lookup-results"}):
        client.force_login(field_world.users[persona])
        response = client.get(url, **headers)
        assert response.status_code == 200
        page = response.content.decode()
        assert field_world.student.sers_id in page
        assert has_birth_date(page) is birth_date
        assert ("<td>2009</td>" in page or "<td>February 27, 2009</td>" in page) is birth_year
        assert EMAIL not in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "birth_date", "birth_year"),
    [
        (TEACHER, False, False),
        (SPECIALIST, False, True),
        (REGISTRAR, True, True),
        (ADMIN, True, True),
        (STATE, False, False),
    ],
)
def test_the_enrollment_history(client, field_world, persona, birth_date, birth_year):
    url = reverse("enrollment:staff_enrollment", args=[field_world.enrollment.pk])
    page = get(client, field_world, persona, url)
    assert field_world.student.sers_id in page
    assert has_birth_date(page) is birth_date
    assert ("born 2009" in page or "born February 27, 2009" in page) is birth_year
    assert EMAIL not in page


@pytest.mark.django_db
def test_the_teacher_sees_names_and_sers_ids_only(client, field_world):
    section = field_world.section.pk
    for name in ("enrollment:teacher_roster", "enrollment:teacher_grades"):
        page = get(client, field_world, TEACHER, reverse(name, args=[section]))
        assert field_world.student.sers_id in page
        assert not has_birth_date(page)
        assert not has_birth_date(page, QUEUE_BIRTH_DATE_FORMS)
        assert EMAIL not in page
        assert QUEUE_EMAIL not in page
        assert "q•••@" not in page


@pytest.mark.django_db
def test_the_registrar_queue_has_the_birth_date(client, field_world):
    page = get(client, field_world, REGISTRAR, reverse("enrollment:registrar_queue"))
    assert field_world.attained.student.sers_id in page
    assert has_birth_date(page, QUEUE_BIRTH_DATE_FORMS)
    assert QUEUE_EMAIL not in page


@pytest.mark.django_db
def test_the_specialist_sees_the_email_only_through_the_logged_reveal(client, field_world):
    client.force_login(field_world.users[SPECIALIST])
    url = reverse("enrollment:staff_reveal_email", args=[field_world.student.pk])
    before = AccessLogEntry.objects.filter(action="reveal").count()
    response = client.post(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert EMAIL in response.content.decode()
    entry = AccessLogEntry.objects.filter(action="reveal").order_by("-pk").first()
    assert AccessLogEntry.objects.filter(action="reveal").count() == before + 1
    assert entry.actor_id == field_world.users[SPECIALIST].pk
    assert entry.role == Role.CAREER_SPECIALIST
    assert list(entry.students.values_list("student_id", flat=True)) == [field_world.student.pk]


@pytest.mark.django_db
@pytest.mark.parametrize(("persona", "status"), [(TEACHER, 403), (REGISTRAR, 403), (STATE, 403)])
def test_the_reveal_is_refused_to_roles_without_it(client, field_world, persona, status):
    client.force_login(field_world.users[persona])
    url = reverse("enrollment:staff_reveal_email", args=[field_world.student.pk])
    response = client.post(url, HTTP_HX_REQUEST="true")
    assert response.status_code == status
    assert EMAIL not in response.content.decode()


# --- the exports ---------------------------------------------------------------------------


def export_text(job: ReportJob) -> str:
    assert report_job_run(job_id=job.pk) == "done"
    job.refresh_from_db()
    with default_storage.open(job.file, "rb") as handle:
        data = handle.read()
    if job.file_format == ReportJob.Format.XLSX:
        sheet = load_workbook(io.BytesIO(data), read_only=True).active
        return "\n".join(
            ",".join("" if v is None else str(v) for v in row)
            for row in sheet.iter_rows(values_only=True)
        )
    if job.file_format == ReportJob.Format.PESC:  # a zip: every document and the manifest
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "\n".join(archive.read(name).decode() for name in archive.namelist())
    return data.decode("utf-8-sig")


def transcript_job(world: World, persona: str | None, file_format: str) -> ReportJob:
    return ReportJob.objects.create(
        kind=ReportJob.Kind.TRANSCRIPT_CREDIT,
        file_format=file_format,
        requested_by=world.users[persona] if persona else None,
        college=world.here.college,
        nightly_key=None if persona else f"transcript:field-level:{file_format}",
    )


@pytest.mark.django_db
@pytest.mark.parametrize("file_format", ["csv", "xlsx", "pesc"])
@pytest.mark.parametrize(
    ("persona", "birth_date"), [(REGISTRAR, True), (None, True), (STATE, False)]
)
def test_the_transcript_report(field_world, persona, birth_date, file_format):
    text = export_text(transcript_job(field_world, persona, file_format))
    assert field_world.attained.student.sers_id in text
    assert has_birth_date(text, (*QUEUE_BIRTH_DATE_FORMS, "2008-11-19 00:00:00")) is birth_date
    assert QUEUE_EMAIL not in text


@pytest.mark.django_db
@pytest.mark.parametrize("persona", [ADMIN, STATE, SPECIALIST])
@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_the_enrollments_export_is_de_identified(field_world, persona, file_format):
    job = ReportJob.objects.create(
        kind=ReportJob.Kind.ENROLLMENTS,
        file_format=file_format,
        requested_by=field_world.users[persona],
        academic_year=field_world.year,
    )
    text = export_text(job)
    assert field_world.student.sers_id in text
    for forms in (BIRTH_DATE_FORMS, QUEUE_BIRTH_DATE_FORMS):
        assert not has_birth_date(text, forms)
    assert EMAIL not in text
    assert QUEUE_EMAIL not in text
    assert field_world.student.legal_last_name not in text


@pytest.mark.django_db
def test_state_staff_follow_the_nightly_file_but_cannot_download_its_birth_dates(
    client, field_world
):
    """The nightly file is built for the registrar, birth dates included."""
    nightly = transcript_job(field_world, None, "csv")
    assert has_birth_date(export_text(nightly), QUEUE_BIRTH_DATE_FORMS)
    download = reverse("reports:report_job_download", args=[nightly.pk])
    client.force_login(field_world.users[STATE])
    assert client.get(reverse("reports:report_jobs")).status_code == 200
    assert client.get(download).status_code in (403, 404)
    client.force_login(field_world.users[REGISTRAR])
    assert client.get(download).status_code == 200
