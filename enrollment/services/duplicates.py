"""The statewide duplicate check: every student in the state compared with the others
(enrollment.linkage), and the likely pairs queued for staff review.

Run nightly by Celery beat and on demand ("Check for duplicates now"); one run at a time.
A pair already in the queue, in either order and whatever its review said, is never
queued again. Students are read in chunks straight into the linkage table, so the state
(about 213,000 students) fits in a few hundred megabytes and a few minutes
(bench/bench_identity.py).
"""

import logging
import time
from dataclasses import asdict, dataclass

from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .. import linkage
from ..identity import Identity
from ..models import PossibleDuplicate, StudentProfile

logger = logging.getLogger(__name__)

# At most this many new pairs a run, the likeliest first: a queue staff can work through.
MAX_NEW_PAIRS = 5000
LOCK_KEY = "enrollment:duplicate-check:running"
STATUS_KEY = "enrollment:duplicate-check:status"
LOCK_SECONDS = 60 * 60


@dataclass
class DuplicateCheckSummary:
    students: int = 0
    candidates: int = 0
    new_pairs: int = 0
    seconds: float = 0.0
    skipped: bool = False  # another run was going on

    def as_dict(self) -> dict:
        return asdict(self)


def duplicate_check(*, threshold: float = linkage.MATCH_WEIGHT_THRESHOLD) -> DuplicateCheckSummary:
    """Compare all students (merged records left out) and queue the new likely pairs with
    their weight and reasons (PossibleDuplicate, source STATEWIDE)."""
    if not cache.add(LOCK_KEY, True, timeout=LOCK_SECONDS):
        logger.info("duplicate check: another run is going on")
        return DuplicateCheckSummary(skipped=True)
    started = time.monotonic()
    cache.set(STATUS_KEY, {"state": "running", "started_at": timezone.now()}, timeout=None)
    try:
        table = linkage.features_table(_students())
        pairs = linkage.find_duplicates(table, threshold=threshold)
        new_pairs = _queue_new_pairs(pairs)
    except BaseException:
        cache.set(STATUS_KEY, {"state": "failed", "finished_at": timezone.now()}, timeout=None)
        raise
    finally:
        cache.delete(LOCK_KEY)
    summary = DuplicateCheckSummary(
        students=table.num_rows,
        candidates=len(pairs),
        new_pairs=new_pairs,
        seconds=round(time.monotonic() - started, 1),
    )
    cache.set(
        STATUS_KEY,
        {"state": "done", "finished_at": timezone.now(), **summary.as_dict()},
        timeout=None,
    )
    logger.info(
        "duplicate check: students=%s candidates=%s new_pairs=%s seconds=%s",
        summary.students,
        summary.candidates,
        summary.new_pairs,
        summary.seconds,
    )
    return summary


# What the check reads of each student, in Identity's order (after the id).
STUDENT_FIELDS = (
    "pk",
    "legal_first_name",
    "legal_middle_name",
    "legal_last_name",
    "birth_date",
    "user__email",
    "phone",
    "high_school_id",
)


def _students():
    """(id, Identity) of every student not merged into another, read in chunks."""
    rows = (
        StudentProfile.objects.filter(merged_into__isnull=True)
        .order_by()
        .values_list(*STUDENT_FIELDS)
        .iterator(chunk_size=5000)
    )
    for pk, first, middle, last, born, email, phone, school in rows:
        yield (
            pk,
            Identity(
                first_name=first,
                middle_name=middle,
                last_name=last,
                birth_date=born,
                email=email,
                phone=phone,
                high_school_id=school,
            ),
        )


def _queue_new_pairs(pairs: list[linkage.CandidatePair]) -> int:
    """Queue the pairs not queued before (in either order, whatever their status)."""
    if not pairs:
        return 0
    ids = sorted({i for p in pairs for i in (p.student_id, p.existing_student_id)})
    known = set()
    for start in range(0, len(ids), 2000):
        chunk = ids[start : start + 2000]
        for a, b in PossibleDuplicate.objects.filter(
            Q(student_id__in=chunk) | Q(existing_student_id__in=chunk)
        ).values_list("student_id", "existing_student_id"):
            known.add(frozenset((a, b)))
    new = [
        PossibleDuplicate(
            student_id=p.student_id,
            existing_student_id=p.existing_student_id,
            match_kind=p.kind,
            reasons=list(p.reasons),
            score=p.weight,
            source=PossibleDuplicate.Source.STATEWIDE,
        )
        for p in pairs
        if frozenset((p.student_id, p.existing_student_id)) not in known
    ][:MAX_NEW_PAIRS]
    with transaction.atomic():
        PossibleDuplicate.objects.bulk_create(new, batch_size=1000, ignore_conflicts=True)
    return len(new)


def duplicate_check_status() -> dict | None:
    """The last run's state ("running", "done" or "failed") and numbers, or None."""
    return cache.get(STATUS_KEY)
