"""Writes for reporting: the student-record access log."""

from collections.abc import Iterable

from django.db import transaction

from .models import AccessLogEntry, AccessLogStudent


def client_ip(request) -> str | None:
    """The client address as the proxy in front of the app reports it."""
    if request is None:
        return None
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    return forwarded.split(",")[0].strip() or request.META.get("REMOTE_ADDR") or None


def access_log_record(
    *,
    actor,
    action: str,
    what: str,
    student_ids: Iterable[int],
    role: str = "",
    request=None,
    ip_address: str | None = None,
) -> AccessLogEntry:
    """Record that `actor` acted on these students' records. Bulk-inserts the links."""
    student_ids = sorted(set(student_ids))
    with transaction.atomic():
        entry = AccessLogEntry.objects.create(
            actor=actor if getattr(actor, "pk", None) else None,
            role=role,
            action=action,
            what=what[:200],
            student_count=len(student_ids),
            ip_address=ip_address or client_ip(request),
        )
        AccessLogStudent.objects.bulk_create(
            (AccessLogStudent(entry=entry, student_id=sid) for sid in student_ids),
            batch_size=2000,
        )
    return entry
