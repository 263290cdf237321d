"""Writes of the API: create and revoke a token (a registrar of its college), note a
token's use, and the acknowledgement of posted credits (through the registrar's one
transcription service)."""

import datetime
import logging
import secrets
from collections import defaultdict
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.permissions import Capability, access_for
from enrollment.models import EnrollmentStatus
from enrollment.rules import local_today
from enrollment.services import transcription
from organisations.models import College

from . import selectors
from .models import API_TOKEN_MAX_DAYS, ApiToken

logger = logging.getLogger(__name__)

TOKEN_PREFIX = "sers_"  # noqa: S105 (not a secret: what every token starts with)
# Characters of the token kept in clear to recognise it: "sers_" and 7 random ones.
SHOWN_PREFIX_LENGTH = len(TOKEN_PREFIX) + 7
# last_used_at is written at most this often, not on every call.
LAST_USED_EVERY = datetime.timedelta(minutes=1)


# --- tokens ----------------------------------------------------------------------------------


def api_token_create(
    *, actor, college: College, label: str, days: int, now: datetime.datetime | None = None
) -> tuple[ApiToken, str]:
    """A new token of `college`, valid for `days` days, created by one of its registrars.
    Returns the token and its secret: the only time the secret exists outside the
    client, since only its hash is stored."""
    access = access_for(actor)
    access.require(Capability.TRANSCRIBE)
    if college.pk not in access.registrar_college_ids:
        raise PermissionDenied
    label = (label or "").strip()
    if not label:
        raise ValidationError({"label": _("Give the token a name, such as the system using it.")})
    if not 1 <= days <= API_TOKEN_MAX_DAYS:
        raise ValidationError(
            {"days": _("A token lasts from 1 to %(max)s days.") % {"max": API_TOKEN_MAX_DAYS}}
        )
    now = now or timezone.now()
    # 32 random bytes: 256 bits, base64url. The prefix tells SERS tokens apart in logs and
    # in secret scanners.
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        college=college,
        label=label[:100],
        prefix=secret[:SHOWN_PREFIX_LENGTH],
        key_hash=selectors.token_hash(secret),
        created_by=actor,
        created_at=now,
        expires_at=now + datetime.timedelta(days=days),
    )
    logger.info(
        "API token created: token_id=%s college_id=%s by user_id=%s",
        token.pk,
        college.pk,
        actor.pk,
    )
    return token, secret


def api_token_revoke(*, actor, token_id: int, now: datetime.datetime | None = None) -> ApiToken:
    """Revoke a token of one of the actor's colleges (404 for any other). Revoking a
    revoked token changes nothing."""
    access = access_for(actor)
    access.require(Capability.TRANSCRIBE)
    with transaction.atomic():
        token = (
            selectors.api_tokens_visible(access=access)
            .select_for_update(of=("self",))
            .filter(pk=token_id)
            .first()
        )
        if token is None:
            raise Http404
        if token.revoked_at is not None:
            return token
        token.revoked_at = now or timezone.now()
        token.revoked_by = actor
        token.save(update_fields=["revoked_at", "revoked_by"])
    logger.info("API token revoked: token_id=%s by user_id=%s", token.pk, actor.pk)
    return token


def api_token_touch(*, token: ApiToken, now: datetime.datetime) -> None:
    """Note that the token was used now, at most once a minute (a conditional update, so
    concurrent calls write it once)."""
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_EVERY:
        return
    ApiToken.objects.filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_EVERY), pk=token.pk
    ).update(last_used_at=now)
    token.last_used_at = now


# --- the acknowledgement ---------------------------------------------------------------------


@dataclass
class AcknowledgementResult:
    id: int
    outcome: str  # transcribed, already_transcribed, refused
    reasons: list[dict] = field(default_factory=list)
    college_student_id: str | None = None
    transcribed_on: datetime.date | None = None
    # The student the answer shows (for the access log; not in the answer); None for a
    # credit not found.
    student_id: int | None = None


def _reason(code: str, message: str) -> dict:
    return {"code": code, "message": message}


def _settled(result_id: int, state: selectors.CreditState | None) -> AcknowledgementResult | None:
    """The answer for a credit that needs no change or cannot have one; None when it is
    ready to be marked."""
    if state is None:
        return AcknowledgementResult(
            id=result_id,
            outcome="refused",
            reasons=[_reason("not_found", _("No credit with this id at your college."))],
        )
    if state.status == EnrollmentStatus.TRANSCRIBED:
        return AcknowledgementResult(
            id=result_id,
            outcome="already_transcribed",
            college_student_id=state.college_student_id,
            transcribed_on=state.transcribed_on,
            student_id=state.student_id,
        )
    if state.reasons:
        return AcknowledgementResult(
            id=result_id, outcome="refused", reasons=state.reasons, student_id=state.student_id
        )
    return None


