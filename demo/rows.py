"""Writes the demo's rows fast, in columns taken from the models' fields (never by hand)."""

import keyword
import time
from collections import Counter
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from typing import Any

from django.core.management.color import no_style
from django.db import connection, models, reset_queries, transaction
from django.db.models import Max
from django.utils import timezone

# Field types whose Python values psycopg writes as they are; COPY prepares other values
# (a JSON field's, say) the way Django would save them.
PLAIN_TYPES = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "BigIntegerField",
        "BooleanField",
        "CharField",
        "DateField",
        "DateTimeField",
        "DecimalField",
        "FloatField",
        "ForeignKey",
        "IntegerField",
        "OneToOneField",
        "PositiveBigIntegerField",
        "PositiveIntegerField",
        "PositiveSmallIntegerField",
        "SlugField",
        "SmallAutoField",
        "SmallIntegerField",
        "TextField",
    }
)


def _is_auto_time(field: models.Field) -> bool:
    return bool(getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False))


class Table:
    """One model's rows as tuples of its concrete fields' values, in the model's order.

    The columns are the model's concrete fields (`pk=False` leaves out the primary key, for
    rows whose id the database assigns), so no column list is kept by hand. `row` takes one
    keyword per field (by attname, e.g. `student_id`): a field left out gets its model
    default (a nullable field None, an auto_now field the current time); leaving out a field
    that has no default, or naming one the model does not have, raises TypeError. So a new
    model field with a default gets it, and a new required one makes the demo fail loudly.
    """

    def __init__(self, model: type[models.Model], *, pk: bool = True):
        opts = model._meta
        self.model = model
        self.label = opts.label
        self.fields = tuple(f for f in opts.concrete_fields if pk or not f.primary_key)
        self.columns = tuple(f.attname for f in self.fields)
        self.row: Callable[..., tuple] = _row_function(self.label, self.fields)

    def __repr__(self) -> str:
        return f"<Table {self.label}: {', '.join(self.columns)}>"


_MAKE = object()  # a parameter default meaning "make the field's default for this row"


def _row_function(label: str, fields: tuple[models.Field, ...]) -> Callable[..., tuple]:
    """A function of keyword-only parameters, one per field, returning their values in order.

    Generated (as namedtuple and dataclasses generate theirs), because the demo makes
    millions of rows at state size and a plain function call is several times faster than
    filling a dict of defaults for each row. The source is built from field names only."""
    env: dict[str, Any] = {"MAKE_": _MAKE}  # no field name ends in "_" (Django check E001)
    params, makes = [], []
    for i, f in enumerate(fields):
        name = f.attname
        if not name.isidentifier() or keyword.iskeyword(name) or name.endswith("_"):
            raise ValueError(f"{label}: cannot write a field named {name!r}")
        if f.has_default() and callable(f.default):
            env[f"make{i}_"] = f.default
        elif f.has_default():
            env[f"default{i}_"] = f.default
        elif _is_auto_time(f):
            env[f"make{i}_"] = timezone.now
        elif f.null:
            env[f"default{i}_"] = None
        else:  # the primary key, a required field, or one whose default is only in the db
            params.append(name)
            continue
        if f"make{i}_" in env:
            params.append(f"{name}=MAKE_")
            makes.append(f"    if {name} is MAKE_:\n        {name} = make{i}_()\n")
        else:
            params.append(f"{name}=default{i}_")
    names = [f.attname for f in fields]
    source = f"def row(*, {', '.join(params)}):\n{''.join(makes)}    return ({', '.join(names)},)\n"
    exec(source, env)  # noqa: S102 - identifiers checked above, values passed in env
    row = env["row"]
    row.__qualname__ = f"Table({label}).row"  # named in a missing or unknown field's error
    return row


class ThroughTable(Table):
    """The auto-created through model of a many-to-many field: rows of two ids, the
    model's first."""

    def __init__(self, model: type[models.Model], name: str):
        m2m = model._meta.get_field(name)
        through = m2m.remote_field.through
        super().__init__(through, pk=False)
        self.src = through._meta.get_field(m2m.m2m_field_name()).attname
        self.dst = through._meta.get_field(m2m.m2m_reverse_field_name()).attname

    def pairs(self, pairs: Iterable[tuple[int, int]]) -> list[tuple]:
        return [self.row(**{self.src: a, self.dst: b}) for a, b in pairs]


