"""``demo_build``: load a reproducible demo organisation into the database, in one transaction.

Phases (timed, and printed by ``manage.py demo``): clear the old data if asked, build the team tree
and the catalogue through the ORM, prepare the big tables for a bulk load, generate every rep's
book and stream it into the database, rebuild indexes and keys, move the id sequences, refresh
the planner's statistics. A failure anywhere rolls all of it back: the database is never left
half loaded.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import time as dt_time
from itertools import count

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from tqdm import tqdm

from salesloop.customers.models import Lead
from salesloop.demo.book import COLUMNS, MODELS, Context, RepBook, unassigned_leads
from salesloop.demo.catalogue import CATALOGUE
from salesloop.demo.forecast_calls import forecast_calls_build
from salesloop.demo.geography import REGIONS
from salesloop.demo.models import DemoDataset
from salesloop.demo.organisation import COMPANY_NAME, build_organisation
from salesloop.demo.parallel import TableSpec, WorkerSetup, build_in_workers
from salesloop.demo.profile import DemoProfile, DemoSize
from salesloop.demo.seasons import Calendar
from salesloop.demo.selectors import occupied_by
from salesloop.demo.sinks import sink_for_connection
from salesloop.demo.wipe import wipe
from salesloop.forecasting.models import Submission
from salesloop.intel.stage_reach import stage_reach_rebuild
from salesloop.org.models import Membership, OrgSettings, Team, User
from salesloop.pipeline.models import LossReason, Stage
from salesloop.sales.models import Product

REQUIRED_STAGES = ("lead", "qualified", "proposal", "negotiation", "won", "paid", "lost")


class DemoRefused(Exception):
    """The demo will not run: data is present without ``reset``, or reference data is missing."""


@dataclass
class DemoReport:
    size: str
    seed: int
    as_of: date
    phases: dict[str, float] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    skipped: bool = False
    workers: int = 1
    details: dict[str, float] = field(default_factory=dict)


def demo_build(
    *,
    size: DemoSize,
    seed: int = 0,
    as_of: date | None = None,
    reset: bool = False,
    if_empty: bool = False,
    progress: bool = False,
    profile: DemoProfile | None = None,
    workers: int | None = None,
) -> DemoReport:
    """Build the demo organisation; ``as_of`` is "today" (history ends the day before).

    Same ``size``, ``seed`` and ``as_of`` → the same rows, byte for byte (ids included when the
    tables start empty), whatever the number of ``workers`` (``None``: one per core for large
    sizes, see ``_worker_count``).
    """
    profile = profile or DemoProfile()
    as_of = as_of or timezone.localdate()
    report = DemoReport(size=size.code, seed=seed, as_of=as_of)
    started = time.perf_counter()
    occupied = occupied_by()
    if occupied and if_empty and not reset:
        report.skipped = True
        return report
    if occupied and not reset:
        raise DemoRefused(
            _(
                "The database already holds data (%(models)s). Use --reset to replace it or "
                "--if-empty to keep it."
            )
            % {"models": ", ".join(occupied)}
        )
    stages = dict(Stage.objects.filter(code__in=REQUIRED_STAGES).values_list("code", "pk"))
    missing = [code for code in REQUIRED_STAGES if code not in stages]
    if missing:
        raise DemoRefused(
            _("The stage list lacks %(codes)s; run the migrations first.")
            % {"codes": ", ".join(missing)}
        )
    reasons = dict(LossReason.objects.values_list("code", "pk"))
    if not reasons:
        raise DemoRefused(_("There are no loss reasons; run the migrations first."))

    with transaction.atomic():
        clock = time.perf_counter()
        if occupied:
            wipe()
            report.phases["reset"] = time.perf_counter() - clock
        clock = time.perf_counter()
        calendar = Calendar(
            as_of=as_of,
            history_days=size.history_days,
            profile=profile,
            tz=timezone.get_current_timezone(),
        )
        _org_settings()
        organisation = build_organisation(size=size, profile=profile, calendar=calendar, seed=seed)
        product_ids = _catalogue(calendar)
        report.rows.update(
            {
                User._meta.label: organisation.users,
                Team._meta.label: organisation.teams,
                Membership._meta.label: organisation.memberships,
                Product._meta.label: len(product_ids),
            }
        )
        report.phases["organisation and catalogue"] = time.perf_counter() - clock

        sink = sink_for_connection()
        for model in MODELS:
            sink.register(model, COLUMNS[model])
        ctx = Context(
            seed=seed,
            profile=profile,
            calendar=calendar,
            sink=sink,
            stage_ids=stages,
            stage_probability=dict(Stage.objects.values_list("code", "probability")),
            loss_reason_ids=reasons,
            product_ids=product_ids,
            ids={model: count(sink.next_id(model)) for model in MODELS},
        )
        with sink.loading(MODELS) as timings:
            clock = time.perf_counter()
            regions = list(REGIONS[: size.regions])
            pool = max(
                2,
                round(
                    size.accounts * profile.acquired_share / 0.15 * profile.unassigned_recent_leads
                ),
            )
            sink.extend(Lead, unassigned_leads(ctx, regions, pool))
            bar = tqdm(
                total=len(organisation.reps),
                unit=_("rep"),
                desc=_("Generating"),
                disable=not progress,
                file=sys.stderr,
                dynamic_ncols=True,
            )
            workers = _worker_count(workers, size)
            report.workers = workers
            if workers > 1:
                _generate_in_workers(ctx, organisation.reps, workers, bar)
            else:
                written = 0
                for rep in organisation.reps:
                    book = RepBook(ctx, rep)
                    book.build()
                    written += book.flush()
                    bar.update(1)
                    bar.set_postfix(rows=f"{written:,}", refresh=False)
            sink.flush_all()
            bar.close()
            generated = time.perf_counter() - clock
        clock = time.perf_counter()
        # The bulk path bypasses the stage-move service, so the funnel's first-reach table is
        # filled here in one set-based statement (it also analyzes it).
        stage_reach_rebuild()
        reached = time.perf_counter() - clock
        clock = time.perf_counter()
        report.rows[Submission._meta.label] = forecast_calls_build(seed=seed, as_of=as_of)
        called = time.perf_counter() - clock
        clock = time.perf_counter()
        _analyze([*MODELS, User, Team, Membership, Product])
        analyzed = time.perf_counter() - clock
        # In the order they happen; on PostgreSQL a writer thread copies while the reps are
        # generated, so "database write time" overlaps "generate and write".
        prepare = {k: v for k, v in timings.items() if k == "drop indexes and keys"}
        report.phases.update(prepare)
        report.phases["generate and write"] = generated
        report.phases.update({k: v for k, v in timings.items() if k not in prepare})
        report.phases["analyze"] = analyzed
        report.phases["funnel first-reach table"] = reached
        report.phases["forecast calls"] = called
        report.details = {
            "database write time (overlapped)": sink.write_seconds,
            "CPU formatting rows in this process": sink.write_cpu_seconds,
        }
        report.rows.update(sink.counts())
        report.seconds = time.perf_counter() - started
        DemoDataset.objects.create(
            size=size.code,
            seed=seed,
            as_of=as_of,
            seconds=round(report.seconds, 2),
            row_counts=report.rows,
        )
    return report


def _org_settings() -> None:
    org = OrgSettings.current()
    org.name = COMPANY_NAME
    org.currency = "CNY"
    org.time_zone = settings.TIME_ZONE
    org.save()


def _catalogue(calendar: Calendar) -> dict[str, int]:
    """The product list (small: through the ORM), dated before the history begins."""
    products = Product.objects.bulk_create(
        Product(
            sku=it.sku,
            name=it.name,
            category=it.category,
            list_price=it.list_price,
            minimum_price=it.minimum_price,
            cost=it.cost,
            currency="CNY",
        )
        for it in CATALOGUE
    )
    listed = datetime.combine(calendar.first_day, dt_time(9), tzinfo=calendar.tz)
    Product.objects.filter(pk__in=[p.pk for p in products]).update(
        created_at=listed, updated_at=listed
    )
    return {p.sku: p.pk for p in products}


def _analyze(models) -> None:
    """Fresh planner statistics: without them the first queries on millions of rows plan badly."""
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {', '.join(qn(m._meta.db_table) for m in models)}")
        elif connection.vendor == "sqlite":
            for model in models:
                cursor.execute(f"ANALYZE {qn(model._meta.db_table)}")


#: From this many reps, generation is spread over worker processes (S and below stay in-process:
#: starting interpreters costs more than it saves there).
PARALLEL_FROM_REPS = 50


def _worker_count(requested: int | None, size: DemoSize) -> int:
    if requested is not None and requested > 0:
        return requested
    return max(1, min(4, os.cpu_count() or 1)) if size.reps >= PARALLEL_FROM_REPS else 1


def _generate_in_workers(ctx: Context, reps: list, workers: int, bar) -> None:
    """Reps' books built by worker processes, written here in rep order (see ``parallel``)."""
    sink = ctx.sink
    by_label = {model._meta.label: model for model in MODELS}
    specs = {}
    for model in MODELS:
        table = sink.tables[model]
        binary = connection.vendor == "postgresql"
        specs[model._meta.label] = TableSpec(
            label=model._meta.label,
            id_positions=_id_positions(model),
            json_positions=table.json_positions if binary else (),
            extra_values=table.extra_values if binary else (),
            types=table.types if binary else (),
        )
    conninfo = _conninfo() if connection.vendor == "postgresql" else None
    setups = [
        WorkerSetup(
            seed=ctx.seed,
            profile=ctx.profile,
            as_of=ctx.calendar.as_of,
            history_days=ctx.calendar.days,
            time_zone=settings.TIME_ZONE,
            stage_ids=ctx.stage_ids,
            stage_probability=ctx.stage_probability,
            loss_reason_ids=ctx.loss_reason_ids,
            product_ids=ctx.product_ids,
            reps=reps[w::workers],
            tables=specs,
            conninfo=conninfo,
        )
        for w in range(workers)
    ]
    written = 0

    def deliver(_index: int, out: dict) -> None:
        nonlocal written
        for label, (rows, data) in out.items():
            model = by_label[label]
            if isinstance(data, bytes):
                sink.write_block(model, rows, data)
            else:
                sink.extend(model, data)
            written += rows
        bar.update(1)
        bar.set_postfix(rows=f"{written:,}", refresh=False)

    first_ids = {model._meta.label: next(ctx.ids[model]) for model in MODELS}
    build_in_workers(setups=setups, first_ids=first_ids, deliver=deliver)


def _id_positions(model) -> tuple[tuple[int, str], ...]:
    """Columns holding ids of generated rows: the row's own id and keys to other generated rows."""
    positions = []
    for i, name in enumerate(COLUMNS[model]):
        if name == "id":
            positions.append((i, model._meta.label))
            continue
        f = model._meta.get_field(name)
        if f.is_relation and f.related_model in MODELS:
            positions.append((i, f.related_model._meta.label))
    return tuple(positions)


def _conninfo() -> str:
    from psycopg.conninfo import make_conninfo

    db = connection.settings_dict
    params = {
        "dbname": db["NAME"],
        "user": db["USER"],
        "password": db["PASSWORD"],
        "host": db["HOST"],
        "port": str(db["PORT"]) if db["PORT"] else "",
    }
    return make_conninfo(**{k: v for k, v in params.items() if v})
