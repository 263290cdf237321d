"""The access-log review pages (issue 7): consortium admins and state staff review who saw
which student records; a student sees who viewed theirs. Every role, the outsider (404),
filters, pagination, bounded queries, and that reviewing the log is itself logged."""

import datetime
import re

import pytest
from django.db.models import ProtectedError
from django.urls import reverse

from accesslog.models import AccessLogEntry, AccessLogStudent
from accesslog.services import access_log_record
from accounts.models import Role, RoleMembership
from accounts.permissions import Access
from reports.selectors.access import STUDENTS_SHOWN, actor_roles, entries_for_display
from reports.views_access import PER_PAGE, REVIEW
from tests.factories import (
    CollegeFactory,
    DistrictFactory,
    HighSchoolFactory,
    StudentProfileFactory,
    UserFactory,
    make_staff,
)

pytestmark = pytest.mark.django_db

UTC = datetime.UTC


class Side:
    """One consortium with its organisations, staff and two students."""

    def __init__(self, tag: str):
        self.college = CollegeFactory()
        self.consortium = self.college.consortium
        self.district = DistrictFactory(consortium=self.consortium)
        self.school = HighSchoolFactory(district=self.district)
        self.admin = make_staff(
            Role.CONSORTIUM_ADMIN, self.consortium, first_name="Ada", last_name=f"Admin{tag}"
        )
        self.teacher = make_staff(
            Role.TEACHER,
            self.school,
            first_name="Tess",
            last_name=f"Teacher{tag}",
            email=f"tess.{tag.lower()}@school.example.org",
        )
        self.registrar = make_staff(
            Role.REGISTRAR, self.college, first_name="Reggie", last_name=f"Registrar{tag}"
        )
        self.specialist = make_staff(Role.CAREER_SPECIALIST, self.district)
        self.student = StudentProfileFactory(
            high_school=self.school, legal_first_name="Maria", legal_last_name=f"Lopez{tag}"
        )
        self.other_student = StudentProfileFactory(
            high_school=self.school, legal_first_name="Sam", legal_last_name=f"Other{tag}"
        )


@pytest.fixture
def a():
    return Side("A")


@pytest.fixture
def b():
    return Side("B")


@pytest.fixture
def state():
    return make_staff(Role.STATE_STAFF, first_name="Stella", last_name="State")


def log(actor, students, *, action="view", what="student record", role="", at=None, ip=None):
    entry = access_log_record(
        actor=actor,
        action=action,
        what=what,
        student_ids=[s.pk for s in students],
        role=role,
        ip_address=ip or "203.0.113.9",
    )
    if at is not None:
        AccessLogEntry.objects.filter(pk=entry.pk).update(at=at)
        entry.refresh_from_db()
    return entry


def page_entries(response) -> list[int]:
    return [row.record.pk for row in response.context["table"].paginated_rows]


def assert_login_redirect(response):
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def staff_urls(side):
    return [
        reverse("reports:access_log"),
        reverse("reports:access_log_student", args=[side.student.pk]),
        reverse("reports:access_log_staff", args=[side.teacher.pk]),
    ]


# --- who may open the pages ---------------------------------------------------------------


def test_anonymous_is_sent_to_sign_in(client, a):
    for url in [*staff_urls(a), reverse("reports:record_views")]:
        assert_login_redirect(client.get(url))


@pytest.mark.parametrize("who", ["teacher", "registrar", "specialist", "student"])
def test_other_roles_may_not_review_the_log(client, a, who):
    user = a.student.user if who == "student" else getattr(a, who)
    client.force_login(user)
    for url in staff_urls(a):
        assert client.get(url).status_code == 403, url


def test_staff_without_a_student_record_have_no_record_views_page(client, a, state):
    for user in (a.admin, a.teacher, state):
        client.force_login(user)
        assert client.get(reverse("reports:record_views")).status_code == 403


def test_outsider_student_and_staff_member_are_not_found(client, a, b):
    client.force_login(a.admin)
    assert client.get(reverse("reports:access_log_student", args=[b.student.pk])).status_code == 404
    assert client.get(reverse("reports:access_log_staff", args=[b.teacher.pk])).status_code == 404
    assert client.get(reverse("reports:access_log_staff", args=[b.admin.pk])).status_code == 404
    assert client.get(reverse("reports:access_log_student", args=[999999])).status_code == 404
    # The 404 writes nothing to the log.
    assert not AccessLogEntry.objects.filter(what__startswith=REVIEW).exists()


