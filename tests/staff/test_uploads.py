"""CSV uploads: a teacher's class list with grades, fee payments, a college's posted
credits. Checked first, applied all-or-nothing, every bad line named, nothing guessed."""

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from enrollment import importers
from enrollment.models import Enrollment, Fee, StudentProfile
from tests.factories import StudentProfileFactory
from tests.world import S, advance, enroll, settle_fee

pytestmark = pytest.mark.django_db


def csv_file(text: str, encoding: str = "utf-8", name: str = "list.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")


def statuses(place):
    return [Enrollment.objects.get(pk=e.pk).status for e in place.enrollments]


def upload_roster(client, place, text, **kwargs):
    client.force_login(place.teacher)
    return client.post(
        reverse("enrollment:teacher_upload", args=[place.section.pk]),
        {"file": csv_file(text, **kwargs)},
    )


def problems(response):
    return [(p.line, p.message) for p in response.context["result"].problems]


# --- a teacher's class list ---------------------------------------------------------------------


def test_a_class_list_confirms_and_grades(client, here):
    a, b, c = (e.student for e in here.enrollments)
    text = (
        f"SERS ID,Last Name,First Name,Grade\n{a.sers_id},,,B+\n{b.sers_id},,,\n{c.sers_id},,,c\n"
    )
    response = upload_roster(client, here, text)
    assert response.status_code == 200
    assert response.context["result"].applied == 3
    assert statuses(here) == [S.GRADED, S.CONFIRMED, S.GRADED]
    assert Enrollment.objects.get(pk=here.enrollments[0].pk).grade == "B+"


@pytest.mark.parametrize(
    ("encoding", "bom", "delimiter"),
    [("utf-8", False, ","), ("utf-8", True, ","), ("cp1252", False, ";"), ("utf-8", False, "\t")],
    ids=["utf8", "utf8-bom", "windows-1252-semicolons", "tabs"],
)
def test_names_and_birth_dates_match_in_every_encoding(
    client, here, year, encoding, bom, delimiter
):
    jose = enroll(
        here,
        year,
        legal_first_name="José",
        legal_middle_name="Luis",
        legal_last_name="Núñez",
        birth_date=datetime.date(2009, 4, 12),
    ).student
    d = delimiter
    text = (
        f"Legal First Name{d}Last Name{d}Birth Date{d}Grade\r\n"
        f"José Luis{d}Núñez{d}4/12/2009{d}A\r\n"
    )
    if bom:
        text = "\ufeff" + text
    response = upload_roster(client, here, text, encoding=encoding)
    assert response.context["result"].problems == []
    enrollment = Enrollment.objects.get(student=jose)
    assert (enrollment.status, enrollment.grade) == (S.GRADED, "A")


def test_one_bad_line_changes_nothing_and_every_bad_line_is_named(client, here, year):
    a, b, _c = (e.student for e in here.enrollments)
    outsider = StudentProfileFactory(high_school=here.school)
    text = (
        "sers_id,grade\n"
        f"{a.sers_id},A\n"
        f"{b.sers_id},87\n"  # line 3: not a letter grade
        f"{outsider.sers_id},B\n"  # line 4: not registered for the class
        f"{a.sers_id},B\n"  # line 5: the same student again
        "123,B\n"  # line 6: no such student
    )
    response = upload_roster(client, here, text)
    assert response.status_code == 400
    found = problems(response)
    assert [line for line, _m in found] == [3, 4, 5, 6]
    assert "letter grade" in found[0][1]
    assert "must register for this class" in found[1][1]
    assert "line 2 too" in found[2][1]
    assert statuses(here) == [S.REGISTERED] * 3
    assert "Line 3:" in response.content.decode()


def test_ambiguous_rows_are_listed_not_guessed(client, here, year):
    born = datetime.date(2009, 1, 1)
    twins = [
        enroll(here, year, legal_first_name="Kim", legal_last_name="Lee", birth_date=born).student
        for _ in range(2)
    ]
    response = upload_roster(client, here, "first_name,last_name,birth_date\nKim,Lee,2009-01-01\n")
    (problem,) = response.context["result"].problems
    assert problem.line == 2
    assert problem.candidates == sorted(t.sers_id for t in twins)
    assert twins[0].sers_id in response.content.decode()
    assert all(s == S.REGISTERED for s in statuses(here))


def test_a_sers_id_with_another_persons_name_is_refused(client, here):
    a = here.enrollments[0].student
    response = upload_roster(client, here, f"sers_id,first_name,last_name\n{a.sers_id},Zed,Quux\n")
    assert "another name" in problems(response)[0][1]


