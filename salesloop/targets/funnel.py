"""The reverse funnel (seed 000 §一.1): from a revenue target to what the team must do each day.

Walking the funnel backwards, every step rounds **up** (half a deal is not a deal):

    deals        = ⌈ revenue ÷ average deal size ⌉
    negotiations = ⌈ deals ÷ (negotiation → won) ⌉
    proposals    = ⌈ negotiations ÷ (proposal → negotiation) ⌉
    intents      = ⌈ proposals ÷ (intent → proposal) ⌉
    visits       = ⌈ intents ÷ (visit → intent) ⌉

then per working day of the *activity window*: deals that close by the period's end start about
one sales cycle earlier, so the window is the period shifted back by the cycle length (days).
Per rep divides by the reps' capacity (their summed capacity weights). By default every rate is
the team's own, measured over ``funnel_lookback_days`` (``analytics.queries.funnel_rates``);
any input may be given instead, and the result says which were measured and which were given.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from salesloop.analytics.queries import funnel_rates
from salesloop.analytics.queries.actuals import StageOrders
from salesloop.analytics.queries.attribution import cells
from salesloop.core.errors import FieldErrors
from salesloop.org.models import Team
from salesloop.targets.calendar import WorkCalendar
from salesloop.targets.models import TargetSettings
from salesloop.targets.periods import Period, PeriodKind

RATE_KEYS = ["visit_to_intent", "intent_to_proposal", "proposal_to_negotiation", "negotiation_to_won"]
RATE_LABELS = {
    "visit_to_intent": gettext_lazy("Visit → intent"),
    "intent_to_proposal": gettext_lazy("Intent → proposal"),
    "proposal_to_negotiation": gettext_lazy("Proposal → negotiation"),
    "negotiation_to_won": gettext_lazy("Negotiation → won"),
    "avg_deal": gettext_lazy("Average deal"),
    "cycle_days": gettext_lazy("Sales cycle (days)"),
    "reps": gettext_lazy("Reps (capacity-weighted)"),
}


@dataclass
class Step:
    key: str
    label: str
    value: Decimal
    formula: str


@dataclass
class FunnelPlan:
    inputs: dict[str, dict]
    steps: list[Step]
    period: Period
    window: Period
    working_days: int
    per_day: dict[str, Decimal]
    per_rep_day: dict[str, Decimal]
    per_week: dict[str, Decimal]

    def step(self, key: str) -> Step:
        return next(s for s in self.steps if s.key == key)


def _ceil(value: Decimal) -> Decimal:
    return Decimal(int(value.to_integral_value(rounding=ROUND_CEILING)))


def _fmt(value: Decimal, places: int = 2) -> str:
    return f"{value:,.{places}f}"


def measured_inputs(team: Team, *, as_of: dt.date | None = None) -> dict[str, dict]:
    """The team's own rates over the look-back window ending the day before ``as_of``."""
    from salesloop.analytics.queries.actuals import ScopeFilter

    settings = TargetSettings.current()
    end = (as_of or timezone.localdate()) - dt.timedelta(days=1)
    window = Period(end - dt.timedelta(days=settings.funnel_lookback_days - 1), end, PeriodKind.DAY)
    scope = ScopeFilter(team_path=team.path)
    stages = StageOrders.load()
    from salesloop.pipeline.models import Stage

    won_order = Stage.objects.filter(is_won=True).order_by("order").values_list("order", flat=True).first()
    out: dict[str, dict] = {}
    data = cells(window, scope, list(settings.high_value_key_tiers or []))
    visits = sum(c.visits for c in data.values())
    deal_bp = sum(c.deal_bp for c in data.values())
    revenue = sum(c.revenue_cents for c in data.values())
    avg = (Decimal(revenue) / 100 / (Decimal(deal_bp) / 10000)).quantize(Decimal("0.01")) if deal_bp else None
    out["avg_deal"] = {"value": avg, "sample": Decimal(deal_bp) / 10000}
    chain = [stages.intent, stages.proposal, stages.negotiation, won_order]
    if stages.intent is not None:
        intents = funnel_rates.stage_step(window, scope, stages.intent, stages.intent)
        rate = Decimal(intents.cohort) / visits if visits else None
        out["visit_to_intent"] = {"value": rate, "sample": visits}
    for key, a, b in zip(RATE_KEYS[1:], chain[:-1], chain[1:], strict=True):
        if a is None or b is None:
            out[key] = {"value": None, "sample": 0}
            continue
        step = funnel_rates.stage_step(window, scope, a, b)
        out[key] = {"value": step.rate, "sample": step.cohort}
    cycle, n = funnel_rates.won_cycle_days(window, scope)
    out["cycle_days"] = {"value": cycle, "sample": n}
    out["_window"] = {"value": window, "sample": None}
    return out