def test_state_staff_reach_every_student_and_user(client, a, b, state):
    client.force_login(state)
    assert client.get(reverse("reports:access_log_student", args=[b.student.pk])).status_code == 200
    assert client.get(reverse("reports:access_log_staff", args=[b.registrar.pk])).status_code == 200
    assert client.get(reverse("reports:access_log_staff", args=[a.admin.pk])).status_code == 200


def test_pages_are_read_only(client, a):
    entry = log(a.teacher, [a.student])
    client.force_login(a.admin)
    for url in staff_urls(a):
        for method in (client.post, client.put, client.delete):
            assert method(url).status_code == 405
        main = client.get(url).content.decode().split('<main id="main"')[1].split("</main>")[0]
        forms = re.findall(r"<form[^>]*>", main)
        assert forms
        assert all('method="get"' in form for form in forms)
        assert "/admin/" not in main
    entry.refresh_from_db()
    assert entry.what == "student record"
    assert AccessLogStudent.objects.filter(entry=entry).count() == 1


def test_an_entry_with_students_cannot_be_deleted_through_the_orm(a):
    entry = log(a.teacher, [a.student])
    with pytest.raises(ProtectedError):
        entry.delete()
    with pytest.raises(ProtectedError):
        a.student.delete()


# --- the log -------------------------------------------------------------------------------


def test_consortium_admin_sees_only_entries_about_their_students_newest_first(client, a, b):
    old = log(a.teacher, [a.student], at=datetime.datetime(2026, 10, 1, 16, tzinfo=UTC))
    new = log(
        a.registrar,
        [a.other_student],
        action="export",
        what="report job 7",
        at=datetime.datetime(2026, 11, 2, 16, tzinfo=UTC),
    )
    elsewhere = log(b.teacher, [b.student])
    client.force_login(a.admin)

    response = client.get(reverse("reports:access_log"))

    assert response.status_code == 200
    assert page_entries(response) == [new.pk, old.pk]
    assert elsewhere.pk not in page_entries(response)
    html = response.content.decode()
    assert "Tess TeacherA" in html
    assert "Reggie RegistrarA" in html
    assert "Exported" in html
    assert "report job 7" in html
    assert "203.0.113.9" in html
    assert "College registrar" in html
    assert a.college.name in html
    assert b.student.legal_last_name not in html


def test_a_shared_entry_shows_only_the_admins_own_students(client, a, b):
    both = log(a.registrar, [a.student, b.student], what="statewide export")
    client.force_login(a.admin)

    response = client.get(reverse("reports:access_log"))

    assert page_entries(response) == [both.pk]
    html = response.content.decode()
    assert a.student.sers_id in html
    assert b.student.sers_id not in html
    assert b.student.legal_last_name not in html
    assert "more student" not in html


def test_state_staff_see_every_entry_and_every_student(client, a, b, state):
    first = log(a.teacher, [a.student])
    second = log(b.teacher, [b.student])
    client.force_login(state)

    response = client.get(reverse("reports:access_log"))

    assert set(page_entries(response)) == {first.pk, second.pk}
    html = response.content.decode()
    assert a.student.sers_id in html
    assert b.student.sers_id in html
    # Actors link to their own page.
    assert reverse("reports:access_log_staff", args=[b.teacher.pk]) in html


def test_actors_outside_the_admins_scope_are_not_linked(client, a, state):
    log(state, [a.student])
    log(a.teacher, [a.student])
    client.force_login(a.admin)

    html = client.get(reverse("reports:access_log")).content.decode()

    assert "Stella State" in html
    assert reverse("reports:access_log_staff", args=[state.pk]) not in html
    assert reverse("reports:access_log_staff", args=[a.teacher.pk]) in html


def test_many_students_in_one_entry_show_a_few_and_a_count(client, a):
    students = [StudentProfileFactory(high_school=a.school) for _ in range(STUDENTS_SHOWN + 4)]
    log(a.registrar, students, action="export", what="report job 9")
    client.force_login(a.admin)

    response = client.get(reverse("reports:access_log"))

    row = response.context["table"].paginated_rows[0]
    assert len(row.record.shown_links) == STUDENTS_SHOWN
    assert "and 4 more students" in response.content.decode()


def test_times_are_local_with_utc_available(client, a):
    log(a.teacher, [a.student], at=datetime.datetime(2026, 11, 2, 18, 5, tzinfo=UTC))
    client.force_login(a.admin)

    html = client.get(reverse("reports:access_log")).content.decode()

    assert 'datetime="2026-11-02T18:05:00Z"' in html
    assert "2026-11-02 18:05:00 UTC" in html
    assert "10:05" in html
    assert "PST" in html


