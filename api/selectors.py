"""Reads of the API, each scoped: a registrar's tokens; the client a bearer token stands
for (and the registrar's view it gets); the credits and agreements a token sees, read
through the registrar's own selectors (enrollment.selectors.registrar,
articulations.selectors) and the transcript-credit records of the registrar's reports
(reports.transcript_credit)."""

import datetime
import hashlib
from dataclasses import dataclass

from django.db.models import (
    BooleanField,
    DateTimeField,
    ExpressionWrapper,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce, Greatest
from django.http import Http404
from django.utils.translation import gettext as _

from accounts.models import Role
from accounts.permissions import (
    ROLE_CAPABILITIES,
    Access,
    Capability,
    access_for,
    can_see_birth_date,
    get_in_scope,
)
from articulations.models import Articulation
from articulations.selectors import articulation_work_list
from enrollment.models import EnrollmentStatus, Fee
from enrollment.rules import fee_settled_q
from enrollment.selectors import registrar
from enrollment.services.transcription import (
    EARLIEST_TRANSCRIPTION_FIELDS,
    earliest_transcription_date,
)
from organisations.models import AcademicYear, College
from reports.transcript_credit import TRANSCRIPT_FIELDS, TranscriptRecord, grade_equivalents

from .models import ApiToken

S = EnrollmentStatus

# --- a registrar's tokens ---------------------------------------------------------------------


def api_token_colleges(*, access: Access) -> QuerySet[College]:
    """The colleges whose tokens the user manages: those where they are a registrar."""
    if not access.can(Capability.TRANSCRIBE):
        return College.objects.none()
    return College.objects.filter(pk__in=access.registrar_college_ids).order_by("name")


def api_tokens_visible(*, access: Access) -> QuerySet[ApiToken]:
    """The tokens of the user's colleges (any registrar of a college manages them all)."""
    if not access.can(Capability.TRANSCRIBE):
        return ApiToken.objects.none()
    return ApiToken.objects.filter(college_id__in=access.registrar_college_ids).select_related(
        "college", "created_by", "revoked_by"
    )


def api_token_get(*, access: Access, pk: int) -> ApiToken:
    """A token of the user's colleges; 404 for any other."""
    return get_in_scope(api_tokens_visible(access=access), Q(), pk=pk)


# --- the client behind a bearer token ----------------------------------------------------------


def token_hash(secret: str) -> str:
    """SHA-256 of the token. The secret is 256 random bits (services.api_token_create), so
    a fast hash is safe: there is nothing to guess by trying, unlike a password; and it
    lets a call find its token by an indexed equality, without a slow hash per call."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class ApiClient:
    """A college system signed in with a token: the token, and what it may see (its
    college's registrar's view, of that college only)."""

    token: ApiToken
    access: Access

    @property
    def actor(self):
        """Who acts, in the access log and the credits' history: the token's creator."""
        return self.token.created_by

    def __str__(self) -> str:
        return f"api-token:{self.token.pk}"


def registrar_access(*, user_id: int, college_id: int) -> Access:
    """A registrar's view of one college, nothing else."""
    colleges = frozenset({college_id})
    return Access(
        user_id=user_id,
        roles=frozenset({Role.REGISTRAR}),
        capabilities=ROLE_CAPABILITIES[Role.REGISTRAR],
        college_ids=colleges,
        registrar_college_ids=colleges,
    )


def api_client_for(*, secret: str, now: datetime.datetime) -> tuple[ApiClient | None, str]:
    """The client a bearer token stands for, or None and why it is refused. A token
    works until it expires or is revoked, and while its creator is still an active
    registrar of its college."""
    if not secret or len(secret) > 200:
        return None, _("The token is not valid.")
    token = (
        ApiToken.objects.select_related("created_by").filter(key_hash=token_hash(secret)).first()
    )
    if token is None:
        return None, _("The token is not valid.")
    if token.revoked_at is not None:
        return None, _("The token was revoked. Ask a registrar of your college for a new one.")
    if token.expires_at <= now:
        return None, _("The token has expired. Ask a registrar of your college for a new one.")
    if token.college_id not in access_for(token.created_by).registrar_college_ids:
        return None, _(
            "The registrar who created the token no longer works with the college in SERS. "
            "Ask a registrar of your college for a new token."
        )
    access = registrar_access(user_id=token.created_by_id, college_id=token.college_id)
    return ApiClient(token=token, access=access), ""


# --- credits ---------------------------------------------------------------------------------


def credit_updated_at():
    """When a credit last changed as a college sees it: its status, its student's record,
    the email confirmation or the fee (the last two can make a credit ready)."""
    fee_changed = Fee.objects.filter(
        student_id=OuterRef("student_id"),
        consortium_id=OuterRef("section__articulation__consortium_id"),
        academic_year_id=OuterRef("section__academic_year_id"),
    ).values("updated_at")[:1]
    return Greatest(
        "status_changed_at",
        "student__updated_at",
        Coalesce("student__user__email_verified_at", "status_changed_at"),
        Coalesce(Subquery(fee_changed), "status_changed_at"),
        output_field=DateTimeField(),
    )


def not_ready_reasons(*, status: str, fee_settled: bool, email_verified: bool) -> list[dict]:
    """Why a credit cannot be transcribed now, each with a code (empty: it can, or it
    already is). The registrar's waiting tab says the same (transcription_blockers)."""
    reasons = []
    by_status = {
        S.REGISTERED: ("grade_missing", _("Missing grade")),
        S.CONFIRMED: ("grade_missing", _("Missing grade")),
        S.GRADED: ("class_not_complete", _("Class not marked complete")),
        S.NOT_ATTAINED: ("not_attained", _("The grade did not meet the agreement's minimum.")),
        S.WITHDRAWN: ("withdrawn", _("The student withdrew from the class.")),
        S.REMOVED: ("removed", _("The teacher removed the student from the class.")),
    }
    if status in by_status:
        code, message = by_status[status]
        reasons.append({"code": code, "message": message})
    if status in (S.REGISTERED, S.CONFIRMED, S.GRADED, S.ATTAINED):
        if not fee_settled:
            reasons.append({"code": "fee_unpaid", "message": _("Fee unpaid")})
        if not email_verified:
            reasons.append(
                {
                    "code": "profile_incomplete",
                    "message": _("Email not verified (profile incomplete)"),
                }
            )
    return reasons


@dataclass(frozen=True)
class CreditState:
    status: str
    reasons: list[dict]
    college_student_id: str
    transcribed_on: datetime.date | None
    updated_at: datetime.datetime
    student_id: int  # for the access log
    # The first possible posting date (the day the credit was attained).
    earliest_transcribed_on: datetime.date


def credit_states(*, access: Access, ids) -> dict[int, CreditState]:
    """Where each of these credits of the token's college stands (ids outside the
    college are left out). One query."""
    rows = (
        registrar.registrar_enrollments(access=access)
        .filter(pk__in=list(ids))
        .annotate(
            fee_settled=ExpressionWrapper(fee_settled_q(), output_field=BooleanField()),
            email_verified=ExpressionWrapper(
                Q(student__user__email_verified_at__isnull=False), output_field=BooleanField()
            ),
            api_updated_at=credit_updated_at(),
        )
        .values(
            "pk",
            "status",
            "fee_settled",
            "email_verified",
            "college_student_id",
            "transcribed_on",
            "api_updated_at",
            "student_id",
            *EARLIEST_TRANSCRIPTION_FIELDS,
        )
    )
    return {
        row["pk"]: CreditState(
            status=row["status"],
            reasons=not_ready_reasons(
                status=row["status"],
                fee_settled=row["fee_settled"],
                email_verified=row["email_verified"],
            ),
            college_student_id=row["college_student_id"],
            transcribed_on=row["transcribed_on"],
            updated_at=row["api_updated_at"],
            student_id=row["student_id"],
            earliest_transcribed_on=earliest_transcription_date(
                *(row[name] for name in EARLIEST_TRANSCRIPTION_FIELDS)
            ),
        )
        for row in rows
    }


def _credits(*, access: Access, states: dict[int, CreditState]) -> dict[int, dict]:
    """The credits of these enrollments, as the transcript-credit report writes them (one
    record per college course). One query."""
    birth_dates = can_see_birth_date(access)
    credits: dict[int, dict] = {}
    rows = (
        registrar.registrar_enrollments(access=access)
        .filter(pk__in=list(states))
        .order_by(
            "pk",
            "section__articulation__college_courses__prefix",
            "section__articulation__college_courses__number",
        )
        .values_list(*TRANSCRIPT_FIELDS)
    )
    for values in rows:
        record = TranscriptRecord(*values)
        credit = credits.get(record.enrollment_id)
        if credit is None:
            state = states[record.enrollment_id]
            letter, points = grade_equivalents(record.grade_scale, record.grade)
            credit = credits[record.enrollment_id] = {
                "id": record.enrollment_id,
                "student_id": record.student_id,  # for the access log; not in the answer
                "status": state.status,
                "ready": state.status == S.ATTAINED and not state.reasons,
                "not_ready_reasons": state.reasons,
                "updated_at": state.updated_at,
                "student": {
                    "sers_id": record.sers_id,
                    "legal_first_name": record.first_name,
                    "legal_middle_name": record.middle_name,
                    "legal_last_name": record.last_name,
                    "birth_date": record.birth_date if birth_dates else None,
                    "college_student_id": record.college_student_id,
                },
                "high_school": {"name": record.high_school, "code": record.high_school_code},
                "school_year": record.year_code,
                "term": record.term,
                "teacher": f"{record.teacher_first_name} {record.teacher_last_name}".strip(),
                "grade": {
                    "as_entered": record.grade,
                    "scale": record.grade_scale,
                    "letter": letter,
                    "points": points,
                },
                "agreement": {
                    "id": record.articulation_id,
                    "number": record.agreement_number,
                    "version": record.articulation_version,
                },
                "courses": [],
                "transcribed_on": state.transcribed_on,
            }
        if record.course_prefix is not None:
            credit["courses"].append(
                {
                    "prefix": record.course_prefix,
                    "number": record.course_number,
                    "title": record.course_title,
                    "credits": record.credits,
                }
            )
    return credits


CREDITS_CURSOR = "credits-ready"


def credits_ready_page(
    *,
    access: Access,
    updated_since: datetime.datetime | None,
    after: tuple[datetime.datetime, int] | None,
    limit: int,
) -> tuple[list[dict], tuple[datetime.datetime, int] | None]:
    """A page of the credits ready for the transcript (the registrar's "ready" tab),
    oldest change first, and the position after it when more follow. Three queries."""
    queryset = (
        registrar.registrar_queue(access=access, view="ready")
        .prefetch_related(None)
        .annotate(api_updated_at=credit_updated_at())
    )
    if updated_since is not None:
        queryset = queryset.filter(api_updated_at__gte=updated_since)
    if after is not None:
        changed, pk = after
        queryset = queryset.filter(
            Q(api_updated_at__gt=changed) | Q(api_updated_at=changed, pk__gt=pk)
        )
    rows = list(
        queryset.order_by("api_updated_at", "pk").values_list("pk", "api_updated_at")[: limit + 1]
    )
    more = len(rows) > limit
    rows = rows[:limit]
    states = credit_states(access=access, ids=[pk for pk, _changed in rows])
    credits = _credits(access=access, states=states)
    page = [credits[pk] for pk, _changed in rows if pk in credits]
    last = rows[-1] if more else None
    return page, (last[1], last[0]) if last else None


def credit_get(*, access: Access, credit_id: int) -> dict:
    """One credit of the token's college, in any status (404 outside the college)."""
    states = credit_states(access=access, ids=[credit_id])
    if not states:
        raise Http404
    return _credits(access=access, states=states)[credit_id]


# --- agreements ------------------------------------------------------------------------------


AGREEMENTS_CURSOR = "agreements-active"


def agreements_active_page(
    *, access: Access, after: int | None, limit: int
) -> tuple[list[dict], int | None]:
    """A page of the college's active agreements, by id, and the id after which the
    next page starts when more follow. Four queries."""
    queryset = (
        articulation_work_list(access=access)
        .filter(status=Articulation.Status.ACTIVE)
        .select_related("cluster")
        .prefetch_related(
            Prefetch("valid_years", queryset=AcademicYear.objects.order_by("start_date"))
        )
        .order_by("pk")
    )
    if after is not None:
        queryset = queryset.filter(pk__gt=after)
    agreements = list(queryset[: limit + 1])
    more = len(agreements) > limit
    agreements = agreements[:limit]
    page = [
        {
            "id": agreement.pk,
            "number": agreement.agreement_number,
            "version": agreement.version,
            "status": agreement.status,
            "high_school_course": {
                "title": agreement.high_school_course.title,
                "local_code": agreement.high_school_course.local_code,
                "cip_code": agreement.high_school_course.cip_code,
            },
            "courses": [
                {
                    "prefix": course.prefix,
                    "number": course.number,
                    "title": course.title,
                    "credits": course.credits,
                }
                for course in agreement.college_courses.all()
            ],
            "credits": agreement.credits,
            "career_cluster": agreement.cluster.name,
            "minimum_grade": agreement.minimum_grade,
            "minimum_grade_scale": agreement.minimum_grade_scale,
            "school_years": [year.code for year in agreement.valid_years.all()],
            "high_schools": [
                {"name": school.name, "code": school.code}
                for school in agreement.high_schools.all()
            ],
        }
        for agreement in agreements
    ]
    return page, agreements[-1].pk if more else None
