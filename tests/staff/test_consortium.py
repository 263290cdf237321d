"""Consortium admins: fees, duplicate students and merges, the work page."""

import datetime
from decimal import Decimal
from unittest.mock import patch

import pytest
from django.core.cache import cache
from django.urls import reverse

from accesslog.models import AccessLogStudent
from accesslog.services import access_log_record
from accounts.models import Role, RoleMembership
from enrollment.models import (
    Enrollment,
    EnrollmentStatusChange,
    Fee,
    FeeChange,
    IdentityChange,
    PossibleDuplicate,
    StudentMerge,
    StudentProfile,
)
from enrollment.services import class_requests, duplicates, fees, merging
from tests.factories import (
    EnrollmentFactory,
    FeeFactory,
    StudentProfileFactory,
)
from tests.world import TODAY, S, advance

pytestmark = pytest.mark.django_db


# --- fees ---------------------------------------------------------------------------------------


def fee_of(enrollment) -> Fee:
    return Fee.objects.get(student=enrollment.student_id)


def test_record_a_payment(client, here):
    fee = fee_of(here.enrollments[0])
    client.force_login(here.admin)
    url = reverse("enrollment:fee_detail", args=[fee.pk])
    response = client.post(
        url,
        {
            "status": "paid",
            "paid_amount": "50.00",
            "paid_on": "2026-11-20",
            "receipt_number": "R-77",
        },
    )
    assert response.status_code == 302
    fee.refresh_from_db()
    assert (fee.status, fee.paid_amount, fee.paid_on, fee.receipt_number, fee.recorded_by) == (
        "paid",
        Decimal("50.00"),
        datetime.date(2026, 11, 20),
        "R-77",
        here.admin,
    )
    change = FeeChange.objects.get(fee=fee)
    assert (change.from_status, change.to_status, change.changed_by) == (
        "unpaid",
        "paid",
        here.admin,
    )
    assert "R-77" in client.get(url).content.decode()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"status": "paid", "paid_on": "2026-11-20"}, "receipt_number"),
        ({"status": "paid", "paid_on": "2027-01-20", "receipt_number": "R"}, "paid_on"),
        ({"status": "paid", "receipt_number": "R"}, "paid_on"),
        ({"status": "waived", "waiver_reason": ""}, "waiver_reason"),
        ({"status": "unpaid"}, "note"),
    ],
)
def test_fee_mistakes_are_explained_and_change_nothing(client, here, data, field):
    fee = fee_of(here.enrollments[0])
    client.force_login(here.admin)
    response = client.post(reverse("enrollment:fee_detail", args=[fee.pk]), data)
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    fee.refresh_from_db()
    assert fee.status == "unpaid"
    assert not FeeChange.objects.exists()


def test_waiver_with_one_of_the_consortiums_reasons(client, here):
    fee = fee_of(here.enrollments[0])
    client.force_login(here.admin)
    url = reverse("enrollment:fee_detail", args=[fee.pk])
    client.post(url, {"status": "waived", "waiver_reason": "Foster youth"})
    fee.refresh_from_db()
    assert (fee.status, fee.waiver_reason) == ("waived", "Foster youth")
    # Back to unpaid is a correction, with a note.
    client.post(url, {"status": "unpaid", "note": "Waiver entered for the wrong student"})
    fee.refresh_from_db()
    assert fee.status == "unpaid"
    assert list(FeeChange.objects.values_list("to_status", flat=True)) == ["waived", "unpaid"]
    with pytest.raises(class_requests.ValidationError):
        fees.fee_record(
            actor=here.admin, fee_id=fee.pk, status="waived", waiver_reason="Made up reason"
        )


def test_unpaid_fees_by_school(client, here, year):
    fee = fee_of(here.enrollments[0])
    fee.status, fee.waiver_reason = "waived", "Foster youth"
    fee.save()
    FeeFactory(
        student=StudentProfileFactory(high_school=here.school),
        consortium=here.consortium,
        academic_year=year,
        amount=Decimal("0"),
    )
    client.force_login(here.admin)
    home = client.get(reverse("enrollment:consortium_home"))
    (row,) = home.context["unpaid_by_school"]
    assert (row["student__high_school__name"], row["n"], row["total"]) == (
        here.school.name,
        2,
        Decimal("100.00"),
    )
    listed = client.get(reverse("enrollment:fee_list"))
    assert {r.record.pk for r in listed.context["table"].rows} == {
        fee_of(e).pk for e in here.enrollments[1:]
    }
    everything = client.get(reverse("enrollment:fee_list"), {"status": "", "year": "2026-27"})
    assert len(everything.context["table"].rows) == 4


