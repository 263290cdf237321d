"""Which SERS class each SIS class is (enrollment.selectors.oneroster.mapping_page and
enrollment.services.oneroster.sis_mappings_save): suggested the first time, confirmed,
changed or skipped by staff, remembered for the next import; a teacher maps only to
their own classes."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from enrollment.models import SisClassMapping
from enrollment.oneroster.matching import Candidate, score, suggest
from enrollment.selectors.oneroster import mapping_page
from enrollment.services.oneroster import SKIP, sis_import_create, sis_mappings_save
from tests.enrollment.oneroster_files import export_for_place
from tests.world import add_section, add_teacher

pytestmark = pytest.mark.django_db


def imported(place, actor=None, export=None):
    if export is None:
        export, _class_id = export_for_place(place)
    outcome = sis_import_create(
        actor=actor or place.specialist, high_school_id=place.school.pk, files=export.uploads()
    )
    assert outcome.ok, outcome.problems.found
    return outcome.sis_import


def rows_by_id(sis_import):
    return {row.sis_class.sourced_id: row for row in mapping_page(sis_import=sis_import).rows}


def confirm_all(actor, sis_import) -> int:
    page = mapping_page(sis_import=sis_import)
    decisions = {row.sis_class.pk: row.chosen or SKIP for row in page.rows}
    return sis_mappings_save(actor=actor, import_id=sis_import.pk, decisions=decisions)


def test_the_class_is_suggested_by_title_teacher_and_period(here):
    colleague = add_teacher(here.school, first_name="Robin", last_name="Hale")
    add_section(
        here.articulation, school=here.school, year=here.year, teacher=colleague, section_code="P99"
    )
    export, class_id = export_for_place(here)
    rows = rows_by_id(imported(here, export=export))
    assert rows[class_id].suggestion == here.section.pk
    assert rows[class_id].chosen == str(here.section.pk)
    chemistry = next(row for key, row in rows.items() if key != class_id)
    assert chemistry.suggestion is None
    assert chemistry.chosen == ""


def test_scores_weigh_what_both_sides_know():
    class Sis:
        title, course_title, course_code, class_code = "Welding I - P2", "Welding I", "W-1", ""
        teachers, teacher_emails, periods = "Robin Hale", "robin@example.org", "2"
        term_types, starts_on, ends_on = "semester", None, None

    def candidate(**changes):
        values = {
            "section_id": 1,
            "title": "Welding 1",
            "local_code": "W1",
            "teacher_name": "Robin Hale",
            "teacher_email": "robin@example.org",
            "section_code": "P2",
            "term": "year",
            "year_start": date(2026, 7, 1),
            "year_end": date(2027, 6, 30),
        }
        return Candidate(**values | changes)

    assert score(Sis, candidate()) > 95
    assert score(Sis, candidate(section_code="P4", teacher_email="", teacher_name="Sam Ruiz")) < 70
    assert suggest(Sis, [candidate(title="Culinary Arts", local_code="", section_id=2)]) == (
        None,
        0,
    )


def test_confirming_skipping_and_remembering(here):
    first = imported(here)
    assert confirm_all(here.specialist, first) == 2
    mappings = dict(SisClassMapping.objects.values_list("class_sourced_id", "section_id"))
    assert sorted(mappings.values(), key=str) == sorted([here.section.pk, None], key=str)
    # The next export of the school: every class is decided already.
    second = imported(here)
    page = mapping_page(sis_import=second)
    assert page.undecided == 0
    assert all(row.mapping is not None and row.suggestion is None for row in page.rows)
    assert confirm_all(here.specialist, second) == 0  # nothing changed


def test_a_mapping_can_be_changed_and_undecided_classes_stay_undecided(here):
    sis_import = imported(here)
    confirm_all(here.specialist, sis_import)
    later = add_section(here.articulation, school=here.school, year=here.year, section_code="P42")
    mapped = SisClassMapping.objects.get(section=here.section)
    klass = sis_import.classes.get(sourced_id=mapped.class_sourced_id)
    changed = sis_mappings_save(
        actor=here.specialist, import_id=sis_import.pk, decisions={klass.pk: str(later.pk)}
    )
    assert changed == 1
    mapped.refresh_from_db()
    assert (mapped.section, mapped.decided_by) == (later, here.specialist)
    assert (
        sis_mappings_save(actor=here.specialist, import_id=sis_import.pk, decisions={klass.pk: ""})
        == 0
    )


def test_only_a_class_of_the_school_and_year_may_be_chosen(here, there):
    sis_import = imported(here)
    klass = sis_import.classes.first()
    for choice in (str(there.section.pk), "abc", "-1"):
        with pytest.raises(ValidationError):
            sis_mappings_save(
                actor=here.specialist, import_id=sis_import.pk, decisions={klass.pk: choice}
            )
    other = imported(there, actor=there.specialist)
    with pytest.raises(ValidationError):  # a class of another import
        sis_mappings_save(
            actor=here.specialist,
            import_id=sis_import.pk,
            decisions={other.classes.first().pk: SKIP},
        )
    assert not SisClassMapping.objects.exists()


def test_an_old_import_is_not_mapped(here):
    old = imported(here)
    imported(here)
    with pytest.raises(ValidationError):
        confirm_all(here.specialist, old)


def test_a_teacher_maps_only_to_their_own_classes(here):
    colleague = add_teacher(here.school)
    theirs = add_section(
        here.articulation, school=here.school, year=here.year, teacher=colleague, section_code="P8"
    )
    mine = imported(here, actor=here.teacher)
    page = mapping_page(sis_import=mine)
    assert [value for value, _label in page.options] == [str(here.section.pk)]
    klass = mine.classes.order_by("title").last()
    with pytest.raises(ValidationError):
        sis_mappings_save(
            actor=here.teacher, import_id=mine.pk, decisions={klass.pk: str(theirs.pk)}
        )
    # Staff matched a class to the colleague's: the teacher sees it, cannot move it.
    SisClassMapping.objects.create(
        high_school=here.school,
        class_sourced_id=klass.sourced_id,
        section=theirs,
        decided_by=here.specialist,
    )
    row = rows_by_id(mine)[klass.sourced_id]
    assert row.locked
    assert sis_mappings_save(actor=here.teacher, import_id=mine.pk, decisions={klass.pk: SKIP}) == 0
    assert SisClassMapping.objects.get(class_sourced_id=klass.sourced_id).section == theirs
