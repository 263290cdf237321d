"""Staff pages: each with the normal case, the anonymous visitor, the wrong role, the outsider."""

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import Role
from articulations.models import Articulation, ArticulationStatusChange, CollegeCourse
from tests.factories import ArticulationFactory, CollegeCourseFactory, make_staff
from tests.world import add_teacher

from .conftest import history

pytestmark = pytest.mark.django_db
S = Articulation.Status
LIST = reverse("articulations:manage_list")


def url(name, *args):
    return reverse(f"articulations:{name}", args=args)


def assert_login_redirect(response):
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


# ---------------------------------------------------------------------------------------
# List


def test_list_shows_every_status_in_scope(client, world):
    draft = world.articulation(status=S.DRAFT)
    elsewhere = ArticulationFactory()
    client.force_login(world.admin)
    response = client.get(LIST)
    assert response.status_code == 200
    ids = {row.record.pk for row in response.context["table"].paginated_rows}
    assert ids == {world.active.pk, draft.pk}
    assert elsewhere.pk not in ids
    assert b"New agreement" in response.content


def test_list_for_college_staff_and_state(client, world):
    valley = world.articulation(college=world.other_college)
    client.force_login(world.approver)
    ids = {row.record.pk for row in client.get(LIST).context["table"].paginated_rows}
    assert ids == {world.active.pk}
    assert b"New agreement" not in client.get(LIST).content
    client.force_login(world.state)
    ids = {row.record.pk for row in client.get(LIST).context["table"].paginated_rows}
    assert {world.active.pk, valley.pk} <= ids


def test_list_filters_and_htmx(client, world):
    submitted = world.articulation(status=S.SUBMITTED)
    client.force_login(world.approver)
    response = client.get(LIST, {"status": "submitted"}, headers={"HX-Request": "true"})
    assert [row.record.pk for row in response.context["table"].paginated_rows] == [submitted.pk]
    assert b"<html" not in response.content


def test_list_anonymous_and_wrong_role(client, world):
    assert_login_redirect(client.get(LIST))
    client.force_login(world.teacher)
    assert client.get(LIST).status_code == 403


def test_list_query_count_does_not_grow(client, world, django_assert_max_num_queries):
    client.force_login(world.admin)
    with django_assert_max_num_queries(16) as few:
        client.get(LIST)
    for _ in range(10):
        world.articulation(status=S.DRAFT)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(LIST)


def test_public_teacher_names_setting(client, world):
    client.force_login(world.admin)
    target = reverse("organisations:consortium_public_settings", args=[world.consortium.pk])
    response = client.post(target, {"show_teacher_names_publicly": "on", "next": LIST})
    assert response.status_code == 302
    assert response.url == LIST
    world.consortium.refresh_from_db()
    assert world.consortium.show_teacher_names_publicly
    client.post(target, {"next": "https://evil.example.com/"})
    world.consortium.refresh_from_db()
    assert not world.consortium.show_teacher_names_publicly


def test_public_teacher_names_setting_access(client, world, outsider_admin):
    target = reverse("organisations:consortium_public_settings", args=[world.consortium.pk])
    assert_login_redirect(client.post(target))
    client.force_login(world.approver)
    assert client.post(target).status_code == 403
    client.force_login(outsider_admin)
    assert client.post(target).status_code == 404


# ---------------------------------------------------------------------------------------
# Detail


def test_detail_for_admin_shows_actions_history_and_versions(client, world):
    client.force_login(world.admin)
    response = client.get(url("manage_detail", world.active.pk))
    assert response.status_code == 200
    content = response.content.decode()
    assert "Start a revision" in content
    assert "Retire" in content
    assert "Mark expired" in content
    assert "Version 1 (this page)" in content
    assert world.teacher.email in content


def test_detail_for_approver_offers_approval_only_when_submitted(client, world):
    submitted = world.articulation(status=S.SUBMITTED)
    client.force_login(world.approver)
    content = client.get(url("manage_detail", submitted.pk)).content.decode()
    assert "Approve" in content
    assert "Send back for changes" in content
    content = client.get(url("manage_detail", world.active.pk)).content.decode()
    assert "What you can do" not in content


