"""Every write to students, enrollments and fees, and the business rules behind them."""

import hashlib
import logging
import secrets
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.core.signing import BadSignature, SignatureExpired, TimestampSigner
from django.db import IntegrityError, transaction
from django.db.models import CharField, Exists, OuterRef, Q, Value
from django.db.models.functions import Cast, Concat
from django.dispatch import Signal
from django.http import Http404
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts.models import Role, RoleMembership, SentEmail, User
from accounts.services import email_send_once, user_send_welcome_email
from accounts.tasks import send_password_reset_email
from articulations.models import Articulation
from organisations.models import AcademicYear, ConsortiumPolicy, HighSchool
from organisations.selectors import academic_year_current, policy_for

from . import pagecache, tasks
from .identity import blocks_sign_up
from .models import (
    GRADED_STATUSES,
    INACTIVE_STATUSES,
    Enrollment,
    EnrollmentStatus,
    EnrollmentStatusChange,
    Fee,
    FeeChange,
    IdentityChange,
    MatchKind,
    PossibleDuplicate,
    Section,
    SectionRequest,
    StudentMerge,
    StudentProfile,
)

logger = logging.getLogger(__name__)

S = EnrollmentStatus

# The only ways an enrollment's status may move. Anything else is refused.
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    S.REGISTERED: frozenset({S.CONFIRMED, S.REMOVED, S.WITHDRAWN}),
    S.CONFIRMED: frozenset({S.GRADED, S.REMOVED, S.WITHDRAWN}),
    S.GRADED: frozenset({S.GRADED, S.ATTAINED, S.NOT_ATTAINED}),
    S.ATTAINED: frozenset({S.TRANSCRIBED, S.NOT_ATTAINED}),
    S.NOT_ATTAINED: frozenset({S.ATTAINED}),
    S.TRANSCRIBED: frozenset({S.ATTAINED}),
    S.WITHDRAWN: frozenset(),
    S.REMOVED: frozenset(),
}
# Moves a person must explain: removals, undoing a transcription, changing a final result.
REASON_REQUIRED: frozenset[tuple[str, str]] = frozenset(
    {
        (S.REGISTERED, S.REMOVED),
        (S.CONFIRMED, S.REMOVED),
        (S.TRANSCRIBED, S.ATTAINED),
        (S.ATTAINED, S.NOT_ATTAINED),
        (S.NOT_ATTAINED, S.ATTAINED),
    }
)

# Corrections only an override may make: the grade of a final result, the result kept.
OVERRIDE_TRANSITIONS: dict[str, frozenset[str]] = {
    S.ATTAINED: frozenset({S.ATTAINED}),
    S.NOT_ATTAINED: frozenset({S.NOT_ATTAINED}),
}

# Sent after the transaction that changed a status commits (notifications hang off it).
enrollment_status_changed = Signal()


class TransitionNotAllowed(ValidationError):
    """The enrollment cannot move from its current status to the one asked for."""


@dataclass(frozen=True)
class StatusChange:
    """One enrollment's move, for enrollments_change_status: the status it should get
    and, optionally, the grade, transcription date or college student id set with it."""

    enrollment_id: int
    to_status: str
    grade: str | None = None
    transcribed_on: date | None = None
    college_student_id: str | None = None


def enrollment_change_status(
    *,
    enrollment_id: int,
    to_status: str,
    actor,
    reason: str = "",
    grade: str | None = None,
    transcribed_on: date | None = None,
    college_student_id: str | None = None,
    override: bool = False,
) -> Enrollment:
    """Move one enrollment to `to_status` (enrollments_change_status for one row)."""
    (enrollment,) = enrollments_change_status(
        changes=[
            StatusChange(
                enrollment_id=enrollment_id,
                to_status=to_status,
                grade=grade,
                transcribed_on=transcribed_on,
                college_student_id=college_student_id,
            )
        ],
        actor=actor,
        reason=reason,
        override=override,
    )
    return enrollment


def _status_change_fields(
    enrollment: Enrollment, change: StatusChange, *, reason: str, override: bool
) -> dict[str, object] | None:
    """The fields `change` sets besides status (None when it asks for nothing new), once
    the transitions table and the rules allow it; raises otherwise."""
    from_status, to_status = enrollment.status, change.to_status
    fields: dict[str, object] = {}
    if change.grade is not None and change.grade != enrollment.grade:
        fields["grade"] = change.grade
    if change.transcribed_on is not None and change.transcribed_on != enrollment.transcribed_on:
        fields["transcribed_on"] = change.transcribed_on
    if (
        change.college_student_id is not None
        and change.college_student_id != enrollment.college_student_id
    ):
        fields["college_student_id"] = change.college_student_id

    if to_status == from_status and not fields:
        return None
    allowed = ALLOWED_TRANSITIONS.get(from_status, frozenset())
    if override:
        allowed = allowed | OVERRIDE_TRANSITIONS.get(from_status, frozenset())
    if to_status not in allowed:
        raise TransitionNotAllowed(
            _("This enrollment is %(from)s and cannot become %(to)s.")
            % {"from": S(from_status).label, "to": _status_label(to_status)},
            code="transition_not_allowed",
        )
    if ((from_status, to_status) in REASON_REQUIRED or override) and not reason:
        raise ValidationError(_("Give a reason for this change."), code="reason_required")
    # Say what is missing instead of failing on the database's check constraints.
    if to_status in GRADED_STATUSES and not fields.get("grade", enrollment.grade):
        raise ValidationError(_("Enter a grade."), code="grade_required")
    if to_status == S.TRANSCRIBED and not fields.get("transcribed_on", enrollment.transcribed_on):
        raise ValidationError(
            _("Enter the date the credit was posted to the transcript."),
            code="transcribed_on_required",
        )
    if to_status == S.ATTAINED and from_status == S.TRANSCRIBED:
        fields["transcribed_on"] = None  # undoing a transcription clears its date
    return fields


def _update_in_one_statement(enrollments: list[Enrollment], names: set[str]) -> None:
    """Save these fields of every enrollment with one UPDATE. Like bulk_update, but each
    field's CASE has one branch per distinct value (a handful of grades, one status, one
    time) instead of one per row, which is much cheaper to build for a whole class."""
    from django.db import connection
    from django.db.models import Case, When

    values = {}
    for name in sorted(names):
        field = Enrollment._meta.get_field(name)
        pks_by_value: dict[object, list[int]] = {}
        for enrollment in enrollments:
            pks_by_value.setdefault(getattr(enrollment, field.attname), []).append(enrollment.pk)
        if len(pks_by_value) == 1:
            values[field.attname] = next(iter(pks_by_value))
            continue
        case = Case(
            *(
                When(pk__in=pks, then=Value(value, output_field=field))
                for value, pks in pks_by_value.items()
            ),
            output_field=field,
        )
        if connection.features.requires_casted_case_in_updates:
            case = Cast(case, output_field=field)
        values[field.attname] = case
    Enrollment.objects.filter(pk__in=[enrollment.pk for enrollment in enrollments]).update(**values)
    pagecache.students_changed(  # an UPDATE sends no signal
        (enrollment.student_id for enrollment in enrollments),
        section_ids=(enrollment.section_id for enrollment in enrollments),
    )


def enrollments_change_status(
    *, changes: list[StatusChange], actor, reason: str = "", override: bool = False
) -> list[Enrollment]:
    """Move enrollments to new statuses: the one function that writes `status`.

    Locks every row at once (in pk order, so two callers cannot deadlock), checks each
    move against the transitions table, then saves the changed fields of all rows in one
    statement, writes one history row per moved enrollment in one statement, and
    announces each change once the transaction commits. All or nothing: one refused move
    refuses the lot (the first refused one, in the order given, says why). A move to the
    status the row already has, with nothing else changing, does nothing. Returns the
    enrollments in the order of `changes`. An enrollment appears at most once per call.

    `override` is a consortium admin setting a rule aside (a grade change after the
    grading deadline): it needs a reason, may also correct the grade of a final result
    (OVERRIDE_TRANSITIONS), and is marked as an override in the history. The caller
    checks that the actor may override.
    """
    if not changes:
        return []
    ids = [change.enrollment_id for change in changes]
    if len(set(ids)) != len(ids):
        raise ValueError("An enrollment may appear only once in one status change.")
    reason = reason.strip()
    with transaction.atomic():
        locked = {
            enrollment.pk: enrollment
            for enrollment in Enrollment.objects.select_for_update()
            .filter(pk__in=ids)
            .order_by("pk")
        }
        if len(locked) != len(ids):
            raise Enrollment.DoesNotExist("Enrollment matching query does not exist.")
        planned = []
        for change in changes:
            enrollment = locked[change.enrollment_id]
            fields = _status_change_fields(enrollment, change, reason=reason, override=override)
            if fields is not None:
                planned.append((enrollment, change.to_status, fields))
        if not planned:
            return [locked[pk] for pk in ids]

        now = timezone.now()
        update_fields = {"status", "status_changed_at"}
        kind = (
            EnrollmentStatusChange.Kind.OVERRIDE if override else EnrollmentStatusChange.Kind.CHANGE
        )
        history, announced = [], []
        for enrollment, to_status, fields in planned:
            from_status = enrollment.status
            if "grade" in fields:
                fields["graded_at"] = now
                fields["graded_by"] = actor
            for name, value in fields.items():
                setattr(enrollment, name, value)
            update_fields.update(fields)
            enrollment.status = to_status
            enrollment.status_changed_at = now
            history.append(
                EnrollmentStatusChange(
                    enrollment=enrollment,
                    from_status=from_status,
                    to_status=to_status,
                    grade=enrollment.grade if to_status in GRADED_STATUSES else "",
                    changed_by=actor,
                    reason=reason,
                    kind=kind,
                )
            )
            announced.append((enrollment.pk, from_status, to_status))
        # Rows a field does not change get the value just read under the lock: unchanged.
        _update_in_one_statement(
            [enrollment for enrollment, _to, _fields in planned], update_fields
        )
        EnrollmentStatusChange.objects.bulk_create(history)

        def announce() -> None:
            for enrollment_id, from_status, to_status in announced:
                enrollment_status_changed.send(
                    sender=Enrollment,
                    enrollment_id=enrollment_id,
                    from_status=from_status,
                    to_status=to_status,
                )

        transaction.on_commit(announce)
    return [locked[pk] for pk in ids]


def _status_label(status: str) -> str:
    return S(status).label if status in S.values else repr(status)


def enrollment_record_created(
    *, enrollment: Enrollment, actor, reason: str = "", override: bool = False
) -> None:
    """The first history row of a new enrollment (from nothing to its initial status)."""
    EnrollmentStatusChange.objects.create(
        enrollment=enrollment,
        from_status="",
        to_status=enrollment.status,
        changed_by=actor,
        reason=reason,
        kind=EnrollmentStatusChange.Kind.OVERRIDE
        if override
        else EnrollmentStatusChange.Kind.CHANGE,
    )


def _log_change(*, actor, what: str, student_ids=(), enrollment_ids=()) -> None:
    """Record in the student-record access log that `actor` changed these students'
    records, inside the caller's transaction (no change without its entry). The client
    address comes from the request being served, if any."""
    from accesslog.services import access_log_record

    ids = set(student_ids)
    section_ids = set()
    if enrollment_ids:
        for student_id, section_id in Enrollment.objects.filter(
            pk__in=list(enrollment_ids)
        ).values_list("student_id", "section_id"):
            ids.add(student_id)
            section_ids.add(section_id)
    if ids:
        access_log_record(actor=actor, action="change", what=what, student_ids=ids)
        # Every change of a student's record passes here, bulk writes included: the
        # cached pages of these students and of the classes changed. (A change of what
        # every roster of the student shows, the name, saves the profile: its signal.)
        pagecache.students_changed(ids, section_ids=section_ids)


