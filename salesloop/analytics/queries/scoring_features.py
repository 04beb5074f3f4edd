"""Features of deals for the win-probability model, each row computed *as of* a moment.

One SQL statement per call (CTEs, window functions, portable between SQLite and PostgreSQL), for
all requested deals at once. Every row has its own ``as_of`` (seconds since 1970) and reads only
rows dated at or before it:

* stage, amount, days in stage, backward moves and reopenings come from the stage log
  (``pipeline_stagechange``) up to ``as_of`` — never from the deal's current stage or amount;
* activity counts (by kind, last 30 / 90 days), days since the last activity and the share of
  positive outcomes come from activities that occurred up to ``as_of``;
* the rep's win rate and the account's prior wins and revenue count deals *closed strictly
  before* ``as_of``: closings and feature rows are merged into one timeline per rep / account and
  a running sum is read at each feature row (feature rows sort before a closing at the same
  instant), so the cost is one sort, not a rep × deals join;
* tenure is days from the rep's first membership start to ``as_of``.

Fields the app keeps no history of (account industry, size, province, lead source, decision
maker, competitors, expected close date) are read at their current value; the model uses none
that the app changes when a deal closes (notably not ``decision_date``, which closing a won deal
sets, nor ``probability``).

Training rows (:func:`closed_deal_features`): each closed deal is featurised at a fixed
pseudo-random point of its open life, ``created + f × (closed − created)`` with
``f = 0.05 + 0.9 × ((id × 7919) mod 1000) / 1000`` — strictly before the close, reproducible, and
spread over the deal's life like the open deals we score are (an open deal is seen at some point
of its life, not just before it closes). Deals closed at the instant they were created have no
open life and are left out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd
from django.db import connection

from salesloop.activities.models import ActivityKind, ActivityOutcome
from salesloop.analytics.queries.dialect import epoch_seconds

DAY = 86400.0
#: Activity outcomes that count as positive (the customer engaged).
POSITIVE_OUTCOMES = (ActivityOutcome.INTERESTED, ActivityOutcome.QUALIFIED, ActivityOutcome.NEGOTIATING)
#: Separators between competitor names in ``Opportunity.competitors``.
COMPETITOR_SEPARATORS = ("、", ",", "，", ";", "；")
WINDOWS = (30, 90)

NUMERIC = [
    "amount",
    "stage_order",
    "has_decision_maker",
    "competitors",
    "days_overdue",
    "days_in_stage",
    "days_open",
    "backward_moves",
    "reopened",
    *[f"act_{kind}_{w}" for w in WINDOWS for kind in ActivityKind.values],
    *[f"act_{w}" for w in WINDOWS],
    "days_since_activity",
    "positive_share",
    "rep_closed_before",
    "rep_win_rate",
    "rep_tenure_days",
    "account_won_before",
    "account_revenue_before",
]
CATEGORICAL = ["stage", "source", "industry", "size", "region"]


def _ep(expr: str) -> str:
    return f"CAST({epoch_seconds(expr)} AS DOUBLE PRECISION)"


def _competitors_sql(col: str) -> tuple[str, list]:
    parts = " + ".join(f"(LENGTH({col}) - LENGTH(REPLACE({col}, %s, '')))" for _ in COMPETITOR_SEPARATORS)
    return f"CASE WHEN TRIM({col}) = '' THEN 0 ELSE 1 + {parts} END", list(COMPETITOR_SEPARATORS)


def _features_sql(targets_sql: str) -> tuple[str, list]:
    """The feature query around a ``targets`` CTE body yielding ``(opp_id, as_of, won, closed_ts)``."""
    params: list = []
    kind_cols = []
    for w in WINDOWS:
        for kind in ActivityKind.values:
            kind_cols.append(
                f"SUM(CASE WHEN a.kind = %s AND a.ts > t.as_of - {w * DAY} THEN 1 ELSE 0 END) AS act_{kind}_{w}"
            )
            params.append(kind)
    for w in WINDOWS:
        kind_cols.append(f"SUM(CASE WHEN a.ts > t.as_of - {w * DAY} THEN 1 ELSE 0 END) AS act_{w}")
    positive = ", ".join(["%s"] * len(POSITIVE_OUTCOMES))
    params += [str(v) for v in POSITIVE_OUTCOMES]
    comp_sql, comp_params = _competitors_sql("o.competitors")
    sql = f"""
