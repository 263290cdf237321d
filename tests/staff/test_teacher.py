"""Teachers: my classes, asking to teach a class, the roster, grade entry and completion."""

import datetime

import pytest
from django.core import mail
from django.urls import reverse

from accesslog.models import AccessLogEntry
from articulations.models import TeacherQualification
from enrollment.models import Enrollment, EnrollmentStatusChange, SectionRequest
from enrollment.services import class_requests, grading, rosters
from tests.factories import SectionFactory
from tests.world import S, advance, enroll, settle_fee

pytestmark = pytest.mark.django_db


def history(enrollment):
    return list(
        EnrollmentStatusChange.objects.filter(enrollment=enrollment)
        .order_by("id")
        .values_list("from_status", "to_status", "grade", "reason", "kind")
    )


def statuses(place):
    return [Enrollment.objects.get(pk=e.pk).status for e in place.enrollments]


# --- my classes ---------------------------------------------------------------------------------


def test_my_classes_shows_this_years_classes_with_counts(client, here, year):
    advance(here.enrollments[0], S.CONFIRMED)
    last_year = SectionFactory(
        teacher=here.teacher,
        articulation=here.articulation,
        high_school=here.school,
        academic_year__start_year=2025,
    )
    client.force_login(here.teacher)
    response = client.get(reverse("enrollment:teacher_classes"))
    assert response.status_code == 200
    (section,) = response.context["classes"]
    assert section == here.section
    assert (section.n_registered, section.n_confirmed) == (2, 1)
    assert last_year not in response.context["classes"]
    older = client.get(reverse("enrollment:teacher_classes"), {"year": "2025-26"})
    assert list(older.context["classes"]) == [last_year]


def test_my_classes_query_count_does_not_grow(client, here, year, django_assert_max_num_queries):
    client.force_login(here.teacher)
    with django_assert_max_num_queries(20) as few:
        client.get(reverse("enrollment:teacher_classes"))
    for _ in range(4):
        SectionFactory(
            teacher=here.teacher,
            articulation=here.articulation,
            high_school=here.school,
            academic_year=year,
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("enrollment:teacher_classes"))


# --- asking to teach a class --------------------------------------------------------------------


def _request_data(place, year, **extra):
    return {
        "articulation": place.articulation.pk,
        "high_school": place.school.pk,
        "academic_year": year.pk,
        "term": "year",
        "section_code": "P4",
        "note": "Second period",
        **extra,
    }


def test_a_qualified_teacher_asks_and_the_admin_approves(client, here, year):
    TeacherQualification.objects.create(articulation=here.articulation, teacher=here.teacher)
    client.force_login(here.teacher)
    response = client.post(reverse("enrollment:teacher_class_request"), _request_data(here, year))
    assert response.status_code == 302
    request = SectionRequest.objects.get()
    assert request.status == "pending"

    client.force_login(here.admin)
    client.post(
        reverse("enrollment:section_request_decide", args=[request.pk]), {"decision": "approve"}
    )
    request.refresh_from_db()
    assert request.status == "approved"
    assert request.section.teacher == here.teacher
    assert request.section.section_code == "P4"
    assert request.decided_by == here.admin


def test_an_unqualified_teacher_is_told_why(client, here, year):
    client.force_login(here.teacher)
    response = client.post(reverse("enrollment:teacher_class_request"), _request_data(here, year))
    assert response.status_code == 200
    assert "No agreement lists you as qualified" in response.content.decode()
    assert response.context["form"].errors["articulation"]
    assert not SectionRequest.objects.exists()
    # The service refuses it too, with the reason.
    with pytest.raises(class_requests.ValidationError) as refused:
        class_requests.section_request_create(
            actor=here.teacher,
            articulation_id=here.articulation.pk,
            high_school_id=here.school.pk,
            academic_year_id=year.pk,
            term="year",
            section_code="P4",
        )
    assert "not listed as qualified" in str(refused.value)