def generate_sers_id() -> str:
    """A random nine-digit id whose last digit is a Luhn check digit (catches typos)."""
    body = f"{secrets.randbelow(10**8):08d}"
    if body[0] == "0":
        body = str(secrets.randbelow(9) + 1) + body[1:]
    return body + luhn_check_digit(body)


def luhn_check_digit(digits: str) -> str:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def sers_id_is_valid(sers_id: str) -> bool:
    return len(sers_id) == 9 and sers_id.isdigit() and luhn_check_digit(sers_id[:-1]) == sers_id[-1]


def student_profile_create(*, user, **fields) -> StudentProfile:
    """Create a profile with a fresh permanent SERS id (retrying on the rare collision)."""
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return StudentProfile.objects.create(
                    user=user, sers_id=generate_sers_id(), **fields
                )
        except IntegrityError:
            if StudentProfile.objects.filter(user=user).exists():
                raise
    raise RuntimeError("Could not allocate a unique SERS id.")


# --- student accounts -----------------------------------------------------------------------
# Sign-up, email verification, profile changes and the emails that go with them. Emails
# go out from background tasks after the transaction commits; tasks take ids, never
# addresses or links, and never log personal data.

EMAIL_VERIFICATION_SALT = "enrollment.email-verification"
EMAIL_VERIFICATION_MAX_AGE = 60 * 60 * 24 * 3  # three days


class DuplicateIdentity(ValidationError):
    """A sign-up looks like a student we already have.

    `matches` are IdentityMatch rows; `can_continue` is True when all of them are only
    close (CLOSE) and the student may confirm they are a different person.
    """

    def __init__(self, *, matches: list, can_continue: bool):
        self.matches = matches
        self.can_continue = can_continue
        super().__init__(_("We may already have an account for you."), code="duplicate_identity")


def _email_digest(email: str) -> str:
    return salted_hmac(EMAIL_VERIFICATION_SALT, email.lower(), algorithm="sha256").hexdigest()[:20]


def email_verification_token(*, user: User) -> str:
    """A signed, expiring token naming the user and (by digest) the address to confirm."""
    return TimestampSigner(salt=EMAIL_VERIFICATION_SALT).sign(
        f"{user.pk}:{_email_digest(user.email)}"
    )


def student_sign_up(
    *,
    email: str,
    password: str,
    legal_first_name: str,
    legal_middle_name: str,
    legal_last_name: str,
    birth_date: date,
    high_school: HighSchool,
    graduation_year: int,
    phone: str = "",
    language: str = "en",
    different_person_confirmed: bool = False,
) -> StudentProfile | None:
    """Create a student's account and profile, unless they already have one.

    A SAME or VARIANT identity match (enrollment.identity) refuses the sign-up; a CLOSE
    one refuses it until the student confirms they are a different person, and is then
    recorded for staff review. The verification email goes out after commit.

    An address that already has an account creates nothing and returns None; the
    account's owner gets a notice instead (sign in, or reset the password). The person
    signing up is told the same as for a new account, so sign-up never reveals which
    addresses have an account.
    """
    from .selectors import identity_matches

    email = User.objects.normalize_email(email).lower()
    identity = {
        "legal_first_name": legal_first_name.strip(),
        "legal_middle_name": legal_middle_name.strip(),
        "legal_last_name": legal_last_name.strip(),
    }
    with transaction.atomic():
        matches = identity_matches(
            first_name=identity["legal_first_name"],
            middle_name=identity["legal_middle_name"],
            last_name=identity["legal_last_name"],
            birth_date=birth_date,
        )
        blocking = [m for m in matches if blocks_sign_up(m.kind)]
        if blocking:
            raise DuplicateIdentity(matches=blocking, can_continue=False)
        if matches and not different_person_confirmed:
            raise DuplicateIdentity(matches=matches, can_continue=True)
        existing_id = User.objects.filter(email__iexact=email).values_list("pk", flat=True).first()
        if existing_id is not None:
            return _sign_up_address_taken(user_id=existing_id, password=password, language=language)
        try:
            with transaction.atomic():
                user = User.objects.create_user(
                    email=email,
                    password=password,
                    first_name=identity["legal_first_name"][:150],
                    last_name=identity["legal_last_name"][:150],
                )
        except IntegrityError:  # signed up at the same moment by another request
            existing_id = (
                User.objects.filter(email__iexact=email).values_list("pk", flat=True).first()
            )
            return _sign_up_address_taken(user_id=existing_id, password=password, language=language)
        profile = student_profile_create(
            user=user,
            **identity,
            birth_date=birth_date,
            phone=phone.strip(),
            high_school=high_school,
            graduation_year=graduation_year,
            language=language,
        )
        PossibleDuplicate.objects.bulk_create(
            PossibleDuplicate(
                student=profile,
                existing_student_id=match.student.pk,
                match_kind=match.kind,
                source=PossibleDuplicate.Source.SIGN_UP,
            )
            for match in matches
        )
        tasks.send_verification_email.delay_on_commit(user.pk)
    logger.info("student signed up: student_id=%s possible_duplicates=%s", profile.pk, len(matches))
    return profile


def _sign_up_address_taken(*, user_id: int | None, password: str, language: str) -> None:
    """A sign-up with an address that has an account: nothing created, the owner told."""
    make_password(password)  # the same hashing work as a new account: no timing tell
    if user_id is not None:
        tasks.send_sign_up_attempt_notice.delay_on_commit(user_id, language)
    logger.info("sign-up with an address in use: user_id=%s", user_id)


def user_send_sign_up_attempt_notice(*, user_id: int, language: str = "en") -> bool:
    """Tell an account's owner that someone tried to sign up with their address.

    At most one a day per account, so nobody can flood an inbox through the sign-up form.
    """
    user = User.objects.select_related("student_profile").filter(pk=user_id).first()
    if user is None or not user.is_active:
        return False
    profile = getattr(user, "student_profile", None)
    return email_send_once(
        user=user,
        kind="sign_up_attempt",
        dedupe_key=f"sign_up_attempt:{user.pk}:{timezone.localdate().isoformat()}",
        subject_template="emails/student_sign_up_attempt_subject.txt",
        body_template="emails/student_sign_up_attempt_body.txt",
        context={
            "profile": profile,
            "login_path": reverse("login"),
            "reset_path": reverse("password_reset"),
        },
        language=profile.language if profile else language,
    )


def user_send_verification_email(*, user_id: int) -> bool:
    """Email a link that confirms the address (not deduplicated: students ask again)."""
    user = (
        User.objects.select_related("student_profile")
        .filter(pk=user_id, is_active=True, email_verified_at__isnull=True)
        .first()
    )
    if user is None:
        return False
    profile = getattr(user, "student_profile", None)
    context = {
        "user": user,
        "profile": profile,
        "base_url": settings.SERS_BASE_URL,
        "verify_path": reverse(
            "enrollment:verify_email", kwargs={"token": email_verification_token(user=user)}
        ),
        "valid_days": EMAIL_VERIFICATION_MAX_AGE // (60 * 60 * 24),
    }
    language = profile.language if profile else settings.LANGUAGE_CODE
    with translation.override(language):
        subject = " ".join(render_to_string("emails/student_verify_subject.txt", context).split())
        body = render_to_string("emails/student_verify_body.txt", context)
    send_mail(subject, body, None, [user.email])
    logger.info("email sent: kind=verify_email user_id=%s", user.pk)
    return True


def _verification_user_id(token: str) -> tuple[str, str]:
    signer = TimestampSigner(salt=EMAIL_VERIFICATION_SALT)
    try:
        value = signer.unsign(token, max_age=EMAIL_VERIFICATION_MAX_AGE)
    except SignatureExpired:
        raise ValidationError(
            _("This link has expired. Sign in and ask for a new one."), code="expired"
        ) from None
    except BadSignature:
        raise ValidationError(
            _("This link is not valid. Copy the whole link from the email, or ask for a new one."),
            code="invalid",
        ) from None
    user_id, _sep, digest = value.partition(":")
    return user_id, digest


def _check_verification_user(user: User | None, digest: str) -> User:
    if user is None or not constant_time_compare(digest, _email_digest(user.email)):
        raise ValidationError(
            _("This link was for an email address this account no longer uses."),
            code="invalid",
        )
    return user


def email_verification_check(*, token: str) -> User:
    """The user a verification link is for; ValidationError when expired, tampered or stale."""
    user_id, digest = _verification_user_id(token)
    return _check_verification_user(User.objects.filter(pk=user_id, is_active=True).first(), digest)


def user_request_verification_email(*, user_id: int) -> None:
    """Queue a fresh verification link (after commit); the link is built by the task."""
    tasks.send_verification_email.delay_on_commit(user_id)


def user_verify_email(*, token: str) -> User:
    """Mark the address in a verification link as confirmed (idempotent).

    Refuses a tampered link, an expired one, and one for an address the user no longer
    has. The welcome email with the SERS id goes out after the first confirmation.
    """
    user_id, digest = _verification_user_id(token)
    with transaction.atomic():
        user = _check_verification_user(
            User.objects.select_for_update().filter(pk=user_id, is_active=True).first(), digest
        )
        if user.email_verified_at is None:
            user.email_verified_at = timezone.now()
            user.save(update_fields=["email_verified_at"])
            tasks.send_student_welcome_email.delay_on_commit(user.pk)
            logger.info("email verified: user_id=%s", user.pk)
    return user


def student_send_welcome_email(*, user_id: int) -> bool:
    """The welcome email with the permanent SERS id, once per account, in its language."""
    user = User.objects.select_related("student_profile").get(pk=user_id)
    profile = getattr(user, "student_profile", None)
    if profile is None:
        return user_send_welcome_email(user_id=user_id)
    return email_send_once(
        user=user,
        kind="welcome",
        dedupe_key=f"welcome:{user.pk}",  # the same key as the staff welcome: one or the other
        subject_template="emails/student_welcome_subject.txt",
        body_template="emails/student_welcome_body.txt",
        context={"profile": profile},
        language=profile.language,
    )


def student_send_account_recovery(*, student_id: int) -> None:
    """A password-reset link to the address of an existing student account.

    Used when a sign-up or an "I forgot which email" lookup found the student: the link
    goes to the address on file, which the person asking never sees.
    """
    user_id = StudentProfile.objects.filter(pk=student_id).values_list("user_id", flat=True).first()
    if user_id is not None:
        send_password_reset_email.delay_on_commit(user_id)
        logger.info("account recovery sent: student_id=%s", student_id)


def attempt_allowed(*, scope: str, key: str, limit: int, window_seconds: int) -> bool:
    """Count an attempt in the cache; False once `limit` attempts were made in the window.

    Keys are hashed so no name, birth date or address is stored in the cache.
    """
    digest = salted_hmac("enrollment.rate-limit", f"{scope}:{key}", algorithm="sha256").hexdigest()[
        :32
    ]
    cache_key = f"rate:{scope}:{digest}"
    cache.add(cache_key, 0, timeout=window_seconds)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, timeout=window_seconds)
        count = 1
    return count <= limit