class RowWriter:
    """Writes rows of a `Table`: COPY on PostgreSQL, bulk_create (batched) elsewhere or on
    request. Primary keys come in the rows, handed out in advance by `Ids`."""

    def __init__(self, *, use_copy: bool | None = None, batch_size: int = 2000):
        if use_copy is None:
            use_copy = connection.vendor == "postgresql"
        self.use_copy = use_copy and connection.vendor == "postgresql"
        self.batch_size = batch_size
        self.counts: Counter[str] = Counter()
        self.seconds: Counter[str] = Counter()  # time spent writing, per table
        self.columns: dict[str, tuple[str, ...]] = {}  # the columns written, per model
        self.models: set[type[models.Model]] = set()

    def write(self, table: Table, rows: list[tuple]) -> None:
        if not rows:
            return
        self.counts[table.label] += len(rows)
        self.columns[table.label] = table.columns
        self.models.add(table.model)
        start = time.perf_counter()
        if self.use_copy:
            self._copy(table, rows)
        else:
            self._bulk_create(table, rows)
        reset_queries()  # with DEBUG on, Django keeps every query's SQL in memory
        self.seconds[table.label] += time.perf_counter() - start

    def _copy(self, table: Table, rows: list[tuple]) -> None:
        quote = connection.ops.quote_name
        columns = ", ".join(quote(f.column) for f in table.fields)
        sql = f"COPY {quote(table.model._meta.db_table)} ({columns}) FROM STDIN"
        prepare = [
            (i, f) for i, f in enumerate(table.fields) if f.get_internal_type() not in PLAIN_TYPES
        ]
        with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            if not prepare:
                for row in rows:
                    copy.write_row(row)
                return
            for row in rows:
                values = list(row)
                for i, f in prepare:
                    values[i] = f.get_db_prep_save(values[i], connection)
                copy.write_row(values)

    def _bulk_create(self, table: Table, rows: list[tuple]) -> None:
        model, columns = table.model, table.columns
        with _explicit_timestamps(table):
            objs = [model(**dict(zip(columns, row, strict=True))) for row in rows]
            model._base_manager.bulk_create(objs, batch_size=self.batch_size)

    def reset_sequences(self) -> None:
        """After writing explicit primary keys, move each id sequence past them."""
        if connection.vendor == "postgresql":
            # Never backwards: sequences ignore rollbacks, so a rolled-back build could
            # otherwise leave a sequence below ids that are back in the table.
            quote = connection.ops.quote_name
            with connection.cursor() as cursor:
                for model in self.models:
                    table, column = model._meta.db_table, model._meta.pk.column
                    # Identifiers come from the model's metadata, quoted; values are bound.
                    highest = f"SELECT COALESCE(MAX({quote(column)}), 1) FROM {quote(table)}"  # noqa: S608
                    sql = (
                        "SELECT setval(pg_get_serial_sequence(%s, %s), GREATEST("
                        f"nextval(pg_get_serial_sequence(%s, %s)), ({highest})))"
                    )
                    cursor.execute(sql, [quote(table), column, quote(table), column])
            return
        statements = connection.ops.sequence_reset_sql(no_style(), list(self.models))
        if statements:
            with connection.cursor() as cursor:
                for sql in statements:
                    cursor.execute(sql)


@contextmanager
def _explicit_timestamps(table: Table):
    """bulk_create stamps auto_now/auto_now_add fields with the current time; every row
    gives them (a history dated last spring), so switch that off for the duration."""
    switched = []
    for f in table.fields:
        if _is_auto_time(f):
            switched.append((f, f.auto_now, f.auto_now_add))
            f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in switched:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


class Ids:
    """Primary keys handed out in advance, so related rows need no round trip."""

    def __init__(self):
        self._next: dict[type, int] = {}

    def take(self, model: type[models.Model], count: int = 1) -> int:
        if model not in self._next:
            self._next[model] = (model._base_manager.aggregate(m=Max("pk"))["m"] or 0) + 1
        first = self._next[model]
        self._next[model] = first + count
        return first


@contextmanager
def nothing():
    yield


@contextmanager
def loading():
    """A transaction for bulk loading. On PostgreSQL its commit does not wait for the write-
    ahead log to reach the disk (the server flushes it in the background while the next
    chunk is generated); a server crash could lose the last chunks, never corrupt them."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit = off")
        yield
