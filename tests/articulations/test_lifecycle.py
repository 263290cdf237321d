"""The status flow, versions and teachers: every change through the services, with history."""

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from accounts.models import Role
from articulations.models import Articulation, ArticulationStatusChange, TeacherQualification
from articulations.services.drafts import (
    articulation_create,
    articulation_discard_draft,
    articulation_revise,
    articulation_update,
)
from articulations.services.status import (
    TransitionNotAllowed,
    articulation_change_status,
    articulation_notify_status_change,
)
from articulations.services.teachers import articulation_add_teacher, articulation_remove_teacher
from articulations.terms import AgreementTerms
from enrollment.models import Section
from tests.factories import CollegeCourseFactory, SectionFactory, make_staff
from tests.world import add_teacher

from .conftest import history

pytestmark = pytest.mark.django_db
S = Articulation.Status


def change(articulation, to_status, actor, note=""):
    return articulation_change_status(
        articulation_id=articulation.pk, to_status=to_status, actor=actor, note=note
    )


def test_the_whole_flow_records_who_did_each_step(world, django_capture_on_commit_callbacks):
    draft = world.articulation(status=S.DRAFT)
    with django_capture_on_commit_callbacks(execute=True):
        change(draft, S.SUBMITTED, world.admin, "Ready")
    # The college's approvers hear about it, the person who submitted does not.
    assert [m.to for m in mail.outbox] == [[world.approver.email]]
    assert "waiting for your approval" in mail.outbox[0].subject
    with django_capture_on_commit_callbacks(execute=True):
        change(draft, S.APPROVED, world.approver)
    assert mail.outbox[-1].to == [world.admin.email]
    change(draft, S.ACTIVE, world.admin)
    change(draft, S.EXPIRED, world.admin)
    draft.refresh_from_db()
    assert draft.status == S.EXPIRED
    assert history(draft) == [
        (S.DRAFT, S.SUBMITTED),
        (S.SUBMITTED, S.APPROVED),
        (S.APPROVED, S.ACTIVE),
        (S.ACTIVE, S.EXPIRED),
    ]
    rows = list(ArticulationStatusChange.objects.filter(articulation=draft).order_by("id"))
    assert [r.changed_by for r in rows] == [world.admin, world.approver, world.admin, world.admin]
    assert rows[0].note == "Ready"


def test_notifications_go_once_even_if_the_job_runs_twice(world):
    draft = world.articulation(status=S.DRAFT)
    change(draft, S.SUBMITTED, world.admin)
    last = ArticulationStatusChange.objects.filter(articulation=draft).latest("id")
    assert articulation_notify_status_change(change_id=last.pk) == 1
    assert articulation_notify_status_change(change_id=last.pk) == 0
    assert len(mail.outbox) == 1


def test_only_an_approver_of_that_college_approves(world):
    submitted = world.articulation(status=S.SUBMITTED)
    other_approver = make_staff(Role.COLLEGE_APPROVER, world.other_college)
    # A registrar of the same college who is also approver elsewhere still cannot approve.
    world.registrar.memberships.create(role=Role.COLLEGE_APPROVER, college=world.other_college)
    for actor in (world.admin, other_approver, world.registrar, world.state, world.teacher):
        actor = type(actor).objects.get(pk=actor.pk)  # a fresh user: no cached access
        with pytest.raises(PermissionDenied):
            change(submitted, S.APPROVED, actor)
    change(submitted, S.APPROVED, world.approver)
    submitted.refresh_from_db()
    assert submitted.status == S.APPROVED


def test_consortium_admins_act_only_in_their_consortium(world, outsider_admin):
    draft = world.articulation(status=S.DRAFT)
    with pytest.raises(PermissionDenied):
        change(draft, S.SUBMITTED, outsider_admin)
    with pytest.raises(PermissionDenied):
        change(draft, S.SUBMITTED, world.approver)
    assert history(draft) == []


def test_moves_outside_the_table_are_refused(world):
    draft = world.articulation(status=S.DRAFT)
    with pytest.raises(TransitionNotAllowed):
        change(draft, S.ACTIVE, world.admin)
    with pytest.raises(TransitionNotAllowed):
        change(world.active, S.DRAFT, world.admin)
    retired = world.articulation(status=S.RETIRED)
    with pytest.raises(TransitionNotAllowed):
        change(retired, S.ACTIVE, world.admin)


def test_asking_for_the_current_status_does_nothing(world):
    change(world.active, S.ACTIVE, world.admin)
    assert history(world.active) == []


