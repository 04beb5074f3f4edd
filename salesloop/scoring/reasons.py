"""Reasons behind a score: features grouped into families, and a readable sentence for each.

Why families: several features describe one thing a manager would name (the 30- and 90-day visit
counts are "visits", the rep's win rate and number of closed deals are "the rep's record");
their contributions are summed so a reason is never split into two that cancel each other.
Sentences are built when shown, in the viewer's language; the stored reason keeps the raw values.
"""

from __future__ import annotations

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from salesloop.activities.models import ActivityKind
from salesloop.analytics.queries.scoring_features import CATEGORICAL, NUMERIC, WINDOWS
from salesloop.customers.models import CompanySize, SourceChannel

FAMILY: dict[str, str] = {"stage_order": "stage", "rep_closed_before": "rep", "rep_win_rate": "rep"}
FAMILY |= {"account_won_before": "account", "account_revenue_before": "account"}
for _w in WINDOWS:
    FAMILY[f"act_{_w}"] = "activity_volume"
    for _kind in ActivityKind.values:
        FAMILY[f"act_{_kind}_{_w}"] = f"act_{_kind}"
for _f in NUMERIC + CATEGORICAL:
    FAMILY.setdefault(_f, _f)


def family_members() -> dict[str, list[str]]:
    members: dict[str, list[str]] = {}
    for feature, family in FAMILY.items():
        members.setdefault(family, []).append(feature)
    return members


def _n(value) -> int:
    return round(float(value or 0))


def _pct(value) -> str:
    return f"{number_format(round(100 * float(value)), 0)}%"


def sentence(reason: dict, stage_names: dict[str, str] | None = None) -> str:
    """The reason in the current language, e.g. "No activity for 34 days"."""
    family, v = reason["reason"], reason.get("values", {})
    if family == "stage":
        code = v.get("stage") or ""
        return _("In stage %(stage)s") % {"stage": (stage_names or {}).get(code, code or "—")}
    if family == "amount":
        return _("Amount %(amount)s") % {
            "amount": number_format(round(float(v.get("amount") or 0)), 0, force_grouping=True)
        }
    if family == "source":
        label = dict(SourceChannel.choices).get(v.get("source"), v.get("source") or _("unknown"))
        return _("Source: %(source)s") % {"source": label}
    if family == "industry":
        return _("Industry: %(industry)s") % {"industry": v.get("industry") or _("unknown")}
    if family == "size":
        label = dict(CompanySize.choices).get(v.get("size"), v.get("size") or _("unknown"))
        return _("Company size: %(size)s") % {"size": label}
    if family == "region":
        return _("Region: %(region)s") % {"region": v.get("region") or _("unknown")}
    if family == "has_decision_maker":
        return _("Decision maker identified") if _n(v.get("has_decision_maker")) else _("No decision maker identified")
    if family == "competitors":
        n = _n(v.get("competitors"))
        if not n:
            return _("No competitor named")
        return ngettext("%(n)s competitor named", "%(n)s competitors named", n) % {"n": n}
    if family == "days_overdue":
        n = _n(v.get("days_overdue"))
        if not n:
            return _("Expected close date not yet passed")
        return _("Expected close date passed %(n)s days ago") % {"n": n}
    if family == "days_in_stage":
        return _("%(n)s days in the current stage") % {"n": _n(v.get("days_in_stage"))}
    if family == "days_open":
        return _("Open for %(n)s days") % {"n": _n(v.get("days_open"))}
    if family == "backward_moves":
        return _("Moved back a stage %(n)s times") % {"n": _n(v.get("backward_moves"))}
    if family == "reopened":
        return _("Reopened %(n)s times") % {"n": _n(v.get("reopened"))}
    if family.startswith("act_") and family != "activity_volume":
        kind = family[4:]
        label = dict(ActivityKind.choices).get(kind, kind)
        return _("%(kind)s: %(n30)s in the last 30 days, %(n90)s in the last 90") % {
            "kind": label,
            "n30": _n(v.get(f"act_{kind}_30")),
            "n90": _n(v.get(f"act_{kind}_90")),
        }
    if family == "activity_volume":
        return _("All activities: %(n30)s in the last 30 days, %(n90)s in the last 90") % {
            "n30": _n(v.get("act_30")),
            "n90": _n(v.get("act_90")),
        }
    if family == "days_since_activity":
        return _("No activity for %(n)s days") % {"n": _n(v.get("days_since_activity"))}
    if family == "positive_share":
        if v.get("positive_share") is None:
            return _("No activity outcome recorded")
        return _("Positive outcome in %(pct)s of activities") % {"pct": _pct(v["positive_share"])}
    if family == "rep":
        if v.get("rep_win_rate") is None:
            return _("The rep has no closed deals yet")
        return _("Rep's win rate %(pct)s over %(n)s closed deals") % {
            "pct": _pct(v["rep_win_rate"]),
            "n": _n(v.get("rep_closed_before")),
        }
    if family == "rep_tenure_days":
        return _("Rep's tenure %(n)s days") % {"n": _n(v.get("rep_tenure_days"))}
    if family == "account":
        n = _n(v.get("account_won_before"))
        if not n:
            return _("No earlier deal won with this account")
        return _("%(n)s earlier deals won with this account (%(amount)s)") % {
            "n": n,
            "amount": number_format(round(float(v.get("account_revenue_before") or 0)), 0, force_grouping=True),
        }
    return family