def student_update_contact(
    *,
    student: StudentProfile,
    actor,
    email: str,
    phone: str,
    high_school: HighSchool,
    graduation_year: int,
    language: str,
    gender: str = "",
    race_ethnicity: str = "",
) -> bool:
    """Save a student's contact details, school and optional demographics.

    A new email address must be confirmed again before registering classes: it is
    marked unverified, a link goes to the new address and a notice to the old one.
    Returns True when the email address changed.
    """
    email = User.objects.normalize_email(email).lower()
    with transaction.atomic():
        profile = StudentProfile.objects.select_for_update().get(pk=student.pk)
        user = User.objects.select_for_update().get(pk=profile.user_id)
        old_email = user.email
        email_changed = email != old_email.lower()
        if email_changed:
            if User.objects.filter(email__iexact=email).exclude(pk=user.pk).exists():
                raise ValidationError(
                    {"email": _("Another account already uses this email address.")}
                )
            user.email = email
            user.email_verified_at = None
            user.save(update_fields=["email", "email_verified_at"])
            # Sent from this process, not a task, so the old address never enters the broker.
            transaction.on_commit(
                lambda: student_send_email_changed_notice(user_id=user.pk, old_email=old_email)
            )
            tasks.send_verification_email.delay_on_commit(user.pk)
        profile.phone = phone.strip()
        profile.high_school = high_school
        profile.graduation_year = graduation_year
        profile.language = language
        profile.gender = gender
        profile.race_ethnicity = race_ethnicity
        profile.save(
            update_fields=[
                "phone",
                "high_school",
                "graduation_year",
                "language",
                "gender",
                "race_ethnicity",
                "updated_at",
            ]
        )
        _log_change(actor=actor, what="contact details", student_ids=[profile.pk])
    logger.info(
        "student contact updated: student_id=%s email_changed=%s", profile.pk, email_changed
    )
    return email_changed


def student_send_email_changed_notice(*, user_id: int, old_email: str) -> None:
    """Tell the previous address that the account's email changed (a takeover warning)."""
    user = User.objects.select_related("student_profile").get(pk=user_id)
    profile = getattr(user, "student_profile", None)
    context = {"user": user, "base_url": settings.SERS_BASE_URL}
    with translation.override(profile.language if profile else settings.LANGUAGE_CODE):
        subject = " ".join(
            render_to_string("emails/student_email_changed_subject.txt", context).split()
        )
        body = render_to_string("emails/student_email_changed_body.txt", context)
    try:
        send_mail(subject, body, None, [old_email])
    except OSError:
        logger.exception("email failed: kind=email_changed user_id=%s", user.pk)
        return
    logger.info("email sent: kind=email_changed user_id=%s", user.pk)


def student_identity_change(
    *,
    student: StudentProfile,
    actor,
    legal_first_name: str,
    legal_middle_name: str,
    legal_last_name: str,
    birth_date: date,
    reason: str,
) -> IdentityChange:
    """Change a student's legal name or birth date, keeping the reason.

    Before any credit is attained the student corrects these directly (recorded as
    APPLIED). After that a college transcript depends on them, so the change waits for
    consortium staff (PENDING, one at a time). A correction that now resembles another
    student is recorded for staff review.
    """
    from .selectors import identity_matches, student_has_attained_credit

    new = {
        "new_first_name": legal_first_name.strip(),
        "new_middle_name": legal_middle_name.strip(),
        "new_last_name": legal_last_name.strip(),
        "new_birth_date": birth_date,
    }
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Tell us why the change is needed.")})
    with transaction.atomic():
        profile = StudentProfile.objects.select_for_update().get(pk=student.pk)
        old = {
            "old_first_name": profile.legal_first_name,
            "old_middle_name": profile.legal_middle_name,
            "old_last_name": profile.legal_last_name,
            "old_birth_date": profile.birth_date,
        }
        if [old[k.replace("new_", "old_")] for k in new] == list(new.values()):
            raise ValidationError(_("Nothing changed: the name and birth date are the same."))
        if student_has_attained_credit(student_id=profile.pk):
            if IdentityChange.objects.filter(
                student=profile, status=IdentityChange.Status.PENDING
            ).exists():
                raise ValidationError(
                    _(
                        "You already have a change waiting for consortium staff. Cancel it "
                        "first if you need to ask for something else."
                    )
                )
            change = IdentityChange.objects.create(
                student=profile,
                **old,
                **new,
                reason=reason,
                status=IdentityChange.Status.PENDING,
                requested_by=actor,
            )
            _log_change(
                actor=actor, what="legal identity change requested", student_ids=[profile.pk]
            )
            logger.info("identity change requested: student_id=%s", profile.pk)
            return change
        change = IdentityChange.objects.create(
            student=profile,
            **old,
            **new,
            reason=reason,
            status=IdentityChange.Status.APPLIED,
            requested_by=actor,
        )
        profile.legal_first_name = new["new_first_name"]
        profile.legal_middle_name = new["new_middle_name"]
        profile.legal_last_name = new["new_last_name"]
        profile.birth_date = birth_date
        profile.save(
            update_fields=[
                "legal_first_name",
                "legal_middle_name",
                "legal_last_name",
                "birth_date",
                "updated_at",
            ]
        )
        User.objects.filter(pk=profile.user_id).update(
            first_name=profile.legal_first_name[:150], last_name=profile.legal_last_name[:150]
        )
        _log_change(actor=actor, what="legal identity corrected", student_ids=[profile.pk])
        matches = identity_matches(
            first_name=profile.legal_first_name,
            middle_name=profile.legal_middle_name,
            last_name=profile.legal_last_name,
            birth_date=profile.birth_date,
            exclude_student_id=profile.pk,
        )
        PossibleDuplicate.objects.bulk_create(
            [
                PossibleDuplicate(
                    student=profile,
                    existing_student_id=match.student.pk,
                    match_kind=match.kind,
                    source=PossibleDuplicate.Source.IDENTITY_CHANGE,
                )
                for match in matches
            ],
            ignore_conflicts=True,
        )
    logger.info("identity corrected by student: student_id=%s", profile.pk)
    return change


def identity_change_cancel(*, change_id: int, student: StudentProfile) -> IdentityChange:
    """The student withdraws their own change request while it is still waiting."""
    with transaction.atomic():
        change = IdentityChange.objects.select_for_update().get(pk=change_id, student=student)
        if change.status != IdentityChange.Status.PENDING:
            raise ValidationError(
                _("This request is no longer waiting, so it cannot be cancelled.")
            )
        change.status = IdentityChange.Status.CANCELLED
        change.save(update_fields=["status"])
        _log_change(
            actor=student.user, what="legal identity request cancelled", student_ids=[student.pk]
        )
    return change


# --- class registration ----------------------------------------------------------------------


class RegistrationRefused(ValidationError):
    """A rule stops this registration; the message says which one, in plain words."""


class RegistrationBatchRefused(ValidationError):
    """Some classes of a batch were refused, so none was registered.

    `problems` maps each refused section id to its message.
    """

    def __init__(self, problems: dict[int, str]):
        self.problems = problems
        super().__init__(
            _("Nothing was registered: fix or untick the classes marked below, then try again."),
            code="batch_refused",
        )


def registration_refusal(
    *,
    section: Section,
    email_verified: bool,
    current_year: AcademicYear | None,
    policy: ConsortiumPolicy | None,
    valid_for_year: bool,
    today: date,
) -> tuple[str, str] | None:
    """The first rule that stops a registration in this class, as (code, message).

    Pure: the caller loads what it needs, so the class list and the service agree.
    """
    year = section.academic_year
    if not email_verified:
        return "email_unverified", _(
            "Confirm your email address first: open the link we emailed to you."
        )
    if current_year is None or section.academic_year_id != current_year.pk:
        return "wrong_year", _(
            "This class is in the %(year)s school year. You can register only for classes "
            "of the current school year."
        ) % {"year": year.code}
    articulation = section.articulation
    if articulation.status != Articulation.Status.ACTIVE:
        return "articulation_inactive", _(
            "The college credit agreement for this class is not active, so it cannot be registered."
        )
    if not valid_for_year:
        return "articulation_not_valid", _(
            "The college credit agreement for this class does not cover the %(year)s school year."
        ) % {"year": year.code}
    if not section.teacher.is_active:
        return "teacher_inactive", _(
            "Your teacher's SERS account is not active yet. Ask your teacher to sign in to "
            "SERS, then try again."
        )
    if policy is None:
        return "window_closed", _(
            "Registration for %(year)s has not been opened for this class yet."
        ) % {"year": year.code}
    if today < policy.registration_opens:
        return "window_not_open", _("Registration for this class opens on %(date)s.") % {
            "date": formats.date_format(policy.registration_opens)
        }
    if today > policy.registration_closes:
        return "window_closed", _("Registration for this class closed on %(date)s.") % {
            "date": formats.date_format(policy.registration_closes)
        }
    return None


# The refusals a late-registration override sets aside.
WINDOW_REFUSALS = frozenset({"window_closed", "window_not_open"})


def enrollment_register(
    *,
    student: StudentProfile,
    section: Section,
    actor,
    on_behalf: bool = False,
    today: date | None = None,
    override_reason: str = "",
) -> Enrollment:
    """Register a student for a class, at the initial status, with its first history row.

    Rules: a verified email, the current school year only, an active agreement valid
    for the year, an active teacher account, inside the consortium's registration
    window, and not already registered for the class or another class of the same
    course (the database's one-active-enrollment constraint backs the last one). Also
    creates the student's fee for that consortium and year if missing.

    `override_reason` (a consortium admin's late registration; the caller checks the
    actor may override) sets the registration window aside, and only the window; the
    history row is marked as an override with the reason.
    """
    override_reason = override_reason.strip()
    today = today or timezone.localdate()
    with transaction.atomic():
        section = Section.objects.select_related("articulation", "teacher", "academic_year").get(
            pk=section.pk
        )
        articulation = section.articulation
        policy = policy_for(
            consortium_id=articulation.consortium_id, academic_year_id=section.academic_year_id
        )
        refusal = registration_refusal(
            section=section,
            email_verified=User.objects.filter(
                pk=student.user_id, email_verified_at__isnull=False
            ).exists(),
            current_year=academic_year_current(today=today),
            policy=policy,
            valid_for_year=articulation.valid_years.filter(pk=section.academic_year_id).exists(),
            today=today,
        )
        if refusal and override_reason and refusal[0] in WINDOW_REFUSALS and policy is not None:
            refusal = None
        if refusal:
            raise RegistrationRefused(refusal[1], code=refusal[0])
        # One read decides both refusals, so a registration committed by a concurrent
        # request between two reads cannot be worded as "another teacher".
        registered_section_ids = set(
            Enrollment.objects.filter(
                student=student,
                section__articulation=articulation,
                section__academic_year=section.academic_year_id,
            )
            .exclude(status__in=INACTIVE_STATUSES)
            .values_list("section_id", flat=True)
        )
        if section.pk in registered_section_ids:
            raise RegistrationRefused(
                _("You are already registered for this class."), code="duplicate"
            )
        if registered_section_ids:
            raise RegistrationRefused(
                _(
                    "You are already registered for this course with another teacher. "
                    "Withdraw from that class first."
                ),
                code="duplicate_course",
            )
        try:
            with transaction.atomic():
                enrollment = Enrollment.objects.create(
                    student=student,
                    section=section,
                    status=EnrollmentStatus.REGISTERED,
                    registered_by=actor if on_behalf else None,
                )
        except IntegrityError:
            # Another request registered the same class a moment ago.
            raise RegistrationRefused(
                _("You are already registered for this class."), code="duplicate"
            ) from None
        reason = _("Registered by staff for the student.") if on_behalf else ""
        if override_reason:
            reason = _("Late registration after the window: %(reason)s") % {
                "reason": override_reason
            }
        enrollment_record_created(
            enrollment=enrollment, actor=actor, reason=reason, override=bool(override_reason)
        )
        _log_change(actor=actor, what="registration", student_ids=[student.pk])
        Fee.objects.get_or_create(
            student=student,
            consortium_id=articulation.consortium_id,
            academic_year_id=section.academic_year_id,
            defaults={"amount": policy.annual_fee},
        )
    logger.info("registered: enrollment_id=%s student_id=%s", enrollment.pk, student.pk)
    return enrollment


