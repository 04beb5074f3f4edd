"""Method (c): the reps' own call, rolled up (``salesloop.forecasting.commit``).

The forecast is the roll-up of each forecaster's latest submitted number with the managers'
adjustments applied as the viewer sees them (for snapshots: as seen from the top of the tree).
Nobody submitted → no number. The live category roll-ups (closed / commit / best case /
pipeline, from the deals) are shown as inputs. Lost deals never count (the roll-up's rule).
"""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _

from salesloop.forecasting.methods.base import MethodResult, money
from salesloop.forecasting.models import Method


def result(
    *, scope_kind: str, scope_id: int | None, period_start: dt.date, period_end: dt.date, viewer, as_of, currency: str
) -> MethodResult:
    try:
        from salesloop.forecasting.commit import commit_rollup
    except ImportError:  # the commit module is optional for this method: say so, keep the others
        return MethodResult(Method.COMMIT, None, currency, _("No submissions."))
    roll = commit_rollup(
        scope_kind=scope_kind,
        scope_id=scope_id,
        period_start=period_start,
        period_end=period_end,
        viewer=viewer,
        as_of=as_of,
    )
    return _from_rollup(roll)


def results_by_scope(
    *, scopes, members: dict[int, list[str]], period_start: dt.date, period_end: dt.date, as_of, currency: str
) -> dict[str, MethodResult] | None:
    """The commit result of many scopes at once, as seen from the top of the tree (``viewer=None``).

    One company-wide ``commit_by_rep`` (a handful of queries), then each scope's roll-up is the
    roll-up of the lines of the people in it — the same lines ``commit_rollup`` would build for
    that scope, since the viewer-less adjustment rule does not depend on the scope. None when the
    commit module is not there.
    """
    try:
        from salesloop.forecasting.commit import commit_by_rep, rollup_of
    except ImportError:
        return None
    lines = commit_by_rep(
        scope_kind="company",
        scope_id=None,
        period_start=period_start,
        period_end=period_end,
        viewer=None,
        as_of=as_of,
        currency=currency,
    )
    grouped: dict[str, list] = {s.key: [] for s in scopes}
    for line in lines:
        for key in members.get(line.owner.pk, ["company:0"]):
            if key in grouped:
                grouped[key].append(line)
    return {key: _from_rollup(rollup_of(group, currency)) for key, group in grouped.items()}


def _from_rollup(roll) -> MethodResult:
    inputs = {
        "submitted": str(money(roll.submitted)),
        "adjusted": str(money(roll.adjusted)),
        "closed": str(money(roll.closed)),
        "commit": str(money(roll.commit)),
        "best_case": str(money(roll.best_case)),
        "pipeline": str(money(roll.pipeline)),
        "reps_submitted": roll.reps_submitted,
        "reps_total": roll.reps_total,
    }
    if not roll.reps_submitted:
        return MethodResult(Method.COMMIT, None, roll.currency, _("No submissions."), inputs)
    return MethodResult(
        Method.COMMIT,
        money(roll.adjusted),
        roll.currency,
        _("%(done)s of %(total)s forecasters submitted: %(submitted)s, %(adjusted)s after managers' adjustments.")
        % {
            "done": roll.reps_submitted,
            "total": roll.reps_total,
            "submitted": money(roll.submitted),
            "adjusted": money(roll.adjusted),
        },
        inputs,
    )