def test_fee_list_query_count_does_not_grow(client, here, year, django_assert_max_num_queries):
    client.force_login(here.admin)
    with django_assert_max_num_queries(25) as few:
        client.get(reverse("enrollment:fee_list"))
    for _ in range(20):
        FeeFactory(
            student=StudentProfileFactory(high_school=here.school),
            consortium=here.consortium,
            academic_year=year,
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("enrollment:fee_list"))


# --- duplicates -------------------------------------------------------------------------------


def test_the_check_runs_from_the_page_and_pairs_can_be_dismissed(
    client, here, django_capture_on_commit_callbacks
):
    a, b = here.students[:2]
    StudentProfile.objects.filter(pk=b.pk).update(
        legal_first_name=a.legal_first_name,
        legal_last_name=a.legal_last_name,
        birth_date=a.birth_date,
    )
    client.force_login(here.admin)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("enrollment:duplicate_scan"))
    pair = PossibleDuplicate.objects.get()
    listed = client.get(reverse("enrollment:duplicate_list"))
    assert [r.record for r in listed.context["table"].rows] == [pair]
    review = client.get(reverse("enrollment:duplicate_review", args=[pair.pk]))
    assert a.sers_id in review.content.decode()
    assert b.sers_id in review.content.decode()
    client.post(reverse("enrollment:duplicate_dismiss", args=[pair.pk]))
    pair.refresh_from_db()
    assert (pair.status, pair.reviewed_by) == ("different", here.admin)
    assert list(client.get(reverse("enrollment:duplicate_list")).context["table"].rows) == []


def _twins(here):
    a, b = here.students[:2]
    StudentProfile.objects.filter(pk=b.pk).update(
        legal_first_name=a.legal_first_name,
        legal_last_name=a.legal_last_name,
        birth_date=a.birth_date,
    )


def test_while_the_check_runs_the_page_says_so_and_then_what_it_found(client, here):
    _twins(here)
    client.force_login(here.admin)
    # The worker has not run the check yet (the task waits for the commit).
    response = client.post(reverse("enrollment:duplicate_scan"), follow=True)
    html = response.content.decode()
    assert "The duplicate check is running." in html
    assert "A duplicate check is running." in html
    assert "Last check" not in html

    duplicates.duplicate_check()  # what the worker runs
    html = client.get(reverse("enrollment:duplicate_list")).content.decode()
    assert "running" not in html
    assert "1 new pair." in html


