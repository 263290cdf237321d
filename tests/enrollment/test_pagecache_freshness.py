"""enrollment/pagecache.py owns the freshness of cached pages: every write reaches it
through the model signals or sers.bulk, bulk writes anywhere else fail the tests
(tests/bulkguard.py), and content is rendered without the viewer's request."""

import pytest
from django.db import connection
from django.db.models.signals import post_delete, post_save
from django.db.transaction import atomic
from django.test import override_settings
from django.urls import reverse

from accounts.models import User
from enrollment import pagecache
from enrollment.models import Enrollment, Fee
from organisations.services import teacher_deactivate
from sers import bulk, versions
from tests import bulkguard
from tests.world import S, advance, settle_fee

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("enrollment:dashboard")
REGISTER = reverse("enrollment:register")


def as_service(source: str, **names):
    """Run `source` as if it were code of enrollment/services/ (the guard tells application
    code from the tests by the file a frame runs)."""
    path = str(bulkguard.ROOT / "enrollment" / "services" / "example_service.py")
    exec(compile(source, path, "exec"), dict(names))  # noqa: S102 (the test's own source)


@pytest.fixture
def guard_caught():
    """The violations this test provokes on purpose, taken off the guard's list."""
    caught = []
    yield caught
    caught.extend(bulkguard.violations)
    bulkguard.violations.clear()


def main(response) -> str:
    return response.content.decode().split("<main", 1)[1].split("</main>", 1)[0]


# --- one path for every write -------------------------------------------------------------------


def test_every_watched_model_reaches_the_page_cache_by_save_delete_and_bulk():
    for model in pagecache.WATCHED:
        for signal in (post_save, post_delete, bulk.rows_written):
            assert signal.has_listeners(model), (model, signal)
        assert model._meta.db_table in bulk.watched_tables()


def test_a_service_updating_a_cached_model_without_the_helper_fails(here, guard_caught):
    enrollment = here.enrollments[0]
    with pytest.raises(AssertionError, match="enrollment_enrollment with UPDATE"), atomic():
        as_service(
            "Enrollment.objects.filter(pk=pk).update(grade='A')",
            Enrollment=Enrollment,
            pk=enrollment.pk,
        )
    assert any("example_service.py" in v for v in bulkguard.violations)
    enrollment.refresh_from_db()
    assert enrollment.grade == ""  # refused before it reached the database


def test_a_service_inserting_cached_rows_without_the_helper_fails(here, guard_caught):
    student = here.students[0]
    fee = Fee.objects.get(student=student)
    with pytest.raises(AssertionError, match="enrollment_fee with INSERT"), atomic():
        as_service(
            "Fee.objects.filter(pk=pk).delete(); Fee.objects.bulk_create([fee])",
            Fee=Fee,
            pk=fee.pk,
            fee=fee,
        )


def test_raw_sql_on_a_cached_table_from_a_service_fails(here, guard_caught):
    table = User._meta.db_table
    with pytest.raises(AssertionError, match=f"{table} with UPDATE"), atomic():
        as_service(
            f"""with connection.cursor() as cursor:
    cursor.execute('UPDATE "{table}" SET is_active = false WHERE id = %s', [pk])""",  # noqa: S608
            connection=connection,
            pk=here.teacher.pk,
        )


def test_saves_deletes_and_the_helper_pass_the_guard(here):
    enrollment = here.enrollments[0]
    as_service(
        """enrollment.save(update_fields=["college_student_id"])
bulk.bulk_update(Enrollment.objects.filter(pk=enrollment.pk), college_student_id="C1")
Fee.objects.filter(student_id=enrollment.student_id).delete()""",
        enrollment=enrollment,
        bulk=bulk,
        Enrollment=Enrollment,
        Fee=Fee,
    )
    assert bulkguard.violations == []


# --- the helper renews what a bulk write touches ---------------------------------------------


def test_a_bulk_update_renews_the_students_dashboard(client, here):
    student = here.students[0]
    client.force_login(student.user)
    assert "Grade: A-" not in client.get(DASHBOARD).content.decode()
    enrollment = advance(here.enrollments[0], S.CONFIRMED)
    bulk.bulk_update(Enrollment.objects.filter(pk=enrollment.pk), status=S.GRADED, grade="A-")
    assert "Grade: A-" in client.get(DASHBOARD).content.decode()


def test_a_bulk_update_of_the_student_renews_both_records(client, here):
    """Moving a fee from one student to another (a merge) leaves both dashboards."""
    first, second = here.students[:2]
    client.force_login(first.user)
    before = main(client.get(DASHBOARD))
    assert "Unpaid" in before
    fee = Fee.objects.get(student=first)
    Fee.objects.filter(student=second).delete()
    bulk.bulk_update(Fee.objects.filter(pk=fee.pk), student=second)
    assert "Unpaid" not in main(client.get(DASHBOARD))
    client.force_login(second.user)
    assert "Unpaid" in main(client.get(DASHBOARD))


def test_a_teacher_deactivated_renews_the_class_lists_and_the_account(here):
    """An UPDATE of is_active (sers.bulk): the class lists show whether a teacher is
    active."""
    scopes = [pagecache.OFFERS, pagecache.user_scope(here.teacher.pk)]
    before = versions.versions(scopes)
    teacher_deactivate(actor=here.admin, user_id=here.teacher.pk, reason="Left the school")
    after = versions.versions(scopes)
    assert all(old != new for old, new in zip(before, after, strict=True))


