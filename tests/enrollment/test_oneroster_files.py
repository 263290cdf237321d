"""Reading and checking a OneRoster export (enrollment/oneroster): realistic files are
read whole, and every problem is named by file, line and column. No database: the
school of the upload is given as validate() takes it."""

import io
import zipfile
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from enrollment.models import SisClass, SisStudent
from enrollment.oneroster import Problems, School, read_upload, validate
from enrollment.oneroster import spec as S
from enrollment.oneroster.problems import KEEP
from tests.enrollment.oneroster_files import Export

TODAY = date(2026, 12, 1)
SCHOOL = School(code="HS00001", name="Cascade High School", other_codes={"hs00002": "Desert High"})


def small_export() -> Export:
    export = Export(school_code="HS00001")
    course = export.add_course("Web Design, Level 1", code="CTE-WEB")
    teacher = export.add_teacher("Terry", "Cascade", email="Terry@School.example.org")
    klass = export.add_class("Web Design, Level 1", course, period="3", teacher=teacher)
    fall = export.add_class("Welding", export.add_course("Welding"), term="fall", period="5")
    for given, family, middle, email in (
        ("José", "Núñez", "Ángel", "jose.nunez@k12.example"),
        ("Zoë", "O'Brien-Smith", "", "zoe.obrien@k12.example"),
        ("Anh", "Nguyễn", "", ""),
    ):
        student = export.add_student(given, family, middle=middle, email=email)
        export.enroll(klass, student)
    export.enroll(fall, student)
    return export


def check(export: Export | None = None, *, files=None, school=SCHOOL):
    problems = Problems()
    texts = read_upload(files if files is not None else export.uploads(), problems)
    roster = validate(texts, school=school, today=TODAY, problems=problems)
    return roster, problems


def messages(problems: Problems) -> list[tuple[str, int | None, str]]:
    return [(p.file, p.line, p.column) for p in problems.found]


def test_a_realistic_zip_is_read_whole():
    roster, problems = check(small_export())
    assert not problems, problems.found
    assert roster.source_system == "Synthetic SIS"
    titles = sorted(c.title for c in roster.classes)
    assert titles == ["Web Design, Level 1", "Welding"]  # the quoted comma kept
    web = next(c for c in roster.classes if c.title.startswith("Web"))
    assert web.course_code == "CTE-WEB"
    assert web.periods == "3"
    assert web.terms == "Fall Semester, Spring Semester"  # "s1,s2" in one quoted cell
    assert (web.starts_on, web.ends_on) == (date(2026, 8, 26), date(2027, 6, 15))
    assert web.teachers == "Terry Cascade"
    assert web.teacher_emails == "terry@school.example.org"
    names = sorted((s.given_name, s.family_name, s.middle_name) for s in roster.students)
    assert names == [
        ("Anh", "Nguyễn", ""),
        ("José", "Núñez", "Ángel"),
        ("Zoë", "O'Brien-Smith", ""),
    ]
    assert len(roster.enrollments) == 4


def test_the_separate_files_read_as_the_zip():
    export = small_export()
    from_zip, _ = check(export)
    from_files, problems = check(files=export.uploads(zipped=False))
    assert not problems
    assert from_files.classes == from_zip.classes
    assert from_files.students == from_zip.students


