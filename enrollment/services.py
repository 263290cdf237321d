"""Every write to students, enrollments and fees, and the business rules behind them."""

import hashlib
import logging
import secrets
from datetime import date

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.signing import BadSignature, SignatureExpired, TimestampSigner
from django.db import IntegrityError, transaction
from django.dispatch import Signal
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from articulations.models import Articulation
from consortia.models import AcademicYear, ConsortiumPolicy, HighSchool, User
from consortia.selectors import academic_year_current, policy_for
from consortia.services import email_send_once, user_send_welcome_email
from consortia.tasks import send_password_reset_email

from . import tasks
from .identity import blocks_sign_up
from .models import (
    GRADED_STATUSES,
    INACTIVE_STATUSES,
    Enrollment,
    EnrollmentStatus,
    EnrollmentStatusChange,
    Fee,
    IdentityChange,
    PossibleDuplicate,
    Section,
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

# Sent after the transaction that changed a status commits (notifications hang off it).
enrollment_status_changed = Signal()


class TransitionNotAllowed(ValidationError):
    """The enrollment cannot move from its current status to the one asked for."""


def enrollment_change_status(
    *,
    enrollment_id: int,
    to_status: str,
    actor,
    reason: str = "",
    grade: str | None = None,
    transcribed_on: date | None = None,
    college_student_id: str | None = None,
) -> Enrollment:
    """Move an enrollment to `to_status`: the one function that writes `status`.

    Locks the row, checks the transitions table, saves only the changed fields,
    writes a history row and announces the change once the transaction commits.
    Asking for the status it already has (with nothing else changing) does nothing.
    """
    with transaction.atomic():
        enrollment = Enrollment.objects.select_for_update().get(pk=enrollment_id)
        from_status = enrollment.status
        changes: dict[str, object] = {}
        if grade is not None and grade != enrollment.grade:
            changes["grade"] = grade
        if transcribed_on is not None and transcribed_on != enrollment.transcribed_on:
            changes["transcribed_on"] = transcribed_on
        if college_student_id is not None and college_student_id != enrollment.college_student_id:
            changes["college_student_id"] = college_student_id

        if to_status == from_status and not changes:
            return enrollment
        if to_status not in ALLOWED_TRANSITIONS.get(from_status, ()):
            raise TransitionNotAllowed(
                _("This enrollment is %(from)s and cannot become %(to)s.")
                % {"from": S(from_status).label, "to": _status_label(to_status)},
                code="transition_not_allowed",
            )
        reason = reason.strip()
        if (from_status, to_status) in REASON_REQUIRED and not reason:
            raise ValidationError(_("Give a reason for this change."), code="reason_required")
        # Say what is missing instead of failing on the database's check constraints.
        if to_status in GRADED_STATUSES and not changes.get("grade", enrollment.grade):
            raise ValidationError(_("Enter a grade."), code="grade_required")
        if to_status == S.TRANSCRIBED and not changes.get(
            "transcribed_on", enrollment.transcribed_on
        ):
            raise ValidationError(
                _("Enter the date the credit was posted to the transcript."),
                code="transcribed_on_required",
            )

        now = timezone.now()
        if "grade" in changes:
            changes["graded_at"] = now
            changes["graded_by"] = actor
        if to_status == S.ATTAINED and from_status == S.TRANSCRIBED:
            changes["transcribed_on"] = None  # undoing a transcription clears its date
        for name, value in changes.items():
            setattr(enrollment, name, value)
        enrollment.status = to_status
        enrollment.status_changed_at = now
        enrollment.save(update_fields=["status", "status_changed_at", *changes])
        EnrollmentStatusChange.objects.create(
            enrollment=enrollment,
            from_status=from_status,
            to_status=to_status,
            grade=enrollment.grade if to_status in GRADED_STATUSES else "",
            changed_by=actor,
            reason=reason,
        )
        transaction.on_commit(
            lambda: enrollment_status_changed.send(
                sender=Enrollment,
                enrollment_id=enrollment.pk,
                from_status=from_status,
                to_status=to_status,
            )
        )
    return enrollment


def _status_label(status: str) -> str:
    return S(status).label if status in S.values else repr(status)


def enrollment_record_created(*, enrollment: Enrollment, actor, reason: str = "") -> None:
    """The first history row of a new enrollment (from nothing to its initial status)."""
    EnrollmentStatusChange.objects.create(
        enrollment=enrollment,
        from_status="",
        to_status=enrollment.status,
        changed_by=actor,
        reason=reason,
    )


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
) -> StudentProfile:
    """Create a student's account and profile, unless they already have one.

    A SAME or VARIANT identity match (enrollment.identity) refuses the sign-up; a CLOSE
    one refuses it until the student confirms they are a different person, and is then
    recorded for staff review. The verification email goes out after commit.
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
        if User.objects.filter(email__iexact=email).exists():
            raise ValidationError(
                {"email": _("An account already uses this email address. Sign in instead.")}
            )
        try:
            with transaction.atomic():
                user = User.objects.create_user(
                    email=email,
                    password=password,
                    first_name=identity["legal_first_name"][:150],
                    last_name=identity["legal_last_name"][:150],
                )
        except IntegrityError:
            raise ValidationError(
                {"email": _("An account already uses this email address. Sign in instead.")}
            ) from None
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


def enrollment_register(
    *,
    student: StudentProfile,
    section: Section,
    actor,
    on_behalf: bool = False,
    today: date | None = None,
) -> Enrollment:
    """Register a student for a class, at the initial status, with its first history row.

    Rules: a verified email, the current school year only, an active agreement valid
    for the year, an active teacher account, inside the consortium's registration
    window, and not already registered for the class or another class of the same
    course (the database's one-active-enrollment constraint backs the last one). Also
    creates the student's fee for that consortium and year if missing.
    """
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
        if refusal:
            raise RegistrationRefused(refusal[1], code=refusal[0])
        active = Enrollment.objects.filter(student=student).exclude(status__in=INACTIVE_STATUSES)
        if active.filter(section=section).exists():
            raise RegistrationRefused(
                _("You are already registered for this class."), code="duplicate"
            )
        if active.filter(
            section__articulation=articulation, section__academic_year=section.academic_year_id
        ).exists():
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
        enrollment_record_created(
            enrollment=enrollment,
            actor=actor,
            reason=_("Registered by staff for the student.") if on_behalf else "",
        )
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
        return enrollment_change_status(
            enrollment_id=enrollment_id,
            to_status=EnrollmentStatus.WITHDRAWN,
            actor=actor,
            reason=reason.strip() or _("Withdrawn by the student."),
        )
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
