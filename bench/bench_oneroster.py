"""The OneRoster import of a large high school: how long checking and writing it take.

    DATABASE_URL=... .venv/bin/python bench/bench_oneroster.py [--students 2500]
        [--classes 150] [--per-student 5] [--runs 2] [--json FILE]

Migrate the database first (`manage.py migrate`). The script makes, once, a bench
consortium with one high school, 30 SERS classes there (their courses, teachers and
periods are those of some of the export's classes) and a career specialist; it reuses
them on the next run. It generates the school's OneRoster 1.2 export as a zip
(tests/enrollment/oneroster_files.py: byte-order mark, CRLF, quoted commas, accented
names) and times, for each run:

- read: the upload's checks (zip members measured before unpacking, CSV decoding);
- validate: every line of every file and every reference checked;
- import: the whole service, as the upload page runs it (read, validate, then the
  writes in one transaction: the previous run's import gives way, its rows deleted);
  `write` is import minus read and validate, and `queries` the SQL statements it ran;

then the mapping page (a suggestion for each of the classes) and, with the suggestions
confirmed, the school's list of one class as the teacher's roster shows it.
"""

import argparse
import json
import os
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sers.settings.dev")

CODE = "BENCHOR01"
TODAY = date(2026, 12, 1)
SECTIONS = 30


def _setup_django() -> None:
    import django

    django.setup()


def _school():
    """The bench's high school and its career specialist (made on the first run)."""
    from accounts.models import Role, RoleMembership
    from organisations.models import HighSchool
    from tests.factories import (
        AcademicYearFactory,
        CollegeFactory,
        ConsortiumFactory,
        DistrictFactory,
        HighSchoolFactory,
        make_staff,
    )
    from tests.world import add_agreement, add_section, add_teacher

    school = HighSchool.objects.filter(code=CODE).first()
    if school is not None:
        member = RoleMembership.objects.get(role=Role.CAREER_SPECIALIST, high_school=school)
        return school, member.user
    year = AcademicYearFactory(start_year=2026)
    consortium = ConsortiumFactory(name="Bench OneRoster Consortium", slug="bench-oneroster")
    college = CollegeFactory(consortium=consortium, name="Bench OneRoster College", code="BENCHOR")
    district = DistrictFactory(
        consortium=consortium, name="Bench OneRoster District", code="BENCHORD"
    )
    school = HighSchoolFactory(district=district, name="Bench OneRoster High School", code=CODE)
    for n in range(SECTIONS):
        teacher = add_teacher(
            school,
            email=f"teacher{n}@school.example.org",
            first_name=f"Teacher{n}",
            last_name=f"Staff{n}",
        )
        agreement = add_agreement(
            consortium,
            college,
            [year],
            schools=[school],
            high_school_course__title=f"Course {n}, Level {n % 3 + 1}",
            high_school_course__local_code=f"C{n:03d}",
        )
        add_section(
            agreement, school=school, year=year, teacher=teacher, section_code=f"P{n % 7 + 1}"
        )
    specialist = make_staff(
        Role.CAREER_SPECIALIST, school, email="bench-oneroster-specialist@example.org"
    )
    return school, specialist


def _seconds(start: float) -> float:
    return round(time.perf_counter() - start, 3)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=2500)
    parser.add_argument("--classes", type=int, default=150)
    parser.add_argument("--per-student", type=int, default=5)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    _setup_django()

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from enrollment.oneroster import Problems, read_upload, validate
    from enrollment.selectors.oneroster import mapping_page, section_school_list
    from enrollment.selectors.teaching import section_roster
    from enrollment.services.oneroster import (
        SKIP,
        school_context,
        sis_import_create,
        sis_mappings_save,
    )
    from tests.enrollment.oneroster_files import large_school

    school, specialist = _school()
    started = time.perf_counter()
    export = large_school(
        school_code=CODE,
        students=args.students,
        classes=args.classes,
        per_student=args.per_student,
    )
    archive = export.zip_bytes()
    sizes = {name: len(content) for name, content in export.files().items()}
    print(
        f"{connection.vendor}: {args.students} students, {args.classes} classes, "
        f"{len(export.rows['enrollments.csv'])} enrollment rows; zip {len(archive) / 1e6:.2f} MB, "
        f"CSV {sum(sizes.values()) / 1e6:.2f} MB (generated in {_seconds(started)} s)"
    )
    runs = []
    context = school_context(school)
    for run in range(1, args.runs + 1):
        started = time.perf_counter()
        problems = Problems()
        texts = read_upload([SimpleUploadedFile("oneroster.zip", archive)], problems)
        read = _seconds(started)
        started = time.perf_counter()
        roster = validate(texts, school=context, today=TODAY, problems=problems)
        checked = _seconds(started)
        assert roster is not None, problems.found[:5]
        started, cpu = time.perf_counter(), time.process_time()
        with CaptureQueriesContext(connection) as queries:
            outcome = sis_import_create(
                actor=specialist,
                high_school_id=school.pk,
                files=[SimpleUploadedFile("oneroster.zip", archive)],
                today=TODAY,
            )
        total = _seconds(started)
        cpu = round(time.process_time() - cpu, 3)
        assert outcome.ok, outcome.problems.found[:5]
        numbers = {
            "run": run,
            "read_s": read,
            "validate_s": checked,
            "import_s": total,
            "import_cpu_s": cpu,
            "write_s": round(total - read - checked, 3),
            "queries": len(queries.captured_queries),
            "classes": outcome.sis_import.classes_count,
            "students": outcome.sis_import.students_count,
            "enrollments": outcome.sis_import.enrollments_count,
        }
        runs.append(numbers)
        print(
            f"run {run}: read {read:.2f} s, validate {checked:.2f} s, write "
            f"{numbers['write_s']:.2f} s, import in all {total:.2f} s (Python CPU {cpu:.2f} s), "
            f"{numbers['queries']} "
            f"queries; {numbers['classes']} classes, {numbers['students']} students, "
            f"{numbers['enrollments']} enrollments"
        )
    sis_import = outcome.sis_import
    started = time.perf_counter()
    page = mapping_page(sis_import=sis_import)
    mapping_s = _seconds(started)
    print(
        f"mapping page: {len(page.rows)} classes, {page.suggested} suggested against "
        f"{len(page.options)} SERS classes, in {mapping_s:.2f} s"
    )
    decisions = {row.sis_class.pk: row.chosen or SKIP for row in page.rows}
    sis_mappings_save(actor=specialist, import_id=sis_import.pk, decisions=decisions)
    section = school.sections.order_by("pk").first()
    started = time.perf_counter()
    school_list = section_school_list(section=section, roster=section_roster(section=section))
    roster_s = _seconds(started)
    if school_list is not None:
        print(
            f"roster's school list: {len(school_list.classes)} classes, "
            f"{len(school_list.not_registered)} students not registered, in {roster_s:.3f} s"
        )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "database": connection.vendor,
                    "runs": runs,
                    "mapping_page_s": mapping_s,
                    "roster_list_s": roster_s,
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