def test_a_merged_records_sers_id_finds_the_student(client, here):
    from enrollment.services import merging

    kept = here.enrollments[0].student
    copy = StudentProfileFactory(
        high_school=here.school,
        legal_first_name=kept.legal_first_name,
        legal_last_name=kept.legal_last_name,
        birth_date=kept.birth_date,
    )
    merging.students_merge(actor=here.admin, survivor_id=kept.pk, merged_id=copy.pk, reason="x")
    upload_roster(client, here, f"sers_id,grade\n{copy.sers_id},A\n")
    assert Enrollment.objects.get(pk=here.enrollments[0].pk).status == S.GRADED


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"PK\x03\x04rest-of-a-workbook", "not a CSV text file"),
        (b"sers_id,grade\n" + bytes(range(1, 9)) * 4 + b",A\n", "not a CSV text file"),
        (b"name,mark\nx,A\n", "must name the columns"),
        (b"sers_id,grade\n", "no rows"),
        (b"\x81\x8d\x8f", "cannot read the characters"),
        ("\ufeffsers_id\n1".encode("utf-16"), "UTF-16"),
    ],
    ids=["empty", "xlsx", "binary", "columns", "header-only", "undecodable", "utf16"],
)
def test_unreadable_files_are_explained(client, here, content, message):
    client.force_login(here.teacher)
    response = client.post(
        reverse("enrollment:teacher_upload", args=[here.section.pk]),
        {"file": SimpleUploadedFile("list.csv", content)},
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert statuses(here) == [S.REGISTERED] * 3


def test_only_csv_and_excel_files_are_taken(client, here):
    client.force_login(here.teacher)
    response = client.post(
        reverse("enrollment:teacher_upload", args=[here.section.pk]),
        {"file": SimpleUploadedFile("list.pdf", b"%PDF-1.4")},
    )
    assert response.status_code == 400
    assert "ending in .csv" in response.content.decode()


def test_a_file_over_the_size_limit_is_refused(client, here, monkeypatch):
    monkeypatch.setattr(importers, "MAX_UPLOAD_BYTES", 100)
    text = "sers_id,grade\n" + "".join(f"{e.student.sers_id},A\n" for e in here.enrollments) * 5
    response = upload_roster(client, here, text)
    assert response.status_code == 400
    assert "too large" in response.content.decode()
    assert statuses(here) == [S.REGISTERED] * 3


def test_grades_in_a_file_respect_the_deadline(client, here):
    here.policy.grading_deadline = datetime.date(2026, 11, 1)
    here.policy.save()
    a = here.enrollments[0].student
    response = upload_roster(client, here, f"sers_id,grade\n{a.sers_id},A\n")
    assert response.status_code == 400
    assert "grading deadline" in response.content.decode()
    assert statuses(here) == [S.REGISTERED] * 3


# --- fees ---------------------------------------------------------------------------------------


def upload_fees(client, place, text, **form):
    client.force_login(place.admin)
    data = {
        "academic_year": form.pop("academic_year"),
        "status": "paid",
        "paid_on": "2026-11-20",
        "receipt_number": "BATCH-1",
        "file": csv_file(text),
        **form,
    }
    return client.post(reverse("enrollment:fee_upload"), data)


def test_payments_for_a_list_of_sers_ids(client, here, year):
    a, b, c = (e.student for e in here.enrollments)
    text = f"sers_id,receipt_number\n{a.sers_id},R-1\n{b.sers_id},\n"
    response = upload_fees(client, here, text, academic_year=year.pk)
    assert response.context["result"].applied == 2
    assert Fee.objects.get(student=a).receipt_number == "R-1"
    assert Fee.objects.get(student=b).receipt_number == "BATCH-1"
    assert Fee.objects.get(student=c).status == "unpaid"
    again = upload_fees(client, here, text, academic_year=year.pk)
    assert again.context["result"].applied == 0
    assert len(again.context["result"].skipped) == 2


def test_waivers_with_a_reason_column(client, here, year):
    a = here.enrollments[0].student
    upload_fees(
        client,
        here,
        f"sers_id,status,waiver_reason\n{a.sers_id},waived,Foster youth\n",
        academic_year=year.pk,
    )
    fee = Fee.objects.get(student=a)
    assert (fee.status, fee.waiver_reason) == ("waived", "Foster youth")


def test_a_bad_fee_line_records_nothing(client, here, there, year):
    a, b, _c = (e.student for e in here.enrollments)
    text = (
        f"sers_id,status,waiver_reason\n{a.sers_id},paid,\n"
        f"{b.sers_id},waived,Made-up reason\n"  # line 3: not a reason of the consortium
        f"{there.students[0].sers_id},paid,\n"  # line 4: another consortium's student
    )
    response = upload_fees(client, here, text, academic_year=year.pk)
    assert [line for line, _m in problems(response)] == [4]
    # Line 3 is only found when the fee rules run; line 4 stopped the file earlier.
    text = f"sers_id,status,waiver_reason\n{a.sers_id},paid,\n{b.sers_id},waived,Made-up reason\n"
    response = upload_fees(client, here, text, academic_year=year.pk)
    assert [line for line, _m in problems(response)] == [3]
    assert set(Fee.objects.filter(student__in=[a, b]).values_list("status", flat=True)) == {
        "unpaid"
    }


# --- a college's posted credits ---------------------------------------------------------------


def upload_posted(client, place, text, posted_on="2026-11-25"):
    client.force_login(place.registrar)
    return client.post(
        reverse("enrollment:registrar_upload"),
        {"file": csv_file(text), "posted_on": posted_on},
    )


@pytest.fixture
def eligible(here):
    for e in here.enrollments[:2]:
        advance(e, S.ATTAINED)
        settle_fee(e)
    return here.enrollments[:2]


def test_posted_credits_are_marked_transcribed(client, here, eligible):
    a, b = (e.student for e in eligible)
    text = (
        "sers_id,course,college_student_id,posted_on\n"
        f"{a.sers_id},CS 110,C-1,2026-11-20\n"
        f"{b.sers_id},cs110,C-2,\n"
    )
    response = upload_posted(client, here, text)
    assert response.context["result"].applied == 2
    first = Enrollment.objects.get(pk=eligible[0].pk)
    second = Enrollment.objects.get(pk=eligible[1].pk)
    assert (first.status, first.college_student_id, first.transcribed_on) == (
        S.TRANSCRIBED,
        "C-1",
        datetime.date(2026, 11, 20),
    )
    assert second.transcribed_on == datetime.date(2026, 11, 25)
    again = upload_posted(client, here, text)
    assert again.context["result"].applied == 0
    assert [p.line for p in again.context["result"].skipped] == [2, 3]
    # The message at the top says why nothing was marked, not only "0 credits marked".
    (message,) = [str(m) for m in again.context["messages"]]
    assert message == (
        "The file is applied: 0 credits marked transcribed. 2 lines were already done and "
        "are left as they were (listed below)."
    )


def test_sers_own_transcript_report_comes_back_as_an_excel_workbook(client, here, eligible):
    """The registrar fills in the college ids in the report SERS sent and uploads it."""
    from openpyxl import Workbook

    a, b = (e.student for e in eligible)
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["SERS ID", "Course prefix", "Course number", "College student ID", "Posted on"])
    sheet.append([a.sers_id, "CS", 110, "C-1", datetime.datetime(2026, 11, 20)])
    sheet.append([b.sers_id, "CS", "110", "C-2", None])
    content = io.BytesIO()
    workbook.save(content)
    client.force_login(here.registrar)
    response = client.post(
        reverse("enrollment:registrar_upload"),
        {
            "file": SimpleUploadedFile("transcript-credit.xlsx", content.getvalue()),
            "posted_on": "2026-11-25",
        },
    )
    assert response.context["result"].applied == 2
    first = Enrollment.objects.get(pk=eligible[0].pk)
    assert (first.status, first.college_student_id, first.transcribed_on) == (
        S.TRANSCRIBED,
        "C-1",
        datetime.date(2026, 11, 20),
    )
    assert Enrollment.objects.get(pk=eligible[1].pk).transcribed_on == datetime.date(2026, 11, 25)