def test_sending_back_and_retiring_need_a_reason(world):
    submitted = world.articulation(status=S.SUBMITTED)
    with pytest.raises(ValidationError) as error:
        change(submitted, S.DRAFT, world.approver)
    assert error.value.code == "note_required"
    change(submitted, S.DRAFT, world.approver, "Fix the competencies")
    with pytest.raises(ValidationError):
        change(world.active, S.RETIRED, world.admin, "   ")
    change(world.active, S.RETIRED, world.admin, "Program closed")
    world.active.refresh_from_db()
    assert world.active.status == S.RETIRED


def test_an_incomplete_draft_cannot_be_submitted(world):
    draft = world.articulation(status=S.DRAFT)
    draft.high_schools.clear()
    draft.valid_years.clear()
    with pytest.raises(ValidationError) as error:
        change(draft, S.SUBMITTED, world.admin)
    assert len(error.value.messages) == 2
    draft.refresh_from_db()
    assert draft.status == S.DRAFT


def test_an_agreement_with_a_retired_course_cannot_be_activated(world):
    approved = world.articulation(status=S.APPROVED)
    approved.college_courses.update(is_active=False)
    with pytest.raises(ValidationError, match="no longer offered"):
        change(approved, S.ACTIVE, world.admin)


def test_the_system_may_only_make_system_moves(world):
    draft = world.articulation(status=S.DRAFT)
    with pytest.raises(TransitionNotAllowed):
        articulation_change_status(
            articulation_id=draft.pk, to_status=S.SUBMITTED, actor=None, by_system=True
        )
    articulation_change_status(
        articulation_id=world.active.pk, to_status=S.EXPIRED, actor=None, by_system=True
    )
    assert ArticulationStatusChange.objects.get(articulation=world.active).changed_by is None


def test_the_database_allows_one_active_version_per_agreement(world):
    with pytest.raises(IntegrityError), transaction.atomic():
        world.articulation(agreement_number="CASC-001", version=2)


# ---------------------------------------------------------------------------------------
# Versions


def test_a_revision_copies_everything_and_the_old_version_stays_in_force(world):
    world.active.high_schools.add(world.other_school)
    old_years = set(world.active.valid_years.all())
    revision = articulation_revise(articulation_id=world.active.pk, actor=world.admin)
    assert revision.version == 2
    assert revision.status == S.DRAFT
    assert revision.previous_version == world.active
    assert revision.agreement_number == world.active.agreement_number
    assert set(revision.high_schools.all()) == {world.school, world.other_school}
    assert list(revision.college_courses.all()) == [world.course]
    assert set(revision.valid_years.all()) == old_years
    assert list(revision.qualified_teachers.all()) == [world.teacher]
    assert revision.minimum_grade == world.active.minimum_grade
    assert history(revision) == [("", S.DRAFT)]
    world.active.refresh_from_db()
    assert world.active.status == S.ACTIVE
    # Only one revision at a time.
    with pytest.raises(ValidationError, match="already being prepared"):
        articulation_revise(articulation_id=world.active.pk, actor=world.admin)


def test_activating_a_revision_retires_the_old_version_and_classes_stay_with_it(world):
    section = SectionFactory(
        articulation=world.active, teacher=world.teacher, high_school=world.school
    )
    revision = articulation_revise(articulation_id=world.active.pk, actor=world.admin)
    for status, actor in (
        (S.SUBMITTED, world.admin),
        (S.APPROVED, world.approver),
        (S.ACTIVE, world.admin),
    ):
        change(revision, status, actor)
    world.active.refresh_from_db()
    assert world.active.status == S.RETIRED
    assert history(world.active) == [(S.ACTIVE, S.RETIRED)]
    note = ArticulationStatusChange.objects.filter(articulation=world.active).get().note
    assert note == "Replaced by version 2."
    assert Section.objects.get(pk=section.pk).articulation_id == world.active.pk


def test_only_approved_or_active_agreements_are_revised(world):
    for status in (S.DRAFT, S.SUBMITTED, S.EXPIRED, S.RETIRED):
        articulation = world.articulation(status=status)
        with pytest.raises(ValidationError):
            articulation_revise(articulation_id=articulation.pk, actor=world.admin)


def test_revising_needs_the_consortium_admin(world, outsider_admin):
    for actor in (outsider_admin, world.approver, world.state):
        with pytest.raises(PermissionDenied):
            articulation_revise(articulation_id=world.active.pk, actor=actor)


def test_a_discarded_revision_frees_the_way_for_another(world):
    revision = articulation_revise(articulation_id=world.active.pk, actor=world.admin)
    articulation_discard_draft(articulation_id=revision.pk, actor=world.admin)
    assert not Articulation.objects.filter(pk=revision.pk).exists()
    again = articulation_revise(articulation_id=world.active.pk, actor=world.admin)
    assert again.version == 2


def test_only_drafts_are_discarded_and_never_with_classes(world):
    with pytest.raises(ValidationError):
        articulation_discard_draft(articulation_id=world.active.pk, actor=world.admin)
    draft = world.articulation(status=S.DRAFT)
    SectionFactory(articulation=draft, high_school=world.school)
    with pytest.raises(ValidationError, match="classes"):
        articulation_discard_draft(articulation_id=draft.pk, actor=world.admin)


