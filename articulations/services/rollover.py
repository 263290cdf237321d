"""The annual roll-over: carrying a consortium's active agreements into the next school
year (`rollover_apply`), queued as a run that a background job carries out.

Idempotent: running it again changes nothing more.
"""

import logging
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from organisations.models import AcademicYear, Consortium
from sers import bulk

from .. import tasks
from ..models import Articulation, RolloverRun
from ..selectors import rollover_plan
from .access import require_manager
from .status import articulation_change_status

logger = logging.getLogger(__name__)

S = Articulation.Status


def _add_one_year(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


def academic_year_next(*, year: AcademicYear) -> AcademicYear:
    """The school year after `year`, created (one year later, same dates) when missing."""
    start = year.end_date + timedelta(days=1)
    code = AcademicYear.code_for_start(int(year.code[:4]) + 1)
    existing = AcademicYear.objects.filter(code=code).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return AcademicYear.objects.create(
                code=code,
                start_date=max(start, _add_one_year(year.start_date)),
                end_date=_add_one_year(year.end_date),
            )
    except IntegrityError:  # created meanwhile by another request
        return AcademicYear.objects.get(code=code)


@dataclass
class RolloverResult:
    renewed: int = 0
    already_renewed: int = 0
    lapsed: int = 0
    expired: int = 0


def rollover_apply(
    *,
    consortium_id: int,
    from_year_id: int,
    to_year_id: int,
    actor,
    today: date | None = None,
) -> RolloverResult:
    """Carry a consortium's active agreements from one school year into the next.

    What happens is exactly what `selectors.rollover_plan` previews (see its docstring
    for the rule): renewing agreements get the next year added to their valid years,
    and so do their revisions in progress; lapsing ones keep the years they have. Active
    agreements whose every valid year has ended are then marked expired.

    Idempotent: the consortium row is locked for the run, a year already added is not
    added again, and an expired agreement stays expired; a second run changes nothing.
    """
    today = today or timezone.localdate()
    with transaction.atomic():
        Consortium.objects.select_for_update().get(pk=consortium_id)
        from_year = AcademicYear.objects.get(pk=from_year_id)
        to_year = AcademicYear.objects.get(pk=to_year_id)
        plan = rollover_plan(
            consortium_id=consortium_id, from_year=from_year, to_year=to_year, today=today
        )
        renew_ids = [item.articulation.pk for item in plan.renew]
        revision_ids = list(
            Articulation.objects.filter(
                previous_version_id__in=renew_ids,
                status__in=[S.DRAFT, S.SUBMITTED, S.APPROVED],
            ).values_list("pk", flat=True)
        )
        Through = Articulation.valid_years.through
        already = set(
            Through.objects.filter(
                articulation_id__in=renew_ids + revision_ids, academicyear_id=to_year.pk
            ).values_list("articulation_id", flat=True)
        )
        bulk.bulk_create(
            Through,
            (
                Through(articulation_id=pk, academicyear_id=to_year.pk)
                for pk in renew_ids + revision_ids
                if pk not in already
            ),
        )
        expired = 0
        for articulation in plan.expire:
            note = (
                _("Roll-over: its last school year, %(year)s, has ended.")
                % {"year": articulation.last_year_code}
                if articulation.last_year_code
                else _("Roll-over: it is not valid for any school year.")
            )
            articulation_change_status(
                articulation_id=articulation.pk,
                to_status=S.EXPIRED,
                actor=actor,
                note=note,
                by_system=True,
            )
            expired += 1
    return RolloverResult(
        renewed=len(plan.renew),
        already_renewed=len(plan.already_renewed),
        lapsed=len(plan.lapse),
        expired=expired,
    )


def rollover_request(*, actor, consortium_id: int, from_year_id: int) -> RolloverRun:
    """Queue a roll-over run for a consortium (the work is done by a background job)."""
    require_manager(actor, consortium_id)
    with transaction.atomic():
        from_year = AcademicYear.objects.get(pk=from_year_id)
        to_year = academic_year_next(year=from_year)
        run = RolloverRun.objects.create(
            consortium_id=consortium_id,
            from_year=from_year,
            to_year=to_year,
            requested_by=actor,
        )
        tasks.run_rollover.delay_on_commit(run.pk)
    logger.info("roll-over queued: run_id=%s by user_id=%s", run.pk, actor.pk)
    return run


def rollover_run(*, run_id: int) -> RolloverRun:
    """Carry out a queued roll-over run and record its counts (the background job's body).

    A run that finished is left alone, so a job delivered twice does the work once; a
    run left "running" by a worker that died is carried out again (the work is
    idempotent).
    """
    with transaction.atomic():
        run = RolloverRun.objects.select_for_update().get(pk=run_id)
        if run.status in (RolloverRun.Status.DONE, RolloverRun.Status.FAILED):
            return run
        run.status = RolloverRun.Status.RUNNING
        run.save(update_fields=["status"])
    try:
        result = rollover_apply(
            consortium_id=run.consortium_id,
            from_year_id=run.from_year_id,
            to_year_id=run.to_year_id,
            actor=run.requested_by,
        )
    except Exception as error:
        # The work rolled back as a whole; the run says so and can simply be asked again.
        logger.exception("roll-over failed: run_id=%s", run.pk)
        run.status = RolloverRun.Status.FAILED
        run.error = type(error).__name__[:200]
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "error", "finished_at"])
        return run
    run.status = RolloverRun.Status.DONE
    run.renewed_count = result.renewed
    run.already_renewed_count = result.already_renewed
    run.lapsed_count = result.lapsed
    run.expired_count = result.expired
    run.finished_at = timezone.now()
    run.save(
        update_fields=[
            "status",
            "renewed_count",
            "already_renewed_count",
            "lapsed_count",
            "expired_count",
            "finished_at",
        ]
    )
    logger.info(
        "roll-over done: run_id=%s renewed=%s lapsed=%s expired=%s",
        run.pk,
        result.renewed,
        result.lapsed,
        result.expired,
    )
    return run