def _refused(result_id: int, state, code: str, message: str) -> AcknowledgementResult:
    """A credit of the college refused for one reason."""
    return AcknowledgementResult(
        id=result_id,
        outcome="refused",
        reasons=[_reason(code, message)],
        student_id=state.student_id if state is not None else None,
    )


def credits_acknowledge(
    *, client: selectors.ApiClient, items: list, today: datetime.date | None = None
) -> list[AcknowledgementResult]:
    """Mark the credits a college system posted as transcribed, each with the student's
    college id and the posting date (today when not given); one answer per item, in order.

    Idempotent: a credit already transcribed is answered `already_transcribed` and left as
    it is (whatever id or date this request gives). A credit that is not ready, not the
    college's, dated in the future or before it was attained is refused with its
    reasons; the others still go through. A credit listed twice is marked once (with its
    first listing). The ready ones are marked by the registrar's own service
    (enrollment.services.transcription.enrollments_transcribe: history, access log,
    caches, students' notices), in one transaction per posting date; should one of them
    stop being ready in between, that date's credits are marked one by one, so only it
    is refused."""
    today = local_today(today)
    access, actor = client.access, client.actor
    first: dict[int, object] = {}
    for item in items:
        first.setdefault(item.id, item)
    states = selectors.credit_states(access=access, ids=list(first))
    results: dict[int, AcknowledgementResult] = {}
    ready_by_date: dict[datetime.date, dict[int, str]] = defaultdict(dict)
    for item in first.values():
        state = states.get(item.id)
        settled = _settled(item.id, state)
        posted_on = item.transcribed_on or today
        if settled is not None:
            results[item.id] = settled
        elif posted_on > today:
            results[item.id] = _refused(
                item.id,
                state,
                "date_in_future",
                _("The posting date cannot be in the future."),
            )
        elif posted_on < state.earliest_transcribed_on:
            results[item.id] = _refused(
                item.id,
                state,
                transcription.DATE_BEFORE_ATTAINED,
                _(
                    "The posting date cannot be before the day the credit was attained: "
                    "give %(date)s or later."
                )
                % {"date": state.earliest_transcribed_on.isoformat()},
            )
        else:
            ready_by_date[posted_on][item.id] = item.college_student_id
    reason = f"Posted by the college system (API token {client.token.prefix}…)"

    def transcribe(batch: dict[int, str], posted_on: datetime.date) -> ValidationError | None:
        try:
            transcription.enrollments_transcribe(
                actor=actor,
                college_student_ids=batch,
                transcribed_on=posted_on,
                today=today,
                reason=reason,
            )
        except ValidationError as error:
            return error
        for pk, college_id in batch.items():
            results[pk] = AcknowledgementResult(
                id=pk,
                outcome="transcribed",
                college_student_id=college_id,
                transcribed_on=posted_on,
                student_id=states[pk].student_id,
            )
        return None

    for posted_on, group in sorted(ready_by_date.items()):
        if transcribe(group, posted_on) is None:
            continue
        for pk, college_id in group.items():  # one by one: which one stopped being ready?
            error = transcribe({pk: college_id}, posted_on)
            if error is not None:
                state = selectors.credit_states(access=access, ids=[pk]).get(pk)
                code = (
                    transcription.DATE_BEFORE_ATTAINED
                    if getattr(error, "code", None) == transcription.DATE_BEFORE_ATTAINED
                    else "not_ready"
                )
                results[pk] = _settled(pk, state) or _refused(
                    pk, state, code, " ".join(error.messages)
                )
    logger.info(
        "API acknowledgement: items=%s transcribed=%s token_id=%s",
        len(items),
        sum(1 for result in results.values() if result.outcome == "transcribed"),
        client.token.pk,
    )
    return _in_order(items, results)


def _in_order(items: list, results: dict[int, AcknowledgementResult]) -> list:
    """One answer per item, in order. A credit listed again is answered as if sent again:
    already transcribed (by its first listing), or refused for the same reasons."""
    answers, seen = [], set()
    for item in items:
        result = results[item.id]
        if item.id in seen and result.outcome == "transcribed":
            result = AcknowledgementResult(
                id=item.id,
                outcome="already_transcribed",
                college_student_id=result.college_student_id,
                transcribed_on=result.transcribed_on,
                student_id=result.student_id,
            )
        seen.add(item.id)
        answers.append(result)
    return answers