def enrollment_register_many(
    *,
    student: StudentProfile,
    section_ids: list[int],
    actor,
    today: date | None = None,
) -> list[Enrollment]:
    """Register several classes at once: all of them, or none (RegistrationBatchRefused).

    One confirmation email for the whole batch goes out after commit.
    """
    section_ids = list(dict.fromkeys(int(pk) for pk in section_ids))
    if not section_ids:
        raise ValidationError(_("Tick at least one class."), code="empty")
    problems: dict[int, str] = {}
    enrollments: list[Enrollment] = []
    with transaction.atomic():
        sections = Section.objects.in_bulk(section_ids)
        for section_id in section_ids:
            section = sections.get(section_id)
            if section is None:
                problems[section_id] = _("This class is no longer offered.")
                continue
            try:
                enrollments.append(
                    enrollment_register(student=student, section=section, actor=actor, today=today)
                )
            except ValidationError as error:
                problems[section_id] = " ".join(error.messages)
        if problems:
            raise RegistrationBatchRefused(problems)
        tasks.send_registration_confirmation.delay_on_commit(
            student.pk, [e.pk for e in enrollments]
        )
    return enrollments


# A registration can be withdrawn until the teacher grades it.
WITHDRAWABLE_STATUSES = (EnrollmentStatus.REGISTERED, EnrollmentStatus.CONFIRMED)


def enrollment_withdraw(*, enrollment_id: int, actor, reason: str = "") -> Enrollment:
    """Withdraw a registration, allowed until the teacher has graded it."""
    status = Enrollment.objects.filter(pk=enrollment_id).values_list("status", flat=True).first()
    refused = _("Your teacher has already graded this class, so it can no longer be withdrawn.")
    if status in (EnrollmentStatus.WITHDRAWN, EnrollmentStatus.REMOVED):
        raise ValidationError(_("This registration is no longer active."), code="inactive")
    if status not in WITHDRAWABLE_STATUSES:
        raise ValidationError(refused, code="graded")
    try:
        with transaction.atomic():
            enrollment = enrollment_change_status(
                enrollment_id=enrollment_id,
                to_status=EnrollmentStatus.WITHDRAWN,
                actor=actor,
                reason=reason.strip() or _("Withdrawn by the student."),
            )
            _log_change(actor=actor, what="withdrawal", student_ids=[enrollment.student_id])
            return enrollment
    except TransitionNotAllowed:
        # Graded between the check above and the locked change.
        raise ValidationError(refused, code="graded") from None


def enrollment_send_registration_confirmation(
    *, student_id: int, enrollment_ids: list[int]
) -> bool:
    """The confirmation email of one registration batch, sent once."""
    profile = StudentProfile.objects.select_related("user").get(pk=student_id)
    enrollments = list(
        Enrollment.objects.filter(student=profile, pk__in=enrollment_ids)
        .select_related(
            "section__articulation__high_school_course",
            "section__articulation__college",
            "section__teacher",
            "section__high_school",
            "section__academic_year",
        )
        .prefetch_related("section__articulation__college_courses")
        .order_by("pk")
    )
    if not enrollments:
        return False
    batch = hashlib.sha256(",".join(str(e.pk) for e in enrollments).encode()).hexdigest()[:24]
    return email_send_once(
        user=profile.user,
        kind="registration_confirmation",
        dedupe_key=f"registration:{profile.pk}:{batch}",
        subject_template="emails/student_registration_subject.txt",
        body_template="emails/student_registration_body.txt",
        context={
            "profile": profile,
            "enrollments": enrollments,
            "year": enrollments[0].section.academic_year,
            "confirmation_path": reverse("enrollment:confirmation")
            + "?ids="
            + ",".join(str(e.pk) for e in enrollments),
        },
        language=profile.language,
    )


# =============================================================================================
# Staff workflows: teachers, career specialists, consortium admins and college registrars.
# Views check the capability (403) and load the object in the user's scope (404); these
# services re-check what a write depends on (the teacher of the class, the registrar's
# college, the consortium of a fee) so a bad id can never reach another school's records.
# Multi-row writes run in one transaction: all of them, or none.
# =============================================================================================


def _access(actor):
    from accounts.permissions import access_for

    return access_for(actor)


def _require(actor, capability) -> None:
    _access(actor).require(capability)


def _today(today: date | None) -> date:
    return today or timezone.localdate()


# --- teachers: asking to teach a class --------------------------------------------------------


def section_request_create(
    *,
    actor,
    articulation_id: int,
    high_school_id: int,
    academic_year_id: int,
    term: str,
    section_code: str,
    note: str = "",
    today: date | None = None,
) -> SectionRequest:
    """A teacher asks to teach an articulated course at one of their schools.

    Only at a school where they hold the teacher role, for an active agreement that
    covers the school and the year and names them as qualified, for this school year
    or a later one. The consortium admin approves or declines it.
    """
    from articulations.models import TeacherQualification

    section_code = section_code.strip() or "1"
    if term not in Section.Term.values:
        raise ValidationError({"term": _("Choose a term from the list.")})
    if not RoleMembership.objects.filter(
        user=actor, role=Role.TEACHER, high_school_id=high_school_id
    ).exists():
        raise ValidationError({"high_school": _("Choose one of the schools where you teach.")})
    articulation = Articulation.objects.filter(pk=articulation_id).first()
    if articulation is None or articulation.status != Articulation.Status.ACTIVE:
        raise ValidationError({"articulation": _("Choose an active agreement.")})
    if not articulation.high_schools.filter(pk=high_school_id).exists():
        raise ValidationError(
            {"articulation": _("This agreement does not cover the school you chose.")}
        )
    if not articulation.valid_years.filter(pk=academic_year_id).exists():
        raise ValidationError(
            {"academic_year": _("This agreement is not valid for the school year you chose.")}
        )
    current = academic_year_current(today=_today(today))
    year = AcademicYear.objects.get(pk=academic_year_id)
    if current is not None and year.start_date < current.start_date:
        raise ValidationError({"academic_year": _("Choose this school year or a later one.")})
    if not TeacherQualification.objects.filter(articulation=articulation, teacher=actor).exists():
        raise ValidationError(
            {
                "articulation": _(
                    "You are not listed as qualified to teach this course. Ask your "
                    "consortium to add you to the agreement first."
                )
            }
        )
    if Section.objects.filter(
        articulation=articulation,
        teacher=actor,
        high_school_id=high_school_id,
        academic_year_id=academic_year_id,
        section_code=section_code,
    ).exists():
        raise ValidationError({"section_code": _("You already teach this class.")})
    try:
        with transaction.atomic():
            request = SectionRequest.objects.create(
                teacher=actor,
                articulation=articulation,
                high_school_id=high_school_id,
                academic_year_id=academic_year_id,
                term=term,
                section_code=section_code,
                note=note.strip(),
            )
    except IntegrityError:
        raise ValidationError(
            {"section_code": _("You already asked for this class; it is waiting for an answer.")}
        ) from None
    logger.info("class requested: request_id=%s teacher_id=%s", request.pk, actor.pk)
    return request


def section_request_cancel(*, actor, request_id: int) -> SectionRequest:
    with transaction.atomic():
        request = SectionRequest.objects.select_for_update().get(pk=request_id, teacher=actor)
        if request.status != SectionRequest.Status.PENDING:
            raise ValidationError(_("This request has been answered already."))
        request.status = SectionRequest.Status.CANCELLED
        request.save(update_fields=["status"])
    return request


def section_request_decide(
    *, actor, request_id: int, approve: bool, note: str = ""
) -> SectionRequest:
    """The consortium admin approves a class request (the class is created) or declines it."""
    from accounts.permissions import Capability

    access = _access(actor)
    access.require(Capability.MANAGE_TEACHERS)
    note = note.strip()
    with transaction.atomic():
        request = (
            SectionRequest.objects.select_for_update()
            .select_related("articulation")
            .filter(pk=request_id, articulation__consortium_id__in=access.consortium_ids)
            .first()
        )
        if request is None:
            raise Http404
        if request.status != SectionRequest.Status.PENDING:
            raise ValidationError(_("This request has been answered already."))
        if not approve and not note:
            raise ValidationError({"note": _("Tell the teacher why the request is declined.")})
        request.decided_at = timezone.now()
        request.decided_by = actor
        request.decision_note = note
        if approve:
            section, created = Section.objects.get_or_create(
                articulation=request.articulation,
                teacher_id=request.teacher_id,
                high_school_id=request.high_school_id,
                academic_year_id=request.academic_year_id,
                section_code=request.section_code,
                defaults={"term": request.term},
            )
            if not created:
                raise ValidationError(_("This class exists already."))
            request.section = section
            request.status = SectionRequest.Status.APPROVED
        else:
            request.status = SectionRequest.Status.DECLINED
        request.save(
            update_fields=["status", "decided_at", "decided_by", "decision_note", "section"]
        )
    logger.info(
        "class request %s: request_id=%s by user_id=%s",
        request.status,
        request.pk,
        actor.pk,
    )
    return request


# --- teachers: roster -------------------------------------------------------------------------

# Why a teacher takes a student off the roster; the label goes into the history.
REMOVAL_REASONS: dict[str, str] = {
    "not_in_class": gettext_lazy("Not in my class"),
    "dropped": gettext_lazy("Dropped the class"),
    "duplicate": gettext_lazy("Duplicate registration"),
}


def _teacher_section(actor, section_id: int, *, lock: bool = False) -> Section:
    """The class, if `actor` teaches it (PermissionDenied otherwise)."""
    queryset = Section.objects.select_related(
        "articulation__high_school_course", "academic_year", "high_school"
    )
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    section = queryset.get(pk=section_id)
    if section.teacher_id != actor.pk:
        raise PermissionDenied
    return section


def roster_confirm(*, actor, section_id: int, enrollment_ids: list[int] | None = None) -> int:
    """Confirm registered students in the class (all of them when ids is None).

    One transaction: every listed student is confirmed, or none. Returns how many.
    """
    with transaction.atomic():
        section = _teacher_section(actor, section_id, lock=True)
        if section.completed_at:
            raise ValidationError(_("This class is marked complete; its roster is final."))
        waiting = Enrollment.objects.filter(section=section, status=S.REGISTERED)
        if enrollment_ids is not None:
            ids = {int(pk) for pk in enrollment_ids}
            if not ids:
                raise ValidationError(_("Tick at least one student to confirm."))
            found = set(waiting.filter(pk__in=ids).values_list("pk", flat=True))
            if found != ids:
                raise ValidationError(
                    _("Some of the ticked students are no longer waiting for confirmation.")
                )
        else:
            found = set(waiting.values_list("pk", flat=True))
        enrollments_change_status(
            changes=[StatusChange(enrollment_id=pk, to_status=S.CONFIRMED) for pk in sorted(found)],
            actor=actor,
        )
        _log_change(actor=actor, what="roster confirmed", enrollment_ids=found)
    logger.info("roster confirmed: section_id=%s count=%s", section_id, len(found))
    return len(found)


def roster_remove(*, actor, enrollment_id: int, reason_code: str, note: str = "") -> Enrollment:
    """Take a student off the class roster, with one of REMOVAL_REASONS."""
    if reason_code not in REMOVAL_REASONS:
        raise ValidationError({"reason": _("Choose why the student is removed.")})
    with transaction.atomic():
        enrollment = Enrollment.objects.select_related("section").get(pk=enrollment_id)
        section = _teacher_section(actor, enrollment.section_id, lock=True)
        if section.completed_at:
            raise ValidationError(_("This class is marked complete; its roster is final."))
        reason = str(REMOVAL_REASONS[reason_code])
        if note.strip():
            reason = f"{reason}: {note.strip()}"
        try:
            enrollment = enrollment_change_status(
                enrollment_id=enrollment.pk, to_status=S.REMOVED, actor=actor, reason=reason
            )
        except TransitionNotAllowed:
            raise ValidationError(
                _("This student already has a grade or left the class, so they cannot be removed.")
            ) from None
        _log_change(actor=actor, what="removed from class", student_ids=[enrollment.student_id])
    return enrollment


