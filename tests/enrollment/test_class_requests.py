"""Tests of enrollment.services.class_requests: teachers ask to teach, admins decide."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from accounts.models import Role, RoleMembership
from articulations.models import Articulation, TeacherQualification
from enrollment.models import Section, SectionRequest
from enrollment.services import class_requests
from tests.factories import HighSchoolFactory
from tests.world import add_section, add_teacher, school_year

pytestmark = pytest.mark.django_db

CODE = "Z9"  # a period none of the factories' classes uses


@pytest.fixture
def qualified(here):
    """The teacher of `here`, listed as qualified to teach its agreement."""
    TeacherQualification.objects.create(articulation=here.articulation, teacher=here.teacher)
    return here.teacher


def ask(place, *, actor=None, **fields):
    request = {
        "articulation_id": place.articulation.pk,
        "high_school_id": place.school.pk,
        "academic_year_id": place.year.pk,
        "term": "year",
        "section_code": CODE,
    }
    return class_requests.section_request_create(actor=actor or place.teacher, **request | fields)


def rows() -> list:
    """Every request and class: to show nothing moved."""
    return [
        sorted(
            SectionRequest.objects.values_list(
                "pk", "status", "decided_at", "decided_by", "decision_note", "section"
            )
        ),
        sorted(Section.objects.values_list("pk", flat=True)),
    ]


# --- asking ---------------------------------------------------------------------------------


def test_a_qualified_teacher_asks_to_teach_a_class(here, qualified):
    request = ask(here, term="fall", note="  Second period ")
    assert (request.status, request.teacher, request.articulation, request.high_school) == (
        SectionRequest.Status.PENDING,
        here.teacher,
        here.articulation,
        here.school,
    )
    assert (request.academic_year, request.term, request.section_code, request.note) == (
        here.year,
        "fall",
        CODE,
        "Second period",
    )
    assert request.section is None
    assert ask(here, section_code="  ").section_code == "1"  # the period, when none is given


@pytest.mark.parametrize(
    ("case", "errors"),
    [
        ("unknown term", {"term": ["Choose a term from the list."]}),
        ("not my school", {"high_school": ["Choose one of the schools where you teach."]}),
        ("draft agreement", {"articulation": ["Choose an active agreement."]}),
        ("no such agreement", {"articulation": ["Choose an active agreement."]}),
        (
            "school not covered",
            {"articulation": ["This agreement does not cover the school you chose."]},
        ),
        (
            "year not covered",
            {"academic_year": ["This agreement is not valid for the school year you chose."]},
        ),
        ("a past year", {"academic_year": ["Choose this school year or a later one."]}),
        (
            "not qualified",
            {
                "articulation": [
                    "You are not listed as qualified to teach this course. Ask your consortium "
                    "to add you to the agreement first."
                ]
            },
        ),
        ("taught already", {"section_code": ["You already teach this class."]}),
        (
            "asked already",
            {"section_code": ["You already asked for this class; it is waiting for an answer."]},
        ),
    ],
)
def test_a_request_that_breaks_a_rule_is_refused_with_the_field(here, qualified, case, errors):
    fields = {}
    if case == "unknown term":
        fields["term"] = "winter"
    elif case == "not my school":
        fields["high_school_id"] = HighSchoolFactory(district=here.district).pk
    elif case == "draft agreement":
        Articulation.objects.filter(pk=here.articulation.pk).update(status="draft")
    elif case == "no such agreement":
        fields["articulation_id"] = 10**9
    elif case == "school not covered":
        other = HighSchoolFactory(district=here.district)
        RoleMembership.objects.create(user=here.teacher, role=Role.TEACHER, high_school=other)
        fields["high_school_id"] = other.pk
    elif case == "year not covered":
        fields["academic_year_id"] = school_year(2027).pk
    elif case == "a past year":
        last_year = school_year(2025)
        here.articulation.valid_years.add(last_year)
        fields["academic_year_id"] = last_year.pk
    elif case == "not qualified":
        TeacherQualification.objects.filter(teacher=here.teacher).delete()
    elif case == "taught already":
        fields["section_code"] = here.section.section_code
    elif case == "asked already":
        ask(here)
    before = rows()
    with pytest.raises(ValidationError) as refused:
        ask(here, **fields)
    assert refused.value.message_dict == errors
    assert rows() == before


def test_a_later_year_of_the_agreement_may_be_asked_for(here, qualified):
    next_year = school_year(2027)
    here.articulation.valid_years.add(next_year)
    assert ask(here, academic_year_id=next_year.pk).academic_year == next_year


@pytest.mark.parametrize("who", ["another teacher", "the consortium admin"])
def test_only_a_teacher_of_the_school_asks(here, qualified, who):
    actor = (
        add_teacher(HighSchoolFactory(district=here.district))
        if who == "another teacher"
        else here.admin
    )
    with pytest.raises(ValidationError) as refused:
        ask(here, actor=actor)
    assert refused.value.message_dict == {
        "high_school": ["Choose one of the schools where you teach."]
    }
    assert not SectionRequest.objects.exists()


# --- cancelling -----------------------------------------------------------------------------


def test_the_teacher_cancels_their_own_waiting_request_once(here, qualified):
    request = ask(here)
    with pytest.raises(SectionRequest.DoesNotExist):
        class_requests.section_request_cancel(actor=add_teacher(here.school), request_id=request.pk)
    assert SectionRequest.objects.get(pk=request.pk).status == SectionRequest.Status.PENDING

    class_requests.section_request_cancel(actor=here.teacher, request_id=request.pk)
    assert SectionRequest.objects.get(pk=request.pk).status == SectionRequest.Status.CANCELLED
    with pytest.raises(ValidationError) as refused:
        class_requests.section_request_cancel(actor=here.teacher, request_id=request.pk)
    assert refused.value.messages == ["This request has been answered already."]
    # Once cancelled, the same class may be asked for again.
    assert ask(here).status == SectionRequest.Status.PENDING


# --- deciding -------------------------------------------------------------------------------


def decide(place, request, *, approve, note="", actor=None):
    return class_requests.section_request_decide(
        actor=actor or place.admin, request_id=request.pk, approve=approve, note=note
    )


def test_an_approved_request_creates_the_class(here, qualified):
    request = ask(here, term="spring")
    decided = decide(here, request, approve=True, note=" Welcome ")
    request.refresh_from_db()
    assert decided == request
    assert (request.status, request.decided_by, request.decision_note) == (
        SectionRequest.Status.APPROVED,
        here.admin,
        "Welcome",
    )
    assert request.decided_at is not None
    section = request.section
    assert (section.articulation, section.teacher, section.high_school, section.academic_year) == (
        here.articulation,
        here.teacher,
        here.school,
        here.year,
    )
    assert (section.section_code, section.term) == (CODE, "spring")


def test_a_declined_request_needs_a_note_for_the_teacher(here, qualified):
    request = ask(here)
    before = rows()
    with pytest.raises(ValidationError) as refused:
        decide(here, request, approve=False, note="  ")
    assert refused.value.message_dict == {"note": ["Tell the teacher why the request is declined."]}
    assert rows() == before

    decide(here, request, approve=False, note="No lab at this school")
    request.refresh_from_db()
    assert (request.status, request.decision_note, request.section) == (
        SectionRequest.Status.DECLINED,
        "No lab at this school",
        None,
    )
    assert sorted(Section.objects.values_list("pk", flat=True)) == before[1]


def test_a_request_is_decided_once(here, qualified):
    request = ask(here)
    decide(here, request, approve=False, note="No lab")
    before = rows()
    with pytest.raises(ValidationError) as refused:
        decide(here, request, approve=True)
    assert refused.value.messages == ["This request has been answered already."]
    assert rows() == before


def test_approving_a_class_that_exists_meanwhile_changes_nothing(here, qualified):
    request = ask(here)
    add_section(
        here.articulation,
        school=here.school,
        year=here.year,
        teacher=here.teacher,
        section_code=CODE,
    )
    before = rows()
    with pytest.raises(ValidationError) as refused:
        decide(here, request, approve=True)
    assert refused.value.messages == ["This class exists already."]
    assert rows() == before


@pytest.mark.parametrize(
    ("who", "refusal"),
    [
        ("teacher", PermissionDenied),
        ("specialist", PermissionDenied),
        ("registrar", PermissionDenied),
        ("admin there", Http404),
    ],
)
def test_only_a_consortium_admin_of_the_agreement_decides(here, there, qualified, who, refusal):
    request = ask(here)
    actor = there.admin if who == "admin there" else getattr(here, who)
    before = rows()
    with pytest.raises(refusal):
        decide(here, request, approve=True, actor=actor)
    assert rows() == before