def test_whole_tables_written_at_once_leave_every_page_behind(here):
    """The demo data writes with COPY: it renews the scope every page holds."""
    scopes = [pagecache.EVERYTHING, pagecache.CATALOG]
    before = versions.versions(scopes)
    pagecache.everything_changed()
    assert all(old != new for old, new in zip(before, versions.versions(scopes), strict=True))


def test_the_access_log_is_recorded_apart_from_the_cache(here, monkeypatch):
    """Recording a change in the access log renews nothing: the write itself does."""
    from enrollment.services.transitions import change_log_record

    renewed = []
    monkeypatch.setattr("sers.versions.changed", renewed.append)
    change_log_record(actor=here.admin, what="test", enrollment_ids=[here.enrollments[0].pk])
    assert renewed == []


# --- content without the viewer's request --------------------------------------------------------


@pytest.mark.parametrize("page", ["dashboard", "register", "roster", "queue"])
def test_cached_content_uses_nothing_but_its_own_context(client, here, page):
    """Rendered with every unknown variable showing: no cached page reads the user, the
    permissions, the messages or anything else a context processor would have given."""
    advance(here.enrollments[0], S.ATTAINED)
    settle_fee(here.enrollments[0])
    viewer, url = {
        "dashboard": (here.students[0].user, DASHBOARD),
        "register": (here.students[0].user, REGISTER),
        "roster": (here.teacher, reverse("enrollment:teacher_roster", args=[here.section.pk])),
        "queue": (here.registrar, reverse("enrollment:registrar_queue")),
    }[page]
    client.force_login(viewer)
    from django.conf import settings

    templates = [
        {**engine, "OPTIONS": {**engine["OPTIONS"], "string_if_invalid": "@@MISSING %s@@"}}
        for engine in settings.TEMPLATES
    ]
    with override_settings(TEMPLATES=templates):
        content = main(client.get(url))
    assert "@@MISSING" not in content
    assert viewer.email not in content


def test_two_registrars_of_a_college_share_one_entry(client, here, monkeypatch):
    from tests.factories import make_staff

    advance(here.enrollments[0], S.ATTAINED)
    settle_fee(here.enrollments[0])
    other = make_staff("registrar", here.college)
    built = []
    real = pagecache.render_content
    monkeypatch.setattr(
        pagecache, "render_content", lambda *a, **k: built.append(1) or real(*a, **k)
    )
    url = reverse("enrollment:registrar_queue")
    client.force_login(here.registrar)
    first = main(client.get(url))
    client.force_login(other)
    second = main(client.get(url))
    assert len(built) == 1
    # Only the CSRF token differs between the two.
    assert (
        first.split('name="csrfmiddlewaretoken"')[0]
        == second.split('name="csrfmiddlewaretoken"')[0]
    )


# --- each scope renewed once per transaction, and once more at commit --------------------------


@pytest.fixture
def renewals(monkeypatch):
    """The cache writes of versions.changed, each a set of scopes."""
    calls: list[frozenset] = []
    real = versions._renew

    def counting(scopes):
        calls.append(scopes)
        real(scopes)

    monkeypatch.setattr(versions, "_renew", counting)
    return calls


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_grade_save_of_thirty_renews_each_scope_once_and_once_at_commit(year, today, renewals):
    from enrollment.services import grading
    from tests.world import build_place

    place = build_place(year, name="Thirty", students=30)
    grades = {e.pk: "A" for e in place.enrollments}
    renewals.clear()
    with atomic():  # the service's own transaction, committed for real
        grading.grades_save(actor=place.teacher, section_id=place.section.pk, grades=grades)
    *at_once, at_commit = renewals
    renewed_at_once = [scope for scopes in at_once for scope in scopes]
    assert len(renewed_at_once) == len(set(renewed_at_once))  # no scope twice
    assert at_commit == frozenset(renewed_at_once)
    assert pagecache.section_scope(place.section.pk) in at_commit
    assert len(renewals) <= 3  # was two cache writes for every row written


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_registration_renews_each_scope_once_and_once_at_commit(world, student, renewals):
    from enrollment.services.registration import enrollment_register
    from tests.world import TODAY

    section = world.sections[0]
    renewals.clear()
    with atomic():
        enrollment_register(student=student, section=section, actor=student.user, today=TODAY)
    *at_once, at_commit = renewals
    renewed_at_once = [scope for scopes in at_once for scope in scopes]
    assert len(renewed_at_once) == len(set(renewed_at_once))
    assert at_commit == frozenset(renewed_at_once)
    assert {pagecache.student_scope(student.pk), pagecache.section_scope(section.pk)} <= (at_commit)


def test_a_change_in_a_rolled_back_savepoint_still_renews_at_commit(
    renewals, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), atomic():
        versions.changed(["a"])
        try:
            with atomic():
                versions.changed(["b"])
                raise RuntimeError
        except RuntimeError:
            pass
        versions.changed(["a", "c"])
    # a and b at once, the savepoint's hook dropped with it; then c at once and a, c at commit.
    assert renewals[:2] == [frozenset({"a"}), frozenset({"b"})]
    assert frozenset({"a", "c"}) <= renewals[-1]
    assert any("c" in scopes for scopes in renewals[2:-1])