def test_declining_needs_a_note_and_the_teacher_may_cancel(client, here, year):
    TeacherQualification.objects.create(articulation=here.articulation, teacher=here.teacher)
    first = class_requests.section_request_create(
        actor=here.teacher,
        articulation_id=here.articulation.pk,
        high_school_id=here.school.pk,
        academic_year_id=year.pk,
        term="year",
        section_code="P5",
    )
    client.force_login(here.admin)
    client.post(
        reverse("enrollment:section_request_decide", args=[first.pk]), {"decision": "decline"}
    )
    first.refresh_from_db()
    assert first.status == "pending"
    client.post(
        reverse("enrollment:section_request_decide", args=[first.pk]),
        {"decision": "decline", "note": "No lab at this school"},
    )
    first.refresh_from_db()
    assert (first.status, first.decision_note) == ("declined", "No lab at this school")

    second = class_requests.section_request_create(
        actor=here.teacher,
        articulation_id=here.articulation.pk,
        high_school_id=here.school.pk,
        academic_year_id=year.pk,
        term="year",
        section_code="P5",
    )
    client.force_login(here.teacher)
    client.post(reverse("enrollment:teacher_class_request_cancel", args=[second.pk]))
    second.refresh_from_db()
    assert second.status == "cancelled"


# --- the roster ---------------------------------------------------------------------------------


def test_confirm_the_ticked_students(client, here):
    client.force_login(here.teacher)
    first, _second, third = here.enrollments
    response = client.post(
        reverse("enrollment:teacher_roster_confirm", args=[here.section.pk]),
        {"enrollment": [first.pk, third.pk]},
    )
    assert response.status_code == 302
    assert statuses(here) == [S.CONFIRMED, S.REGISTERED, S.CONFIRMED]
    assert history(first)[-1][:2] == (S.REGISTERED, S.CONFIRMED)


def test_confirm_all_in_one_go(client, here):
    client.force_login(here.teacher)
    client.post(reverse("enrollment:teacher_roster_confirm", args=[here.section.pk]), {"all": "1"})
    assert statuses(here) == [S.CONFIRMED] * 3


def test_bulk_confirm_is_all_or_nothing(client, here):
    first, second, _third = here.enrollments
    rosters.roster_remove(actor=here.teacher, enrollment_id=second.pk, reason_code="dropped")
    client.force_login(here.teacher)
    response = client.post(
        reverse("enrollment:teacher_roster_confirm", args=[here.section.pk]),
        {"enrollment": [first.pk, second.pk]},
        follow=True,
    )
    assert "no longer waiting" in response.content.decode()
    assert statuses(here) == [S.REGISTERED, S.REMOVED, S.REGISTERED]


def test_removal_asks_for_a_reason_and_records_it(client, here):
    enrollment = here.enrollments[0]
    client.force_login(here.teacher)
    url = reverse("enrollment:teacher_remove", args=[enrollment.pk])
    page = client.get(url)
    assert "Not in my class" in page.content.decode()
    response = client.post(url, {})
    assert response.status_code == 200
    enrollment.refresh_from_db()
    assert enrollment.status == S.REGISTERED
    client.post(url, {"reason": "not_in_class", "note": "Third period, not fourth"})
    enrollment.refresh_from_db()
    assert enrollment.status == S.REMOVED
    assert history(enrollment)[-1][3] == "Not in my class: Third period, not fourth"


def test_a_graded_student_cannot_be_removed(client, here):
    enrollment = advance(here.enrollments[0], S.GRADED)
    client.force_login(here.teacher)
    response = client.post(
        reverse("enrollment:teacher_remove", args=[enrollment.pk]), {"reason": "dropped"}
    )
    assert "already has a grade" in response.content.decode()
    enrollment.refresh_from_db()
    assert enrollment.status == S.GRADED


