"""The teacher's roster with the school's class list (enrollment.views.teacher and
enrollment.selectors.oneroster.section_school_list): which registered students are in
the class at school, which are not, and who in the class has not registered; matched by
email or legal name; kept fresh in the page cache; a bounded number of queries."""

import html

import pytest
from django.core.cache import cache
from django.urls import reverse

from enrollment.models import SisClassMapping
from enrollment.selectors.oneroster import section_school_list
from enrollment.selectors.teaching import section_roster
from enrollment.services.oneroster import SKIP, sis_import_create, sis_mappings_save
from tests.enrollment.oneroster_files import Export, export_for_place
from tests.world import S, add_enrollment, add_section, add_student, add_teacher, enroll

pytestmark = pytest.mark.django_db


def upload(place, export, actor=None):
    outcome = sis_import_create(
        actor=actor or place.specialist, high_school_id=place.school.pk, files=export.uploads()
    )
    assert outcome.ok, outcome.problems.found
    return outcome.sis_import


def map_class(place, sis_import, class_id, choice=None):
    klass = sis_import.classes.get(sourced_id=class_id)
    sis_mappings_save(
        actor=place.specialist,
        import_id=sis_import.pk,
        decisions={klass.pk: choice or str(place.section.pk)},
    )


def roster_page(client, place) -> str:
    client.force_login(place.teacher)
    response = client.get(reverse("enrollment:teacher_roster", args=[place.section.pk]))
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def test_the_roster_shows_the_three_groups(client, here):
    export, class_id = export_for_place(here)
    newcomer = enroll(here, legal_last_name="Wójcik")  # registered, not in the class at school
    map_class(here, upload(here, export), class_id)
    page = roster_page(client, here)
    assert "3 registered students are in the class at school." in page
    assert "1 registered student is not on the school's list." in page
    assert "2 students on the school's list have not registered in SERS." in page
    assert page.count(">In the class<") == 3
    assert "Not on the school's list" in page
    assert "Ångström, Zoë" in page
    assert "O'Connor-Díaz, Mateo" in page
    assert "Lima" not in page  # in another class of the school
    assert newcomer.student.legal_last_name in page
    # Nobody was registered.
    assert here.section.enrollments.count() == 4


def test_students_are_matched_by_email_then_by_name(here):
    export = Export(school_code=here.school.code, school_name=here.school.name)
    course = export.add_course("Web")
    klass = export.add_class("Web", course)
    william = add_enrollment(
        add_student(here.school, legal_first_name="William", legal_last_name="Okafor"), here.section
    )
    renamed = add_enrollment(
        add_student(
            here.school,
            legal_first_name="Dana",
            legal_last_name="Reyes",
            user__email="dana.r@example.org",
        ),
        here.section,
    )
    withdrawn = add_enrollment(
        add_student(here.school, legal_first_name="Kim", legal_last_name="Tran"),
        here.section,
        S.WITHDRAWN,
    )
    for given, family, email in (
        ("Bill", "Okafor", ""),  # a nickname
        ("Dana", "Reyes-Soto", "DANA.R@example.org"),  # another name, the same address
        ("Kim", "Tran", ""),  # withdrew in SERS: not listed to remind
        ("Joan", "Ng", ""),
    ):
        export.enroll(klass, export.add_student(given, family, email=email))
    map_class(here, upload(here, export), klass)
    school_list = section_school_list(
        section=here.section, roster=section_roster(section=here.section)
    )
    assert school_list.on_list == {william.pk, renamed.pk}
    assert school_list.not_on_list == {e.pk for e in here.enrollments}
    assert [s.family_name for s in school_list.not_registered] == ["Ng"]
    assert withdrawn.pk not in school_list.on_list | school_list.not_on_list


def test_a_class_not_matched_shows_no_list(client, here):
    export, class_id = export_for_place(here)
    sis_import = upload(here, export)
    assert "not matched to the school's own class list" in roster_page(client, here)
    map_class(here, sis_import, class_id, choice=SKIP)
    assert section_school_list(section=here.section, roster=[]) is None


def test_the_cached_roster_follows_imports_and_mappings(client, here):
    export, class_id = export_for_place(here)
    assert "not matched" in roster_page(client, here)  # now in the cache
    sis_import = upload(here, export)
    map_class(here, sis_import, class_id)
    assert "2 students on the school's list have not registered" in roster_page(client, here)
    export.enroll(class_id, export.add_student("Noa", "Ben-David"))
    upload(here, export)
    page = roster_page(client, here)
    assert "3 students on the school's list have not registered" in page
    assert "Ben-David, Noa" in page
    current = here.school.sis_imports.get(is_current=True)
    map_class(here, current, class_id, choice=SKIP)
    assert "not matched" in roster_page(client, here)


def test_a_teachers_own_list_shows_on_their_class_only(client, here):
    export, class_id = export_for_place(here)
    mine = upload(here, export, actor=here.teacher)
    klass = mine.classes.get(sourced_id=class_id)
    sis_mappings_save(
        actor=here.teacher, import_id=mine.pk, decisions={klass.pk: str(here.section.pk)}
    )
    assert "3 registered students are in the class at school." in roster_page(client, here)
    # The class matched to a colleague's class instead: the teacher's own upload does
    # not show there.
    colleague = add_teacher(here.school)
    theirs = add_section(
        here.articulation, school=here.school, year=here.year, teacher=colleague, section_code="P77"
    )
    SisClassMapping.objects.get().delete()
    SisClassMapping.objects.create(
        high_school=here.school,
        class_sourced_id=class_id,
        section=theirs,
        decided_by=here.specialist,
    )
    assert section_school_list(section=theirs, roster=[]) is None


def test_the_roster_runs_a_fixed_number_of_queries(client, here, django_assert_max_num_queries):
    url = reverse("enrollment:teacher_roster", args=[here.section.pk])
    client.force_login(here.teacher)
    cache.clear()
    with django_assert_max_num_queries(60) as unmapped:
        client.get(url)
    export, class_id = export_for_place(here)
    map_class(here, upload(here, export), class_id)
    cache.clear()
    with django_assert_max_num_queries(len(unmapped.captured_queries) + 2) as small:
        client.get(url)
    for n in range(25):
        student = enroll(here).student
        export.enroll(
            class_id, export.add_student(student.legal_first_name, student.legal_last_name)
        )
        export.enroll(class_id, export.add_student("Sam", f"Absent{n}"))
    upload(here, export)
    cache.clear()
    with django_assert_max_num_queries(len(small.captured_queries)):
        page = client.get(url).content.decode()
    assert "28 registered students are in the class at school." in page