def test_a_student_sees_each_time_once_in_the_one_date_style(client, a):
    """Staff reviewing the log get the stored UTC time too; a student reads one moment,
    in the date style of every other page (sers.formatting), in their language."""
    log(a.teacher, [a.student], at=datetime.datetime(2026, 11, 2, 18, 5, tzinfo=UTC))
    client.force_login(a.student.user)
    html = client.get(reverse("reports:record_views")).content.decode()
    assert "UTC" not in html.replace('datetime="2026-11-02T18:05:00Z"', "")
    assert "November 2, 2026, 10:05 a.m. PST" in html
    client.cookies["django_language"] = "es"
    html = client.get(reverse("reports:record_views")).content.decode()
    assert "2 de noviembre de 2026" in html
    assert "2026-11-02 18:05" not in html


def test_role_shown_is_the_role_recorded_with_its_organisation(a, b):
    RoleMembership.objects.create(user=a.admin, role=Role.TEACHER, high_school=b.school)
    as_admin = log(a.admin, [a.student], role="consortium_admin")
    as_both = log(a.admin, [a.student], role="consortium_admin,teacher")
    unknown = log(a.specialist, [a.student], role="admin_site")
    state_access = Access(user_id=None, is_state=True)
    entries = entries_for_display(AccessLogEntry.objects.all(), access=state_access)
    rows = {entry.pk: entry for entry in entries}

    assert [(r.role, r.organisation) for r in actor_roles(rows[as_admin.pk])] == [
        ("Consortium admin", a.consortium.name)
    ]
    assert [(r.role, r.organisation) for r in actor_roles(rows[as_both.pk])] == [
        ("Consortium admin", a.consortium.name),
        ("Teacher", b.school.name),
    ]
    assert [r.role for r in actor_roles(rows[unknown.pk])] == ["Administration site"]


def test_an_entry_by_sers_itself_is_shown_as_automatic(client, a, state):
    log(None, [a.student], action="export", what="report job 3")
    client.force_login(state)

    assert "SERS (automatic)" in client.get(reverse("reports:access_log")).content.decode()


# --- filters ---------------------------------------------------------------------------------


@pytest.fixture
def filtered(a):
    return {
        "maria": log(a.teacher, [a.student], at=datetime.datetime(2026, 10, 1, 18, tzinfo=UTC)),
        "sam": log(
            a.registrar,
            [a.other_student],
            action="export",
            what="report job 12",
            at=datetime.datetime(2026, 10, 5, 18, tzinfo=UTC),
        ),
        "change": log(
            a.admin,
            [a.student],
            action="change",
            what="merge of duplicate student records",
            at=datetime.datetime(2026, 10, 9, 18, tzinfo=UTC),
        ),
    }


def _ids(client, **params):
    response = client.get(reverse("reports:access_log"), params)
    assert response.status_code == 200
    return set(page_entries(response)), response


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"student": "LopezA"}, {"maria", "change"}),
        ({"student": "maria lopeza"}, {"maria", "change"}),
        ({"staff": "tess.a@school"}, {"maria"}),
        ({"staff": "Reggie"}, {"sam"}),
        ({"action": "export"}, {"sam"}),
        ({"what": "merge"}, {"change"}),
        ({"date_from": "2026-10-05"}, {"sam", "change"}),
        ({"date_to": "2026-10-05"}, {"maria", "sam"}),
        ({"date_from": "2026-10-02", "date_to": "2026-10-08"}, {"sam"}),
    ],
)
def test_filters(client, a, filtered, params, expected):
    client.force_login(a.admin)
    ids, _response = _ids(client, **params)
    assert ids == {filtered[name].pk for name in expected}


def test_student_filter_by_sers_id_and_not_outside_scope(client, a, b, filtered):
    log(b.teacher, [b.student])
    client.force_login(a.admin)
    ids, _response = _ids(client, student=a.other_student.sers_id)
    assert ids == {filtered["sam"].pk}
    ids, _response = _ids(client, student=b.student.sers_id)
    assert ids == set()


def test_reviews_of_the_log_can_be_left_out(client, a, filtered):
    client.force_login(a.admin)
    client.get(reverse("reports:access_log"))  # writes a review entry
    review = AccessLogEntry.objects.get(what=REVIEW)
    ids, _response = _ids(client)
    assert review.pk in ids
    ids, _response = _ids(client, hide_reviews="on")
    assert ids == {entry.pk for entry in filtered.values()}


def test_dates_are_local_days(client, a, state):
    # 07:30 UTC on 2 November is still 1 November in Los Angeles.
    late = log(a.teacher, [a.student], at=datetime.datetime(2026, 11, 2, 7, 30, tzinfo=UTC))
    client.force_login(state)
    ids, _response = _ids(client, date_from="2026-11-01", date_to="2026-11-01")
    assert ids == {late.pk}
    ids, _response = _ids(client, date_from="2026-11-02", date_to="2026-11-30")
    assert ids == set()