WITH t AS ({targets_sql}),
sc AS (
    SELECT t.opp_id, c.id, c.to_stage_id, c.from_stage_id, c.amount, {_ep("c.changed_at")} AS ts,
           ROW_NUMBER() OVER (PARTITION BY t.opp_id ORDER BY c.changed_at DESC, c.id DESC) AS rn
    FROM t JOIN pipeline_stagechange c ON c.opportunity_id = t.opp_id
    WHERE {_ep("c.changed_at")} <= t.as_of
),
moves AS (
    SELECT sc.opp_id,
           SUM(CASE WHEN fs.id IS NOT NULL AND NOT (fs.is_won OR fs.is_lost) AND NOT (ts2.is_won OR ts2.is_lost)
                     AND ts2."order" < fs."order" THEN 1 ELSE 0 END) AS backward_moves,
           SUM(CASE WHEN fs.id IS NOT NULL AND (fs.is_won OR fs.is_lost) AND NOT (ts2.is_won OR ts2.is_lost)
                    THEN 1 ELSE 0 END) AS reopened
    FROM sc JOIN pipeline_stage ts2 ON ts2.id = sc.to_stage_id
    LEFT JOIN pipeline_stage fs ON fs.id = sc.from_stage_id
    GROUP BY sc.opp_id
),
acts AS (
    SELECT t.opp_id, {", ".join(kind_cols)},
           MAX(a.ts) AS last_ts,
           SUM(CASE WHEN a.outcome IN ({positive}) THEN 1 ELSE 0 END) AS positive,
           SUM(CASE WHEN a.outcome <> '' THEN 1 ELSE 0 END) AS with_outcome
    FROM t JOIN (
        SELECT t0.opp_id AS aid, a0.kind, a0.outcome, {_ep("a0.occurred_at")} AS ts
        FROM t t0 JOIN activities_activity a0 ON a0.opportunity_id = t0.opp_id
    ) a ON a.aid = t.opp_id
    WHERE a.ts <= t.as_of
    GROUP BY t.opp_id
),
line AS (
    SELECT o.owner_id AS rk, o.account_id AS ak, {_ep("o.closed_at")} AS ts, 1 AS ev, NULL AS opp_id,
           CASE WHEN s.is_won THEN 1 ELSE 0 END AS won, 1 AS closed,
           CASE WHEN s.is_won THEN CAST(ROUND(o.amount * 100) AS BIGINT) ELSE 0 END AS cents
    FROM pipeline_opportunity o JOIN pipeline_stage s ON s.id = o.stage_id
    WHERE (s.is_won OR s.is_lost) AND o.closed_at IS NOT NULL
    UNION ALL
    SELECT o.owner_id, o.account_id, t.as_of, 0, t.opp_id, 0, 0, 0
    FROM t JOIN pipeline_opportunity o ON o.id = t.opp_id
),
hist AS (
    SELECT opp_id, ev,
           SUM(won) OVER (PARTITION BY rk ORDER BY ts, ev ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
               AS rep_won,
           SUM(closed) OVER (PARTITION BY rk ORDER BY ts, ev ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
               AS rep_closed,
           SUM(won) OVER (PARTITION BY ak ORDER BY ts, ev ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
               AS acct_won,
           SUM(cents) OVER (PARTITION BY ak ORDER BY ts, ev ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
               AS acct_cents
    FROM line
),
tenure AS (
    SELECT user_id, MIN(start_date) AS start_date FROM org_membership GROUP BY user_id
)
SELECT t.opp_id, t.as_of, t.won, t.closed_ts, o.owner_id,
       st.code AS stage, COALESCE(st."order", 0) AS stage_order,
       CAST(COALESCE(cur.amount, o.amount) AS DOUBLE PRECISION) AS amount,
       COALESCE(NULLIF(l.source, ''), acc.source_channel, '') AS source,
       COALESCE(acc.industry, '') AS industry, COALESCE(acc.size, '') AS size,
       COALESCE(NULLIF(acc.province, ''), acc.region, '') AS region,
       CASE WHEN o.decision_maker_id IS NULL THEN 0 ELSE 1 END AS has_decision_maker,
       {comp_sql} AS competitors,
       CASE WHEN o.expected_close_date IS NULL THEN 0
            WHEN t.as_of - {_ep("o.expected_close_date")} > {DAY}
            THEN (t.as_of - {_ep("o.expected_close_date")}) / {DAY} ELSE 0 END AS days_overdue,
       CASE WHEN cur.ts IS NULL THEN 0 ELSE (t.as_of - cur.ts) / {DAY} END AS days_in_stage,
       (t.as_of - {_ep("o.created_at")}) / {DAY} AS days_open,
       COALESCE(mv.backward_moves, 0) AS backward_moves, COALESCE(mv.reopened, 0) AS reopened,
       {", ".join(f"COALESCE(acts.{c.split(' AS ')[-1]}, 0) AS {c.split(' AS ')[-1]}" for c in kind_cols)},
       (t.as_of - COALESCE(acts.last_ts, {_ep("o.created_at")})) / {DAY} AS days_since_activity,
       CASE WHEN COALESCE(acts.with_outcome, 0) = 0 THEN NULL
            ELSE 1.0 * acts.positive / acts.with_outcome END AS positive_share,
       h.rep_closed AS rep_closed_before,
       CASE WHEN h.rep_closed = 0 THEN NULL ELSE 1.0 * h.rep_won / h.rep_closed END AS rep_win_rate,
       CASE WHEN tn.start_date IS NULL THEN NULL
            ELSE (t.as_of - {_ep("tn.start_date")}) / {DAY} END AS rep_tenure_days,
       h.acct_won AS account_won_before,
       h.acct_cents / 100.0 AS account_revenue_before
FROM hist h
JOIN t ON t.opp_id = h.opp_id
LEFT JOIN pipeline_opportunity o ON o.id = t.opp_id
LEFT JOIN customers_account acc ON acc.id = o.account_id
LEFT JOIN customers_lead l ON l.id = o.lead_id
LEFT JOIN (
    SELECT opp_id, MAX(to_stage_id) AS to_stage_id, MAX(amount) AS amount, MAX(ts) AS ts FROM sc WHERE rn = 1
    GROUP BY opp_id
) cur ON cur.opp_id = t.opp_id
LEFT JOIN pipeline_stage st ON st.id = cur.to_stage_id
LEFT JOIN moves mv ON mv.opp_id = t.opp_id
LEFT JOIN acts ON acts.opp_id = t.opp_id
LEFT JOIN tenure tn ON tn.user_id = o.owner_id
WHERE h.ev = 0
ORDER BY t.opp_id
"""
    return sql, params + comp_params


def _run(targets_sql: str, target_params: list) -> pd.DataFrame:
    sql, params = _features_sql(targets_sql)
    # The targets CTE comes first in the text, so its parameters come first too.
    with connection.cursor() as cur:
        cur.execute(sql, [*target_params, *params])
        cols = [c[0] for c in cur.description]
        rows = cur.fetchall()
    frame = pd.DataFrame.from_records(rows, columns=cols)
    for col in NUMERIC + ["as_of", "closed_ts"]:
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float)
    for col in CATEGORICAL:
        frame[col] = frame[col].fillna("").astype(str)
    return frame


def _epoch(moment: dt.datetime) -> float:
    return moment.timestamp()


def open_deal_features(as_of: dt.datetime, opportunity_ids: Sequence[int] | None = None) -> pd.DataFrame:
    """Features of the deals open now (not in a won or lost stage), as of ``as_of``.

    Deals created after ``as_of`` are left out. ``opportunity_ids`` narrows the set (one deal on
    demand); ``None`` means every open deal.
    """
    params: list = [_epoch(as_of)]
    where = ""
    if opportunity_ids is not None:
        ids = [int(i) for i in opportunity_ids] or [-1]
        where = f" AND o.id IN ({', '.join(['%s'] * len(ids))})"
        params += ids
    params.append(_epoch(as_of))
    targets = f"""
        SELECT o.id AS opp_id, CAST(%s AS DOUBLE PRECISION) AS as_of, NULL AS won, NULL AS closed_ts
        FROM pipeline_opportunity o JOIN pipeline_stage s ON s.id = o.stage_id
        WHERE NOT s.is_won AND NOT s.is_lost{where} AND {_ep("o.created_at")} <= %s
    """
    return _run(targets, params)


def closed_deal_features(before: dt.datetime) -> pd.DataFrame:
    """Training rows: deals closed (won or lost) before ``before``, each as of a point of its open life.

    ``won`` is 1 for a deal in a won stage, 0 for a lost one; ``closed_ts`` its close (epoch).
    """
    created, closed = _ep("o.created_at"), _ep("o.closed_at")
    targets = f"""
        SELECT o.id AS opp_id,
               {created} + (0.05 + 0.9 * ((o.id * 7919) %% 1000) / 1000.0) * ({closed} - {created}) AS as_of,
               CASE WHEN s.is_won THEN 1 ELSE 0 END AS won,
               {closed} AS closed_ts
        FROM pipeline_opportunity o JOIN pipeline_stage s ON s.id = o.stage_id
        WHERE (s.is_won OR s.is_lost) AND o.closed_at IS NOT NULL
          AND {closed} > {created} AND {closed} < %s
    """
    return _run(targets, [_epoch(before)])
