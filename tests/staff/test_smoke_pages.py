import pytest
from django.urls import reverse

from tests.world import S, advance, settle_fee

pytestmark = pytest.mark.django_db


def test_pages_render(client, here):
    e = here.enrollments
    advance(e[1], S.ATTAINED)
    settle_fee(e[1])
    advance(e[2], S.TRANSCRIBED)
    client.force_login(here.teacher)
    for url in [
        reverse("enrollment:teacher_classes"),
        reverse("enrollment:teacher_class_request"),
        reverse("enrollment:teacher_roster", args=[here.section.pk]),
        reverse("enrollment:teacher_grades", args=[here.section.pk]),
        reverse("enrollment:teacher_complete", args=[here.section.pk]),
        reverse("enrollment:teacher_upload", args=[here.section.pk]),
        reverse("enrollment:teacher_remove", args=[e[0].pk]),
        reverse("enrollment:staff_enrollment", args=[e[0].pk]),
    ]:
        assert client.get(url).status_code == 200, url
    client.force_login(here.admin)
    for url in [
        reverse("enrollment:consortium_home"),
        reverse("enrollment:fee_list"),
        reverse("enrollment:fee_upload"),
        reverse("enrollment:fee_detail", args=[e[0].student.fees.get().pk]),
        reverse("enrollment:duplicate_list"),
        reverse("enrollment:section_requests"),
        reverse("enrollment:staff_lookup") + "?name=a",
        reverse("enrollment:staff_student", args=[e[0].student.pk]),
        reverse("enrollment:staff_register", args=[e[0].student.pk]),
        reverse("enrollment:merge_start", args=[e[0].student.pk]),
        reverse("enrollment:student_merge", args=[e[0].student.pk, e[1].student.pk]),
        reverse("enrollment:staff_enrollment", args=[e[0].pk]),
    ]:
        assert client.get(url).status_code == 200, url
    client.force_login(here.registrar)
    for url in [
        reverse("enrollment:registrar_queue"),
        reverse("enrollment:registrar_queue") + "?view=waiting",
        reverse("enrollment:registrar_queue") + "?view=transcribed",
        reverse("enrollment:registrar_upload"),
        reverse("enrollment:registrar_transcribe_one", args=[e[1].pk]),
        reverse("enrollment:registrar_undo", args=[e[2].pk]),
    ]:
        assert client.get(url).status_code == 200, url