# --- teachers: grades -------------------------------------------------------------------------


@dataclass
class GradeRow:
    """One row of a grade entry: what was typed and what it means."""

    enrollment_id: int
    raw: str
    grade: str = ""
    attained: bool | None = None
    error: str = ""
    changed: bool = False


class GradesRefused(ValidationError):
    """At least one row is wrong, so no grade was saved. `rows` says which and why."""

    def __init__(self, message: str, rows: dict[int, GradeRow]):
        self.rows = rows
        super().__init__(message, code="grades_refused")


def grading_deadline(section: Section) -> date | None:
    policy = policy_for(
        consortium_id=section.articulation.consortium_id,
        academic_year_id=section.academic_year_id,
    )
    return policy.grading_deadline if policy else None


def grading_closed_reason(section: Section, *, today: date | None = None) -> str:
    """Why the teacher can no longer change grades in this class ("" while they can)."""
    if section.completed_at:
        return _("This class is marked complete. To change a grade now, ask your consortium admin.")
    deadline = grading_deadline(section)
    if deadline and _today(today) > deadline:
        return _(
            "The grading deadline (%(date)s) has passed. To change a grade now, ask your "
            "consortium admin."
        ) % {"date": formats.date_format(deadline)}
    return ""


def grade_check(*, articulation: Articulation, raw: str) -> GradeRow:
    """Read a typed grade in the agreement's scale: its normal form and whether it meets
    the minimum (or the error). Pure: no database."""
    from organisations.grades import GradeError, meets_minimum, normalize

    row = GradeRow(enrollment_id=0, raw=raw)
    scale = articulation.minimum_grade_scale
    try:
        row.grade = normalize(scale, raw)
    except GradeError as error:
        row.error = str(error)
        return row
    row.attained = meets_minimum(
        scale=scale,
        grade=row.grade,
        minimum_scale=articulation.minimum_grade_scale,
        minimum=articulation.minimum_grade,
    )
    return row


GRADABLE_STATUSES = (S.REGISTERED, S.CONFIRMED, S.GRADED)


def grades_save(
    *, actor, section_id: int, grades: dict[int, str], today: date | None = None
) -> list[GradeRow]:
    """Save the grades typed for a class: every row, or none.

    Each grade is read in the agreement's scale; an empty box is skipped. A registered
    student who gets a grade is confirmed first (the teacher says they are in the
    class). Refused with GradesRefused (per-row messages) when any grade is invalid, and
    with a ValidationError after the grading deadline or once the class is complete.
    """
    with transaction.atomic():
        section = _teacher_section(actor, section_id, lock=True)
        closed = grading_closed_reason(section, today=today)
        if closed:
            raise ValidationError(closed, code="grading_closed")
        enrollments = {
            e.pk: e for e in Enrollment.objects.filter(section=section, pk__in=list(grades))
        }
        rows: dict[int, GradeRow] = {}
        for enrollment_id, raw in grades.items():
            enrollment = enrollments.get(enrollment_id)
            if not (raw or "").strip():
                continue
            if enrollment is None:
                rows[enrollment_id] = GradeRow(
                    enrollment_id, raw, error=_("This student is not in the class.")
                )
                continue
            row = grade_check(articulation=section.articulation, raw=raw)
            row.enrollment_id = enrollment_id
            if not row.error and enrollment.status not in GRADABLE_STATUSES:
                row.error = _("This student is %(status)s: the grade cannot change here.") % {
                    "status": S(enrollment.status).label.lower()
                }
            rows[enrollment_id] = row
        if any(row.error for row in rows.values()):
            raise GradesRefused(
                _("No grade was saved: correct the rows marked below, then save again."), rows
            )
        confirm, to_grade = [], []
        for enrollment_id, row in rows.items():
            enrollment = enrollments[enrollment_id]
            if enrollment.status == S.GRADED and enrollment.grade == row.grade:
                continue
            if enrollment.status == S.REGISTERED:
                confirm.append(StatusChange(enrollment_id=enrollment_id, to_status=S.CONFIRMED))
            to_grade.append(
                StatusChange(enrollment_id=enrollment_id, to_status=S.GRADED, grade=row.grade)
            )
            row.changed = True
        # Two moves for the whole class, not two per student: the registered ones are
        # confirmed first, then everyone changed is graded (one history row for each).
        enrollments_change_status(changes=confirm, actor=actor)
        enrollments_change_status(changes=to_grade, actor=actor)
        _log_change(
            actor=actor,
            what="grades saved",
            student_ids=[enrollments[pk].student_id for pk, row in rows.items() if row.changed],
        )
    logger.info(
        "grades saved: section_id=%s changed=%s",
        section_id,
        sum(1 for row in rows.values() if row.changed),
    )
    return list(rows.values())


def section_complete(*, actor, section_id: int) -> dict[str, int]:
    """Finalize a class: every graded student becomes attained or not attained by the
    agreement's minimum, in one transaction, and the class is marked complete.

    Refused while a student still waits for confirmation or a grade.
    """
    from organisations.grades import meets_minimum

    with transaction.atomic():
        section = _teacher_section(actor, section_id, lock=True)
        if section.completed_at:
            raise ValidationError(_("This class is already marked complete."))
        enrollments = list(
            Enrollment.objects.filter(section=section).exclude(status__in=INACTIVE_STATUSES)
        )
        waiting = [e for e in enrollments if e.status in (S.REGISTERED, S.CONFIRMED)]
        if waiting:
            raise ValidationError(
                ngettext(
                    "%(count)s student has no grade yet: enter a grade or remove them first.",
                    "%(count)s students have no grade yet: enter a grade or remove them first.",
                    len(waiting),
                )
                % {"count": len(waiting)},
                code="ungraded",
            )
        articulation = section.articulation
        counts = {"attained": 0, "not_attained": 0}
        attained_ids, graded_ids, results = [], [], []
        for enrollment in enrollments:
            if enrollment.status != S.GRADED:
                continue
            met = meets_minimum(
                scale=articulation.minimum_grade_scale,
                grade=enrollment.grade,
                minimum_scale=articulation.minimum_grade_scale,
                minimum=articulation.minimum_grade,
            )
            results.append(
                StatusChange(
                    enrollment_id=enrollment.pk, to_status=S.ATTAINED if met else S.NOT_ATTAINED
                )
            )
            counts["attained" if met else "not_attained"] += 1
            graded_ids.append(enrollment.pk)
            if met:
                attained_ids.append(enrollment.pk)
        enrollments_change_status(changes=results, actor=actor)
        _log_change(actor=actor, what="class completed", enrollment_ids=graded_ids)
        section.completed_at = timezone.now()
        section.completed_by = actor
        section.save(update_fields=["completed_at", "completed_by"])
        if graded_ids:
            tasks.send_student_notifications.delay_on_commit("grade_posted", graded_ids)
        if attained_ids:
            tasks.send_student_notifications.delay_on_commit("credit_eligible", attained_ids)
    logger.info("class complete: section_id=%s %s", section_id, counts)
    return counts


def grade_override(*, actor, enrollment_id: int, grade: str, reason: str) -> Enrollment:
    """A consortium admin changes a grade after the deadline or after the class is complete.

    The result follows the new grade (attained or not attained); the history row is an
    override with the reason. A transcribed credit must be un-transcribed first.
    """
    from accounts.permissions import Capability
    from organisations.grades import meets_minimum

    access = _access(actor)
    access.require(Capability.OVERRIDE_RULES)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Give a reason for this override.")})
    with transaction.atomic():
        enrollment = (
            Enrollment.objects.select_for_update(of=("self",))
            .select_related("section__articulation")
            .get(pk=enrollment_id)
        )
        articulation = enrollment.section.articulation
        if articulation.consortium_id not in access.consortium_ids:
            raise Http404
        row = grade_check(articulation=articulation, raw=grade)
        if row.error:
            raise ValidationError({"grade": row.error})
        status = enrollment.status
        if status == S.TRANSCRIBED:
            raise ValidationError(
                _("This credit is on the college transcript: the registrar must undo that first.")
            )
        if status in (S.REGISTERED, S.CONFIRMED, S.GRADED):
            if status == S.REGISTERED:
                enrollment_change_status(
                    enrollment_id=enrollment.pk,
                    to_status=S.CONFIRMED,
                    actor=actor,
                    reason=reason,
                    override=True,
                )
            enrollment = enrollment_change_status(
                enrollment_id=enrollment.pk,
                to_status=S.GRADED,
                actor=actor,
                grade=row.grade,
                reason=reason,
                override=True,
            )
            if enrollment.section.completed_at:
                # The class is final already: the result follows at once.
                met = meets_minimum(
                    scale=articulation.minimum_grade_scale,
                    grade=row.grade,
                    minimum_scale=articulation.minimum_grade_scale,
                    minimum=articulation.minimum_grade,
                )
                enrollment = enrollment_change_status(
                    enrollment_id=enrollment.pk,
                    to_status=S.ATTAINED if met else S.NOT_ATTAINED,
                    actor=actor,
                    reason=reason,
                    override=True,
                )
        elif status in (S.ATTAINED, S.NOT_ATTAINED):
            enrollment = enrollment_change_status(
                enrollment_id=enrollment.pk,
                to_status=S.ATTAINED if row.attained else S.NOT_ATTAINED,
                actor=actor,
                grade=row.grade,
                reason=reason,
                override=True,
            )
        else:
            raise ValidationError(_("This student left the class: there is no grade to change."))
        _log_change(actor=actor, what="grade override", student_ids=[enrollment.student_id])
        if enrollment.status == S.ATTAINED:
            tasks.send_student_notifications.delay_on_commit("credit_eligible", [enrollment.pk])
    logger.info("grade override: enrollment_id=%s by user_id=%s", enrollment_id, actor.pk)
    return enrollment


# --- registrars: transcription ----------------------------------------------------------------

# How long a registrar may undo a transcription (a mistake noticed soon after posting).
TRANSCRIPTION_UNDO_DAYS = 30


def _registrar_enrollments(actor, enrollment_ids):
    from accounts.permissions import Capability

    access = _access(actor)
    access.require(Capability.TRANSCRIBE)
    return Enrollment.objects.filter(
        pk__in=enrollment_ids,
        section__articulation__college_id__in=access.registrar_college_ids,
    )


def enrollments_transcribe(
    *,
    actor,
    college_student_ids: dict[int, str],
    transcribed_on: date,
    today: date | None = None,
) -> int:
    """Mark eligible enrollments transcribed with each student's college id and the
    posting date: all of them, or none. Returns how many."""
    from .selectors import eligible_for_transcription_q

    if not college_student_ids:
        raise ValidationError(_("Tick at least one enrollment to mark transcribed."))
    if transcribed_on > _today(today):
        raise ValidationError({"transcribed_on": _("The posting date cannot be in the future.")})
    cleaned: dict[int, str] = {}
    problems = []
    for enrollment_id, college_id in college_student_ids.items():
        college_id = (college_id or "").strip()
        if not college_id:
            problems.append(enrollment_id)
        cleaned[int(enrollment_id)] = college_id[:30]
    if problems:
        raise ValidationError(
            {"college_student_id": _("Enter the college student id of every ticked student.")}
        )
    with transaction.atomic():
        eligible = set(
            _registrar_enrollments(actor, list(cleaned))
            .filter(eligible_for_transcription_q())
            .values_list("pk", flat=True)
        )
        if eligible != set(cleaned):
            raise ValidationError(
                _(
                    "Nothing was marked: %(count)s of the ticked enrollments are not ready to "
                    "transcribe (or not at your college). Reload the queue and try again."
                )
                % {"count": len(set(cleaned) - eligible)}
            )
        enrollments_change_status(
            changes=[
                StatusChange(
                    enrollment_id=enrollment_id,
                    to_status=S.TRANSCRIBED,
                    transcribed_on=transcribed_on,
                    college_student_id=cleaned[enrollment_id],
                )
                for enrollment_id in sorted(cleaned)
            ],
            actor=actor,
        )
        _log_change(actor=actor, what="credit transcribed", enrollment_ids=cleaned)
        tasks.send_student_notifications.delay_on_commit("transcribed", sorted(cleaned))
    logger.info("transcribed: count=%s by user_id=%s", len(cleaned), actor.pk)
    return len(cleaned)


