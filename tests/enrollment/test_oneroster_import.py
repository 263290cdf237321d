"""Importing a school's OneRoster export (enrollment.services.oneroster): the whole
export is checked before anything is written, then written in one transaction; the
school's previous import gives way; a teacher's import is the teacher's own."""

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import Http404

from accounts.models import Role
from enrollment.models import SisClass, SisClassMapping, SisEnrollment, SisImport, SisStudent
from enrollment.services.oneroster import sis_import_create
from sers import bulk
from tests.enrollment.oneroster_files import Export, export_for_place
from tests.factories import make_staff

pytestmark = pytest.mark.django_db


def run(actor, school, export: Export, **options):
    return sis_import_create(actor=actor, high_school_id=school.pk, files=export.uploads(**options))


def counts() -> tuple[int, int, int, int]:
    return (
        SisImport.objects.count(),
        SisClass.objects.count(),
        SisStudent.objects.count(),
        SisEnrollment.objects.count(),
    )


def test_an_export_becomes_the_schools_class_lists(here):
    export, class_id = export_for_place(here)
    outcome = run(here.specialist, here.school, export)
    assert outcome.ok, outcome.problems.found
    imported = outcome.sis_import
    assert (imported.high_school, imported.teacher, imported.imported_by) == (
        here.school,
        None,
        here.specialist,
    )
    assert imported.is_current
    assert (imported.classes_count, imported.students_count, imported.enrollments_count) == (
        2,
        len(here.students) + 3,
        len(here.students) + 3,
    )
    assert imported.source_system == "Synthetic SIS"
    klass = SisClass.objects.get(sis_import=imported, sourced_id=class_id)
    names = set(klass.enrollments.values_list("sis_student__family_name", flat=True))
    assert {"Ångström", "O'Connor-Díaz"} <= names
    # Nobody is registered by an import.
    assert here.section.enrollments.count() == len(here.students)


def test_a_bad_line_in_enrollments_after_good_users_writes_nothing(here):
    export, class_id = export_for_place(here)
    export.lines["enrollments.csv"].append(
        f"enr-bad,,,{class_id},org-school-1,user-404,student,false,,"
    )
    outcome = run(here.specialist, here.school, export)
    assert not outcome.ok
    line = len(export.rows["enrollments.csv"]) + 2
    assert [(p.file, p.line, p.column) for p in outcome.problems.found] == [
        ("enrollments.csv", line, "userSourcedId")
    ]
    assert counts() == (0, 0, 0, 0)


def test_a_failure_while_writing_leaves_the_previous_import_whole(here, monkeypatch):
    export, _class_id = export_for_place(here)
    first = run(here.specialist, here.school, export).sis_import
    before = counts()
    real = bulk.bulk_create

    def failing(model, objs, **options):
        if model is SisEnrollment:  # after the classes and students were written
            raise IntegrityError("the disk is full")
        return real(model, objs, **options)

    monkeypatch.setattr(bulk, "bulk_create", failing)
    with pytest.raises(IntegrityError):
        run(here.specialist, here.school, export)
    first.refresh_from_db()
    assert first.is_current
    assert counts() == before


def test_a_new_import_replaces_the_previous_and_keeps_the_mappings(here):
    export, class_id = export_for_place(here)
    first = run(here.specialist, here.school, export).sis_import
    SisClassMapping.objects.create(
        high_school=here.school,
        class_sourced_id=class_id,
        section=here.section,
        decided_by=here.specialist,
    )
    export.enroll(class_id, export.add_student("Noa", "Ben-David"))
    second = run(here.specialist, here.school, export).sis_import
    first.refresh_from_db()
    assert not first.is_current
    assert second.is_current
    assert not SisClass.objects.filter(sis_import=first).exists()  # the rows go
    assert not SisStudent.objects.filter(sis_import=first).exists()
    assert first.classes_count == 2  # the record of who imported what stays
    assert SisClassMapping.objects.get().section == here.section
    assert second.students_count == first.students_count + 1


def test_a_teachers_import_is_theirs_and_leaves_the_schools(here):
    export, _class_id = export_for_place(here)
    school_import = run(here.specialist, here.school, export).sis_import
    mine = run(here.teacher, here.school, export).sis_import
    assert mine.teacher == here.teacher
    school_import.refresh_from_db()
    assert school_import.is_current
    assert mine.is_current
    again = run(here.teacher, here.school, export).sis_import
    mine.refresh_from_db()
    assert not mine.is_current
    assert again.is_current


def test_only_the_uploaders_schools(here, there):
    export, _class_id = export_for_place(there)
    with pytest.raises(Http404):
        run(here.specialist, there.school, export)
    with pytest.raises(Http404):
        run(here.teacher, there.school, export)
    with pytest.raises(PermissionDenied):
        run(here.registrar, here.school, export)
    school_staff = make_staff(Role.CAREER_SPECIALIST, here.school)
    assert run(school_staff, here.school, export_for_place(here)[0]).ok
    assert counts()[0] == 1


def test_the_database_keeps_one_current_import_per_school(here):
    export, _class_id = export_for_place(here)
    current = run(here.specialist, here.school, export).sis_import
    with pytest.raises(IntegrityError), transaction.atomic():
        SisImport.objects.create(high_school=here.school, imported_by=here.specialist)
    with pytest.raises(IntegrityError), transaction.atomic():
        SisClass.objects.create(sis_import=current, sourced_id="", title="No id")
    with pytest.raises(IntegrityError), transaction.atomic():
        SisStudent.objects.create(
            sis_import=current, sourced_id="u1", given_name="", family_name="X"
        )