def test_the_roster_view_is_logged(client, here):
    client.force_login(here.teacher)
    client.get(reverse("enrollment:teacher_roster", args=[here.section.pk]))
    entry = AccessLogEntry.objects.get()
    assert (entry.action, entry.actor, entry.student_count) == ("view", here.teacher, 3)


@pytest.mark.parametrize("name", ["teacher_roster", "teacher_grades"])
def test_roster_and_grade_pages_take_the_same_queries_for_30_students(
    client, here, year, name, django_assert_max_num_queries
):
    client.force_login(here.teacher)
    url = reverse(f"enrollment:{name}", args=[here.section.pk])
    advance(here.enrollments[0], S.GRADED)
    with django_assert_max_num_queries(25) as few:
        assert client.get(url).status_code == 200
    for _ in range(27):
        advance(enroll(here, year), S.GRADED, grade="C")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url)
    assert response.content.decode().count("<tr") >= 31


# --- grades -------------------------------------------------------------------------------------


def _grades_url(place):
    return reverse("enrollment:teacher_grades", args=[place.section.pk])


def test_grades_for_the_whole_roster_in_one_post(client, here):
    first, second, third = here.enrollments
    advance(first, S.CONFIRMED)
    client.force_login(here.teacher)
    response = client.post(
        _grades_url(here),
        {f"grade_{first.pk}": "a-", f"grade_{second.pk}": " C ", f"grade_{third.pk}": ""},
    )
    assert response.status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.grade, first.graded_by) == (S.GRADED, "A-", here.teacher)
    assert (second.status, second.grade) == (S.GRADED, "C")
    # A registered student who gets a grade is confirmed first; both steps are recorded.
    assert [h[:3] for h in history(second)[-2:]] == [
        (S.REGISTERED, S.CONFIRMED, ""),
        (S.CONFIRMED, S.GRADED, "C"),
    ]
    assert statuses(here)[2] == S.REGISTERED  # empty box: untouched
    page = client.get(_grades_url(here)).content.decode()
    assert "Saved: attained" in page
    assert "Saved: not attained" in page


def test_the_grade_page_is_kept_until_the_class_or_its_deadline_changes(
    client, here, django_assert_max_num_queries
):
    """Served from the page cache (still logged each time); fresh after a grade is saved
    elsewhere (htmx, another tab) and after the consortium moves the deadline."""
    first = here.enrollments[0]
    client.force_login(here.teacher)
    assert 'value=""' in client.get(_grades_url(here)).content.decode()
    with django_assert_max_num_queries(12):
        assert client.get(_grades_url(here)).status_code == 200
    assert AccessLogEntry.objects.filter(what="grade entry").count() == 2
    grading.grades_save(actor=here.teacher, section_id=here.section.pk, grades={first.pk: "B"})
    assert f'id="grade-{first.pk}" name="grade_{first.pk}" value="B"' in (
        client.get(_grades_url(here)).content.decode()
    )
    here.policy.grading_deadline = datetime.date(2026, 11, 30)
    here.policy.save()
    assert "The grading deadline (" in client.get(_grades_url(here)).content.decode()