def test_a_zip_with_a_folder_windows_1252_and_lf_line_ends():
    export = small_export()
    export.rows["users.csv"][-1]["familyName"] = "Nguyen"  # Windows-1252 has no ễ
    content = io.BytesIO()
    with zipfile.ZipFile(content, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in export.files():
            archive.writestr(f"export-2026/{name}", export.text(name, crlf=False).encode("cp1252"))
        archive.writestr("export-2026/roles.csv", b"sourcedId\r\n")  # not read
    roster, problems = check(files=[SimpleUploadedFile("export.zip", content.getvalue())])
    assert not problems, problems.found
    assert "Núñez" in {s.family_name for s in roster.students}


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_a_file_saved_by_a_spreadsheet_with_semicolons_or_tabs_reads_as_with_commas(delimiter):
    """Read as every SERS upload is (sers.uploads.csv_records): a school that opened a file
    in a spreadsheet set to another language and saved it gets the same classes."""
    export = small_export()
    expected, _ = check(export)
    content = io.BytesIO()
    with zipfile.ZipFile(content, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in export.files():
            saved_by = delimiter if name in ("users.csv", "classes.csv") else ","
            archive.writestr(name, export.text(name, delimiter=saved_by).encode("utf-8-sig"))
    roster, problems = check(files=[SimpleUploadedFile("export.zip", content.getvalue())])
    assert not problems, problems.found
    assert roster.classes == expected.classes
    assert [s.sourced_id for s in roster.students] == [s.sourced_id for s in expected.students]
    assert "Web Design, Level 1" in {c.title for c in roster.classes}  # the comma kept


def test_a_missing_manifest_a_delta_file_and_an_old_version_are_named():
    export = small_export()
    export.manifest["file.enrollments"] = "delta"
    export.manifest["oneroster.version"] = "1.0"
    _roster, problems = check(export)
    found = " ".join(p.message for p in problems.found)
    assert "file.enrollments is delta" in found
    assert "OneRoster 1.0" in found
    files = export.uploads(zipped=False, only=set(S.FILE_NAMES) - {S.MANIFEST})
    _roster, problems = check(files=files)
    assert [(p.file, p.line) for p in problems.found] == [("manifest.csv", None)]


def test_a_file_left_out_is_named():
    files = small_export().uploads(zipped=False, only={"manifest.csv", "orgs.csv", "users.csv"})
    _roster, problems = check(files=files)
    missing = {p.file for p in problems.found if "not in the upload" in p.message}
    assert missing == {"academicSessions.csv", "courses.csv", "classes.csv", "enrollments.csv"}


def test_a_missing_column_is_named_with_the_header_line():
    export = small_export()
    export.columns["users.csv"] = export.columns["users.csv"].replace(",familyName", "")
    _roster, problems = check(export)
    assert ("users.csv", 1, "familyName") in messages(problems)


def test_every_bad_value_is_named_by_file_line_and_column():
    export = small_export()
    users = export.rows["users.csv"]
    users[1]["givenName"] = ""  # line 3 (the header is line 1)
    users[2]["email"] = "not an address"
    users[3]["enabledUser"] = "yes"
    enrollments = export.rows["enrollments.csv"]
    enrollments[1]["role"] = "pupil"
    enrollments[2]["beginDate"] = "12/01/2026"
    enrollments[3]["userSourcedId"] = "nobody"
    export.rows["academicSessions.csv"][1]["endDate"] = "2026-02-30"
    export.rows["classes.csv"][0]["termSourcedIds"] = "s1,s9"
    roster, problems = check(export)
    assert roster is None
    found = messages(problems)
    for expected in [
        ("users.csv", 3, "givenName"),
        ("users.csv", 4, "email"),
        ("users.csv", 5, "enabledUser"),
        ("enrollments.csv", 3, "role"),
        ("enrollments.csv", 4, "beginDate"),
        ("enrollments.csv", 5, "userSourcedId"),
        ("academicSessions.csv", 3, "endDate"),
        ("classes.csv", 2, "termSourcedIds"),
    ]:
        assert expected in found, (expected, found)


def test_an_unquoted_comma_and_a_duplicate_id_are_named():
    export = small_export()
    export.rows["users.csv"].append(dict(export.rows["users.csv"][-1]))  # the same sourcedId
    export.lines["classes.csv"].append(
        "class-x,,,Art, Level 2,,course-1,,scheduled,,org-school-1,sy,,,1"
    )
    _roster, problems = check(export)
    found = {(p.file, p.line, p.column): p.message for p in problems.found}
    last_user = len(export.rows["users.csv"]) + 1
    assert "also the sourcedId of line" in found[("users.csv", last_user, "sourcedId")]
    line = len(export.rows["classes.csv"]) + 2
    assert "double quotes" in found[("classes.csv", line, "")]


def test_a_line_split_by_a_stray_quote_is_named():
    export = small_export()
    export.lines["courses.csv"].append('course-x,,,sy,"Welding "Basics",W1,,org-school-1,,')
    _roster, problems = check(export)
    assert any(p.file == "courses.csv" and "cannot be read" in p.message for p in problems.found)


def test_rows_for_another_school_are_refused():
    export = small_export()
    export.add(
        "orgs.csv", sourcedId="org-other", name="Desert High", type="school", identifier="HS00002"
    )
    course = export.add_course("Robotics", school="org-other")
    klass = export.add_class("Robotics", course, school="org-other")
    student = export.add_student("Lee", "Park")
    enrollment = export.enroll(klass, student, school="org-other")
    roster, problems = check(export)
    assert roster is None
    refused = {(p.file, p.column) for p in problems.found if p.message.startswith("Refused")}
    assert refused == {
        ("courses.csv", "orgSourcedId"),
        ("classes.csv", "schoolSourcedId"),
        ("enrollments.csv", "schoolSourcedId"),
    }
    line = export.rows["enrollments.csv"].index(enrollment) + 2
    assert ("enrollments.csv", line, "schoolSourcedId") in messages(problems)


def test_another_sers_schools_export_is_refused():
    export = Export(school_code="HS00002", school_name="Desert High")
    _roster, problems = check(export)
    assert [(p.file, p.line, p.column) for p in problems.found] == [("orgs.csv", 3, "identifier")]
    assert "Desert High" in problems.found[0].message


def test_a_district_export_without_the_schools_code_is_refused():
    export = small_export()
    export.add("orgs.csv", sourcedId="org-3", name="North High", type="school", identifier="X1")
    export.rows["orgs.csv"][1]["identifier"] = "NCES-1"
    _roster, problems = check(export)
    assert any("none has the identifier HS00001" in p.message for p in problems.found)


def test_a_single_school_without_the_code_is_the_uploaders():
    export = small_export()
    export.rows["orgs.csv"][1]["identifier"] = "530000012345"  # an NCES id
    roster, problems = check(export)
    assert not problems
    assert len(roster.classes) == 2


def test_rows_to_be_deleted_and_ended_enrollments_are_left_out():
    export = small_export()
    export.rows["classes.csv"][1]["status"] = "tobedeleted"
    for row in export.rows["enrollments.csv"]:
        if row["classSourcedId"] == export.rows["classes.csv"][1]["sourcedId"]:
            row["status"] = "tobedeleted"
    export.rows["enrollments.csv"][1]["endDate"] = "2026-10-01"  # left the class in October
    roster, problems = check(export)
    assert not problems, problems.found
    assert [c.title for c in roster.classes] == ["Web Design, Level 1"]
    assert len(roster.enrollments) == 2


def test_every_problem_is_counted_and_the_list_is_bounded():
    export = small_export()
    klass = export.rows["classes.csv"][0]["sourcedId"]
    for n in range(KEEP + 50):
        export.enroll(klass, f"ghost-{n}")
    export.rows["users.csv"][1]["givenName"] = ""
    _roster, problems = check(export)
    assert problems.total == KEEP + 51
    assert len(problems.found) == KEEP


def test_a_zip_bomb_is_refused_before_it_is_unpacked(settings):
    settings.SERS_UPLOAD_MAX_BYTES = 1024 * 1024
    content = io.BytesIO()
    with zipfile.ZipFile(content, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("users.csv", b"0" * (5 * 1024 * 1024))
    _roster, problems = check(files=[SimpleUploadedFile("export.zip", content.getvalue())])
    assert "too large once unpacked" in problems.found[0].message


def test_a_picture_named_csv_and_a_zip_with_csv_files_are_refused():
    files = [
        SimpleUploadedFile("users.csv", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64),
        SimpleUploadedFile("x.zip", b"PK"),
    ]
    _roster, problems = check(files=files)
    assert "either the zip archive or the CSV files" in problems.found[0].message
    _roster, problems = check(files=files[:1])
    assert problems.found[0].file == "users.csv"


def test_the_models_keep_every_value_the_checks_let_through():
    fields = {
        ("classes.csv", "title"): SisClass._meta.get_field("title"),
        ("classes.csv", "classCode"): SisClass._meta.get_field("class_code"),
        ("classes.csv", "location"): SisClass._meta.get_field("location"),
        ("classes.csv", "periods"): SisClass._meta.get_field("periods"),
        ("courses.csv", "title"): SisClass._meta.get_field("course_title"),
        ("courses.csv", "courseCode"): SisClass._meta.get_field("course_code"),
        ("users.csv", "givenName"): SisStudent._meta.get_field("given_name"),
        ("users.csv", "familyName"): SisStudent._meta.get_field("family_name"),
        ("users.csv", "middleName"): SisStudent._meta.get_field("middle_name"),
        ("users.csv", "preferredGivenName"): SisStudent._meta.get_field("preferred_given_name"),
        ("users.csv", "identifier"): SisStudent._meta.get_field("identifier"),
        ("users.csv", "email"): SisStudent._meta.get_field("email"),
        ("users.csv", "sourcedId"): SisStudent._meta.get_field("sourced_id"),
        ("classes.csv", "sourcedId"): SisClass._meta.get_field("sourced_id"),
    }
    specs = {spec.name: spec for spec in S.FILES}
    for (file, column), model_field in fields.items():
        assert specs[file].lengths[column] == model_field.max_length, (file, column)


@pytest.mark.parametrize("value", ["active", "ACTIVE", ""])
def test_bulk_rows_may_say_active_or_nothing(value):
    export = small_export()
    for row in export.rows["users.csv"]:
        row["status"] = value
        row["dateLastModified"] = "2026-11-30T18:04:05.000Z"
    _roster, problems = check(export)
    assert not problems, problems.found