def test_detail_anonymous_wrong_role_outsider(client, world, outsider_admin):
    target = url("manage_detail", world.active.pk)
    assert_login_redirect(client.get(target))
    client.force_login(world.teacher)
    assert client.get(target).status_code == 403
    client.force_login(outsider_admin)
    assert client.get(target).status_code == 404
    client.force_login(make_staff(Role.COLLEGE_APPROVER, world.other_college))
    assert client.get(target).status_code == 404


def test_detail_query_count_does_not_grow(client, world, django_assert_max_num_queries):
    client.force_login(world.admin)
    target = url("manage_detail", world.active.pk)
    with django_assert_max_num_queries(20) as few:
        client.get(target)
    for _ in range(5):
        world.active.qualifications.create(teacher=add_teacher(world.school))
        ArticulationStatusChange.objects.create(
            articulation=world.active, from_status="approved", to_status="active"
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(target)


# ---------------------------------------------------------------------------------------
# Create and edit


def form_data(world, **overrides):
    data = {
        "high_school_course_title": "Intro to Welding",
        "cip_code": "48.0508",
        "local_code": "",
        "cluster": world.active.cluster_id,
        "high_schools": [world.school.pk],
        "college": world.college.pk,
        "college_courses": [world.course.pk],
        "minimum_grade_scale": "letter",
        "minimum_grade": "c+",
        "competencies": "Safety",
        "valid_years": [world.year.pk],
        "teachers": [world.teacher.pk],
        "renew_each_year": "on",
    }
    data.update(overrides)
    return data


def test_create_a_draft(client, world):
    client.force_login(world.admin)
    assert client.get(url("manage_create")).status_code == 200
    response = client.post(url("manage_create"), form_data(world, agreement_number="W-2026-1"))
    created = Articulation.objects.get(agreement_number="W-2026-1")
    assert response.status_code == 302
    assert response.url == url("manage_detail", created.pk)
    assert created.status == S.DRAFT
    assert created.minimum_grade == "C+"
    assert list(created.qualified_teachers.all()) == [world.teacher]
    assert history(created) == [("", S.DRAFT)]


def test_create_shows_errors_and_writes_nothing(client, world):
    client.force_login(world.admin)
    other_course = CollegeCourseFactory(college=world.other_college)
    response = client.post(
        url("manage_create"),
        form_data(world, minimum_grade="Z", college_courses=[other_course.pk], cip_code="1"),
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "minimum_grade" in errors
    assert "college_courses" in errors
    assert "cip_code" in errors
    assert not Articulation.objects.filter(status=S.DRAFT).exists()


def test_create_anonymous_and_wrong_role(client, world):
    assert_login_redirect(client.get(url("manage_create")))
    client.force_login(world.approver)
    assert client.get(url("manage_create")).status_code == 403
    assert client.post(url("manage_create"), form_data(world)).status_code == 403


def test_admin_of_two_consortia_chooses_one_first(client, world, outsider_admin):
    outsider_admin.memberships.create(role=Role.CONSORTIUM_ADMIN, consortium=world.consortium)
    client.force_login(outsider_admin)
    response = client.get(url("manage_create"))
    assert "articulations/manage/choose_consortium.html" in [t.name for t in response.templates]
    response = client.get(url("manage_create"), {"consortium": world.consortium.pk})
    assert response.context["consortium"] == world.consortium


def test_edit_a_draft(client, world):
    draft = world.articulation(status=S.DRAFT)
    client.force_login(world.admin)
    response = client.get(url("manage_edit", draft.pk))
    assert response.status_code == 200
    assert response.context["form"].initial["minimum_grade"] == "B"
    response = client.post(url("manage_edit", draft.pk), form_data(world, minimum_grade="A-"))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.minimum_grade == "A-"
    assert draft.high_school_course.title == "Intro to Welding"


def test_edit_of_an_active_agreement_points_to_a_revision(client, world):
    client.force_login(world.admin)
    response = client.post(url("manage_edit", world.active.pk), form_data(world), follow=True)
    assert b"Start a revision" in response.content
    world.active.refresh_from_db()
    assert world.active.high_school_course.title == "Accounting 1"


def test_edit_anonymous_wrong_role_outsider(client, world, outsider_admin):
    draft = world.articulation(status=S.DRAFT)
    assert_login_redirect(client.get(url("manage_edit", draft.pk)))
    client.force_login(world.approver)
    assert client.get(url("manage_edit", draft.pk)).status_code == 403
    client.force_login(outsider_admin)
    assert client.get(url("manage_edit", draft.pk)).status_code == 404


# ---------------------------------------------------------------------------------------
# Status, revise, discard


def test_status_view_runs_the_flow(client, world, django_capture_on_commit_callbacks):
    draft = world.articulation(status=S.DRAFT)
    client.force_login(world.admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("manage_status", draft.pk), {"to_status": "submitted"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    client.force_login(world.approver)
    client.post(url("manage_status", draft.pk), {"to_status": "approved", "note": "OK"})
    draft.refresh_from_db()
    assert draft.status == S.APPROVED
    assert history(draft)[-1] == (S.SUBMITTED, S.APPROVED)


def test_status_view_shows_problems_as_messages(client, world):
    client.force_login(world.admin)
    response = client.post(
        url("manage_status", world.active.pk), {"to_status": "retired"}, follow=True
    )
    assert b"Give a reason" in response.content
    response = client.post(
        url("manage_status", world.active.pk), {"to_status": "draft"}, follow=True
    )
    assert b"cannot become draft" in response.content
    response = client.post(
        url("manage_status", world.active.pk), {"to_status": "nonsense"}, follow=True
    )
    assert b"Choose a status change" in response.content
    world.active.refresh_from_db()
    assert world.active.status == S.ACTIVE


def test_status_view_anonymous_wrong_role_outsider(client, world, outsider_admin):
    submitted = world.articulation(status=S.SUBMITTED)
    target = url("manage_status", submitted.pk)
    assert_login_redirect(client.post(target, {"to_status": "approved"}))
    client.force_login(world.registrar)  # sees the agreement, may not approve it
    assert client.post(target, {"to_status": "approved"}).status_code == 403
    client.force_login(world.teacher)
    assert client.post(target, {"to_status": "approved"}).status_code == 403
    client.force_login(outsider_admin)
    assert client.post(target, {"to_status": "draft", "note": "x"}).status_code == 404
    assert client.get(target).status_code == 405
    submitted.refresh_from_db()
    assert submitted.status == S.SUBMITTED


def test_revise_view(client, world, outsider_admin):
    target = url("manage_revise", world.active.pk)
    assert_login_redirect(client.post(target))
    client.force_login(world.approver)
    assert client.post(target).status_code == 403
    client.force_login(outsider_admin)
    assert client.post(target).status_code == 404
    client.force_login(world.admin)
    response = client.post(target)
    revision = Articulation.objects.get(agreement_number="CASC-001", version=2)
    assert response.url == url("manage_edit", revision.pk)
    response = client.post(target, follow=True)
    assert b"already being prepared" in response.content


def test_discard_view(client, world, outsider_admin):
    draft = world.articulation(status=S.DRAFT)
    target = url("manage_discard", draft.pk)
    assert_login_redirect(client.post(target))
    client.force_login(world.approver)
    assert client.post(target).status_code == 403
    client.force_login(outsider_admin)
    assert client.post(target).status_code == 404
    client.force_login(world.admin)
    response = client.post(url("manage_discard", world.active.pk), follow=True)
    assert b"Only drafts can be discarded" in response.content
    assert client.post(target).url == LIST
    assert not Articulation.objects.filter(pk=draft.pk).exists()


# ---------------------------------------------------------------------------------------
# Teachers


def test_teachers_page_adds_and_removes(client, world):
    colleague = add_teacher(world.school, first_name="Cole")
    client.force_login(world.admin)
    target = url("manage_teachers", world.active.pk)
    response = client.get(target)
    assert response.status_code == 200
    assert list(response.context["add_form"].fields["teacher"].queryset) == [colleague]
    response = client.post(target, {"action": "add", "teacher": colleague.pk})
    assert response.status_code == 302
    assert colleague in world.active.qualified_teachers.all()
    response = client.post(url("manage_teacher_remove", world.active.pk, colleague.pk))
    assert response.status_code == 302
    assert colleague not in world.active.qualified_teachers.all()
    assert (
        client.post(url("manage_teacher_remove", world.active.pk, colleague.pk)).status_code == 404
    )


def test_teachers_page_invites_a_new_teacher(client, world, django_capture_on_commit_callbacks):
    client.force_login(world.admin)
    target = url("manage_teachers", world.active.pk)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            target,
            {
                "action": "invite",
                "email": "New.Teacher@School.example.org",
                "first_name": "Nia",
                "last_name": "New",
                "high_school": world.school.pk,
            },
        )
    assert response.status_code == 302
    invited = world.active.qualified_teachers.get(email="new.teacher@school.example.org")
    assert not invited.is_active
    assert len(mail.outbox) == 1
    content = client.get(target).content.decode()
    assert "Invited, not yet active" in content
    assert "Resend invitation" in content


def test_teachers_page_invite_errors_stay_on_the_page(client, world):
    client.force_login(world.admin)
    response = client.post(
        url("manage_teachers", world.active.pk),
        {
            "action": "invite",
            "email": world.approver.email,
            "first_name": "A",
            "last_name": "B",
            "high_school": world.school.pk,
        },
    )
    assert response.status_code == 200
    assert "email" in response.context["invite_form"].errors
    response = client.post(
        url("manage_teachers", world.active.pk),
        {
            "action": "invite",
            "email": "x@example.org",
            "first_name": "A",
            "last_name": "B",
            "high_school": world.other_school.pk,
        },
    )
    assert "high_school" in response.context["invite_form"].errors


def test_teachers_page_anonymous_wrong_role_outsider(client, world, outsider_admin):
    target = url("manage_teachers", world.active.pk)
    assert_login_redirect(client.get(target))
    client.force_login(world.approver)
    assert client.get(target).status_code == 403
    assert (
        client.post(url("manage_teacher_remove", world.active.pk, world.teacher.pk)).status_code
        == 403
    )
    client.force_login(outsider_admin)
    assert client.get(target).status_code == 404
    assert (
        client.post(url("manage_teacher_remove", world.active.pk, world.teacher.pk)).status_code
        == 404
    )


# ---------------------------------------------------------------------------------------
# College courses


def test_courses_page_adds_and_retires(client, world):
    client.force_login(world.admin)
    target = url("manage_courses")
    assert b"ACCT 101" in client.get(target).content
    response = client.post(
        target,
        {
            "college": world.college.pk,
            "prefix": "weld",
            "number": "110",
            "title": "Welding",
            "credits": "5",
        },
    )
    assert response.status_code == 302
    course = CollegeCourse.objects.get(prefix="WELD", number="110")
    response = client.post(
        target,
        {
            "college": world.college.pk,
            "prefix": "WELD",
            "number": "110",
            "title": "Again",
            "credits": "5",
        },
    )
    assert response.status_code == 200
    assert "number" in response.context["form"].errors
    client.post(url("manage_course_offered", course.pk), {"offered": "0"})
    course.refresh_from_db()
    assert not course.is_active
    client.post(url("manage_course_offered", course.pk), {"offered": "1"})
    course.refresh_from_db()
    assert course.is_active


def test_courses_page_anonymous_wrong_role_outsider(client, world, outsider_admin):
    assert_login_redirect(client.get(url("manage_courses")))
    client.force_login(world.approver)
    assert client.get(url("manage_courses")).status_code == 403
    client.force_login(outsider_admin)
    assert world.course.code.encode() not in client.get(url("manage_courses")).content
    assert (
        client.post(url("manage_course_offered", world.course.pk), {"offered": "0"}).status_code
        == 404
    )
    world.course.refresh_from_db()
    assert world.course.is_active
