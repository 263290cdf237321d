"""Writes for organisations: each consortium's policy per school year, its public
settings, and its teachers (invitations, activation, schools, deactivation); and state
staff's consortia, colleges, districts and high schools."""

import datetime
import logging
import re

from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.encoding import force_bytes
from django.utils.http import base36_to_int, urlsafe_base64_encode
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import AccountState, Role, RoleMembership, User
from accounts.permissions import Capability, access_for
from accounts.security import user_sessions_end
from accounts.services import email_send_once
from sers import bulk

from . import tasks
from .grades import GradeError, normalize
from .models import AcademicYear, College, Consortium, ConsortiumPolicy, District, HighSchool
from .selectors import academic_year_current

logger = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------
# Teacher invitations: an account that stays inactive until the teacher opens the link
# in their invitation and chooses a password. Until then their classes take no
# registrations (enrollment treats an inactive teacher as "not active").

TEACHER_INVITATION_DAYS = 14


class TeacherActivationTokenGenerator(PasswordResetTokenGenerator):
    """Activation links that expire after TEACHER_INVITATION_DAYS and work once.

    The hash covers the password and the active flag, both of which activation changes.
    """

    key_salt = "sers.consortia.TeacherActivationTokenGenerator"

    def _make_hash_value(self, user, timestamp):
        return f"{user.pk}{user.password}{user.is_active}{timestamp}{user.email}"

    def check_token(self, user, token):
        if not (user and token):
            return False
        try:
            timestamp = base36_to_int(token.split("-")[0])
        except ValueError:
            return False
        age = self._num_seconds(self._now()) - timestamp
        if not 0 <= age <= TEACHER_INVITATION_DAYS * 24 * 60 * 60:
            return False
        return any(
            constant_time_compare(self._make_token_with_timestamp(user, timestamp, secret), token)
            for secret in [self.secret, *self.secret_fallbacks]
        )


teacher_activation_token = TeacherActivationTokenGenerator()


def teacher_invitation_pending(user: User) -> bool:
    """Invited and not yet activated (a deactivated account is not an invitation)."""
    return AccountState.of(user) == AccountState.INVITED


def _consortium_school(actor, high_school_id: int) -> HighSchool:
    access = access_for(actor)
    if not access.can(Capability.MANAGE_TEACHERS):
        raise PermissionDenied
    school = (
        HighSchool.objects.select_related("district")
        .filter(pk=high_school_id, district__consortium_id__in=access.consortium_ids)
        .first()
    )
    if school is None:
        raise ValidationError({"high_school": _("Choose a school of your consortium.")})
    return school


def teacher_invite(
    *, actor, email: str, first_name: str, last_name: str, high_school_id: int
) -> User:
    """Give a teacher an account at a school and email them an activation link.

    A new address gets an inactive account with no password and the teacher role at the
    school. An address that already belongs to a teacher of the same consortium gets the
    role at this school too (and, while still invited, a fresh link). Any other existing
    account is refused: roles are not added to someone else's account from here.
    """
    school = _consortium_school(actor, high_school_id)
    email = User.objects.normalize_email(email.strip()).lower()
    first_name, last_name = first_name.strip(), last_name.strip()
    if not first_name or not last_name:
        raise ValidationError({"last_name": _("Enter the teacher's first and last name.")})
    with transaction.atomic():
        user = User.objects.select_for_update().filter(email__iexact=email).first()
        if user is None:
            user = User.objects.create_user(
                email=email, first_name=first_name, last_name=last_name, is_active=False
            )
            created = True
        else:
            created = False
            teaches_in_consortium = RoleMembership.objects.filter(
                user=user,
                role=Role.TEACHER,
                high_school__district__consortium_id=school.district.consortium_id,
            ).exists()
            if not teaches_in_consortium:
                raise ValidationError(
                    {
                        "email": _(
                            "This address belongs to an existing account that is not a teacher "
                            "in your consortium. Ask state staff to give it the teacher role."
                        )
                    }
                )
        RoleMembership.objects.get_or_create(user=user, role=Role.TEACHER, high_school=school)
        if teacher_invitation_pending(user):
            _queue_invitation(user)
    logger.info(
        "teacher invited: user_id=%s new=%s school_id=%s by user_id=%s",
        user.pk,
        created,
        school.pk,
        actor.pk,
    )
    return user