def transcription_undo_until(enrollment: Enrollment) -> date:
    return timezone.localdate(enrollment.status_changed_at) + timedelta(
        days=TRANSCRIPTION_UNDO_DAYS
    )


def enrollment_transcription_undo(
    *, actor, enrollment_id: int, reason: str, today: date | None = None
) -> Enrollment:
    """Take a credit back off the transcript list (TRANSCRIBED → ATTAINED), with a reason,
    within TRANSCRIPTION_UNDO_DAYS of marking it."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Give a reason for undoing the transcription.")})
    with transaction.atomic():
        enrollment = _registrar_enrollments(actor, [enrollment_id]).select_for_update().first()
        if enrollment is None:
            raise Http404
        if enrollment.status != S.TRANSCRIBED:
            raise ValidationError(_("This enrollment is not marked transcribed."))
        if _today(today) > transcription_undo_until(enrollment):
            raise ValidationError(
                _(
                    "It is more than %(days)s days since this credit was marked transcribed: "
                    "correct the college transcript directly, and tell your consortium."
                )
                % {"days": TRANSCRIPTION_UNDO_DAYS},
                code="undo_expired",
            )
        enrollment = enrollment_change_status(
            enrollment_id=enrollment.pk, to_status=S.ATTAINED, actor=actor, reason=reason
        )
        _log_change(actor=actor, what="transcription undone", student_ids=[enrollment.student_id])
    return enrollment


# --- consortium admins: fees ------------------------------------------------------------------


def _fee_for_admin(actor, fee_id: int, *, lock: bool = True) -> Fee:
    from accounts.permissions import Capability

    access = _access(actor)
    access.require(Capability.RECORD_PAYMENTS)
    queryset = Fee.objects.filter(pk=fee_id, consortium_id__in=access.consortium_ids)
    if lock:
        queryset = queryset.select_for_update()
    fee = queryset.first()
    if fee is None:
        raise Http404
    return fee


def fee_record(
    *,
    actor,
    fee_id: int,
    status: str,
    paid_amount: Decimal | None = None,
    paid_on: date | None = None,
    receipt_number: str = "",
    waiver_reason: str = "",
    note: str = "",
    today: date | None = None,
    notify: bool = True,
) -> Fee:
    """Record a payment (amount, date, receipt number), a waiver (one of the consortium's
    reasons) or, as a correction with a note, set a fee back to unpaid. Each change gets
    a history row; recording what is already recorded does nothing."""
    receipt_number, waiver_reason, note = (
        receipt_number.strip(),
        waiver_reason.strip(),
        note.strip(),
    )
    errors: dict[str, str] = {}
    with transaction.atomic():
        fee = _fee_for_admin(actor, fee_id)
        if status == Fee.Status.PAID:
            if paid_on is None:
                errors["paid_on"] = _("Enter the date of the payment.")
            elif paid_on > _today(today):
                errors["paid_on"] = _("The payment date cannot be in the future.")
            if paid_amount is None:
                paid_amount = fee.amount
            if paid_amount < 0:
                errors["paid_amount"] = _("The amount cannot be negative.")
            if not receipt_number:
                errors["receipt_number"] = _("Enter the receipt number.")
            new = {
                "status": status,
                "paid_amount": paid_amount,
                "paid_on": paid_on,
                "receipt_number": receipt_number,
                "waiver_reason": "",
            }
        elif status == Fee.Status.WAIVED:
            policy = policy_for(
                consortium_id=fee.consortium_id, academic_year_id=fee.academic_year_id
            )
            allowed = policy.waiver_reason_list if policy else []
            if not waiver_reason:
                errors["waiver_reason"] = _("Choose the reason for the waiver.")
            elif allowed and waiver_reason not in allowed:
                errors["waiver_reason"] = _("Choose one of the consortium's waiver reasons.")
            new = {
                "status": status,
                "paid_amount": None,
                "paid_on": None,
                "receipt_number": "",
                "waiver_reason": waiver_reason,
            }
        elif status == Fee.Status.UNPAID:
            if not note:
                errors["note"] = _("Say why the fee is set back to unpaid.")
            new = {
                "status": status,
                "paid_amount": None,
                "paid_on": None,
                "receipt_number": "",
                "waiver_reason": "",
            }
        else:
            raise ValidationError({"status": _("Choose paid, waived or unpaid.")})
        if errors:
            raise ValidationError(errors)
        if all(getattr(fee, name) == value for name, value in new.items()):
            return fee
        from_status = fee.status
        for name, value in new.items():
            setattr(fee, name, value)
        fee.recorded_by = actor
        fee.save(update_fields=[*new, "recorded_by", "updated_at"])
        _fee_history_add(fee, from_status=from_status, note=note, actor=actor)
        _log_change(actor=actor, what="fee recorded", student_ids=[fee.student_id])
        if notify and fee.is_settled:
            _notify_credit_eligible_for_fee(fee)
    logger.info("fee %s: fee_id=%s by user_id=%s", fee.status, fee.pk, actor.pk)
    return fee


def _notify_credit_eligible_for_fee(fee: Fee) -> None:
    """A settled fee may make the student's attained credits of that year eligible."""
    ids = list(
        Enrollment.objects.filter(
            student_id=fee.student_id,
            status=S.ATTAINED,
            section__articulation__consortium_id=fee.consortium_id,
            section__academic_year_id=fee.academic_year_id,
        ).values_list("pk", flat=True)
    )
    if ids:
        tasks.send_student_notifications.delay_on_commit("credit_eligible", ids)


def fees_record_many(*, actor, rows: list[dict], today: date | None = None) -> int:
    """Record many payments or waivers (the bulk upload): every row, or none."""
    changed = 0
    with transaction.atomic():
        for row in rows:
            before = Fee.objects.filter(pk=row["fee_id"]).values_list("updated_at", flat=True)
            stamp = before.first()
            fee = fee_record(actor=actor, today=today, **row)
            changed += int(fee.updated_at != stamp)
    return changed


# --- career specialists: help desk -------------------------------------------------------------


def _helpdesk_student(actor, student_id: int) -> StudentProfile:
    from accounts.permissions import Capability, get_in_scope, student_scope

    access = _access(actor)
    access.require(Capability.HELP_STUDENT_ACCOUNTS)
    return get_in_scope(
        StudentProfile.objects.select_related("user"), student_scope(access), pk=student_id
    )


def helpdesk_resend_verification(*, actor, student_id: int) -> None:
    """Send the student a fresh link to confirm their email address."""
    student = _helpdesk_student(actor, student_id)
    if student.user.email_verified:
        raise ValidationError(_("This student's email address is confirmed already."))
    if not student.user.is_active:
        raise ValidationError(_("This account is not active."))
    _log_change(actor=actor, what="confirmation email resent", student_ids=[student.pk])
    tasks.send_verification_email.delay_on_commit(student.user_id)
    logger.info("helpdesk verification resent: student_id=%s by user_id=%s", student.pk, actor.pk)


def helpdesk_password_reset(*, actor, student_id: int) -> None:
    """Email the student a link to choose a new password (to the address on file)."""
    student = _helpdesk_student(actor, student_id)
    if not student.user.is_active:
        raise ValidationError(_("This account is not active."))
    _log_change(actor=actor, what="password reset sent", student_ids=[student.pk])
    send_password_reset_email.delay_on_commit(student.user_id)
    logger.info("helpdesk password reset sent: student_id=%s by user_id=%s", student.pk, actor.pk)


def helpdesk_reveal_email(*, actor, student_id: int, request=None) -> str:
    """The student's login email, shown to staff helping the student in person. Logged."""
    from accesslog.services import access_log_record

    student = _helpdesk_student(actor, student_id)
    access = _access(actor)
    access_log_record(
        actor=actor,
        action="reveal",
        what="student login email",
        student_ids=[student.pk],
        role=Role.CAREER_SPECIALIST
        if access.has_role(Role.CAREER_SPECIALIST)
        else Role.CONSORTIUM_ADMIN,
        request=request,
    )
    return student.user.email


def enrollment_register_on_behalf(
    *,
    actor,
    student_id: int,
    section_id: int,
    override_reason: str = "",
    today: date | None = None,
) -> Enrollment:
    """Staff register a student for a class, recorded as done on their behalf.

    With `override_reason`, a consortium admin of the class's consortium registers after
    the registration window (a late registration, recorded as an override).
    """
    from accounts.permissions import Capability

    student = _helpdesk_student(actor, student_id)
    if student.merged_into_id:
        raise ValidationError(_("This record was merged into another student: use that one."))
    section = Section.objects.select_related("articulation").get(pk=section_id)
    override_reason = override_reason.strip()
    if override_reason:
        access = _access(actor)
        if not (
            access.can(Capability.OVERRIDE_RULES)
            and section.articulation.consortium_id in access.consortium_ids
        ):
            raise PermissionDenied
    with transaction.atomic():
        enrollment = enrollment_register(
            student=student,
            section=section,
            actor=actor,
            on_behalf=True,
            today=today,
            override_reason=override_reason,
        )
        tasks.send_registration_confirmation.delay_on_commit(student.pk, [enrollment.pk])
    return enrollment


# --- consortium admins: duplicate students -----------------------------------------------------


def _digits(phone: str) -> str:
    return "".join(c for c in phone if c.isdigit())


def _nearly_same_date(a: date, b: date) -> bool:
    """One of day, month or year typed wrong, or day and month swapped."""
    same = (a.year == b.year) + (a.month == b.month) + (a.day == b.day)
    swapped = a.year == b.year and a.month == b.day and a.day == b.month
    return same == 2 or swapped