def test_an_invalid_grade_for_the_scale_saves_nothing(client, here):
    first, second, _third = here.enrollments
    client.force_login(here.teacher)
    response = client.post(
        _grades_url(here), {f"grade_{first.pk}": "B", f"grade_{second.pk}": "87"}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "No grade was saved" in page
    assert "Enter a letter grade from A to F" in page
    assert 'value="87"' in page  # what was typed stays in the box
    assert statuses(here) == [S.REGISTERED] * 3


def test_percent_and_points_scales(client, here):
    here.articulation.minimum_grade_scale = "percent"
    here.articulation.minimum_grade = "80"
    here.articulation.save()
    first, second, _third = here.enrollments
    client.force_login(here.teacher)
    client.post(_grades_url(here), {f"grade_{first.pk}": "79.5%", f"grade_{second.pk}": "65"})
    first.refresh_from_db()
    assert first.grade == "80"
    check = client.get(
        reverse("enrollment:teacher_grade_check", args=[here.section.pk]),
        {f"grade_{first.pk}": "B"},
        headers={"HX-Request": "true"},
    )
    assert "Enter a percent from 0 to 100" in check.content.decode()


def test_the_result_shows_while_typing(client, here):
    client.force_login(here.teacher)
    url = reverse("enrollment:teacher_grade_check", args=[here.section.pk])
    e = here.enrollments[0]
    attained = client.get(url, {f"grade_{e.pk}": "b+"}, headers={"HX-Request": "true"})
    assert "Not saved yet: meets the minimum" in attained.content.decode()
    below = client.get(url, {f"grade_{e.pk}": "C"}, headers={"HX-Request": "true"})
    assert "Not saved yet: below the minimum" in below.content.decode()
    # Only a saved grade shows the result's badge.
    advance(e, S.GRADED, grade="B+")
    saved = client.get(url, {f"grade_{e.pk}": "b+"}, headers={"HX-Request": "true"})
    assert "Attained" in saved.content.decode()
    assert "Not saved" not in saved.content.decode()
    # Without htmx the check is the grade page itself.
    assert client.get(url, {f"grade_{e.pk}": "B"}).status_code == 302


def test_htmx_saves_one_row_and_answers_with_the_row(client, here):
    first, second, _third = here.enrollments
    client.force_login(here.teacher)
    url = reverse("enrollment:teacher_grade_row", args=[here.section.pk, first.pk])
    response = client.post(
        url, {f"grade_{first.pk}": "B", f"grade_{second.pk}": "A"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.strip().startswith(f'<tr id="row-{first.pk}"')
    assert "Saved: attained" in html
    assert statuses(here) == [S.GRADED, S.REGISTERED, S.REGISTERED]
    bad = client.post(url, {f"grade_{first.pk}": "Q"}, headers={"HX-Request": "true"})
    assert bad.status_code == 400
    assert "is-invalid" in bad.content.decode()
    first.refresh_from_db()
    assert first.grade == "B"


def test_a_rows_own_button_without_javascript_saves_that_row(client, here):
    first, second, _third = here.enrollments
    client.force_login(here.teacher)
    response = client.post(
        _grades_url(here),
        {f"grade_{first.pk}": "B", f"grade_{second.pk}": "A", "save_row": str(second.pk)},
    )
    assert statuses(here) == [S.REGISTERED, S.GRADED, S.REGISTERED]
    # The grade typed in the other row is not dropped: it stays in its box, marked unsaved.
    assert response.status_code == 200
    page = response.content.decode()
    assert "1 other grade you typed is not saved yet" in page
    assert f'name="grade_{first.pk}" value="B"' in page
    # Saving that row alone, with nothing else typed, goes back to the page.
    response = client.post(
        _grades_url(here),
        {f"grade_{first.pk}": "B", f"grade_{second.pk}": "A", "save_row": str(first.pk)},
    )
    assert response.status_code == 302
    assert statuses(here) == [S.GRADED, S.GRADED, S.REGISTERED]


def test_the_grade_page_has_a_default_button_that_saves_every_row(client, here):
    """Enter in a grade box presses the form's first submit button: the one that saves
    every row typed, never a row's own button."""
    client.force_login(here.teacher)
    page = client.get(_grades_url(here)).content.decode()
    form = page[page.index("data-unsaved-warning") :]
    first_button = form[form.index("<button") : form.index("</button>")]
    assert 'name="save_row"' not in first_button
    assert "Save all grades" in first_button


def test_grades_change_until_the_deadline_then_only_by_override(client, here):
    enrollment = advance(here.enrollments[0], S.GRADED, grade="B")
    grading.grades_save(actor=here.teacher, section_id=here.section.pk, grades={enrollment.pk: "A"})
    enrollment.refresh_from_db()
    assert history(enrollment)[-1][:3] == (S.GRADED, S.GRADED, "A")
    after_deadline = here.policy.grading_deadline + datetime.timedelta(days=1)
    with pytest.raises(class_requests.ValidationError) as refused:
        grading.grades_save(
            actor=here.teacher,
            section_id=here.section.pk,
            grades={enrollment.pk: "C"},
            today=after_deadline,
        )
    assert "grading deadline" in refused.value.messages[0]
    here.policy.grading_deadline = datetime.date(2026, 11, 30)
    here.policy.save()
    client.force_login(here.teacher)
    response = client.post(_grades_url(here), {f"grade_{enrollment.pk}": "C"})
    assert response.status_code == 400
    assert "deadline" in response.content.decode()
    enrollment.refresh_from_db()
    assert enrollment.grade == "A"

    # The consortium admin overrides, with a reason, and it shows in the history.
    client.force_login(here.admin)
    client.post(
        reverse("enrollment:grade_override", args=[enrollment.pk]),
        {"grade": "C", "reason": "Teacher's late correction, email of June 30"},
    )
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.grade) == (S.GRADED, "C")
    assert history(enrollment)[-1] == (
        S.GRADED,
        S.GRADED,
        "C",
        "Teacher's late correction, email of June 30",
        "override",
    )
    page = client.get(reverse("enrollment:staff_enrollment", args=[enrollment.pk]))
    assert "Override" in page.content.decode()


def test_an_override_needs_a_reason_and_a_valid_grade(client, here):
    enrollment = advance(here.enrollments[0], S.ATTAINED, grade="A")
    client.force_login(here.admin)
    url = reverse("enrollment:grade_override", args=[enrollment.pk])
    client.post(url, {"grade": "C", "reason": ""})
    client.post(url, {"grade": "Z", "reason": "Typo"})
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.grade) == (S.ATTAINED, "A")
    client.post(url, {"grade": "C", "reason": "Typo in the gradebook"})
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.grade) == (S.NOT_ATTAINED, "C")
    client.post(url, {"grade": "D", "reason": "Second look"})
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.grade) == (S.NOT_ATTAINED, "D")
    assert [h[4] for h in history(enrollment)[-2:]] == ["override", "override"]


