"""The API's shapes: what a college system sends and gets back. The same classes
validate the input and write the OpenAPI document (endpoints.py)."""

import datetime
import re
from typing import Annotated, Literal

from ninja import Schema
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from enrollment.models import EnrollmentStatus

# --- errors ------------------------------------------------------------------------------


class FieldError(Schema):
    location: str = Field(description="Where: `query.limit`, `body.items.0.id`...")
    message: str


class Error(Schema):
    """Every error: a sentence in `detail`; for invalid input also each field's problem."""

    detail: str
    errors: list[FieldError] | None = None


# --- credits -----------------------------------------------------------------------------


class Reason(Schema):
    """Why a credit cannot be transcribed (yet)."""

    code: Literal[
        "not_found",
        "grade_missing",
        "class_not_complete",
        "not_attained",
        "withdrawn",
        "removed",
        "fee_unpaid",
        "profile_incomplete",
        "date_in_future",
        "date_before_attained",
        "not_ready",
    ]
    message: str


class StudentOut(Schema):
    sers_id: str = Field(description="The student's permanent SERS ID.")
    legal_first_name: str
    legal_middle_name: str
    legal_last_name: str
    birth_date: datetime.date | None = Field(
        description="Shown to registrars (and their tokens) to match the student."
    )
    college_student_id: str = Field(description="Empty until the college gave one.")


class SchoolOut(Schema):
    name: str
    code: str = Field(description="The state building code.")


class GradeOut(Schema):
    as_entered: str = Field(description="The grade as the teacher entered it.")
    scale: str = Field(description="letter, gpa or percent.")
    letter: str = Field(description="The letter grade a college posts.")
    points: float | None = Field(description="Grade points (4.0 scale).")


class CourseOut(Schema):
    prefix: str
    number: str
    title: str
    credits: float


class AgreementRef(Schema):
    id: int
    number: str
    version: int


class CreditOut(Schema):
    """One student's credit for one class: every college course it earns."""

    id: int = Field(description="The credit's id (acknowledge it with this id).")
    status: EnrollmentStatus
    ready: bool = Field(description="Ready to post to the college transcript.")
    not_ready_reasons: list[Reason] = Field(description="Why not, when `ready` is false.")
    updated_at: datetime.datetime = Field(
        description="The last change of the credit, its student record, fee or email "
        "confirmation: what `updated_since` compares."
    )
    student: StudentOut
    high_school: SchoolOut
    school_year: str = Field(description="For example 2026-27.")
    term: str
    teacher: str
    grade: GradeOut
    agreement: AgreementRef
    courses: list[CourseOut]
    transcribed_on: datetime.date | None = Field(
        description="The posting date, once the credit is transcribed."
    )


class CreditPage(Schema):
    results: list[CreditOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


# --- the acknowledgement -------------------------------------------------------------------

# Printable text: no control characters (nor NUL, which PostgreSQL cannot store).
CollegeStudentId = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=30, pattern=r"^[^\x00-\x1f\x7f]+$"
    ),
]


ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def iso_date(value):
    """A date only as the document gives it, YYYY-MM-DD (pydantic alone would also take
    a number of seconds since 1970)."""
    if isinstance(value, str) and ISO_DATE.fullmatch(value):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            raise ValueError("not a date: give YYYY-MM-DD") from None
    if value is None:
        return value
    raise ValueError("give the date as YYYY-MM-DD")


IsoDate = Annotated[datetime.date | None, BeforeValidator(iso_date)]


def whole_number(value):
    """A JSON integer: 7, or 7.0 (JSON Schema counts it as one); not "7", 7.5 or true."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


CreditId = Annotated[int, BeforeValidator(whole_number)]


class AcknowledgementItem(BaseModel):
    # strict: a number is not a string, "12" is not a number, true is not 1.
    model_config = ConfigDict(extra="forbid", strict=True)

    id: CreditId = Field(ge=1, le=2**63 - 1, description="A credit's id.")
    college_student_id: CollegeStudentId = Field(
        description="The student's id in the college system."
    )
    transcribed_on: IsoDate = Field(
        default=None,
        description="The posting date (YYYY-MM-DD); today when left out. Not in the future.",
    )


MAX_ACKNOWLEDGEMENT_ITEMS = 500


class AcknowledgementIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    items: list[AcknowledgementItem] = Field(
        min_length=1,
        max_length=MAX_ACKNOWLEDGEMENT_ITEMS,
        description=f"The credits posted; each id once, at most {MAX_ACKNOWLEDGEMENT_ITEMS}.",
    )


class AcknowledgementResult(Schema):
    id: int
    outcome: Literal["transcribed", "already_transcribed", "refused"]
    reasons: list[Reason] = Field(description="Why it was refused (empty otherwise).")
    college_student_id: str | None = Field(description="As recorded, once transcribed.")
    transcribed_on: datetime.date | None = Field(description="As recorded, once transcribed.")


class AcknowledgementCounts(Schema):
    transcribed: int
    already_transcribed: int
    refused: int


class AcknowledgementOut(Schema):
    results: list[AcknowledgementResult] = Field(description="One per item, in the same order.")
    counts: AcknowledgementCounts


# --- agreements ----------------------------------------------------------------------------


class HighSchoolCourseOut(Schema):
    title: str
    local_code: str
    cip_code: str


class AgreementOut(Schema):
    id: int
    number: str
    version: int
    status: str
    high_school_course: HighSchoolCourseOut
    courses: list[CourseOut]
    credits: float
    career_cluster: str
    minimum_grade: str
    minimum_grade_scale: str
    school_years: list[str]
    high_schools: list[SchoolOut]


class AgreementPage(Schema):
    results: list[AgreementOut]
    next_cursor: str | None