def duplicate_scan(*, consortium_id: int) -> int:
    """Look for likely duplicate students of a consortium's schools and queue new pairs.

    Three checks: the sign-up matcher on students born the same day; the same legal
    name with a birth date one typo away; the same phone number and last name.
    Returns how many new pairs were queued. Pairs already queued are not added again.
    """
    from .identity import Identity, identities_match, last_names_match
    from .identity import normalize as normalize_name

    students = list(
        StudentProfile.objects.filter(
            high_school__district__consortium_id=consortium_id, merged_into__isnull=True
        ).values(
            "pk", "legal_first_name", "legal_middle_name", "legal_last_name", "birth_date", "phone"
        )
    )
    found: dict[tuple[int, int], str] = {}

    def add(a: dict, b: dict, kind: str) -> None:
        key = (max(a["pk"], b["pk"]), min(a["pk"], b["pk"]))  # newer record first
        found.setdefault(key, kind)

    def identity(s: dict) -> Identity:
        return Identity(
            first_name=s["legal_first_name"],
            middle_name=s["legal_middle_name"],
            last_name=s["legal_last_name"],
        )

    by_date: dict[date, list[dict]] = {}
    by_name: dict[str, list[dict]] = {}
    by_phone: dict[str, list[dict]] = {}
    for s in students:
        by_date.setdefault(s["birth_date"], []).append(s)
        name = normalize_name(f"{s['legal_first_name']} {s['legal_last_name']}")
        by_name.setdefault(name, []).append(s)
        if len(_digits(s["phone"])) >= 7:
            by_phone.setdefault(_digits(s["phone"])[-10:], []).append(s)
    for group in by_date.values():
        for i, a in enumerate(group):
            for b in group[i + 1 :]:
                kind = identities_match(identity(a), identity(b))
                if kind is not None:
                    add(a, b, kind)
    for group in by_name.values():
        for i, a in enumerate(group):
            for b in group[i + 1 :]:
                if a["birth_date"] != b["birth_date"] and _nearly_same_date(
                    a["birth_date"], b["birth_date"]
                ):
                    add(a, b, MatchKind.BIRTH_DATE)
    for group in by_phone.values():
        for i, a in enumerate(group):
            for b in group[i + 1 :]:
                if last_names_match(a["legal_last_name"], b["legal_last_name"]) and (
                    a["birth_date"] == b["birth_date"]
                    or _nearly_same_date(a["birth_date"], b["birth_date"])
                    or a["legal_first_name"] == b["legal_first_name"]
                ):
                    add(a, b, MatchKind.PHONE)
    if not found:
        return 0
    known = set()
    ids = {pk for pair in found for pk in pair}
    for a, b in PossibleDuplicate.objects.filter(student_id__in=ids).values_list(
        "student_id", "existing_student_id"
    ):
        known.add((a, b))
        known.add((b, a))
    new = [
        PossibleDuplicate(
            student_id=a,
            existing_student_id=b,
            match_kind=kind,
            source=PossibleDuplicate.Source.STAFF_CHECK,
        )
        for (a, b), kind in found.items()
        if (a, b) not in known
    ]
    PossibleDuplicate.objects.bulk_create(new, ignore_conflicts=True)
    logger.info("duplicate check: consortium_id=%s new_pairs=%s", consortium_id, len(new))
    return len(new)


def possible_duplicate_dismiss(*, actor, duplicate_id: int) -> PossibleDuplicate:
    """Staff checked a pair: two different people."""
    with transaction.atomic():
        pair = PossibleDuplicate.objects.select_for_update().get(pk=duplicate_id)
        if pair.status != PossibleDuplicate.Status.OPEN:
            raise ValidationError(_("This pair has been reviewed already."))
        pair.status = PossibleDuplicate.Status.DIFFERENT_PEOPLE
        pair.reviewed_at = timezone.now()
        pair.reviewed_by = actor
        pair.save(update_fields=["status", "reviewed_at", "reviewed_by"])
        _log_change(
            actor=actor,
            what="duplicate pair: different people",
            student_ids=[pair.student_id, pair.existing_student_id],
        )
    return pair


@dataclass
class MergeConflict:
    """Something the two records disagree on that staff must decide before a merge."""

    key: str
    message: str
    choices: list[tuple[str, str]] = field(default_factory=list)  # empty: cannot be decided


class MergeRefused(ValidationError):
    """The merge cannot go ahead as asked; `conflicts` lists what needs a decision."""

    def __init__(self, message: str, conflicts: list[MergeConflict]):
        self.conflicts = conflicts
        super().__init__(message, code="merge_conflict")


def merge_conflicts(*, survivor: StudentProfile, merged: StudentProfile) -> list[MergeConflict]:
    """What the two records disagree on: birth dates, two active places in one class,
    two paid fees for one consortium and year. Two queries."""
    conflicts: list[MergeConflict] = []
    keep_survivor = _("Keep the record being kept (SERS %(id)s)") % {"id": survivor.sers_id}
    keep_merged = _("Keep the merged record's (SERS %(id)s)") % {"id": merged.sers_id}
    if survivor.birth_date != merged.birth_date:
        conflicts.append(
            MergeConflict(
                "birth_date",
                _("The birth dates differ: %(a)s and %(b)s. Which one is right?")
                % {
                    "a": formats.date_format(survivor.birth_date),
                    "b": formats.date_format(merged.birth_date),
                },
                [
                    ("survivor", formats.date_format(survivor.birth_date)),
                    ("merged", formats.date_format(merged.birth_date)),
                ],
            )
        )
    active = {}
    for enrollment in (
        Enrollment.objects.filter(student__in=[survivor, merged])
        .exclude(status__in=INACTIVE_STATUSES)
        .select_related("section__articulation__high_school_course")
    ):
        active.setdefault(enrollment.section_id, {})[enrollment.student_id] = enrollment
    removable = (S.REGISTERED, S.CONFIRMED)
    for section_id, pair in sorted(active.items()):
        if len(pair) < 2:
            continue
        a, b = pair[survivor.pk], pair[merged.pk]
        choices = []
        if b.status in removable:
            choices.append(("survivor", keep_survivor))
        if a.status in removable:
            choices.append(("merged", keep_merged))
        conflicts.append(
            MergeConflict(
                f"class:{section_id}",
                _(
                    "Both records are in %(course)s (%(a)s and %(b)s). The place not kept is "
                    "removed as a duplicate."
                )
                % {
                    "course": a.section.articulation.high_school_course.title,
                    "a": a.get_status_display(),
                    "b": b.get_status_display(),
                },
                choices,
            )
        )
    fees = {}
    for fee in Fee.objects.filter(student__in=[survivor, merged]).select_related(
        "consortium", "academic_year"
    ):
        fees.setdefault((fee.consortium_id, fee.academic_year_id), {})[fee.student_id] = fee
    for (consortium_id, year_id), pair in sorted(fees.items()):
        if len(pair) == 2 and all(f.status == Fee.Status.PAID for f in pair.values()):
            a, b = pair[survivor.pk], pair[merged.pk]
            conflicts.append(
                MergeConflict(
                    f"fee:{consortium_id}:{year_id}",
                    _(
                        "Both records paid the %(consortium)s fee for %(year)s (receipts "
                        "%(a)s and %(b)s). Keep one payment; the other is noted for a refund."
                    )
                    % {
                        "consortium": a.consortium.name,
                        "year": a.academic_year.code,
                        "a": a.receipt_number or "-",
                        "b": b.receipt_number or "-",
                    },
                    [("survivor", keep_survivor), ("merged", keep_merged)],
                )
            )
    return conflicts


FEE_RANK = {Fee.Status.PAID: 2, Fee.Status.WAIVED: 1, Fee.Status.UNPAID: 0}


def students_merge(
    *,
    actor,
    survivor_id: int,
    merged_id: int,
    reason: str,
    decisions: dict[str, str] | None = None,
) -> StudentMerge:
    """Merge two records of one student into `survivor`.

    Enrollments (with their history), fees, identity changes and access-log links move
    to the survivor; the other record is marked merged into it and its account is
    deactivated and signed out. Every conflict (merge_conflicts) needs an explicit
    decision in `decisions`, or nothing happens (MergeRefused). The merge is recorded
    with the decisions and shown on both SERS ids.
    """
    from accesslog.models import AccessLogStudent
    from accesslog.services import access_log_record
    from accounts.permissions import Capability, student_scope
    from accounts.security import user_sessions_end

    decisions = {k: v for k, v in (decisions or {}).items() if v}
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Say why these two records are the same student.")})
    if survivor_id == merged_id:
        raise ValidationError(_("Choose two different records."))
    access = _access(actor)
    access.require(Capability.MERGE_STUDENTS)
    with transaction.atomic():
        profiles = {
            p.pk: p
            for p in StudentProfile.objects.select_for_update(of=("self",))
            .filter(pk__in=sorted([survivor_id, merged_id]))
            .filter(student_scope(access))
            .order_by("pk")
        }
        if len(profiles) != 2:
            raise Http404
        survivor, merged = profiles[survivor_id], profiles[merged_id]
        if survivor.merged_into_id or merged.merged_into_id:
            raise ValidationError(_("One of these records was merged already."))
        conflicts = merge_conflicts(survivor=survivor, merged=merged)
        undecided = [
            c for c in conflicts if decisions.get(c.key) not in {value for value, _l in c.choices}
        ]
        if undecided:
            raise MergeRefused(
                _("Nothing was merged: decide each conflict below first."), undecided
            )
        now = timezone.now()
        label = _("Merge of SERS %(merged)s into SERS %(survivor)s") % {
            "merged": merged.sers_id,
            "survivor": survivor.sers_id,
        }
        summary: dict[str, object] = {}
        decided = []
        for conflict in conflicts:
            choice = decisions[conflict.key]
            decided.append(
                {
                    "conflict": conflict.key,
                    "message": str(conflict.message),
                    "decision": choice,
                    "label": str(dict(conflict.choices)[choice]),
                }
            )
        # 1. Birth date: the survivor's, unless staff chose the other one.
        if decisions.get("birth_date") == "merged":
            IdentityChange.objects.create(
                student=survivor,
                old_first_name=survivor.legal_first_name,
                old_middle_name=survivor.legal_middle_name,
                old_last_name=survivor.legal_last_name,
                old_birth_date=survivor.birth_date,
                new_first_name=survivor.legal_first_name,
                new_middle_name=survivor.legal_middle_name,
                new_last_name=survivor.legal_last_name,
                new_birth_date=merged.birth_date,
                reason=f"{label}: {reason}",
                status=IdentityChange.Status.APPROVED,
                requested_by=actor,
                decided_by=actor,
                decided_at=now,
            )
            survivor.birth_date = merged.birth_date
            survivor.save(update_fields=["birth_date", "updated_at"])
        # 2. Two places in one class: the one not kept is removed as a duplicate.
        for conflict in conflicts:
            if not conflict.key.startswith("class:"):
                continue
            section_id = int(conflict.key.split(":")[1])
            drop_student = merged if decisions[conflict.key] == "survivor" else survivor
            drop = (
                Enrollment.objects.filter(student=drop_student, section_id=section_id)
                .exclude(status__in=INACTIVE_STATUSES)
                .get()
            )
            enrollment_change_status(
                enrollment_id=drop.pk,
                to_status=S.REMOVED,
                actor=actor,
                reason=f"{REMOVAL_REASONS['duplicate']} ({label})",
            )
        # 3. Enrollments move, each with a history row saying so.
        moved = list(Enrollment.objects.filter(student=merged).values_list("pk", "status"))
        Enrollment.objects.filter(student=merged).update(student=survivor)
        EnrollmentStatusChange.objects.bulk_create(
            EnrollmentStatusChange(
                enrollment_id=pk,
                from_status=status,
                to_status=status,
                grade="",
                changed_by=actor,
                reason=label,
                kind=EnrollmentStatusChange.Kind.MERGE,
            )
            for pk, status in moved
        )
        summary["enrollments"] = [pk for pk, _status in moved]
        # 4. Fees: one per consortium and year, the best-settled one kept.
        summary["fees"] = _merge_fees(
            actor=actor, survivor=survivor, merged=merged, decisions=decisions, label=label
        )
        # 5. Identity changes (a pending one of the merged record is moot now).
        IdentityChange.objects.filter(student=merged, status=IdentityChange.Status.PENDING).update(
            status=IdentityChange.Status.CANCELLED, decision_note=label
        )
        summary["identity_changes"] = IdentityChange.objects.filter(student=merged).update(
            student=survivor
        )
        # 6. Access-log links (an entry that already names the survivor keeps both).
        summary["access_log_links"] = (
            AccessLogStudent.objects.filter(student=merged)
            .exclude(entry__in=AccessLogStudent.objects.filter(student=survivor).values("entry"))
            .update(student=survivor)
        )
        # 7. Duplicate pairs: this one is settled; others of the merged record follow it.
        PossibleDuplicate.objects.filter(
            Q(student=merged, existing_student=survivor)
            | Q(student=survivor, existing_student=merged)
        ).update(status=PossibleDuplicate.Status.MERGED, reviewed_at=now, reviewed_by=actor)
        survivor_pairs = PossibleDuplicate.objects.filter(
            Q(student=survivor) | Q(existing_student=survivor)
        )
        PossibleDuplicate.objects.filter(
            student=merged, status=PossibleDuplicate.Status.OPEN
        ).exclude(existing_student__in=survivor_pairs.values("existing_student")).exclude(
            existing_student=survivor
        ).update(student=survivor)
        PossibleDuplicate.objects.filter(
            existing_student=merged, status=PossibleDuplicate.Status.OPEN
        ).exclude(student__in=survivor_pairs.values("student")).exclude(student=survivor).update(
            existing_student=survivor
        )
        # 8. The merged record points at the survivor; its account is closed.
        merged.merged_into = survivor
        merged.save(update_fields=["merged_into", "updated_at"])
        User.objects.filter(pk=merged.user_id).update(is_active=False)
        transaction.on_commit(lambda: user_sessions_end(user_id=merged.user_id))
        record = StudentMerge.objects.create(
            survivor=survivor,
            merged=merged,
            merged_by=actor,
            reason=reason,
            decisions=decided,
            summary=summary,
        )
        access_log_record(
            actor=actor,
            action="change",
            what="merge of duplicate student records",
            student_ids=[survivor.pk, merged.pk],
            role="consortium_admin",
        )
        pagecache.students_changed(  # enrollments moved with an UPDATE: no signal
            [survivor.pk, merged.pk],
            section_ids=Enrollment.objects.filter(student=survivor).values_list(
                "section_id", flat=True
            ),
        )
    logger.info(
        "students merged: merge_id=%s merged=%s survivor=%s by user_id=%s",
        record.pk,
        merged.pk,
        survivor.pk,
        actor.pk,
    )
    return record