def _queue_invitation(user: User) -> None:
    # One email per invitation: a retried job reuses the stamp, a new invitation does not.
    stamp = int(timezone.now().timestamp() * 1000)
    tasks.send_teacher_invitation.delay_on_commit(user.pk, stamp)


def teacher_invitation_resend(*, actor, user_id: int) -> User:
    """A fresh activation link for an invited teacher of the actor's consortium."""
    access = access_for(actor)
    if not access.can(Capability.MANAGE_TEACHERS):
        raise PermissionDenied
    user = (
        User.objects.filter(
            pk=user_id,
            memberships__role=Role.TEACHER,
            memberships__high_school__district__consortium_id__in=access.consortium_ids,
        )
        .distinct()
        .first()
    )
    if user is None:
        raise Http404
    if not teacher_invitation_pending(user):
        raise ValidationError(_("This account is already active."), code="already_active")
    with transaction.atomic():
        _queue_invitation(user)
    logger.info("teacher invitation resent: user_id=%s by user_id=%s", user.pk, actor.pk)
    return user


def teacher_send_invitation_email(*, user_id: int, stamp: int) -> bool:
    """The invitation email with its activation link (skipped once the account is active)."""
    user = User.objects.filter(pk=user_id).first()
    if user is None or not teacher_invitation_pending(user):
        return False
    school_names = list(
        RoleMembership.objects.filter(user=user, role=Role.TEACHER)
        .order_by("high_school__name")
        .values_list("high_school__name", flat=True)
    )
    return email_send_once(
        user=user,
        kind="teacher_invitation",
        dedupe_key=f"teacher_invitation:{user.pk}:{stamp}",
        subject_template="organisations/emails/teacher_invitation_subject.txt",
        body_template="organisations/emails/teacher_invitation_body.txt",
        context={
            "uid": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": teacher_activation_token.make_token(user),
            "schools": school_names,
            "days": TEACHER_INVITATION_DAYS,
        },
    )


def teacher_activate(*, user_id: int, password: str) -> User:
    """Activate an invited teacher's account with the password they chose.

    Opening the link proved they read that mailbox, so the address counts as verified.
    """
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user_id)
        if not teacher_invitation_pending(user):
            raise ValidationError(_("This account is already active."), code="already_active")
        user.set_password(password)
        user.is_active = True
        user.email_verified_at = user.email_verified_at or timezone.now()
        user.save(update_fields=["password", "is_active", "email_verified_at"])
    logger.info("teacher activated: user_id=%s", user.pk)
    return user


def consortium_set_public_teacher_names(*, actor, consortium_id: int, show: bool) -> Consortium:
    """Whether the public articulation pages name the teachers (off unless the consortium
    chooses it)."""
    access = access_for(actor)
    if not access.can(Capability.MANAGE_POLICY):
        raise PermissionDenied
    if consortium_id not in access.consortium_ids:
        raise Http404
    with transaction.atomic():
        consortium = Consortium.objects.select_for_update().get(pk=consortium_id)
        if consortium.show_teacher_names_publicly != show:
            consortium.show_teacher_names_publicly = show
            consortium.save(update_fields=["show_teacher_names_publicly"])
            logger.info(
                "consortium public teacher names=%s: consortium_id=%s by user_id=%s",
                show,
                consortium.pk,
                actor.pk,
            )
    return consortium


# ---------------------------------------------------------------------------------------
# Consortium admins: the policy of each school year, and the consortium's teachers.
# Every change is recorded in the admin log (django.contrib.admin LogEntry), which the
# pages show as the object's history, with who changed what and when.

_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def _record(actor, obj, *, added: bool, message: str) -> None:
    LogEntry.objects.log_actions(
        user_id=actor.pk,
        queryset=[obj],
        action_flag=ADDITION if added else CHANGE,
        change_message=message,
        single_object=True,
    )


def _require_consortium(actor, capability, consortium_id: int):
    access = access_for(actor)
    if not access.can(capability):
        raise PermissionDenied
    if consortium_id not in access.consortium_ids:
        raise Http404
    return access


