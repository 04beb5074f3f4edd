"""Maintenance of the pre-aggregated first-reach table ``intel.StageReach`` (issue #7 §8).

The funnel needs, for each deal and funnel level, the first time the deal reached it (the rule
is in ``analytics.queries.funnel``). Computing that from every stage change on each request was
the funnel's whole cost on size M, so it is kept here, the Zulip way (a fact table plus a fill
state, filled by idempotent, resumable set-based SQL):

* **On write** — :func:`stage_reach_record` is called by the one service that logs a stage move
  (``pipeline.services``), in the same transaction: one upsert that can only move ``first_at``
  earlier. Bulk writers (imports, the demo loader) call :func:`stage_reach_refresh` for the deals
  they touched, or :func:`stage_reach_rebuild`.
* **Before each read** — :func:`stage_reach_catch_up` refreshes the deals that have stage changes
  newer than the fill state's ``last_change_id`` (rows written by any other path: admin scripts,
  fixtures in tests) and rebuilds everything when the stage list's orders or flags changed.
  Refreshing a deal twice is harmless (delete + recompute from its stage changes).
* **Backfill** — ``manage.py intel_stage_reach`` (``--rebuild`` to start from scratch).

Stage changes are append-only, which is what makes ``first_at`` serve any observation date: a
level reached before ``as_of`` has ``first_at < as_of``, and its first time is the same whether or
not later changes are looked at.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from django.db import connection, transaction
from django.utils import timezone

#: The levels of the funnel: the distinct orders of active, non-lost stages.
_LEVELS = 'SELECT DISTINCT lst."order" AS lvl FROM pipeline_stage lst WHERE lst.is_active AND NOT lst.is_lost'

#: (deal, level, first time) from the stage changes selected by ``{where}``.
_REACH_SELECT = (
    "SELECT sc.opportunity_id, lv.lvl, MIN(sc.changed_at) FROM pipeline_stagechange sc"
    " JOIN pipeline_stage st ON st.id = sc.to_stage_id"
    f' JOIN ({_LEVELS}) lv ON lv.lvl <= st."order"'
    " WHERE NOT st.is_lost{where} GROUP BY sc.opportunity_id, lv.lvl"
)

_UPSERT = " ON CONFLICT (opportunity_id, level) DO UPDATE SET first_at = excluded.first_at"

_CHUNK = 500


def _stage_config() -> str:
    """A digest of what defines the levels: each stage's order and its active/lost flags."""
    with connection.cursor() as cur:
        cur.execute('SELECT id, "order", is_active, is_lost FROM pipeline_stage ORDER BY id')
        rows = [(int(i), int(o), bool(a), bool(lost)) for i, o, a, lost in cur.fetchall()]
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def _max_change_id() -> int:
    with connection.cursor() as cur:
        cur.execute("SELECT MAX(id) FROM pipeline_stagechange")
        (value,) = cur.fetchone()
    return int(value or 0)


def stage_reach_record(*, opportunity_id: int, stage_id: int, at) -> None:
    """Reflect one new stage change (deal entered ``stage_id`` at ``at``): every level up to the
    stage's order is reached no later than ``at``. One statement; nothing for a lost stage."""
    sql = (
        "INSERT INTO intel_stagereach (opportunity_id, level, first_at)"
        f' SELECT %s, lv.lvl, %s FROM ({_LEVELS}) lv JOIN pipeline_stage st ON lv.lvl <= st."order"'
        " WHERE st.id = %s AND NOT st.is_lost"
        " ON CONFLICT (opportunity_id, level) DO UPDATE SET first_at ="
        " CASE WHEN excluded.first_at < intel_stagereach.first_at THEN excluded.first_at"
        " ELSE intel_stagereach.first_at END"
    )
    with connection.cursor() as cur:
        cur.execute(sql, [opportunity_id, connection.ops.adapt_datetimefield_value(at), stage_id])


def stage_reach_refresh(*, opportunity_ids: Iterable[int]) -> None:
    """Recompute the rows of these deals from their stage changes (idempotent, set-based)."""
    ids = sorted({int(i) for i in opportunity_ids})
    with transaction.atomic(), connection.cursor() as cur:
        for i in range(0, len(ids), _CHUNK):
            chunk = ids[i : i + _CHUNK]
            marks = ", ".join(["%s"] * len(chunk))
            cur.execute(f"DELETE FROM intel_stagereach WHERE opportunity_id IN ({marks})", chunk)
            cur.execute(
                "INSERT INTO intel_stagereach (opportunity_id, level, first_at) "
                + _REACH_SELECT.format(where=f" AND sc.opportunity_id IN ({marks})")
                + _UPSERT,
                chunk,
            )


def _locked_state():
    """The fill state's single row (pk 1), created if missing and locked for this transaction:
    concurrent catch-ups and rebuilds queue here instead of writing the table side by side."""
    from salesloop.intel.models import StageReachState

    state = StageReachState.objects.select_for_update().filter(pk=1).first()
    if state is None:
        StageReachState.objects.get_or_create(pk=1)
        state = StageReachState.objects.select_for_update().get(pk=1)
    return state


def _save_state(state, *, last_change_id: int, stage_config: str) -> None:
    state.last_change_id = last_change_id
    state.stage_config = stage_config
    state.refreshed_at = timezone.now()
    state.save(update_fields=["last_change_id", "stage_config", "refreshed_at"])


#: Above this many rows a rebuild refreshes PostgreSQL's statistics at once (the funnel's plans
#: depend on them; autovacuum would get there, later).
_ANALYZE_ABOVE = 10_000


def _rebuild(state, config: str) -> int:
    last = _max_change_id()
    with connection.cursor() as cur:
        cur.execute("DELETE FROM intel_stagereach")
        cur.execute(
            "INSERT INTO intel_stagereach (opportunity_id, level, first_at) "
            + _REACH_SELECT.format(where=" AND sc.id <= %s")
            + _UPSERT,  # a stage move logged meanwhile may already have upserted a row
            [last],
        )
        written = cur.rowcount
        if connection.vendor == "postgresql" and written > _ANALYZE_ABOVE:
            cur.execute("ANALYZE intel_stagereach")
    _save_state(state, last_change_id=last, stage_config=config)
    return written


def stage_reach_rebuild() -> int:
    """Empty the table and fill it from all stage changes; returns the rows written."""
    with transaction.atomic():
        return _rebuild(_locked_state(), _stage_config())


def stage_reach_catch_up() -> str:
    """Bring the table up to date before a read; returns what was done: ``current``,
    ``refreshed`` (deals with newer stage changes) or ``rebuilt`` (first fill, a changed stage
    list, or stage change ids that went backwards after a wipe)."""
    from salesloop.intel.models import StageReachState

    state = StageReachState.objects.filter(pk=1).first()
    last = _max_change_id()
    config = _stage_config()
    if state is not None and state.stage_config == config and state.last_change_id == last:
        return "current"
    with transaction.atomic():
        # Serialise concurrent catch-ups on the fill state's row, then look again.
        state = _locked_state()
        last = _max_change_id()
        if state.stage_config != config or last < state.last_change_id:
            _rebuild(state, config)
            return "rebuilt"
        if state.last_change_id == last:
            return "current"
        with connection.cursor() as cur:
            cur.execute(
                "SELECT DISTINCT opportunity_id FROM pipeline_stagechange WHERE id > %s AND id <= %s",
                [state.last_change_id, last],
            )
            ids = [row[0] for row in cur.fetchall()]
        stage_reach_refresh(opportunity_ids=ids)
        _save_state(state, last_change_id=last, stage_config=config)
    return "refreshed"