def _fee_history_add(fee, *, note: str, actor, from_status: str | None = None) -> None:
    """The fee's history line for what was just saved on it (from `from_status`; without
    it, a step such as a merge that leaves the status as it was)."""
    FeeChange.objects.create(
        fee=fee,
        from_status=fee.status if from_status is None else from_status,
        to_status=fee.status,
        paid_amount=fee.paid_amount,
        paid_on=fee.paid_on,
        receipt_number=fee.receipt_number,
        waiver_reason=fee.waiver_reason,
        note=note,
        changed_by=actor,
    )


def _merge_fees(*, actor, survivor, merged, decisions, label) -> list[dict]:
    """Move the merged record's fees; where both have one for a consortium and year, keep
    one (paid over waived over unpaid, or staff's choice between two payments) and carry
    the other's history and details into it."""
    result = []
    survivor_fees = {
        (f.consortium_id, f.academic_year_id): f for f in Fee.objects.filter(student=survivor)
    }
    for fee in Fee.objects.filter(student=merged).select_for_update():
        key = (fee.consortium_id, fee.academic_year_id)
        other = survivor_fees.get(key)
        if other is None:
            Fee.objects.filter(pk=fee.pk).update(student=survivor)
            _fee_history_add(fee, note=label, actor=actor)
            result.append({"fee": fee.pk, "action": "moved"})
            continue
        if fee.status == other.status == Fee.Status.PAID:
            keep_merged = decisions.get(f"fee:{key[0]}:{key[1]}") == "merged"
        else:
            keep_merged = FEE_RANK[fee.status] > FEE_RANK[other.status]
        keep, drop = (fee, other) if keep_merged else (other, fee)
        dropped = _(
            "%(label)s: combined with fee %(id)s (%(status)s, $%(amount)s%(receipt)s%(waiver)s)."
        ) % {
            "label": label,
            "id": drop.pk,
            "status": drop.get_status_display(),
            "amount": drop.paid_amount if drop.paid_amount is not None else drop.amount,
            "receipt": f", receipt {drop.receipt_number}" if drop.receipt_number else "",
            "waiver": f", {drop.waiver_reason}" if drop.waiver_reason else "",
        }
        if drop.status == Fee.Status.PAID:
            dropped += " " + _("Second payment: refund due.")
        FeeChange.objects.filter(fee=drop).update(fee=keep)
        drop.delete()
        if keep_merged:
            Fee.objects.filter(pk=keep.pk).update(student=survivor)
        _fee_history_add(keep, note=dropped, actor=actor)
        result.append(
            {
                "fee": keep.pk,
                "action": "combined",
                "dropped_fee": drop.pk if drop.pk else None,
                "dropped_status": drop.status,
                "refund_due": drop.status == Fee.Status.PAID,
            }
        )
    return result


# --- notifications to students -----------------------------------------------------------------

# event → (is the enrollment still in the state the email announces?, templates)
NOTIFICATION_TEMPLATES = {
    "grade_posted": "emails/notify_grade_posted",
    "credit_eligible": "emails/notify_credit_eligible",
    "transcribed": "emails/notify_transcribed",
}


def student_notify(*, event: str, enrollment_id: int) -> bool:
    """Email the student about their enrollment, once per enrollment and event.

    Checks again that what the email says is still true (a grade posted, credit
    eligible for transcription, on the transcript); otherwise sends nothing.
    """
    from .selectors import eligible_for_transcription_q

    if event not in NOTIFICATION_TEMPLATES:
        raise ValueError(f"unknown notification {event!r}")
    queryset = Enrollment.objects.filter(pk=enrollment_id, student__user__is_active=True)
    if event == "grade_posted":
        queryset = queryset.filter(status__in=(S.ATTAINED, S.NOT_ATTAINED, S.TRANSCRIBED))
    elif event == "credit_eligible":
        queryset = queryset.filter(eligible_for_transcription_q())
    else:
        queryset = queryset.filter(status=S.TRANSCRIBED)
    enrollment = (
        queryset.select_related(
            "student__user",
            "section__articulation__high_school_course",
            "section__articulation__college",
            "section__academic_year",
        )
        .prefetch_related("section__articulation__college_courses")
        .first()
    )
    if enrollment is None:
        return False
    profile = enrollment.student
    template = NOTIFICATION_TEMPLATES[event]
    return email_send_once(
        user=profile.user,
        kind=f"notify_{event}",
        dedupe_key=f"{event}:{enrollment.pk}",
        subject_template=f"{template}_subject.txt",
        body_template=f"{template}_body.txt",
        context={"profile": profile, "enrollment": enrollment},
        language=profile.language,
    )


def credit_eligible_sweep(*, today: date | None = None) -> int:
    """Tell students whose credit became eligible some other way (an email confirmed late,
    a $0 policy) — each once. For the current and the previous school year."""

    from .selectors import eligible_for_transcription_q

    year = academic_year_current(today=_today(today))
    if year is None:
        return 0
    years = AcademicYear.objects.filter(start_date__lte=year.start_date).order_by("-start_date")[:2]
    ids = list(
        Enrollment.objects.filter(eligible_for_transcription_q(), section__academic_year__in=years)
        .annotate(
            key=Concat(Value("credit_eligible:"), Cast("pk", CharField()), output_field=CharField())
        )
        .filter(~Exists(SentEmail.objects.filter(dedupe_key=OuterRef("key"))))
        .values_list("pk", flat=True)
    )
    sent = sum(student_notify(event="credit_eligible", enrollment_id=pk) for pk in ids)
    return sent


# How many days before each deadline the reminders go out.
REMINDER_DAYS_BEFORE = 7


def deadline_reminders_send(*, today: date | None = None) -> dict[str, int]:
    """Reminders before each consortium's deadlines, sent once each (a re-run sends nothing
    new; a moved deadline is a new reminder):

    - registration closing: students of the consortium's schools still in high school
      with no class of the consortium this year;
    - payment: students with an unpaid fee and a class this year;
    - grading: teachers with a class not yet complete.
    """

    today = _today(today)
    horizon = today + timedelta(days=REMINDER_DAYS_BEFORE)
    sent = {"registration": 0, "payment": 0, "grading": 0}
    policies = ConsortiumPolicy.objects.select_related("consortium", "academic_year")
    already = set()

    def once(user, kind, key, template, context, language=None):
        if key in already:
            return
        if email_send_once(
            user=user,
            kind=kind,
            dedupe_key=key,
            subject_template=f"{template}_subject.txt",
            body_template=f"{template}_body.txt",
            context=context,
            language=language,
        ):
            sent[kind.removeprefix("reminder_")] += 1

    def claimed(prefix: str) -> None:
        already.update(
            SentEmail.objects.filter(dedupe_key__startswith=prefix).values_list(
                "dedupe_key", flat=True
            )
        )

    for policy in policies.filter(
        registration_closes__gte=today,
        registration_closes__lte=horizon,
        registration_opens__lte=today,
    ):
        prefix = f"reminder:registration:{policy.pk}:{policy.registration_closes}:"
        claimed(prefix)
        registered = Enrollment.objects.filter(
            section__academic_year=policy.academic_year,
            section__articulation__consortium=policy.consortium,
        ).exclude(status__in=INACTIVE_STATUSES)
        students = (
            StudentProfile.objects.filter(
                high_school__district__consortium=policy.consortium,
                merged_into__isnull=True,
                user__is_active=True,
                graduation_year__gte=policy.academic_year.end_date.year,
            )
            .exclude(pk__in=registered.values("student_id"))
            .select_related("user")
        )
        for student in students.iterator(chunk_size=500):
            once(
                student.user,
                "reminder_registration",
                f"{prefix}{student.pk}",
                "emails/notify_registration_reminder",
                {"profile": student, "policy": policy},
                student.language,
            )
    for policy in policies.filter(payment_deadline__gte=today, payment_deadline__lte=horizon):
        prefix = f"reminder:payment:{policy.pk}:{policy.payment_deadline}:"
        claimed(prefix)
        fees = (
            Fee.objects.filter(
                consortium=policy.consortium,
                academic_year=policy.academic_year,
                status=Fee.Status.UNPAID,
                amount__gt=0,
                student__merged_into__isnull=True,
                student__user__is_active=True,
                student__enrollments__section__academic_year=policy.academic_year,
                student__enrollments__section__articulation__consortium=policy.consortium,
            )
            .exclude(student__enrollments__status__in=INACTIVE_STATUSES)
            .distinct()
            .select_related("student__user", "consortium")
        )
        for fee in fees.iterator(chunk_size=500):
            once(
                fee.student.user,
                "reminder_payment",
                f"{prefix}{fee.pk}",
                "emails/notify_payment_reminder",
                {"profile": fee.student, "policy": policy, "fee": fee},
                fee.student.language,
            )
    for policy in policies.filter(grading_deadline__gte=today, grading_deadline__lte=horizon):
        prefix = f"reminder:grading:{policy.pk}:{policy.grading_deadline}:"
        claimed(prefix)
        sections = (
            Section.objects.filter(
                academic_year=policy.academic_year,
                articulation__consortium=policy.consortium,
                completed_at__isnull=True,
                teacher__is_active=True,
                enrollments__status__in=GRADABLE_STATUSES,
            )
            .distinct()
            .select_related("teacher", "articulation__high_school_course", "high_school")
            .order_by("teacher_id", "pk")
        )
        by_teacher: dict[int, list[Section]] = {}
        for section in sections:
            by_teacher.setdefault(section.teacher_id, []).append(section)
        for sections_of_teacher in by_teacher.values():
            teacher = sections_of_teacher[0].teacher
            once(
                teacher,
                "reminder_grading",
                f"{prefix}{teacher.pk}",
                "emails/staff_grading_reminder",
                {"policy": policy, "sections": sections_of_teacher},
            )
    logger.info("deadline reminders: %s", sent)
    return sent