PAYMENT_INSTRUCTIONS_MAX = 4000


def consortium_payment_instructions_save(
    *, actor, consortium_id: int, english: str, spanish: str
) -> tuple[Consortium, list[str]]:
    """The consortium's fee instructions, in English and in Spanish, as students see them
    on their dashboard and in payment reminders. Either may be empty: a student reading
    Spanish sees the English text until there is a Spanish one. Returns the consortium and
    which versions changed, which are recorded in its history."""
    _require_consortium(actor, Capability.MANAGE_POLICY, consortium_id)
    values = {"payment_instructions": english, "payment_instructions_es": spanish}
    errors = {
        name: _("Keep the instructions under %(max)s characters.")
        % {"max": PAYMENT_INSTRUCTIONS_MAX}
        for name, value in values.items()
        if len(value) > PAYMENT_INSTRUCTIONS_MAX
    }
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        consortium = Consortium.objects.select_for_update().get(pk=consortium_id)
        changed = [name for name, value in values.items() if getattr(consortium, name) != value]
        if not changed:
            return consortium, []
        for name in changed:
            setattr(consortium, name, values[name])
        consortium.save(update_fields=changed)
        labels = {
            "payment_instructions": "fee instructions (English)",
            "payment_instructions_es": "fee instructions (Spanish)",
        }
        _record(
            actor,
            consortium,
            added=False,
            message="changed: " + ", ".join(labels[name] for name in changed),
        )
    logger.info(
        "consortium fee instructions changed: consortium_id=%s by user_id=%s",
        consortium_id,
        actor.pk,
    )
    return consortium, changed


def consortium_policy_save(
    *, actor, consortium_id: int, academic_year_id: int, **values
) -> tuple[ConsortiumPolicy, list[str]]:
    """Create or change a consortium's policy for one school year.

    Takes effect at once (every rule reads the policy when it runs). Refuses dates out of
    order, a minimum grade that does not fit the scale and malformed email domains.
    Returns the policy and the changes made ("field: old → new"), which are recorded.
    """
    _require_consortium(actor, Capability.MANAGE_POLICY, consortium_id)
    unknown = set(values) - set(ConsortiumPolicy.EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"unknown policy fields: {sorted(unknown)}")
    year = AcademicYear.objects.get(pk=academic_year_id)
    errors: dict[str, str] = {}
    opens, closes = values.get("registration_opens"), values.get("registration_closes")
    if opens and closes and closes < opens:
        errors["registration_closes"] = _("Registration must close after it opens.")
    earliest = year.start_date - datetime.timedelta(days=366)
    latest = year.end_date + datetime.timedelta(days=366)
    for name in (
        "registration_opens",
        "registration_closes",
        "payment_deadline",
        "grading_deadline",
    ):
        day = values.get(name)
        if day and not earliest <= day <= latest:
            errors[name] = _("Choose a date near the %(year)s school year.") % {"year": year.code}
    if opens and values.get("grading_deadline") and values["grading_deadline"] < opens:
        errors["grading_deadline"] = _("The grading deadline must come after registration opens.")
    if values.get("annual_fee") is not None and values["annual_fee"] < 0:
        errors["annual_fee"] = _("The fee cannot be negative.")
    scale = values.get("grade_scale")
    if scale and "default_minimum_grade" in values:
        try:
            values["default_minimum_grade"] = normalize(scale, values["default_minimum_grade"])
        except GradeError as error:
            errors["default_minimum_grade"] = str(error)
    if "school_email_domains" in values:
        domains = [
            line.strip().lower().lstrip("@")
            for line in values["school_email_domains"].splitlines()
            if line.strip()
        ]
        bad = [d for d in domains if not _DOMAIN.match(d)]
        if bad:
            errors["school_email_domains"] = _("Not an email domain: %(list)s.") % {
                "list": ", ".join(bad)
            }
        values["school_email_domains"] = "\n".join(dict.fromkeys(domains))
    if values.get("payment_url") and not values["payment_url"].lower().startswith("https://"):
        errors["payment_url"] = _("Give the payment page's full address, starting with https://.")
    if "waiver_reasons" in values:
        values["waiver_reasons"] = "\n".join(
            dict.fromkeys(r.strip() for r in values["waiver_reasons"].splitlines() if r.strip())
        )
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        policy = (
            ConsortiumPolicy.objects.select_for_update()
            .filter(consortium_id=consortium_id, academic_year=year)
            .first()
        )
        added = policy is None
        if added:
            policy = ConsortiumPolicy(consortium_id=consortium_id, academic_year=year)
        changes = []
        for name, value in values.items():
            old = getattr(policy, name)
            if added or old != value:
                changes.append(f"{name}: {'' if added else old} → {value}")
                setattr(policy, name, value)
        if not changes:
            return policy, []
        policy.full_clean(exclude=["consortium", "academic_year"])
        policy.save()
        _record(actor, policy, added=added, message="; ".join(changes))
    logger.info(
        "policy saved: consortium_id=%s year=%s fields=%s by user_id=%s",
        consortium_id,
        year.code,
        len(changes),
        actor.pk,
    )
    return policy, changes