def reverse_funnel(
    *,
    team: Team,
    period: Period,
    revenue: Decimal,
    given: dict[str, Decimal | None] | None = None,
    as_of: dt.date | None = None,
) -> FunnelPlan:
    """Activity targets for ``revenue`` in ``period``; ``given`` overrides any measured input
    (keys: ``avg_deal``, the four ``RATE_KEYS`` as fractions, ``cycle_days``, ``reps``)."""
    from salesloop.targets.decomposition import DecompositionError, rep_parts

    given = {k: v for k, v in (given or {}).items() if v is not None}
    wanted = ["avg_deal", *RATE_KEYS, "cycle_days"]
    measured = measured_inputs(team, as_of=as_of) if any(k not in given for k in wanted) else {}
    inputs: dict[str, dict] = {}
    for key in ["avg_deal", *RATE_KEYS, "cycle_days"]:
        if key in given:
            inputs[key] = {"value": Decimal(given[key]), "source": "given", "sample": None}
        else:
            m = measured.get(key, {"value": None, "sample": 0})
            inputs[key] = {"value": m["value"], "source": "measured", "sample": m["sample"]}
    if "reps" in given:
        reps = Decimal(given["reps"])
        inputs["reps"] = {"value": reps, "source": "given", "sample": None}
    else:
        try:
            parts = rep_parts(team, period, WorkCalendar.for_period(period), TargetSettings.current().seniority_weights)
            weight = sum((p.weight for p in parts), 0)
            reps = (Decimal(weight.numerator) / Decimal(weight.denominator)).quantize(Decimal("0.01"))
        except DecompositionError:
            reps = Decimal(0)
        inputs["reps"] = {"value": reps, "source": "measured", "sample": None}
    errors = {
        key: [_("No measured value; enter one.")]
        for key in ["avg_deal", *RATE_KEYS]
        if not inputs[key]["value"] or inputs[key]["value"] <= 0
    }
    if any(k in RATE_KEYS and inputs[k]["value"] and inputs[k]["value"] > 1 for k in inputs):
        errors.update(
            {
                k: [_("A rate is a fraction between 0 and 1.")]
                for k in RATE_KEYS
                if inputs[k]["value"] and inputs[k]["value"] > 1
            }
        )
    if errors:
        raise FieldErrors(errors)
    if revenue <= 0:
        raise FieldErrors({"revenue": [_("Enter a revenue target above zero.")]})

    r = {k: inputs[k]["value"] for k in RATE_KEYS}
    deals = _ceil(revenue / inputs["avg_deal"]["value"])
    negotiations = _ceil(deals / r["negotiation_to_won"])
    proposals = _ceil(negotiations / r["proposal_to_negotiation"])
    intents = _ceil(proposals / r["intent_to_proposal"])
    visits = _ceil(intents / r["visit_to_intent"])
    pct = lambda k: f"{r[k] * 100:.1f}%"  # noqa: E731
    steps = [
        Step("deals", _("Deals to win"), deals, f"⌈ {_fmt(revenue)} ÷ {_fmt(inputs['avg_deal']['value'])} ⌉ = {deals}"),
        Step(
            "negotiations",
            _("Negotiations"),
            negotiations,
            f"⌈ {deals} ÷ {pct('negotiation_to_won')} ⌉ = {negotiations}",
        ),
        Step(
            "proposals",
            _("Proposals"),
            proposals,
            f"⌈ {negotiations} ÷ {pct('proposal_to_negotiation')} ⌉ = {proposals}",
        ),
        Step(
            "intents",
            _("Qualified leads (intents)"),
            intents,
            f"⌈ {proposals} ÷ {pct('intent_to_proposal')} ⌉ = {intents}",
        ),
        Step("visits", _("Visits"), visits, f"⌈ {intents} ÷ {pct('visit_to_intent')} ⌉ = {visits}"),
    ]
    cycle = inputs["cycle_days"]["value"] or Decimal(0)
    shift = dt.timedelta(days=int(_ceil(cycle)))
    window = Period(period.start - shift, period.end - shift, PeriodKind.DAY)
    days = WorkCalendar.load(window.start, window.end).count(window.start, window.end)
    if not days:
        raise FieldErrors({"period": [_("The period has no working days.")]})
    weeks = Decimal(days) / 5
    totals = {
        "visits": visits,
        "intents": intents,
        "proposals": proposals,
        "negotiations": negotiations,
        "deals": deals,
    }
    per_day = {k: (v / days).quantize(Decimal("0.01")) for k, v in totals.items()}
    per_rep_day = {k: (v / days / reps).quantize(Decimal("0.01")) if reps else None for k, v in totals.items()}
    per_week = {k: (v / weeks).quantize(Decimal("0.01")) for k, v in totals.items()}
    return FunnelPlan(inputs, steps, period, window, days, per_day, per_rep_day, per_week)


def rate_as_pct(value: Decimal | None) -> str:
    return "" if value is None else f"{value * 100:.1f}%"