def test_a_click_queues_one_statewide_run_whatever_the_consortia_it_covers(
    client, here, there, django_capture_on_commit_callbacks
):
    """The check is statewide: an admin of two consortia asks for one run, not two."""
    RoleMembership.objects.create(
        user=here.admin, role=Role.CONSORTIUM_ADMIN, consortium=there.consortium
    )
    client.force_login(here.admin)
    with (
        patch("enrollment.tasks.check_for_duplicates.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        client.post(reverse("enrollment:duplicate_scan"))
    assert delay.call_count == 1


def test_a_click_while_a_check_runs_queues_nothing_and_says_so(
    client, here, django_capture_on_commit_callbacks
):
    client.force_login(here.admin)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        client.post(reverse("enrollment:duplicate_scan"))
    assert len(queued) == 1
    with django_capture_on_commit_callbacks(execute=False) as again:
        response = client.post(reverse("enrollment:duplicate_scan"), follow=True)
    assert again == []
    assert "A duplicate check is already running" in response.content.decode()


def test_a_run_that_found_another_under_way_is_answered_by_that_runs_end(client, here):
    """The nightly run holds the lock when staff ask: their run is skipped, and the page
    says "running" until the nightly one ends, then what it found, never "0 new pairs"
    for the skipped one."""
    _twins(here)
    client.force_login(here.admin)
    client.post(reverse("enrollment:duplicate_scan"))  # queued; the worker has not run it
    cache.add(duplicates.LOCK_KEY, True)
    assert duplicates.duplicate_check().skipped  # the staff's run, while the nightly runs
    assert (
        "A duplicate check is running."
        in client.get(reverse("enrollment:duplicate_list")).content.decode()
    )
    cache.delete(duplicates.LOCK_KEY)
    duplicates.duplicate_check()  # the nightly run's end
    html = client.get(reverse("enrollment:duplicate_list")).content.decode()
    assert "running" not in html
    assert "1 new pair." in html


def test_a_failed_check_is_said_to_have_failed(client, here):
    client.force_login(here.admin)
    with (
        patch("enrollment.linkage.features_table", side_effect=RuntimeError("boom")),
        pytest.raises(RuntimeError),
    ):
        duplicates.duplicate_check()
    html = client.get(reverse("enrollment:duplicate_list")).content.decode()
    assert "The last duplicate check failed" in html
    assert "new pair" not in html


def test_the_queue_shows_the_likeliest_pairs_first(client, here):
    a, b, c = here.students[:3]
    d = StudentProfileFactory(high_school=here.school)
    weak = PossibleDuplicate.objects.create(
        student=a, existing_student=b, match_kind="variant", source="statewide", score=-4.0
    )
    strong = PossibleDuplicate.objects.create(
        student=c, existing_student=d, match_kind="variant", source="statewide", score=12.0
    )
    unweighed = PossibleDuplicate.objects.create(
        student=a, existing_student=c, match_kind="phone", source="staff_check"
    )
    client.force_login(here.admin)
    rows = client.get(reverse("enrollment:duplicate_list")).context["table"].rows
    assert [row.record for row in rows] == [strong, weak, unweighed]


@pytest.mark.django_db(transaction=True)
def test_a_check_done_at_once_is_not_said_to_be_running(client, here):
    """Where tasks run in-process (the demo) the check has finished before the page comes
    back: the message says what it found, under the pairs it found."""
    _twins(here)
    client.force_login(here.admin)
    response = client.post(reverse("enrollment:duplicate_scan"), follow=True)
    html = response.content.decode()
    assert "The duplicate check is done: 1 new pair to review." in html
    assert "running" not in html
    assert len(response.context["table"].rows) == 1


# --- merges -------------------------------------------------------------------------------------


def merge_url(keep, merge):
    return reverse("enrollment:student_merge", args=[keep.pk, merge.pk])


def test_merge_moves_everything_and_closes_the_duplicate(client, here, year, twin_records):
    kept, copy, moved = twin_records
    FeeFactory(
        student=copy,
        consortium=here.consortium,
        academic_year=year,
        status="paid",
        paid_on=TODAY,
        receipt_number="R-9",
    )
    other_year_fee = FeeFactory(
        student=copy, consortium=here.consortium, academic_year__start_year=2025
    )
    change = IdentityChange.objects.create(
        student=copy,
        old_first_name="A",
        old_last_name="B",
        old_birth_date=copy.birth_date,
        new_first_name="C",
        new_last_name="D",
        new_birth_date=copy.birth_date,
        reason="Typo",
        status="applied",
        requested_by=copy.user,
    )
    access_log_record(actor=here.admin, action="view", what="x", student_ids=[copy.pk])
    both = access_log_record(
        actor=here.admin, action="view", what="y", student_ids=[copy.pk, kept.pk]
    )
    client_of_copy = client.__class__()
    client_of_copy.force_login(copy.user)
    assert client_of_copy.get(reverse("enrollment:dashboard")).status_code == 200

    client.force_login(here.admin)
    page = client.get(merge_url(kept, copy))
    assert page.status_code == 200
    assert page.context["conflicts"] == []
    response = client.post(merge_url(kept, copy), {"reason": "Signed up twice in September"})
    assert response.status_code == 302

    moved.refresh_from_db()
    assert moved.student == kept
    merge_row = EnrollmentStatusChange.objects.filter(enrollment=moved).last()
    assert (merge_row.kind, merge_row.from_status, merge_row.to_status) == (
        "merge",
        "registered",
        "registered",
    )
    assert copy.sers_id in merge_row.reason
    # The paid fee of the copy beats the unpaid one of the kept record, for the same year.
    fee = Fee.objects.get(student=kept, academic_year=year)
    assert (fee.status, fee.receipt_number) == ("paid", "R-9")
    assert Fee.objects.filter(student=kept).count() == 2
    other_year_fee.refresh_from_db()
    assert other_year_fee.student == kept
    assert not Fee.objects.filter(student=copy).exists()
    assert "combined with fee" in FeeChange.objects.filter(fee=fee).last().note
    change.refresh_from_db()
    assert change.student == kept
    assert set(
        AccessLogStudent.objects.filter(entry__what="x").values_list("student_id", flat=True)
    ) == {kept.pk}
    assert set(both.students.values_list("student_id", flat=True)) == {kept.pk, copy.pk}

    copy.refresh_from_db()
    copy.user.refresh_from_db()
    assert copy.merged_into == kept
    assert copy.user.is_active is False
    record = StudentMerge.objects.get()
    assert (record.survivor, record.merged, record.merged_by) == (kept, copy, here.admin)
    assert record.summary["enrollments"] == [moved.pk]
    # Shown on both SERS ids.
    for student in (kept, copy):
        page = client.get(reverse("enrollment:staff_student", args=[student.pk])).content.decode()
        assert f"SERS {copy.sers_id} was merged into SERS {kept.sers_id}" in page
    found = client.get(reverse("enrollment:staff_lookup"), {"sers_id": copy.sers_id})
    assert f"Merged into SERS {kept.sers_id}" in found.content.decode()
    # The duplicate's account is signed out.
    assert client_of_copy.get(reverse("enrollment:dashboard")).status_code == 302


def test_different_birth_dates_need_a_decision(client, here, twin_records):
    kept, copy, moved = twin_records
    StudentProfile.objects.filter(pk=copy.pk).update(birth_date=datetime.date(2009, 12, 31))
    client.force_login(here.admin)
    response = client.post(merge_url(kept, copy), {"reason": "Same student"})
    assert response.status_code == 400
    assert "Decide this before merging" in response.content.decode()
    assert not StudentMerge.objects.exists()
    assert Enrollment.objects.get(pk=moved.pk).student == copy
    with pytest.raises(merging.MergeRefused):
        merging.students_merge(
            actor=here.admin, survivor_id=kept.pk, merged_id=copy.pk, reason="Same"
        )

    client.post(merge_url(kept, copy), {"reason": "Same student", "decide_birth_date": "merged"})
    kept.refresh_from_db()
    assert kept.birth_date == datetime.date(2009, 12, 31)
    correction = IdentityChange.objects.get(student=kept, status="approved")
    assert correction.new_birth_date == datetime.date(2009, 12, 31)
    assert StudentMerge.objects.get().decisions[0]["decision"] == "merged"


def test_two_places_in_one_class_need_a_decision(client, here, twin_records):
    kept, copy, _moved = twin_records
    duplicate = EnrollmentFactory(student=copy, section=here.section)
    advance(here.enrollments[0], S.GRADED)  # the kept record's place has a grade
    client.force_login(here.admin)
    page = client.get(merge_url(kept, copy))
    (conflict,) = page.context["conflicts"]
    assert [value for value, _label in conflict.choices] == ["survivor"]
    assert client.post(merge_url(kept, copy), {"reason": "Same"}).status_code == 400
    client.post(
        merge_url(kept, copy),
        {"reason": "Same", f"decide_class_{here.section.pk}": "survivor"},
    )
    duplicate.refresh_from_db()
    assert (duplicate.status, duplicate.student) == (S.REMOVED, kept)
    removal = EnrollmentStatusChange.objects.get(
        enrollment=duplicate, to_status=S.REMOVED, kind="change"
    )
    assert "Duplicate registration" in removal.reason
    assert Enrollment.objects.get(pk=here.enrollments[0].pk).status == S.GRADED


def test_two_paid_fees_need_a_decision_and_the_other_is_noted_for_a_refund(
    client, here, year, twin_records
):
    kept, copy, _moved = twin_records
    Fee.objects.filter(student=kept).update(status="paid", paid_on=TODAY, receipt_number="KEPT")
    FeeFactory(
        student=copy,
        consortium=here.consortium,
        academic_year=year,
        status="paid",
        paid_on=TODAY,
        receipt_number="COPY",
    )
    client.force_login(here.admin)
    key = f"decide_fee_{here.consortium.pk}_{year.pk}"
    assert client.post(merge_url(kept, copy), {"reason": "Same"}).status_code == 400
    client.post(merge_url(kept, copy), {"reason": "Same", key: "merged"})
    fee = Fee.objects.get(student=kept, academic_year=year)
    assert fee.receipt_number == "COPY"
    assert "refund due" in FeeChange.objects.filter(fee=fee).last().note
    assert StudentMerge.objects.get().summary["fees"][0]["refund_due"] is True


def test_merge_start_finds_the_other_record(client, here, twin_records):
    kept, copy, _moved = twin_records
    client.force_login(here.admin)
    url = reverse("enrollment:merge_start", args=[kept.pk])
    assert client.get(url, {"other": "000000000"}).status_code == 400
    response = client.get(url, {"other": copy.sers_id})
    assert response.status_code == 302
    assert response.url == merge_url(kept, copy)