def consortium_teachers(*, actor):
    """The teachers of the actor's consortia, with the schools where they teach there."""
    access = access_for(actor)
    if not access.can(Capability.MANAGE_TEACHERS):
        raise PermissionDenied
    return (
        User.objects.filter(
            memberships__role=Role.TEACHER,
            memberships__high_school__district__consortium_id__in=access.consortium_ids,
        )
        .distinct()
        .order_by("last_name", "first_name", "pk")
    )


def _consortium_teacher(actor, user_id: int, *, lock: bool = False) -> tuple[User, object]:
    access = access_for(actor)
    if not access.can(Capability.MANAGE_TEACHERS):
        raise PermissionDenied
    queryset = User.objects.filter(
        pk=user_id,
        memberships__role=Role.TEACHER,
        memberships__high_school__district__consortium_id__in=access.consortium_ids,
    ).distinct()
    user = queryset.first()
    if user is None:
        raise Http404
    if lock:
        user = User.objects.select_for_update().get(pk=user.pk)
    return user, access


def _only_our_teacher(user: User, access) -> None:
    """Deactivating an account affects every role it holds: only for plain teachers of
    the actor's consortia."""
    others = RoleMembership.objects.filter(user=user).exclude(
        role=Role.TEACHER, high_school__district__consortium_id__in=access.consortium_ids
    )
    if others.exists() or getattr(user, "student_profile", None) is not None:
        raise ValidationError(
            _(
                "This account has other roles or teaches in another consortium. Ask state "
                "staff to change it."
            ),
            code="other_roles",
        )


