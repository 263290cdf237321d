"""The terms of an agreement (what a consortium writes into one version) and their checks.

Nothing here writes: services/drafts.py saves terms once they are valid, and
importers.py checks every row of a file with the same rules before anything is written.
Both import this module, so neither needs the other's internals.
"""

import re
from dataclasses import dataclass, field, replace

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from accounts.models import Role, RoleMembership
from organisations.grades import GradeError, GradeScale, normalize
from organisations.models import AcademicYear, CareerCluster, College, Consortium, HighSchool

from .models import Articulation, CollegeCourse

CIP_RE = re.compile(r"^([0-9]{2})\.?([0-9]{4})$")
AGREEMENT_NUMBER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,19}$")
COMPETENCIES_MAX_LENGTH = 5000  # the form's and the import's limit


@dataclass(frozen=True)
class AgreementTerms:
    """Everything a consortium writes into one version of an agreement."""

    college_id: int | None
    high_school_course_title: str
    cip_code: str
    cluster_id: int | None
    minimum_grade_scale: str
    minimum_grade: str
    high_school_ids: frozenset[int] = frozenset()
    college_course_ids: frozenset[int] = frozenset()
    valid_year_ids: frozenset[int] = frozenset()
    teacher_ids: frozenset[int] = frozenset()
    local_code: str = ""
    competencies: str = ""
    renew_each_year: bool = True

    @classmethod
    def of(cls, articulation: Articulation) -> "AgreementTerms":
        """The terms of a saved version (uses prefetched relations when present)."""
        return cls(
            college_id=articulation.college_id,
            high_school_course_title=articulation.high_school_course.title,
            cip_code=articulation.high_school_course.cip_code,
            local_code=articulation.high_school_course.local_code,
            cluster_id=articulation.cluster_id,
            minimum_grade_scale=articulation.minimum_grade_scale,
            minimum_grade=articulation.minimum_grade,
            competencies=articulation.competencies,
            renew_each_year=articulation.renew_each_year,
            high_school_ids=frozenset(s.pk for s in articulation.high_schools.all()),
            college_course_ids=frozenset(c.pk for c in articulation.college_courses.all()),
            valid_year_ids=frozenset(y.pk for y in articulation.valid_years.all()),
            teacher_ids=frozenset(q.teacher_id for q in articulation.qualifications.all()),
        )


@dataclass
class TermsContext:
    """What a consortium's agreements may refer to, loaded once (a form or a whole file)."""

    consortium: Consortium
    colleges: dict[int, College]
    high_schools: dict[int, HighSchool]
    college_courses: dict[int, CollegeCourse]
    clusters: dict[int, CareerCluster]
    years: dict[int, AcademicYear]
    # teacher user id -> ids of the consortium's schools where they hold the teacher role
    teacher_schools: dict[int, set[int]] = field(default_factory=dict)

    @classmethod
    def load(cls, consortium_id: int) -> "TermsContext":
        consortium = Consortium.objects.get(pk=consortium_id)
        teacher_schools: dict[int, set[int]] = {}
        for user_id, school_id in RoleMembership.objects.filter(
            role=Role.TEACHER, high_school__district__consortium_id=consortium_id
        ).values_list("user_id", "high_school_id"):
            teacher_schools.setdefault(user_id, set()).add(school_id)
        return cls(
            consortium=consortium,
            colleges={c.pk: c for c in College.objects.filter(consortium_id=consortium_id)},
            high_schools={
                s.pk: s for s in HighSchool.objects.filter(district__consortium_id=consortium_id)
            },
            college_courses={
                c.pk: c for c in CollegeCourse.objects.filter(college__consortium_id=consortium_id)
            },
            clusters={c.pk: c for c in CareerCluster.objects.filter(is_active=True)},
            years={y.pk: y for y in AcademicYear.objects.all()},
            teacher_schools=teacher_schools,
        )


def normalize_cip(raw: str) -> str:
    match = CIP_RE.match((raw or "").strip())
    if not match:
        raise ValidationError(
            _("Enter a six-digit CIP code written xx.xxxx, such as 11.0601."), code="cip"
        )
    return f"{match.group(1)}.{match.group(2)}"


def terms_validate(*, context: TermsContext, terms: AgreementTerms) -> AgreementTerms:
    """Check the terms against the consortium's colleges, schools, courses and teachers.

    Returns the terms in canonical form (CIP code, minimum grade, trimmed text) or raises
    ValidationError with a message per field name.
    """
    errors: dict[str, list[str]] = {}

    def problem(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    title = " ".join(terms.high_school_course_title.split())
    if not title:
        problem("high_school_course_title", _("Enter the high-school course title."))
    elif len(title) > 200:
        problem("high_school_course_title", _("Keep the title to 200 characters or fewer."))
    cip_code = terms.cip_code
    try:
        cip_code = normalize_cip(terms.cip_code)
    except ValidationError as error:
        problem("cip_code", error.messages[0])
    local_code = terms.local_code.strip()
    if len(local_code) > 20:
        problem("local_code", _("Keep the local course code to 20 characters or fewer."))

    if terms.college_id not in context.colleges:
        problem("college", _("Choose a college of this consortium."))
    if terms.cluster_id not in context.clusters:
        problem("cluster", _("Choose a career cluster."))

    if not terms.high_school_ids:
        problem("high_schools", _("Choose at least one high school that teaches the course."))
    elif not terms.high_school_ids <= context.high_schools.keys():
        problem("high_schools", _("Choose only high schools of this consortium."))

    if not terms.college_course_ids:
        problem("college_courses", _("Choose at least one college course."))
    for course_id in sorted(terms.college_course_ids):
        course = context.college_courses.get(course_id)
        if course is None or course.college_id != terms.college_id:
            problem("college_courses", _("Choose only courses of the chosen college."))
            break
        if not course.is_active:
            problem(
                "college_courses",
                _("%(course)s is no longer offered by the college.") % {"course": course.code},
            )

    minimum_grade = terms.minimum_grade
    if terms.minimum_grade_scale not in GradeScale.values:
        problem("minimum_grade_scale", _("Choose letter, points or percent."))
    else:
        try:
            minimum_grade = normalize(terms.minimum_grade_scale, terms.minimum_grade)
        except GradeError as error:
            problem("minimum_grade", str(error))

    if not terms.valid_year_ids:
        problem("valid_years", _("Choose at least one school year."))
    elif not terms.valid_year_ids <= context.years.keys():
        problem("valid_years", _("Choose only school years that exist."))

    for teacher_id in sorted(terms.teacher_ids):
        schools = context.teacher_schools.get(teacher_id, set())
        if not schools & terms.high_school_ids:
            problem(
                "teachers",
                _("Each qualified teacher must teach at one of the agreement's schools."),
            )
            break

    competencies = "\n".join(
        line.strip() for line in terms.competencies.splitlines() if line.strip()
    )
    if len(competencies) > COMPETENCIES_MAX_LENGTH:
        problem(
            "competencies",
            _("Keep the competencies to %(limit)s characters or fewer.")
            % {"limit": COMPETENCIES_MAX_LENGTH},
        )
    if errors:
        raise ValidationError(errors)
    return replace(
        terms,
        high_school_course_title=title,
        cip_code=cip_code,
        local_code=local_code,
        minimum_grade=minimum_grade,
        competencies=competencies,
    )
