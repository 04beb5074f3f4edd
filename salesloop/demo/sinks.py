"""Where generated rows go: PostgreSQL ``COPY``, SQLite ``executemany``, in bounded batches.

The generator hands over plain tuples in a declared column order; a sink buffers them per table
and writes a batch when it is full, so memory stays bounded whatever the size. Columns the
generator does not know (a field another app adds later) get the field's default, and a
NOT NULL field without a default stops the load with a message naming it.

On PostgreSQL the fastest correct way to load millions of rows into indexed tables is the one the
PostgreSQL manual recommends ("Populating a Database"): drop the indexes and foreign keys of the
tables being filled, ``COPY``, then build the indexes once and add the constraints back, which
re-validates every row in one pass. All of it runs inside the caller's transaction, so a failure
leaves the schema and the data as they were.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import Max, Model
from django.db.models.fields import NOT_PROVIDED
from django.utils.translation import gettext as _

from salesloop.demo.parallel import SIGNATURE, TRAILER

BATCH_ROWS = 20_000
BLOCK_BYTES = 16 * 1024 * 1024


@dataclass
class _Table:
    model: type[Model]
    columns: tuple[str, ...]  # attnames given by the generator, in row order
    extra_values: tuple  # defaults for the model's other concrete fields (PostgreSQL only)
    copy_sql: str = ""  # COPY on PostgreSQL, INSERT elsewhere
    json_positions: tuple[int, ...] = ()
    adapters: tuple = ()  # SQLite: (position, Field.get_db_prep_save) for values Django adapts
    types: tuple[int, ...] = ()  # PostgreSQL: column type oids for binary COPY
    blocks: list[bytes] = field(default_factory=list)  # PostgreSQL: COPY data from workers
    block_rows: int = 0
    block_bytes: int = 0
    rows: list[tuple] = field(default_factory=list)
    written: int = 0


class Sink:
    """Common part: registration, buffering, counting, id allocation."""

    vendor = ""

    def __init__(self) -> None:
        self.tables: dict[type[Model], _Table] = {}
        self.write_seconds = 0.0  # wall time spent writing (overlaps generation on PostgreSQL)
        self.write_cpu_seconds = 0.0  # CPU of this process spent formatting rows for COPY

    def register(self, model: type[Model], columns: Sequence[str]) -> None:
        given = set(columns)
        extras = []
        for f in model._meta.concrete_fields:
            if f.attname in given or f.db_default is not NOT_PROVIDED:
                continue
            if not f.has_default() and not f.null:
                raise ImproperlyConfigured(
                    _("The demo generator does not fill %(model)s.%(field)s, which has no default.")
                    % {"model": model._meta.label, "field": f.name}
                )
            extras.append(f)
        self.tables[model] = self._table(model, tuple(columns), extras)

    def _table(self, model, columns, extras) -> _Table:
        return _Table(model=model, columns=columns, extra_values=())

    def add(self, model: type[Model], row: tuple) -> None:
        table = self.tables[model]
        table.rows.append(row)
        if len(table.rows) >= BATCH_ROWS:
            self._flush(table)

    def extend(self, model: type[Model], rows: Iterable[tuple]) -> None:
        table = self.tables[model]
        table.rows.extend(rows)
        if len(table.rows) >= BATCH_ROWS:
            self._flush(table)

    def _flush(self, table: _Table) -> None:
        if not table.rows:
            return
        started = time.perf_counter()
        self._write(table)
        self.write_seconds += time.perf_counter() - started
        table.written += len(table.rows)
        table.rows = []

    def _write(self, table: _Table) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def flush_all(self) -> None:
        for table in self.tables.values():
            self._flush(table)

    def counts(self) -> dict[str, int]:
        return {
            t.model._meta.label: t.written + len(t.rows) + t.block_rows
            for t in self.tables.values()
        }

    @staticmethod
    def next_id(model: type[Model]) -> int:
        return (model.objects.aggregate(top=Max("pk"))["top"] or 0) + 1

    @contextmanager
    def loading(self, models: Sequence[type[Model]]):
        """Prepare the tables for a bulk load and finish it afterwards (phase timings kept)."""
        yield {}


class InsertSink(Sink):
    """SQLite: a parameterised ``INSERT`` run by ``executemany`` in the caller's transaction.

    Why not ``bulk_create``: for plain tuples it spends most of its time building model instances
    and running ``pre_save`` per field (size S on the shared 2-core machine: 73 s of writing with
    ``bulk_create``, 19 s with this), and its ``auto_now``/``auto_now_add`` would stamp a year of
    history with today's date. Each value that needs it goes through the same
    ``Field.get_db_prep_save`` Django applies (aware datetimes to UTC text, JSON to text); the
    rest are bound as they are.
    """

    vendor = "sqlite"

    def _table(self, model, columns, extras) -> _Table:
        qn = connection.ops.quote_name
        fields = [model._meta.get_field(c) for c in columns]
        names = [f.column for f in fields] + [f.column for f in extras]
        adapt = tuple(
            (i, f.get_db_prep_save)
            for i, f in enumerate(fields)
            if f.get_internal_type() in ("DateTimeField", "JSONField")
        )
        table = _Table(
            model=model,
            columns=columns,
            extra_values=tuple(f.get_db_prep_save(f.get_default(), connection) for f in extras),
            copy_sql=f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(n) for n in names)}) "
            f"VALUES ({', '.join(['%s'] * len(names))})",
        )
        table.adapters = adapt
        return table

    def _write(self, table: _Table) -> None:
        adapters, extra = table.adapters, table.extra_values
        rows = []
        for row in table.rows:
            values = list(row)
            for i, prep in adapters:
                if values[i] is not None:
                    values[i] = prep(values[i], connection)
            rows.append(values + list(extra) if extra else values)
        with connection.cursor() as cursor:
            cursor.executemany(table.copy_sql, rows)


class CopySink(Sink):
    """PostgreSQL: ``COPY … FROM STDIN`` through psycopg 3, indexes built once at the end."""

    vendor = "postgresql"

    def _table(self, model, columns, extras) -> _Table:
        qn = connection.ops.quote_name
        names = [model._meta.get_field(c).column for c in columns] + [f.column for f in extras]
        json_positions = tuple(
            i
            for i, c in enumerate(columns)
            if model._meta.get_field(c).get_internal_type() == "JSONField"
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT attname, atttypid::int FROM pg_attribute"
                " WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
                [model._meta.db_table],
            )
            oids = dict(cursor.fetchall())
        return _Table(
            model=model,
            columns=columns,
            extra_values=tuple(f.get_db_prep_save(f.get_default(), connection) for f in extras),
            # Binary COPY: timestamps and integers skip text formatting and parsing on both
            # sides (measured: ~2.5x less client CPU per activity row than text COPY).
            copy_sql=f"COPY {qn(model._meta.db_table)} ({', '.join(qn(n) for n in names)}) "
            "FROM STDIN (FORMAT BINARY)",
            json_positions=json_positions,
            types=tuple(oids[n] for n in names),
        )

    def __init__(self) -> None:
        super().__init__()
        self._queue: queue.Queue | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def _flush(self, table: _Table) -> None:
        """Hand the batch to the writer thread; generation goes on while PostgreSQL ingests.

        The queue is short, so memory stays bounded: when PostgreSQL falls behind, the
        generator waits.
        """
        if not table.rows:
            return
        if self._error is not None:
            raise self._error
        rows, table.rows = table.rows, []
        table.written += len(rows)
        if self._queue is None:  # outside ``loading``: write in this thread
            self._copy(connection.connection, table, rows)
        else:
            self._queue.put((table, rows))

    def write_block(self, model: type[Model], rows: int, data: bytes) -> None:
        """Binary COPY data already formatted by a worker process (see ``parallel``)."""
        table = self.tables[model]
        table.blocks.append(data)
        table.block_rows += rows
        table.block_bytes += len(data)
        if table.block_bytes >= BLOCK_BYTES:
            self._flush_blocks(table)

    def _flush_blocks(self, table: _Table) -> None:
        if not table.blocks:
            return
        if self._error is not None:
            raise self._error
        data = SIGNATURE + b"".join(table.blocks) + TRAILER
        table.written += table.block_rows
        table.blocks, table.block_rows, table.block_bytes = [], 0, 0
        if self._queue is None:
            self._copy(connection.connection, table, data)
        else:
            self._queue.put((table, data))

    def flush_all(self) -> None:
        super().flush_all()
        for table in self.tables.values():
            self._flush_blocks(table)

    def _copy(self, raw, table: _Table, rows: list[tuple] | bytes) -> None:
        from psycopg.types.json import Jsonb

        started, cpu = time.perf_counter(), time.thread_time()
        if isinstance(rows, bytes):
            with raw.cursor() as cursor, cursor.copy(table.copy_sql) as copy:
                copy.write(rows)
            self.write_seconds += time.perf_counter() - started
            self.write_cpu_seconds += time.thread_time() - cpu
            return
        extra, json_positions = table.extra_values, table.json_positions
        with raw.cursor() as cursor, cursor.copy(table.copy_sql) as copy:
            copy.set_types(table.types)
            write = copy.write_row
            for row in rows:
                if json_positions:
                    values = list(row)
                    for i in json_positions:
                        values[i] = Jsonb(values[i])
                    row = tuple(values)
                write(row + extra if extra else row)
        self.write_seconds += time.perf_counter() - started
        self.write_cpu_seconds += time.thread_time() - cpu

    def _writer(self, raw) -> None:
        """The one thread that talks to the database while the main thread generates.

        It uses the main thread's psycopg connection (so the rows land in the caller's
        transaction); the main thread does not touch the database until the writer is joined.
        """
        while True:
            item = self._queue.get()
            if item is None:
                return
            if self._error is None:
                try:
                    self._copy(raw, *item)
                except BaseException as exc:  # handed to the main thread at its next flush or join
                    self._error = exc

    @contextmanager
    def loading(self, models):
        timings: dict[str, float] = {}
        tables = [m._meta.db_table for m in models]
        with connection.cursor() as cursor:
            # Checks queued by earlier inserts in this transaction run now; ALTER TABLE refuses
            # to run on a table with pending trigger events.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
            cursor.execute("SET LOCAL synchronous_commit = off")
            started = time.perf_counter()
            dropped = _drop_indexes_and_keys(cursor, tables)
            timings["drop indexes and keys"] = time.perf_counter() - started
        self._queue = queue.Queue(maxsize=4)
        self._thread = threading.Thread(
            target=self._writer, args=(connection.connection,), daemon=True, name="demo-copy"
        )
        self._thread.start()
        try:
            yield timings
            self.flush_all()
        finally:
            started = time.perf_counter()
            self._queue.put(None)
            self._thread.join()
            self._queue = self._thread = None
            timings["finish writing"] = time.perf_counter() - started
        if self._error is not None:
            raise self._error
        with connection.cursor() as cursor:
            started = time.perf_counter()
            for statement in dropped:
                cursor.execute(statement)
            timings["build indexes and keys"] = time.perf_counter() - started
            started = time.perf_counter()
            for model in models:
                _set_sequence(cursor, model)
            timings["sequences"] = time.perf_counter() - started


def _drop_indexes_and_keys(cursor, tables: list[str]) -> list[str]:
    """Drop foreign keys touching ``tables`` and their secondary indexes; return how to rebuild.

    Primary keys and CHECK constraints stay. Rebuild order: indexes, unique constraints, then
    foreign keys (which need the unique indexes they reference).
    """
    cursor.execute("SELECT array_agg(to_regclass(t)::oid) FROM unnest(%s::text[]) AS t", [tables])
    oids = cursor.fetchone()[0]
    cursor.execute(
        """
        SELECT c.conrelid::regclass::text, c.conname, c.contype, pg_get_constraintdef(c.oid)
        FROM pg_constraint c
        WHERE (c.contype = 'f' AND (c.conrelid = ANY(%s) OR c.confrelid = ANY(%s)))
           OR (c.contype = 'u' AND c.conrelid = ANY(%s))
        ORDER BY c.contype, c.conrelid::regclass::text, c.conname
        """,
        [oids, oids, oids],
    )
    constraints = cursor.fetchall()
    cursor.execute(
        """
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
        FROM pg_index i
        WHERE i.indrelid = ANY(%s) AND NOT i.indisprimary
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                          WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid
                            AND c.contype IN ('p', 'u', 'x'))
        ORDER BY 1
        """,
        [oids],
    )
    indexes = cursor.fetchall()
    rebuild = [definition for _name, definition in indexes]
    foreign = [row for row in constraints if row[2] == "f"]
    unique = [row for row in constraints if row[2] == "u"]
    for table, name, _kind, _definition in foreign + unique:
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _definition in indexes:
        cursor.execute(f"DROP INDEX {name}")
    for table, name, _kind, definition in unique + foreign:
        rebuild.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    return rebuild


def _set_sequence(cursor, model: type[Model]) -> None:
    """After COPY with explicit ids the identity sequence must move past the highest id."""
    table = connection.ops.quote_name(model._meta.db_table)
    pk = model._meta.pk.column
    cursor.execute(
        f"SELECT setval(pg_get_serial_sequence(%s, %s), COALESCE(MAX({pk}), 1),"
        f" MAX({pk}) IS NOT NULL) FROM {table}",
        [model._meta.db_table, pk],
    )


def sink_for_connection() -> Sink:
    return CopySink() if connection.vendor == "postgresql" else InsertSink()