def teacher_deactivate(*, actor, user_id: int, reason: str) -> User:
    """Close a teacher's account: they are signed out everywhere at once, cannot sign in,
    and their classes stop taking registrations (enrollment checks the teacher is active)."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the account is deactivated.")})
    if user_id == actor.pk:
        raise ValidationError(_("You cannot deactivate your own account."))
    with transaction.atomic():
        user, access = _consortium_teacher(actor, user_id, lock=True)
        if not user.is_active:
            raise ValidationError(_("This account is not active."))
        _only_our_teacher(user, access)
        bulk.bulk_update(User.objects.filter(pk=user.pk), is_active=False)
        user.is_active = False
        _record(actor, user, added=False, message=f"Deactivated: {reason}")
        transaction.on_commit(lambda: user_sessions_end(user_id=user.pk))
    logger.info("teacher deactivated: user_id=%s by user_id=%s", user.pk, actor.pk)
    return user


def teacher_reactivate(*, actor, user_id: int) -> User:
    """Open a deactivated teacher's account again (an invitation not yet accepted is
    resent instead)."""
    with transaction.atomic():
        user, access = _consortium_teacher(actor, user_id, lock=True)
        if user.is_active:
            raise ValidationError(_("This account is active already."))
        if teacher_invitation_pending(user):
            raise ValidationError(
                _("This teacher has not accepted the invitation yet: send it again instead.")
            )
        _only_our_teacher(user, access)
        bulk.bulk_update(User.objects.filter(pk=user.pk), is_active=True)
        user.is_active = True
        _record(actor, user, added=False, message="Reactivated")
    logger.info("teacher reactivated: user_id=%s by user_id=%s", user.pk, actor.pk)
    return user


def teacher_school_add(*, actor, user_id: int, high_school_id: int) -> RoleMembership:
    """Let a teacher of the consortium teach at another of its schools."""
    school = _consortium_school(actor, high_school_id)
    with transaction.atomic():
        user, _access = _consortium_teacher(actor, user_id)
        membership, created = RoleMembership.objects.get_or_create(
            user=user, role=Role.TEACHER, high_school=school
        )
        if not created:
            raise ValidationError({"high_school": _("The teacher is at this school already.")})
        _record(actor, user, added=False, message=f"Teacher at school {school.pk} added")
    return membership


def teacher_school_remove(*, actor, user_id: int, high_school_id: int) -> None:
    """Take a school off a teacher's list, unless they still teach a class there this
    school year or later (move or close those first), or it is their last school."""
    with transaction.atomic():
        user, access = _consortium_teacher(actor, user_id, lock=True)
        membership = RoleMembership.objects.filter(
            user=user,
            role=Role.TEACHER,
            high_school_id=high_school_id,
            high_school__district__consortium_id__in=access.consortium_ids,
        ).first()
        if membership is None:
            raise Http404
        if RoleMembership.objects.filter(user=user, role=Role.TEACHER).count() == 1:
            raise ValidationError(
                _("This is the teacher's only school: deactivate the account instead.")
            )
        year = academic_year_current()
        upcoming = user.sections.filter(high_school_id=high_school_id)  # the classes they teach
        if year is not None:
            upcoming = upcoming.filter(academic_year__start_date__gte=year.start_date)
        if upcoming.exists():
            raise ValidationError(
                _("The teacher has classes at this school this school year or later.")
            )
        membership.delete()
        _record(actor, user, added=False, message=f"Teacher at school {high_school_id} removed")


def object_history(obj) -> list:
    """The admin-log entries of one object, newest first (who changed what, when)."""
    return list(
        LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(obj, for_concrete_model=False),
            object_id=str(obj.pk),
        )
        .select_related("user")
        .order_by("-action_time")[:50]
    )


# ---------------------------------------------------------------------------------------
# State staff: the organisations themselves (consortia, colleges, districts, high schools),
# created and changed with their history in the admin log, as the policies above.

ORGANISATION_FIELDS: dict[type[models.Model], tuple[str, ...]] = {
    Consortium: ("name", "slug", "contact_name", "contact_email", "contact_phone", "website"),
    College: ("name", "code", "consortium", "registrar_email", "website"),
    District: ("name", "code", "consortium"),
    HighSchool: ("name", "code", "kind", "district", "city", "served_districts"),
}

# Unique whatever the case: (field, the fields it is unique within, the message).
_UNIQUE = {
    Consortium: [
        ("name", (), gettext_lazy("Another consortium already has this name.")),
        ("slug", (), gettext_lazy("Another consortium already has this short name.")),
    ],
    College: [
        ("name", (), gettext_lazy("Another college already has this name.")),
        ("code", (), gettext_lazy("Another college already has this code.")),
    ],
    District: [
        ("code", (), gettext_lazy("Another district already has this code.")),
        (
            "name",
            ("consortium",),
            gettext_lazy("This consortium already has a district of this name."),
        ),
    ],
    HighSchool: [
        ("code", (), gettext_lazy("Another school already has this code.")),
        ("name", ("district",), gettext_lazy("This district already has a school of this name.")),
    ],
}


def _shown(value) -> str:
    if isinstance(value, set | list | tuple):
        return ", ".join(sorted(str(item) for item in value))
    return "" if value is None else str(value)


def _moves(obj, values: dict) -> dict[str, str]:
    """Moves that would take records out of the consortium they belong to."""
    errors = {}
    if obj.pk is None:
        return errors
    if isinstance(obj, College) and values["consortium"].pk != obj.consortium_id:
        if obj.articulations.exists():
            errors["consortium"] = _(
                "This college has agreements in its consortium, so it cannot move to another."
            )
    elif isinstance(obj, District) and values["consortium"].pk != obj.consortium_id:
        if (
            HighSchool.objects.filter(district=obj)
            .filter(models.Q(sections__isnull=False) | models.Q(students__isnull=False))
            .exists()
        ):
            errors["consortium"] = _(
                "This district's schools have classes or students, so it cannot move to "
                "another consortium."
            )
    elif isinstance(obj, HighSchool) and values["district"].pk != obj.district_id:
        moves_out = values["district"].consortium_id != obj.district.consortium_id
        if moves_out and (obj.sections.exists() or obj.students.exists()):
            errors["district"] = _(
                "This school has classes or students, so it can move only to a district of "
                "the same consortium."
            )
    return errors


def _organisation_errors(model, obj, values: dict) -> dict[str, str]:
    errors: dict[str, str] = {}
    code = values.get("code")
    if code is not None and any(character.isspace() for character in code):
        errors["code"] = _("A code has no spaces.")
    for name, within, message in _UNIQUE[model]:
        value = values[name]
        if not value or name in errors:
            continue
        same = model.objects.filter(**{f"{name}__iexact": value})
        same = same.filter(**{scope: values[scope] for scope in within})
        if obj.pk is not None:
            same = same.exclude(pk=obj.pk)
        if same.exists():
            errors[name] = str(message)
    if (
        model is HighSchool
        and values["served_districts"]
        and values["kind"] != HighSchool.Kind.SKILLS_CENTER
    ):
        errors["served_districts"] = _("Only a skills center serves other districts.")
    return errors | _moves(obj, values)


def organisation_save(
    *, actor, model: type[models.Model], values: dict, pk: int | None = None
) -> tuple[models.Model, list[str]]:
    """Create (no `pk`) or change a consortium, college, district or high school.

    State staff only. `values` holds every field of ORGANISATION_FIELDS[model] (foreign
    keys as objects, served districts as a list). Refused, with a message per field, for
    a name or code another organisation has (whatever the case), a code with spaces,
    served districts on a school that is not a skills center, and a move that would
    take agreements, classes or students to another consortium. Returns the organisation
    and the changes made ("field: old → new"), which are recorded in its history.
    """
    access = access_for(actor)
    if not access.can(Capability.MANAGE_ORGANIZATIONS):
        raise PermissionDenied
    fields = ORGANISATION_FIELDS[model]
    if set(values) != set(fields):
        raise TypeError(f"expected the fields {sorted(fields)}, got {sorted(values)}")
    values = {
        name: value.strip() if isinstance(value, str) else value for name, value in values.items()
    }
    if model is Consortium and not values["slug"]:
        values["slug"] = slugify(values["name"])[:60]
    with transaction.atomic():
        if pk is None:
            obj, added = model(), True
        else:
            obj, added = model.objects.select_for_update().filter(pk=pk).first(), False
            if obj is None:
                raise Http404
        errors = _organisation_errors(model, obj, values)
        if errors:
            raise ValidationError(errors)
        changes, many = [], {}
        for name, value in values.items():
            if model._meta.get_field(name).many_to_many:
                old = set() if added else set(getattr(obj, name).all())
                if set(value) != old:
                    changes.append(f"{name}: {_shown(old)} → {_shown(value)}")
                    many[name] = value
                continue
            old = None if added else getattr(obj, name)
            if added or old != value:
                changes.append(f"{name}: {_shown(old)} → {_shown(value)}")
                setattr(obj, name, value)
        if not changes:
            return obj, []
        obj.full_clean(validate_unique=False, validate_constraints=False)
        try:
            with transaction.atomic():
                obj.save()
        except IntegrityError:  # the same name or code saved by someone else just now
            raise ValidationError(
                _("Another organisation was saved with this name or code a moment ago.")
            ) from None
        for name, value in many.items():
            getattr(obj, name).set(value)
        _record(actor, obj, added=added, message="; ".join(changes))
    logger.info(
        "organisation %s: %s id=%s fields=%s by user_id=%s",
        "created" if added else "changed",
        model._meta.model_name,
        obj.pk,
        len(changes),
        actor.pk,
    )
    return obj, changes