def test_editing_is_allowed_only_in_draft(world):
    terms = AgreementTerms.of(world.active)
    with pytest.raises(ValidationError, match="Only drafts"):
        articulation_update(articulation_id=world.active.pk, actor=world.admin, terms=terms)


def test_creating_and_editing_a_draft(world):
    new_course = CollegeCourseFactory(college=world.other_college)
    terms = AgreementTerms(
        college_id=world.other_college.pk,
        high_school_course_title="  Welding   Fundamentals ",
        cip_code="480508",
        local_code="W-1",
        cluster_id=world.active.cluster_id,
        minimum_grade_scale="percent",
        minimum_grade="85%",
        competencies="Safety\n\n  Gas welding  ",
        high_school_ids=frozenset({world.school.pk, world.skills_center.pk}),
        college_course_ids=frozenset({new_course.pk}),
        valid_year_ids=frozenset({world.year.pk}),
        teacher_ids=frozenset({world.teacher.pk}),
    )
    draft = articulation_create(actor=world.admin, consortium_id=world.consortium.pk, terms=terms)
    assert draft.agreement_number == f"SERS-{draft.pk:06d}"
    assert draft.status == S.DRAFT
    assert draft.high_school_course.title == "Welding Fundamentals"
    assert draft.high_school_course.cip_code == "48.0508"
    assert draft.minimum_grade == "85"
    assert draft.competencies == "Safety\nGas welding"
    assert history(draft) == [("", S.DRAFT)]
    changed = articulation_update(
        articulation_id=draft.pk,
        actor=world.admin,
        terms=AgreementTerms.of(draft).__class__(
            **{**AgreementTerms.of(draft).__dict__, "teacher_ids": frozenset()}
        ),
    )
    assert not TeacherQualification.objects.filter(articulation=changed).exists()


def test_terms_are_checked_against_the_consortium(world):
    other_course = CollegeCourseFactory()  # another consortium's college
    terms = AgreementTerms(
        college_id=world.college.pk,
        high_school_course_title="",
        cip_code="11-0601",
        cluster_id=None,
        minimum_grade_scale="letter",
        minimum_grade="Q",
        high_school_ids=frozenset({world.school.pk, 999999}),
        college_course_ids=frozenset({other_course.pk}),
        valid_year_ids=frozenset(),
        teacher_ids=frozenset({add_teacher(world.other_school).pk}),
    )
    with pytest.raises(ValidationError) as error:
        articulation_create(actor=world.admin, consortium_id=world.consortium.pk, terms=terms)
    assert set(error.value.message_dict) == {
        "high_school_course_title",
        "cip_code",
        "cluster",
        "minimum_grade",
        "high_schools",
        "college_courses",
        "valid_years",
        "teachers",
    }
    assert not Articulation.objects.filter(status=S.DRAFT).exists()


def test_a_chosen_agreement_number_must_be_new(world):
    terms = AgreementTerms.of(world.active)
    with pytest.raises(ValidationError, match="already exists"):
        articulation_create(
            actor=world.admin,
            consortium_id=world.consortium.pk,
            terms=terms,
            agreement_number="casc-001",
        )


# ---------------------------------------------------------------------------------------
# Teachers


def test_adding_and_removing_qualified_teachers(world):
    colleague = add_teacher(world.school)
    assert articulation_add_teacher(
        articulation_id=world.active.pk, teacher_id=colleague.pk, actor=world.admin
    )
    assert not articulation_add_teacher(
        articulation_id=world.active.pk, teacher_id=colleague.pk, actor=world.admin
    )
    elsewhere = add_teacher(world.other_school)
    with pytest.raises(ValidationError):
        articulation_add_teacher(
            articulation_id=world.active.pk, teacher_id=elsewhere.pk, actor=world.admin
        )
    assert articulation_remove_teacher(
        articulation_id=world.active.pk, teacher_id=colleague.pk, actor=world.admin
    )
    assert list(world.active.qualified_teachers.all()) == [world.teacher]


def test_teachers_of_a_closed_agreement_no_longer_change(world):
    retired = world.articulation(status=S.RETIRED)
    with pytest.raises(ValidationError):
        articulation_remove_teacher(
            articulation_id=retired.pk, teacher_id=world.teacher.pk, actor=world.admin
        )


def test_only_the_consortium_manages_teachers(world, outsider_admin):
    for actor in (outsider_admin, world.approver, world.state):
        with pytest.raises(PermissionDenied):
            articulation_remove_teacher(
                articulation_id=world.active.pk, teacher_id=world.teacher.pk, actor=actor
            )
