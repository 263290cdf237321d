"""Finds and removes the demo data: every demo consortium and account, with what uses them."""

import time
from collections import Counter
from collections.abc import Callable

from django.db import connection, models, transaction
from django.db.models import signals

from accounts.models import User
from enrollment import pagecache
from organisations.models import Consortium

from .catalog import ALL_SLUGS
from .constants import ADMIN_EMAIL, EMAIL_SUFFIX


def demo_data_exists() -> bool:
    """A finished build: the superuser is written last, in the final phase."""
    return User.objects.filter(email=ADMIN_EMAIL).exists()


def demo_data_partial() -> bool:
    """Left-overs of an interrupted build (or demo rows without the final marker)."""
    return (
        Consortium.objects.filter(slug__in=ALL_SLUGS).exists()
        or User.objects.filter(email__iendswith=EMAIL_SUFFIX).exists()
    )


def delete_demo_data(*, log: Callable[[str], None] | None = None) -> dict[str, int]:
    """Delete the demo consortia (with everything under them) and every demo account.

    Anything that points at a demo row goes with it (a sign-up made at a demo school while
    trying the demo, say); SET_NULL references are cleared instead. Bulk, not row by row.
    """
    log = log or (lambda message: None)
    start = time.perf_counter()
    deleted: Counter[str] = Counter()
    if connection.vendor == "postgresql" and not connection.in_atomic_block and _only_demo_data():
        # Every account and consortium is demo data: TRUNCATE (cascading to every table that
        # references them) is equivalent, and far faster than deleting millions of rows.
        quote = connection.ops.quote_name
        tables = ", ".join(quote(m._meta.db_table) for m in (User, Consortium))
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {tables} CASCADE")
        log(f"[{time.perf_counter() - start:7.1f}s] emptied the demo tables (only demo data)")
        pagecache.everything_changed()  # TRUNCATE: no signal told the caches
        return {"truncated": 1}
    tables = set(connection.introspection.table_names())
    with transaction.atomic():
        _purge(Consortium.objects.filter(slug__in=ALL_SLUGS), deleted, tables)
        _purge(User.objects.filter(email__iendswith=EMAIL_SUFFIX), deleted, tables)
    total = sum(deleted.values())
    log(f"[{time.perf_counter() - start:7.1f}s] deleted {total:,} demo rows")
    pagecache.everything_changed()  # bulk deletes: no signal told the caches
    return dict(deleted)


def _only_demo_data() -> bool:
    return (
        Consortium.objects.exists()
        and not User.objects.exclude(email__iendswith=EMAIL_SUFFIX).exists()
        and not Consortium.objects.exclude(slug__in=ALL_SLUGS).exists()
    )


def _purge(qs: models.QuerySet, deleted: Counter, tables: set[str], depth: int = 0) -> None:
    """Delete `qs` and, first, every row that references it (recursively), in bulk.

    Tables not created yet (a model whose migration has not run) are skipped."""
    model = qs.model
    if depth > 12:
        raise RuntimeError(f"Reference chain too deep while deleting {model._meta.label}.")
    for rel in model._meta.get_fields(include_hidden=True):
        if not (rel.auto_created and not rel.concrete and (rel.one_to_many or rel.one_to_one)):
            continue
        child, fk = rel.related_model, rel.field
        if child is model and fk.null:
            # A revision's previous version: unlinked first, so that Django's delete (used
            # when someone listens for it) does not refuse a protected self reference.
            qs.filter(**{f"{fk.name}__isnull": False}).update(**{fk.name: None})
            continue
        if child is model or child._meta.db_table not in tables:
            continue  # other self references go in the same statement
        on_delete = getattr(rel, "on_delete", None)
        if on_delete is models.DO_NOTHING:
            continue
        children = child._base_manager.filter(**{f"{fk.name}__in": qs})
        if on_delete is models.SET_NULL:
            children.update(**{fk.name: None})
            continue
        _purge(children, deleted, tables, depth + 1)
    if signals.pre_delete.has_listeners(model) or signals.post_delete.has_listeners(model):
        count, _ = qs.delete()  # someone listens: let Django send the signals
    else:
        count = qs._raw_delete(qs.db)
    if count:
        deleted[model._meta.label] += count
