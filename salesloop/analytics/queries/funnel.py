"""Funnel review (issue #7, seed 000 §四.1): cohort conversion, time in stage, win rate, cycle.

The counting rule, stated once (and tested on hand-built deals in ``intel/tests``):

* **Levels.** A stage's level is its ``order``; lost stages are not levels. Stages are always
  reported in that order (never grouped unordered, a peer's bug).
* **Reaching a level.** A deal reaches level L the first time one of its ``StageChange`` rows
  enters a non-lost stage whose order is ≥ L. So a **skip** (qualified → negotiation) counts as
  passing proposal at the moment of the jump, with zero time spent in it.
* **Cohort.** The cohort of level S in a period is the deals that *first* reached S inside the
  period. A deal belongs to each cohort once, however often it re-enters the stage.
* **Conversion** S → T: a cohort deal converts if it has reached T at any time before ``as_of``
  (default now). A **reversal** (negotiation → proposal) does not undo a level already reached;
  re-entering a stage never adds a second cohort member.
* **Reopening.** A lost deal that is reopened and later reaches T counts as converted; a loss
  only shows as a leak while the deal's *current* stage is lost. Leaks (cohort deals that did
  not reach the next level and are lost now) are broken down by the deal's loss reason.
* **Time in stage.** Each completed visit (entering a stage until the next change) that started
  in the period; the average is per visit, in days. Open visits are left out (they would bias
  the mean down); skipped stages have no visit.
* **Win rate** = won / (won + lost) of deals closed in the period (``closed_at``); **cycle** =
  average days from creation to close of those won.

**Periods.** ``dimension="month"`` / ``"quarter"`` group each figure by the local month or
quarter of its own event (keys ``2026-01`` / ``2026-Q1``): a cohort by when it entered the stage,
so the conversion of January's proposals can be compared with February's; a visit by when it
started; an outcome by when the deal closed.

**Speed.** The first reach of each level is read from the pre-aggregated ``intel.StageReach``
(maintained by ``intel.stage_reach``); since stage changes are append-only, "reached before
``as_of``" is exactly ``first_at < as_of``. ``precomputed=False`` recomputes it from every stage
change (the reference in the tests and the bench's "before").

All money-free, set-based SQL with bound parameters, the same text on SQLite and PostgreSQL
(only the mean duration and the local month/quarter differ, in ``dialect``). Visibility comes
from ``org.access.restrict``: the visible opportunities are an ``IN (subquery)`` of the caller's
restricted queryset.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from salesloop.analytics.queries.dialect import avg_seconds_between, local_month, local_quarter, sum_seconds_between

_ACCOUNT = " JOIN customers_account a ON a.id = o.account_id"
#: Marks a period dimension, whose SQL depends on which event time it groups (``_dimension_sql``).
PERIOD = "<period>"

#: Dimension name → (SQL expression, joins). ``team`` is the owner's current team.
DIMENSIONS: dict[str, tuple[str, str]] = {
    "company": ("CAST('all' AS VARCHAR(10))", ""),
    "rep": ("o.owner_id", ""),
    "team": ("u.team_id", " JOIN org_user u ON u.id = o.owner_id"),
    "source": (
        "COALESCE(NULLIF(l.source, ''), a.source_channel)",
        _ACCOUNT + " LEFT JOIN customers_lead l ON l.id = o.lead_id",
    ),
    "industry": ("a.industry", _ACCOUNT),
    "region": ("a.region", _ACCOUNT),
    "province": ("a.province", _ACCOUNT),
    "city": ("a.city", _ACCOUNT),
    # Periods of the event itself (local time): the cohort's entry into the stage for
    # conversion, the visit's start for time in stage, the close for win rate and cycle.
    "month": (PERIOD, ""),
    "quarter": (PERIOD, ""),
}


def _dimension_sql(dimension: str, at: str) -> tuple[str, list]:
    """The SQL (and its parameters) of ``dimension`` for a row whose event time is ``at``."""
    expr, _joins = DIMENSIONS[dimension]
    if expr != PERIOD:
        return expr, []
    return local_month(at) if dimension == "month" else local_quarter(at)


@dataclass
class Step:
    """Conversion of the cohort of ``from_order`` to ``to_order`` for one dimension value."""

    key: object
    from_order: int
    to_order: int
    cohort: int
    converted: int
    avg_days: float | None
    benchmark: Decimal | None = None
    benchmark_label: str = ""
    loss_reasons: list[tuple[int | None, int]] = field(default_factory=list)

    @property
    def rate(self) -> Decimal | None:
        if not self.cohort:
            return None
        return (Decimal(self.converted) / Decimal(self.cohort)).quantize(Decimal("0.0001"))

    @property
    def is_leak(self) -> bool:
        return self.benchmark is not None and self.rate is not None and self.rate < self.benchmark

    @property
    def leaked(self) -> int:
        return sum(n for _r, n in self.loss_reasons)


@dataclass
class StageTime:
    key: object
    order: int
    visits: int
    avg_days: float | None


@dataclass
class Outcome:
    key: object
    won: int
    lost: int
    avg_cycle_days: float | None

    @property
    def win_rate(self) -> Decimal | None:
        closed = self.won + self.lost
        return (Decimal(self.won) / Decimal(closed)).quantize(Decimal("0.0001")) if closed else None


@dataclass
class FunnelResult:
    dimension: str
    start: dt.date
    end: dt.date
    as_of: dt.datetime
    levels: list[int]
    steps: list[Step]  # adjacent levels, per key, in stage order
    pairs: list[Step]  # every (from, to) with to > from, for benchmarks on non-adjacent stages
    stage_times: list[StageTime]
    outcomes: list[Outcome]

    def keys(self) -> list:
        return sorted({s.key for s in self.steps} | {o.key for o in self.outcomes}, key=lambda k: (k is None, str(k)))


def _ts(value: dt.datetime):
    return connection.ops.adapt_datetimefield_value(value)


def _day_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    lo = dt.datetime.combine(start, dt.time.min).replace(tzinfo=tz)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min).replace(tzinfo=tz)
    return lo, hi


def _fetch(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def _by_count(reason: tuple[int | None, int]) -> tuple:
    """Most leaked first; ties in a fixed order, whatever order the database grouped them."""
    return (-reason[1], reason[0] is None, reason[0] or 0)


def _days(secs) -> float | None:
    return None if secs is None else round(float(secs) / 86400.0, 2)


def funnel_review(
    *,
    visible_opportunities,
    start: dt.date,
    end: dt.date,
    dimension: str = "company",
    as_of: dt.datetime | None = None,
    precomputed: bool = True,
) -> FunnelResult:
    """The funnel of the deals in ``visible_opportunities`` (a queryset) for ``start``..``end``
    (local dates, inclusive), grouped by ``dimension`` (a key of :data:`DIMENSIONS`).

    ``precomputed`` reads the first reach of each level from ``intel.StageReach`` (brought up to
    date first); ``False`` recomputes it from every stage change, the reference the table is
    tested against (same results, slower by orders of magnitude on large books)."""
    from salesloop.intel.models import FunnelBenchmark
    from salesloop.pipeline.models import Stage

    if dimension not in DIMENSIONS:
        raise ValueError(dimension)
    _dim, joins = DIMENSIONS[dimension]
    as_of = as_of or timezone.now()
    lo, hi = _day_bounds(start, end)
    vis_sql, vis_params = visible_opportunities.order_by().values("id").query.sql_with_params()
    levels = sorted(set(Stage.objects.filter(is_active=True, is_lost=False).values_list("order", flat=True)))

    # ``reach``: (opp, lvl, at) = the first time each deal reached each level, before ``as_of``.
    # From the table it is a derived table, not a CTE, so PostgreSQL plans it with the table's
    # statistics (a CTE used twice is materialised and estimated blindly: ~30 s of nested loops).
    levels_cte = (
        "lv AS (SELECT DISTINCT st0.\"order\" AS lvl FROM pipeline_stage st0 WHERE st0.is_active AND NOT st0.is_lost)"
    )
    if precomputed:
        from salesloop.intel.stage_reach import stage_reach_catch_up

        stage_reach_catch_up()
        with_sql, with_params = levels_cte, []
        reach_ref = (
            "(SELECT sr.opportunity_id AS opp, sr.level AS lvl, sr.first_at AS at"
            " FROM intel_stagereach sr WHERE sr.first_at < %s)"
        )
        reach_ref_params = [_ts(as_of)]
    else:
        with_sql = (
            f"{levels_cte}, reach AS (SELECT sc.opportunity_id AS opp, lv.lvl AS lvl, MIN(sc.changed_at) AS at"
            " FROM pipeline_stagechange sc JOIN pipeline_stage st ON st.id = sc.to_stage_id"
            " JOIN lv ON lv.lvl <= st.\"order\""
            " WHERE NOT st.is_lost AND sc.changed_at < %s GROUP BY sc.opportunity_id, lv.lvl)"
        )
        with_params = [_ts(as_of)]
        reach_ref, reach_ref_params = "reach", []
    cohort_dim, cohort_dim_params = _dimension_sql(dimension, "r.at")
    reach = (
        f"WITH {with_sql},"
        f" cohort AS (SELECT r.opp AS opp, r.lvl AS lvl, r.at AS at, {cohort_dim} AS dim,"
        " CASE WHEN cur.is_lost THEN 1 ELSE 0 END AS lost_now, o.loss_reason_id AS reason"
        f" FROM {reach_ref} r JOIN pipeline_opportunity o ON o.id = r.opp{joins}"
        " JOIN pipeline_stage cur ON cur.id = o.stage_id"
        f" WHERE r.at >= %s AND r.at < %s AND o.id IN ({vis_sql}))"
    )
    reach_params = [*with_params, *cohort_dim_params, *reach_ref_params, _ts(lo), _ts(hi), *vis_params]

    # One pass for cohort sizes, conversions and leaks. A cohort member always has its own
    # level's reach row, so the ``t.lvl = c.lvl`` group is the cohort; splitting by "lost now"
    # and loss reason gives the leaks by subtraction: lost-now members of the cohort minus
    # those that reached the next level (the same set as "never reached it", without a second
    # pass over the cohort).
    reached = _fetch(
        reach + " SELECT c.dim, c.lvl, t.lvl, c.lost_now, c.reason, COUNT(*),"
        f" {sum_seconds_between('t.at', 'c.at')} FROM cohort c"
        f" JOIN {reach_ref} t ON t.opp = c.opp AND t.lvl >= c.lvl"
        " GROUP BY c.dim, c.lvl, t.lvl, c.lost_now, c.reason",
        [*reach_params, *reach_ref_params],
    )
    counts: dict[tuple, int] = defaultdict(int)
    seconds: dict[tuple, float] = defaultdict(float)
    lost_counts: dict[tuple, int] = defaultdict(int)
    for k, a, b, lost_now, reason, n, secs in reached:
        counts[(k, a, b)] += int(n)
        seconds[(k, a, b)] += float(secs or 0)
        if lost_now:
            lost_counts[(k, a, b, reason)] += int(n)
    sizes = [(k, a, n) for (k, a, b), n in counts.items() if a == b]
    next_level = dict(zip(levels, levels[1:], strict=False))
    leaks = []
    for (k, a, b, reason), n in lost_counts.items():
        if a == b and a in next_level:
            leaked = n - lost_counts.get((k, a, next_level[a], reason), 0)
            if leaked:
                leaks.append((k, a, reason, leaked))

    # A visit that starts at or after ``lo`` ends at the next change, which is never earlier, so
    # the window only needs the changes from ``lo`` on (the same visits, far fewer rows).
    visit_dim, visit_dim_params = _dimension_sql(dimension, "v.at")
    stage_times = _fetch(
        f"SELECT x.dim, x.ord, COUNT(*), {avg_seconds_between('x.left_at', 'x.at')} FROM ("
        f" SELECT {visit_dim} AS dim, st.\"order\" AS ord, v.left_at AS left_at, v.at AS at FROM ("
        " SELECT sc.opportunity_id AS opp, sc.to_stage_id AS stg, sc.changed_at AS at,"
        " LEAD(sc.changed_at) OVER (PARTITION BY sc.opportunity_id ORDER BY sc.changed_at, sc.id) AS left_at"
        " FROM pipeline_stagechange sc WHERE sc.changed_at >= %s AND sc.changed_at < %s) v"
        " JOIN pipeline_stage st ON st.id = v.stg"
        f" JOIN pipeline_opportunity o ON o.id = v.opp{joins}"
        f" WHERE v.left_at IS NOT NULL AND v.at >= %s AND v.at < %s AND o.id IN ({vis_sql})"
        ") x GROUP BY x.dim, x.ord",
        [*visit_dim_params, _ts(lo), _ts(as_of), _ts(lo), _ts(hi), *vis_params],
    )

    close_dim, close_dim_params = _dimension_sql(dimension, "o.closed_at")
    outcomes = _fetch(
        f"SELECT x.dim, SUM(x.won), SUM(x.lost), {avg_seconds_between('x.won_closed', 'x.won_created')} FROM ("
        f" SELECT {close_dim} AS dim, CASE WHEN st.is_won THEN 1 ELSE 0 END AS won,"
        " CASE WHEN st.is_lost THEN 1 ELSE 0 END AS lost,"
        " CASE WHEN st.is_won THEN o.closed_at END AS won_closed,"
        " CASE WHEN st.is_won THEN o.created_at END AS won_created"
        f" FROM pipeline_opportunity o JOIN pipeline_stage st ON st.id = o.stage_id{joins}"
        " WHERE (st.is_won OR st.is_lost) AND o.closed_at >= %s AND o.closed_at < %s"
        f" AND o.closed_at < %s AND o.id IN ({vis_sql})) x GROUP BY x.dim",
        [*close_dim_params, _ts(lo), _ts(hi), _ts(as_of), *vis_params],
    )

    size_of = {(k, lvl): n for k, lvl, n in sizes}
    reach_of = {key: (n, seconds[key] / n) for key, n in counts.items()}
    leak_of: dict[tuple, list[tuple[int | None, int]]] = defaultdict(list)
    for k, lvl, reason, n in leaks:
        leak_of[(k, lvl)].append((reason, int(n)))
    bench = {
        (b.from_stage.order, b.to_stage.order): b
        for b in FunnelBenchmark.objects.select_related("from_stage", "to_stage").order_by("id")
    }

    keys = {k for k, _l in size_of}
    steps: list[Step] = []
    pairs: list[Step] = []
    for key in sorted(keys, key=lambda k: (k is None, str(k))):
        for i, a in enumerate(levels):
            for b in levels[i + 1 :]:
                n, secs = reach_of.get((key, a, b), (0, None))
                step = Step(key, a, b, int(size_of.get((key, a), 0)), int(n), _days(secs))
                if (a, b) in bench:
                    step.benchmark = bench[(a, b)].rate
                    step.benchmark_label = bench[(a, b)].label
                pairs.append(step)
                if b == levels[i + 1]:
                    step.loss_reasons = sorted(leak_of.get((key, a), []), key=_by_count)
                    steps.append(step)
    return FunnelResult(
        dimension=dimension,
        start=start,
        end=end,
        as_of=as_of,
        levels=levels,
        steps=steps,
        pairs=pairs,
        stage_times=[StageTime(k, int(o), int(n), _days(s)) for k, o, n, s in stage_times],
        outcomes=[Outcome(k, int(w or 0), int(lz or 0), _days(c)) for k, w, lz, c in outcomes],
    )
