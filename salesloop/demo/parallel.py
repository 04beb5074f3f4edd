"""Generating reps' books in worker processes, with the same ids a single process would give.

Generating a rep's book is pure Python and takes about half a CPU-second for a size-M rep, so on
a 2-core machine one process leaves a core idle (PostgreSQL ingests binary ``COPY`` at a fraction
of that cost). Workers take reps in turn (worker ``w`` builds reps ``w``, ``w + W``, …) and number
their rows from 0. Ids must still come out exactly as in a single process — consecutive, in rep
order — so each worker reports its row counts, the main process answers with the first free id
of every table (it knows all earlier reps' counts by then), and the worker renumbers its rows and
formats them (PostgreSQL: binary ``COPY`` data; other databases: plain rows) for the main process
to write. A worker waits only for the ids of its own rep, never for another worker's rows.

Workers are started with ``spawn``: a fresh interpreter that shares no database connection with
the parent (a forked copy of the parent's socket could end the parent's session on exit).
"""

from __future__ import annotations

import io
import multiprocessing
import pickle
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import count
from typing import TYPE_CHECKING

from salesloop.demo.profile import DemoProfile

if TYPE_CHECKING:  # importing models before django.setup() would fail in a fresh worker
    from salesloop.demo.organisation import RepPlan

#: PostgreSQL binary COPY framing (documented in the manual's COPY page, "Binary Format").
SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
TRAILER = b"\xff\xff"


@dataclass(frozen=True)
class TableSpec:
    label: str
    #: (column position, label of the model whose ids it holds): the row's own id and its keys
    #: to other generated rows; these are renumbered, keys to users or products are not.
    id_positions: tuple[tuple[int, str], ...]
    json_positions: tuple[int, ...] = ()
    extra_values: tuple = ()
    types: tuple[int, ...] = ()  # PostgreSQL type oids; empty: hand back plain rows


@dataclass(frozen=True)
class WorkerSetup:
    seed: int
    profile: DemoProfile
    as_of: date
    history_days: int
    time_zone: str
    stage_ids: dict[str, int]
    stage_probability: dict[str, Decimal]
    loss_reason_ids: dict[str, int]
    product_ids: dict[str, int]
    reps: list[RepPlan]
    tables: dict[str, TableSpec]
    conninfo: str | None  # PostgreSQL: where to borrow psycopg's adapters for binary COPY


def renumber(rows: list[tuple], positions: list[tuple[int, int]]) -> list[tuple]:
    """Add each id column's base to the row-local ids (``None`` stays ``None``)."""
    out = []
    for row in rows:
        values = list(row)
        for i, base in positions:
            value = values[i]
            if value is not None:
                values[i] = value + base
        out.append(tuple(values))
    return out


class BinaryFormatter:
    """psycopg's binary COPY encoder writing into memory instead of a socket."""

    def __init__(self, conninfo: str) -> None:
        import psycopg

        self.connection = psycopg.connect(conninfo)
        self.cursor = self.connection.cursor()

    def format(self, rows: list[tuple], spec: TableSpec) -> bytes:
        from psycopg.copy import Copy, FileWriter
        from psycopg.types.json import Jsonb

        buffer = io.BytesIO()
        extra, json_positions = spec.extra_values, spec.json_positions
        with Copy(self.cursor, binary=True, writer=FileWriter(buffer)) as copy:
            copy.set_types(spec.types)
            for row in rows:
                if json_positions:
                    values = list(row)
                    for i in json_positions:
                        values[i] = Jsonb(values[i])
                    row = tuple(values)
                copy.write_row(row + extra if extra else row)
        data = buffer.getvalue()
        if not rows:
            return b""
        if not (data.startswith(SIGNATURE) and data.endswith(TRAILER)):
            raise ValueError("unexpected binary COPY framing from psycopg")
        return data[len(SIGNATURE) : -len(TRAILER)]

    def close(self) -> None:
        self.connection.close()


def _work(pipe, pickled_setup: bytes) -> None:  # pragma: no cover - runs in a child process
    formatter = None
    try:
        import django

        django.setup()
        from zoneinfo import ZoneInfo

        setup: WorkerSetup = pickle.loads(
            pickled_setup
        )  # after setup(): it holds model-module classes

        from salesloop.demo.book import MODELS, Context, RepBook
        from salesloop.demo.seasons import Calendar

        calendar = Calendar(
            as_of=setup.as_of,
            history_days=setup.history_days,
            profile=setup.profile,
            tz=ZoneInfo(setup.time_zone),
        )
        formatter = BinaryFormatter(setup.conninfo) if setup.conninfo else None
        labels = {model: model._meta.label for model in MODELS}
        for rep in setup.reps:
            ids = {model: count() for model in MODELS}
            ctx = Context(
                seed=setup.seed,
                profile=setup.profile,
                calendar=calendar,
                sink=None,
                stage_ids=setup.stage_ids,
                stage_probability=setup.stage_probability,
                loss_reason_ids=setup.loss_reason_ids,
                product_ids=setup.product_ids,
                ids=ids,
            )
            book = RepBook(ctx, rep)
            book.build()
            pipe.send(("counts", rep.index, {labels[m]: next(ids[m]) for m in MODELS}))
            bases = pipe.recv()
            out = {}
            for model in MODELS:
                spec = setup.tables[labels[model]]
                rows = renumber(
                    book.rows[model], [(i, bases[label]) for i, label in spec.id_positions]
                )
                out[spec.label] = (len(rows), formatter.format(rows, spec) if formatter else rows)
            pipe.send(("rows", rep.index, out))
        pipe.send(("done", None, None))
    except BaseException:
        pipe.send(("error", traceback.format_exc(), None))
    finally:
        if formatter is not None:
            formatter.close()


def build_in_workers(
    *,
    setups: list[WorkerSetup],
    first_ids: dict[str, int],
    deliver: Callable[[int, dict[str, tuple[int, object]]], None],
) -> None:
    """Run the workers; ``deliver(rep index, {label: (rows, data)})`` is called in rep order."""
    spawn = multiprocessing.get_context("spawn")
    workers, pipes = [], []
    for setup in setups:
        parent, child = spawn.Pipe()
        process = spawn.Process(
            target=_work, args=(child, pickle.dumps(setup)), daemon=True, name="demo-worker"
        )
        process.start()
        child.close()
        workers.append(process)
        pipes.append(parent)
    try:
        order = sorted((rep.index, w) for w, setup in enumerate(setups) for rep in setup.reps)
        bases = dict(first_ids)
        lag = len(setups) - 1
        for position, (index, w) in enumerate(order):
            counts = _expect(pipes[w], "counts", index)
            pipes[w].send(dict(bases))
            for label, n in counts.items():
                bases[label] += n
            if position >= lag:
                earlier, ew = order[position - lag]
                deliver(earlier, _expect(pipes[ew], "rows", earlier))
        for earlier, ew in order[max(0, len(order) - lag) :]:
            deliver(earlier, _expect(pipes[ew], "rows", earlier))
        for pipe in pipes:
            _expect(pipe, "done", None)
    finally:
        for process in workers:
            if process.is_alive():
                process.terminate()
            process.join()


def _expect(pipe, kind: str, index):
    got, got_index, payload = pipe.recv()
    if got == "error":
        raise RuntimeError(f"A demo worker failed:\n{got_index}")
    if got != kind or got_index != index:
        raise RuntimeError(f"Demo worker protocol: expected {kind} {index}, got {got} {got_index}")
    return payload
