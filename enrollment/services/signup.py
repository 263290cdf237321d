"""Student accounts: sign-up, email verification, SERS ids, contact and identity
changes, and the emails that go with them."""

import logging
import secrets
from datetime import date

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.signing import BadSignature, SignatureExpired, TimestampSigner
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.services import email_send_once, email_sending, user_send_welcome_email
from accounts.tasks import send_password_reset_email
from enrollment.selectors.student import identity_matches, student_has_attained_credit
from organisations.models import HighSchool
from sers import bulk

from .. import tasks
from ..models import (
    IdentityChange,
    PossibleDuplicate,
    StudentProfile,
)
from .transitions import change_log_record

logger = logging.getLogger(__name__)


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

    `matches` are IdentityMatch rows, strongest first. The student may always say none of
    them is theirs and go on (`can_continue`: nobody is stopped for good); `strong` is
    True when one is almost surely the same person (the same names and birth date).
    """

    def __init__(self, *, matches: list):
        self.matches = matches
        self.can_continue = True
        self.strong = any(match.strong for match in matches)
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

    A sign-up that resembles existing students (enrollment.identity: the names, birth
    date, email, phone and school) is refused until the student confirms they are a
    different person; it then goes on, and each pair is recorded with its reasons for
    staff review (PossibleDuplicate). The verification email goes out after commit.

    An address that already has an account creates nothing and returns None; the
    account's owner gets a notice instead (sign in, or reset the password). The person
    signing up is told the same as for a new account, so sign-up never reveals which
    addresses have an account.
    """

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
            email=email,
            phone=phone,
            high_school_id=high_school.pk,
        )
        if matches and not different_person_confirmed:
            raise DuplicateIdentity(matches=matches)
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
            possible_duplicate(profile, match, PossibleDuplicate.Source.SIGN_UP)
            for match in matches
        )
        tasks.send_verification_email.delay_on_commit(user.pk)
    logger.info("student signed up: student_id=%s possible_duplicates=%s", profile.pk, len(matches))
    return profile


def possible_duplicate(profile: StudentProfile, match, source: str) -> PossibleDuplicate:
    """The queue row for a new or corrected record that resembles `match.student`."""
    return PossibleDuplicate(
        student=profile,
        existing_student_id=match.student.pk,
        match_kind=match.kind,
        reasons=list(match.comparison.reasons),
        score=match.comparison.score,
        source=source,
    )


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
        subject_template="enrollment/emails/student_sign_up_attempt_subject.txt",
        body_template="enrollment/emails/student_sign_up_attempt_body.txt",
        context={
            "profile": profile,
            "login_path": reverse("accounts:login"),
            "reset_path": reverse("accounts:password_reset"),
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
        subject = " ".join(
            render_to_string("enrollment/emails/student_verify_subject.txt", context).split()
        )
        body = render_to_string("enrollment/emails/student_verify_body.txt", context)
    with email_sending(kind="verify_email", user=user):
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
        subject_template="enrollment/emails/student_welcome_subject.txt",
        body_template="enrollment/emails/student_welcome_body.txt",
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
        change_log_record(actor=actor, what="contact details", student_ids=[profile.pk])
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
            render_to_string("enrollment/emails/student_email_changed_subject.txt", context).split()
        )
        body = render_to_string("enrollment/emails/student_email_changed_body.txt", context)
    try:
        with email_sending(kind="email_changed", user=user):
            send_mail(subject, body, None, [old_email])
    except OSError:
        return  # recorded; the change itself stands
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
            change_log_record(
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
        bulk.bulk_update(
            User.objects.filter(pk=profile.user_id),
            first_name=profile.legal_first_name[:150],
            last_name=profile.legal_last_name[:150],
        )
        change_log_record(actor=actor, what="legal identity corrected", student_ids=[profile.pk])
        matches = identity_matches(
            first_name=profile.legal_first_name,
            middle_name=profile.legal_middle_name,
            last_name=profile.legal_last_name,
            birth_date=profile.birth_date,
            email=profile.user.email,
            phone=profile.phone,
            high_school_id=profile.high_school_id,
            exclude_student_id=profile.pk,
        )
        PossibleDuplicate.objects.bulk_create(
            [
                possible_duplicate(profile, match, PossibleDuplicate.Source.IDENTITY_CHANGE)
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
        change_log_record(
            actor=student.user, what="legal identity request cancelled", student_ids=[student.pk]
        )
    return change