def test_bad_filter_values_show_a_message_not_an_error(client, a, filtered):
    client.force_login(a.admin)
    ids, response = _ids(client, date_from="not-a-date", action="nonsense")
    assert ids == {entry.pk for entry in filtered.values()}
    assert response.context["filter"].form.errors
    ids, response = _ids(client, date_from="2026-10-09", date_to="2026-10-01")
    assert "The end date must be on or after the start date." in response.content.decode()


# --- pagination and queries ------------------------------------------------------------------


def test_pagination(client, a):
    entries = [log(a.teacher, [a.student]) for _ in range(PER_PAGE + 5)]
    client.force_login(a.admin)

    first = client.get(reverse("reports:access_log"))
    second = client.get(reverse("reports:access_log"), {"page": 2})

    assert len(page_entries(first)) == PER_PAGE
    assert 'aria-label="Result pages"' in first.content.decode()
    # The first request logged its review, so compare only the entries made above.
    made = {e.pk for e in entries}
    assert len((set(page_entries(first)) | set(page_entries(second))) & made) == len(made)
    for bad in ("abc", "0", "999", "99999999999999999999999"):
        assert client.get(reverse("reports:access_log"), {"page": bad}).status_code == 200


def _fill(a, count):
    for i in range(count):
        students = [StudentProfileFactory(high_school=a.school) for _ in range(2)]
        actor = (a.teacher, a.registrar, a.specialist, None)[i % 4]
        log(actor, [a.student, *students], what=f"page {i}")


@pytest.mark.parametrize("who", ["admin", "state"])
def test_query_count_does_not_grow_with_the_page(
    client, a, state, who, django_assert_max_num_queries
):
    user = a.admin if who == "admin" else state
    client.force_login(user)
    _fill(a, 3)
    client.get(reverse("reports:access_log"))  # warm the session
    with django_assert_max_num_queries(16) as small:
        client.get(reverse("reports:access_log"))
    _fill(a, 40)
    with django_assert_max_num_queries(16) as large:
        client.get(reverse("reports:access_log"))
    assert len(large.captured_queries) == len(small.captured_queries)
    for url in (
        reverse("reports:access_log_student", args=[a.student.pk]),
        reverse("reports:access_log_staff", args=[a.teacher.pk]),
    ):
        with django_assert_max_num_queries(18):
            assert client.get(url).status_code == 200


def test_record_views_query_count(client, a, django_assert_max_num_queries):
    _fill(a, 30)
    client.force_login(a.student.user)
    client.get(reverse("reports:record_views"))
    with django_assert_max_num_queries(12):
        assert client.get(reverse("reports:record_views")).status_code == 200


# --- one student, one staff member -----------------------------------------------------------


def test_student_page_lists_everyone_who_accessed_the_record(client, a, b, state):
    seen_by_teacher = log(a.teacher, [a.student])
    seen_by_outsider = log(b.registrar, [a.student, b.student], what="statewide export")
    not_about_her = log(a.teacher, [a.other_student])
    client.force_login(a.admin)

    response = client.get(reverse("reports:access_log_student", args=[a.student.pk]))

    assert response.status_code == 200
    ids = set(page_entries(response))
    assert {seen_by_teacher.pk, seen_by_outsider.pk} <= ids
    assert not_about_her.pk not in ids
    html = response.content.decode()
    assert "Reggie RegistrarB" in html  # who saw her, even from another consortium
    assert b.student.sers_id not in html  # but not the other consortium's student


def test_staff_page_lists_what_the_person_accessed_in_scope(client, a, b):
    mine = log(a.teacher, [a.student])
    other_actor = log(a.registrar, [a.student])
    outside = log(a.teacher, [b.student])  # a student of the other consortium
    client.force_login(a.admin)

    response = client.get(reverse("reports:access_log_staff", args=[a.teacher.pk]))

    assert response.status_code == 200
    ids = set(page_entries(response))
    assert mine.pk in ids
    assert other_actor.pk not in ids
    assert outside.pk not in ids
    assert "Teacher" in response.content.decode()


# --- reviewing is logged -----------------------------------------------------------------------


def test_reviewing_the_log_writes_an_entry(client, a):
    log(a.teacher, [a.student])
    client.force_login(a.admin)

    client.get(reverse("reports:access_log"))

    review = AccessLogEntry.objects.filter(actor=a.admin).get()
    assert review.what == REVIEW
    assert review.action == AccessLogEntry.Action.VIEW
    assert review.role == Role.CONSORTIUM_ADMIN
    assert review.ip_address == "127.0.0.1"
    assert set(review.students.values_list("student_id", flat=True)) == {a.student.pk}