# --- completing the class -----------------------------------------------------------------------


def test_mark_complete_finalizes_every_grade_in_one_go(
    client, here, django_capture_on_commit_callbacks
):
    first, second, third = here.enrollments
    settle_fee(first)
    grading.grades_save(
        actor=here.teacher,
        section_id=here.section.pk,
        grades={first.pk: "A", second.pk: "C", third.pk: "B"},
    )
    client.force_login(here.teacher)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("enrollment:teacher_complete", args=[here.section.pk]))
    assert response.status_code == 302
    assert statuses(here) == [S.ATTAINED, S.NOT_ATTAINED, S.ATTAINED]
    here.section.refresh_from_db()
    assert here.section.completed_by == here.teacher
    assert here.section.completed_at is not None
    subjects = sorted(m.subject for m in mail.outbox)
    assert sum("Your grade is posted" in s for s in subjects) == 3
    # Only the student whose fee is settled has credit ready for the transcript.
    assert sum("ready for the transcript" in s for s in subjects) == 1
    # The grades are final for the teacher now.
    with pytest.raises(class_requests.ValidationError):
        grading.grades_save(actor=here.teacher, section_id=here.section.pk, grades={second.pk: "A"})


def test_mark_complete_is_refused_while_students_wait_for_a_grade(client, here):
    grading.grades_save(
        actor=here.teacher, section_id=here.section.pk, grades={here.enrollments[0].pk: "A"}
    )
    client.force_login(here.teacher)
    response = client.post(
        reverse("enrollment:teacher_complete", args=[here.section.pk]), follow=True
    )
    assert "2 students have no grade yet" in response.content.decode()
    here.section.refresh_from_db()
    assert here.section.completed_at is None
    assert statuses(here) == [S.GRADED, S.REGISTERED, S.REGISTERED]
