"""The class-list pages (enrollment.views.oneroster): the upload page and the mapping
page, for the normal user, the anonymous visitor (sign in), the wrong role (403) and the
outsider (404); a teacher uploads and maps their own classes only."""

import html

import pytest
from django.urls import reverse
from django.utils.html import strip_tags

from enrollment.models import SisClassMapping, SisImport
from enrollment.services.oneroster import sis_import_create
from tests.enrollment.oneroster_files import export_for_place
from tests.world import add_section, add_teacher

pytestmark = pytest.mark.django_db

IMPORTS = reverse("enrollment:sis_imports")


def mapping_url(sis_import) -> str:
    return reverse("enrollment:sis_mapping", args=[sis_import.pk])


def post_upload(client, place, export, school=None):
    return client.post(
        IMPORTS,
        {"high_school": (school or place.school).pk, "files": export.uploads(zipped=False)},
    )


def school_import(place):
    return sis_import_create(
        actor=place.specialist,
        high_school_id=place.school.pk,
        files=export_for_place(place)[0].uploads(),
    ).sis_import


def text(response) -> str:
    return html.unescape(strip_tags(response.content.decode()))


def test_a_specialist_uploads_and_is_sent_to_match_the_classes(client, here):
    client.force_login(here.specialist)
    page = client.get(IMPORTS)
    assert page.status_code == 200
    assert here.school.name in text(page)
    export, _class_id = export_for_place(here)
    response = post_upload(client, here, export)
    sis_import = SisImport.objects.get()
    assert response.status_code == 302
    assert response.url == mapping_url(sis_import)
    page = text(client.get(response.url))
    assert "Suggested: confirm" in page
    assert "Chemistry" not in page  # no suggestion: behind "Show the other classes"
    assert "Chemistry" in text(client.get(mapping_url(sis_import) + "?all=1"))
    assert here.school.name in text(client.get(IMPORTS))


def test_every_problem_is_listed_and_nothing_is_imported(client, here):
    client.force_login(here.specialist)
    export, class_id = export_for_place(here)
    export.rows["users.csv"][2]["givenName"] = ""
    export.lines["enrollments.csv"].append(f"e-x,,,{class_id},org-school-1,ghost,student,,,")
    response = post_upload(client, here, export)
    assert response.status_code == 400
    page = text(response)
    assert "2 problems to fix" in page
    assert "users.csv, line 4, column givenName: A value is required." in page
    line = len(export.rows["enrollments.csv"]) + 2
    assert f"enrollments.csv, line {line}, column userSourcedId" in page
    assert not SisImport.objects.exists()


def test_a_school_outside_the_scope_cannot_be_chosen(client, here, there):
    client.force_login(here.specialist)
    export, _class_id = export_for_place(there)
    response = post_upload(client, there, export, school=there.school)
    assert response.status_code == 400
    assert not SisImport.objects.exists()


def test_confirming_the_suggestions_on_the_page(client, here):
    client.force_login(here.specialist)
    export, class_id = export_for_place(here)
    post_upload(client, here, export)
    sis_import = SisImport.objects.get()
    klass = sis_import.classes.get(sourced_id=class_id)
    response = client.post(mapping_url(sis_import), {f"class_{klass.pk}": str(here.section.pk)})
    assert response.status_code == 302
    assert SisClassMapping.objects.get().section == here.section
    page = text(client.get(response.url))
    assert "Decided by" in page
    bad = client.post(mapping_url(sis_import), {f"class_{klass.pk}": "999999"})
    assert bad.status_code == 400
    assert SisClassMapping.objects.get().section == here.section


def test_a_teacher_uploads_and_maps_their_own_classes(client, here):
    colleague_class = add_section(
        here.articulation,
        school=here.school,
        year=here.year,
        teacher=add_teacher(here.school),
        section_code="P55",
    )
    client.force_login(here.teacher)
    export, class_id = export_for_place(here)
    assert post_upload(client, here, export).status_code == 302
    mine = SisImport.objects.get()
    assert mine.teacher == here.teacher
    page = client.get(mapping_url(mine))
    assert page.status_code == 200
    assert f'value="{colleague_class.pk}"' not in page.content.decode()
    klass = mine.classes.get(sourced_id=class_id)
    refused = client.post(mapping_url(mine), {f"class_{klass.pk}": str(colleague_class.pk)})
    assert refused.status_code == 400
    assert not SisClassMapping.objects.exists()


def test_anonymous_visitors_sign_in_first(client, here):
    sis_import = school_import(here)
    for url in (IMPORTS, mapping_url(sis_import)):
        response = client.get(url)
        assert response.status_code == 302
        assert reverse("accounts:login") in response.url


def test_other_roles_are_refused(client, here):
    sis_import = school_import(here)
    for user in (here.registrar, here.admin, here.students[0].user):
        client.force_login(user)
        assert client.get(IMPORTS).status_code == 403
        assert client.get(mapping_url(sis_import)).status_code == 403
        assert client.post(mapping_url(sis_import), {}).status_code == 403


def test_outsiders_get_404(client, here, there):
    sis_import = school_import(here)
    # Another district's specialist, and the school's teacher (the school's own upload
    # is the staff's: a teacher sees their own uploads only).
    for user in (there.specialist, there.teacher, here.teacher):
        client.force_login(user)
        assert client.get(mapping_url(sis_import)).status_code == 404
        assert client.post(mapping_url(sis_import), {}).status_code == 404
    client.force_login(here.specialist)
    assert (
        client.get(reverse("enrollment:sis_mapping", args=[sis_import.pk + 100])).status_code == 404
    )


def test_the_upload_page_runs_a_fixed_number_of_queries(
    client, here, django_assert_max_num_queries
):
    client.force_login(here.specialist)
    with django_assert_max_num_queries(20) as few:
        client.get(IMPORTS)
    for _ in range(3):
        school_import(here)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(IMPORTS)
    sis_import = SisImport.objects.get(is_current=True)
    with django_assert_max_num_queries(25) as mapping:
        client.get(mapping_url(sis_import) + "?all=1")
    for n in range(5):
        add_section(here.articulation, school=here.school, year=here.year, section_code=f"Q{n}")
    with django_assert_max_num_queries(len(mapping.captured_queries)):
        client.get(mapping_url(sis_import) + "?all=1")