def test_reviewing_a_student_logs_a_view_of_that_student(client, a, state):
    client.force_login(state)

    response = client.get(reverse("reports:access_log_student", args=[a.other_student.pk]))

    assert response.status_code == 200
    review = AccessLogEntry.objects.filter(actor=state).get()
    assert review.what == f"{REVIEW}: student"
    assert review.role == Role.STATE_STAFF
    assert list(review.students.values_list("student_id", flat=True)) == [a.other_student.pk]
    # The next review shows the previous one.
    again = client.get(reverse("reports:access_log_student", args=[a.other_student.pk]))
    assert review.pk in page_entries(again)


def test_reviewing_a_staff_member_logs_the_students_shown(client, a):
    log(a.teacher, [a.other_student])
    client.force_login(a.admin)

    client.get(reverse("reports:access_log_staff", args=[a.teacher.pk]))

    review = AccessLogEntry.objects.filter(actor=a.admin).get()
    assert review.what == f"{REVIEW}: staff member {a.teacher.pk}"
    assert list(review.students.values_list("student_id", flat=True)) == [a.other_student.pk]


def test_an_empty_review_writes_nothing(client, a):
    client.force_login(a.admin)
    assert client.get(reverse("reports:access_log")).status_code == 200
    assert not AccessLogEntry.objects.exists()


# --- the student's own page ----------------------------------------------------------------------


def test_student_sees_staff_who_viewed_their_record_not_their_own_views(client, a, b):
    teacher_view = log(a.teacher, [a.student], ip="198.51.100.7")
    admin_change = log(
        a.admin, [a.student], action="change", what="merge of duplicate student records"
    )
    own = log(a.student.user, [a.student], what="own profile")
    someone_else = log(a.teacher, [a.other_student])
    client.force_login(a.student.user)

    response = client.get(reverse("reports:record_views"))

    assert response.status_code == 200
    ids = set(page_entries(response))
    assert ids == {teacher_view.pk, admin_change.pk}
    assert own.pk not in ids
    assert someone_else.pk not in ids
    html = response.content.decode()
    assert "Tess TeacherA" in html
    assert "Teacher" in html
    assert a.school.name in html
    assert "Ada AdminA" in html
    assert "Consortium admin" in html
    assert a.consortium.name in html
    assert "Changed" in html
    # Staff emails and addresses are not shown to students.
    assert a.teacher.email not in html
    assert "198.51.100.7" not in html
    # Viewing one's own page writes nothing.
    assert AccessLogEntry.objects.count() == 4


def test_another_student_sees_only_their_own_page(client, a):
    log(a.teacher, [a.student])
    client.force_login(a.other_student.user)
    response = client.get(reverse("reports:record_views"))
    assert response.status_code == 200
    assert page_entries(response) == []
    assert "Nobody else has looked at your record yet." in response.content.decode()


# --- navigation ---------------------------------------------------------------------------------


def test_menu_shows_the_pages_to_the_roles_that_may_open_them(client, a, state):
    review, own = reverse("reports:access_log"), reverse("reports:record_views")
    for user, sees_review, sees_own in (
        (a.admin, True, False),
        (state, True, False),
        (a.teacher, False, False),
        (a.registrar, False, False),
        (a.student.user, False, True),
    ):
        client.force_login(user)
        html = client.get(reverse("home")).content.decode()
        assert (f'href="{review}"' in html) is sees_review, user
        assert (f'href="{own}"' in html) is sees_own, user


def test_student_profile_links_to_the_page(client, a):
    client.force_login(a.student.user)
    html = client.get(reverse("enrollment:profile")).content.decode()
    assert f'href="{reverse("reports:record_views")}"' in html
    assert "See who has viewed your record" in html


def test_admin_who_also_teaches_elsewhere_reviews_only_their_consortium(client, a, b):
    # A consortium admin of A who also teaches at B's school reviews only A's students.
    RoleMembership.objects.create(user=a.admin, role=Role.TEACHER, high_school=b.school)
    log(b.teacher, [b.student])
    client.force_login(a.admin)
    assert page_entries(client.get(reverse("reports:access_log"))) == []
    assert client.get(reverse("reports:access_log_student", args=[b.student.pk])).status_code == 404


def test_unused_user_is_not_found_for_an_admin(client, a):
    stranger = UserFactory()
    client.force_login(a.admin)
    assert client.get(reverse("reports:access_log_staff", args=[stranger.pk])).status_code == 404
