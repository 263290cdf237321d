"""Bulk writes that announce themselves: the one way application code writes rows without
``save()``.

Django sends ``post_save`` and ``post_delete`` for each ``save()`` and ``delete()``, but
nothing for ``QuerySet.update()`` or ``bulk_create()``. The caches whose freshness
depends on seeing every write (enrollment.pagecache for signed-in pages,
articulations.cache for the public search) listen to the model signals and to
``rows_written``, which only the two helpers here send. So a cache learns of a write
whether the code saved a row or wrote many, and no service has to know which caches exist.

A cache says which models it watches (``watch``). The test suite fails any test in which
application code writes a watched model's table in bulk without these helpers
(tests/bulkguard.py), so forgetting them cannot go unnoticed.
"""

from collections.abc import Iterable, Sequence
from contextvars import ContextVar

from django.db import transaction
from django.db.models import Model, QuerySet
from django.dispatch import Signal

# Sent with sender=the model, before an update (so a receiver can read which rows it
# touches while they still have their old values) and after a bulk insert:
#   queryset  the rows updated (None for an insert)
#   rows      the instances written: the inserted objects, or for an update the rows the
#             caller already holds (None: the receiver reads what it needs from queryset)
#   values    the fields an update sets ({} for an insert)
rows_written = Signal()

_watched: set[type[Model]] = set()
_announced: ContextVar[bool] = ContextVar("sers_bulk_announced", default=False)


def watch(*models: type[Model]) -> None:
    """Declare that a cache depends on these models' rows (called when it connects its
    receivers): their bulk writes must go through this module."""
    _watched.update(models)


def watched_tables() -> frozenset[str]:
    return frozenset(model._meta.db_table for model in _watched)


def writing_announced() -> bool:
    """True inside one of the helpers' writes (the test guard asks)."""
    return _announced.get()


def bulk_update(
    queryset: QuerySet, *, rows: Sequence[Model] | None = None, **values: object
) -> int:
    """``queryset.update(**values)``, announced first. `rows`: the instances the caller
    holds for exactly these rows, if any, so receivers need not read them again."""
    with transaction.atomic(using=queryset.db, savepoint=False):
        rows_written.send(sender=queryset.model, queryset=queryset, rows=rows, values=values)
        token = _announced.set(True)
        try:
            return queryset.update(**values)
        finally:
            _announced.reset(token)


def bulk_create(model: type[Model], objs: Iterable[Model], **options) -> list[Model]:
    """``model.objects.bulk_create(objs, **options)``, announced once written."""
    with transaction.atomic(savepoint=False):
        token = _announced.set(True)
        try:
            created = model._default_manager.bulk_create(objs, **options)
        finally:
            _announced.reset(token)
        rows_written.send(sender=model, queryset=None, rows=created, values={})
    return created
