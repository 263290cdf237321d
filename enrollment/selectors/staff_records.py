"""Enrollment and student records for staff in scope: lookup, a student's page, merges."""

import re
from datetime import date

from django.db.models import (
    Prefetch,
    Q,
)

from accounts.permissions import (
    Access,
    enrollment_scope,
    get_in_scope,
    student_scope,
)
from articulations.models import CollegeCourse

from ..identity import normalize
from ..models import (
    Enrollment,
    EnrollmentStatusChange,
    Fee,
    StudentMerge,
    StudentProfile,
)
from .teaching import ACTIVE_ORDER, ENROLLMENT_DISPLAY
from .visible import enrollments_visible, students_visible

# --- enrollment and student records for staff ---------------------------------------------------


def staff_enrollment(*, access: Access, enrollment_id: int) -> Enrollment:
    """An enrollment in the user's scope with its full history (who, what, when, why)."""
    return get_in_scope(
        Enrollment.objects.select_related(
            *ENROLLMENT_DISPLAY, "section__articulation__consortium", "registered_by"
        ).prefetch_related(
            Prefetch(
                "status_changes",
                queryset=EnrollmentStatusChange.objects.select_related("changed_by").order_by(
                    "changed_at", "id"
                ),
            ),
            Prefetch(
                "section__articulation__college_courses", queryset=CollegeCourse.objects.all()
            ),
        ),
        enrollment_scope(access),
        pk=enrollment_id,
    )


LOOKUP_LIMIT = 50


# Letters staff may type without the accent the legal name has ("lopez" finds "López").
ACCENT_CLASSES = {
    "a": "aáàâäãå",
    "c": "cç",
    "e": "eéèêë",
    "i": "iíìîï",
    "n": "nñ",
    "o": "oóòôöõ",
    "u": "uúùûü",
    "y": "yýÿ",
}


def accent_insensitive_pattern(word: str) -> str:
    """A regular expression (used case-insensitively) matching `word` with or without
    accents, on SQLite and PostgreSQL alike."""

    plain = normalize(word).replace(" ", "") or word.lower()
    # Apostrophes, hyphens, periods and spaces may sit between letters: "obrien" finds
    # "O'Brien", "anamaria" finds "Ana-María".
    return "[-'\u2019. ]?".join(
        f"[{ACCENT_CLASSES[c]}]" if c in ACCENT_CLASSES else re.escape(c) for c in plain
    )


def student_lookup(
    *,
    access: Access,
    sers_id: str = "",
    name: str = "",
    birth_date: date | None = None,
    email: str = "",
) -> list[StudentProfile]:
    """Students in the user's scope matching every criterion given (at most LOOKUP_LIMIT).

    A name matches when each of its words is in the legal first, middle or last name.
    """
    queryset = students_visible(access=access)
    if sers_id:
        queryset = queryset.filter(sers_id=sers_id)
    for word in name.split():
        pattern = accent_insensitive_pattern(word)
        queryset = queryset.filter(
            Q(legal_first_name__iregex=pattern)
            | Q(legal_middle_name__iregex=pattern)
            | Q(legal_last_name__iregex=pattern)
        )
    if birth_date:
        queryset = queryset.filter(birth_date=birth_date)
    if email:
        queryset = queryset.filter(user__email__iexact=email.strip())
    return list(
        queryset.select_related("user", "high_school", "merged_into").order_by(
            "legal_last_name", "legal_first_name", "pk"
        )[:LOOKUP_LIMIT]
    )


def staff_student(*, access: Access, student_id: int) -> StudentProfile:
    return get_in_scope(
        StudentProfile.objects.select_related(
            "user", "high_school__district", "merged_into", "merge_as_merged__merged_by"
        ),
        student_scope(access),
        pk=student_id,
    )


def staff_student_enrollments(*, access: Access, student: StudentProfile) -> list[Enrollment]:
    """The student's enrollments the user may see, newest year first."""
    return list(
        enrollments_visible(access=access)
        .filter(student=student)
        .select_related(*ENROLLMENT_DISPLAY)
        .order_by("-section__academic_year__start_date", ACTIVE_ORDER, "pk")
    )


def staff_student_fees(*, student: StudentProfile) -> list[Fee]:
    """The fees of a student the user may see (their fee status goes with the record)."""
    return list(
        Fee.objects.filter(student=student)
        .select_related("consortium", "academic_year")
        .order_by("-academic_year__start_date", "consortium__name")
    )


def student_merges(*, student: StudentProfile) -> list:
    """Merges this record took part in, as survivor or as the merged record."""

    return list(
        StudentMerge.objects.filter(Q(survivor=student) | Q(merged=student))
        .select_related("survivor", "merged", "merged_by")
        .order_by("-merged_at")
    )