def test_unmatched_and_not_ready_rows_are_listed_and_nothing_changes(client, here, eligible, there):
    a = eligible[0].student
    not_ready = advance(here.enrollments[2], S.ATTAINED).student  # fee unpaid
    text = (
        "sers_id,course,college_student_id\n"
        f"{a.sers_id},CS 110,C-1\n"
        f"{not_ready.sers_id},CS 110,C-3\n"
        f"{a.sers_id},MATH 99,C-1\n"
        f"{there.students[0].sers_id},CS 110,C-4\n"
        f"{a.sers_id},CS 110,\n"
    )
    response = upload_posted(client, here, text)
    found = dict(problems(response))
    assert set(found) == {3, 4, 5, 6}
    assert "fee unpaid" in found[3]
    assert "no attained credit for MATH 99" in found[4]
    assert "No student" in found[5]
    assert "college student id" in found[6]
    assert Enrollment.objects.filter(status=S.TRANSCRIBED).count() == 0


def test_posted_credits_matched_by_name_and_ambiguities_listed(client, here, year, eligible):
    born = datetime.date(2008, 8, 8)
    twins = []
    for _ in range(2):
        e = enroll(here, year, legal_first_name="Sam", legal_last_name="Ng", birth_date=born)
        advance(e, S.ATTAINED)
        settle_fee(e)
        twins.append(e)
    a = eligible[0].student
    text = (
        "first_name,last_name,birth_date,course,college_student_id\n"
        f"{a.legal_first_name},{a.legal_last_name},{a.birth_date:%m/%d/%Y},CS 110,C-1\n"
        "Sam,Ng,2008-08-08,CS 110,C-9\n"
    )
    response = upload_posted(client, here, text)
    (problem,) = response.context["result"].problems
    assert problem.line == 3
    assert problem.candidates == sorted(t.student.sers_id for t in twins)
    assert Enrollment.objects.filter(status=S.TRANSCRIBED).count() == 0
    assert StudentProfile.objects.count() >= 5
