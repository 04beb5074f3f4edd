"""Customer-operations triggers for the automation rule engine (``salesloop.automation``).

The follow-up cadence and win-back tasks are not created here: these triggers only say *which
accounts are due and for which slot*; the engine's sweep creates the tasks, writes the
idempotency ledger (one task per rule, account and slot), notifies, closes met goals and
escalates breaches exactly as for the SOP rules. The rules themselves are data
(``custops/migrations/0003_rules_and_job.py``); ``CustopsConfig.ready`` registers the triggers.

* ``cadence_due`` — the account's next contact (last contact + cadence interval) is due; slot =
  that due date, so each cycle gets one task and logging a contact starts the next cycle.
* ``churn_flagged`` — the churn model flagged the account; slot = the day the flag was raised,
  so one win-back task per episode, and none within ``cooldown_days`` of the last one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from salesloop.automation.models import Rule, RuleFiring
from salesloop.automation.triggers import Candidate, Param, Sweep, TriggerSpec
from salesloop.customers.models import Account
from salesloop.custops.models import AccountChurn, CustomerOpsPolicy, RuleSegment

CADENCE_DUE = "cadence_due"
CHURN_FLAGGED = "churn_flagged"


class CadenceDue(TriggerSpec):
    """Seed 000 §三.1: high value weekly, potential twice a month, dormant quarterly."""

    code = CADENCE_DUE
    kind = "time"
    target = "customers.account"
    params = (
        Param(
            "days_ahead", _("Create the task this many days before contact is due"), "int", 0, 0, 14
        ),
        Param(
            "catch_up_days",
            _("Skip contacts overdue by more than (days)"),
            "int",
            14,
            0,
            366,
            help_text=_(
                "Accounts overdue for longer are on the coverage report; tasks for all of them "
                "at once "
                "(e.g. when the rule is first enabled) would bury the reps."
            ),
        ),
        Param("auto_done", _("Mark the task done when a contact is logged"), "bool", True),
    )
    placeholders = ("account", "segment", "days", "date")

    def candidates(self, rule: Rule, sweep: Sweep) -> Iterator[Candidate]:
        from salesloop.custops.selectors import (
            cadence_intervals,
            due_by,
            next_contact_date,
            with_cadence,
        )

        values = self.values(rule)
        today = sweep.today
        intervals = cadence_intervals()
        horizon = today + dt.timedelta(days=int(values["days_ahead"]))
        oldest = today - dt.timedelta(days=int(values["catch_up_days"]))
        policy = CustomerOpsPolicy.current()
        accounts = (
            with_cadence(
                Account.objects.filter(owner__is_active=True),
                now=sweep.now,
                contact_kinds=policy.contact_kinds,
            )
            .filter(due_by(horizon, intervals))
            .exclude(due_by(oldest - dt.timedelta(days=1), intervals))
            .values(
                "pk",
                "name",
                "owner_id",
                "created_at",
                "cadence_days",
                "last_contact_at",
                "rfm__rule_segment",
            )
        )
        rows = list(accounts.iterator(chunk_size=2000))
        fired = set(
            RuleFiring.objects.filter(
                rule_id=rule.pk, target=self.target, object_id__in=[r["pk"] for r in rows]
            ).values_list("object_id", "slot")
        )
        labels = {s.code: s.label for s in RuleSegment.objects.all()}
        for row in rows:
            due = next_contact_date(_Row(row))
            slot = due.isoformat()
            if (row["pk"], slot) in fired:
                continue
            yield Candidate(
                target=self.target,
                object_id=row["pk"],
                slot=slot,
                owner_id=row["owner_id"],
                event_at=max(sweep.now, timezone.make_aware(dt.datetime.combine(due, dt.time.min))),
                account_id=row["pk"],
                context={
                    "account": row["name"],
                    "segment": labels.get(row["rfm__rule_segment"] or "", ""),
                    "days": row["cadence_days"],
                    "date": slot,
                },
            )

    def goal_met(self, rule: Rule):
        if not self.values(rule)["auto_done"]:
            return None
        return self._follow_up_logged("account_id")


class _Row:
    """A ``values()`` row seen as the attributes ``next_contact_date`` reads."""

    def __init__(self, row: dict) -> None:
        self.last_contact_at = row["last_contact_at"]
        self.created_at = row["created_at"]
        self.cadence_days = row["cadence_days"]


class ChurnFlagged(TriggerSpec):
    """Seed 001 客户流失预警与挽回: a flagged customer gets a win-back task."""

    code = CHURN_FLAGGED
    kind = "time"
    target = "customers.account"
    params = (
        Param(
            "cooldown_days",
            _("No new win-back task within (days) of the last one"),
            "int",
            30,
            0,
            365,
        ),
        Param("auto_done", _("Mark the task done when a contact is logged"), "bool", True),
    )
    placeholders = ("account", "reason", "value", "p_alive", "date")

    def candidates(self, rule: Rule, sweep: Sweep) -> Iterator[Candidate]:
        cooldown = int(self.values(rule)["cooldown_days"])
        recent = RuleFiring.objects.filter(
            rule_id=rule.pk,
            target=self.target,
            object_id=OuterRef("account_id"),
            fired_at__gte=sweep.now - dt.timedelta(days=cooldown),
        )
        same_episode = RuleFiring.objects.filter(
            rule_id=rule.pk,
            target=self.target,
            object_id=OuterRef("account_id"),
            slot=OuterRef("slot_key"),
        )
        from django.db.models import CharField
        from django.db.models.functions import Cast

        rows = (
            AccountChurn.objects.filter(is_flagged=True, account__owner__is_active=True)
            .annotate(slot_key=Cast("flagged_since", CharField()))
            .filter(~Exists(recent), ~Exists(same_episode))
            .values(
                "account_id",
                "account__name",
                "account__owner_id",
                "flagged_since",
                "p_alive",
                "value_at_risk",
                "currency",
                "flag_p_alive",
                "current_gap_days",
                "usual_gap_days",
            )
        )
        for row in rows.iterator(chunk_size=2000):
            if row["flag_p_alive"]:
                reason = f"P(active) {100 * (row['p_alive'] or 0):.0f}%"
            else:
                reason = f"{row['current_gap_days']}d / {row['usual_gap_days'] or 0:.0f}d"
            yield Candidate(
                target=self.target,
                object_id=row["account_id"],
                slot=row["flagged_since"].isoformat(),
                owner_id=row["account__owner_id"],
                event_at=sweep.now,
                account_id=row["account_id"],
                context={
                    "account": row["account__name"],
                    "reason": reason,
                    "value": f"{row['value_at_risk']} {row['currency']}",
                    "p_alive": f"{100 * (row['p_alive'] or 0):.0f}%"
                    if row["p_alive"] is not None
                    else "—",
                    "date": row["flagged_since"].isoformat(),
                },
            )

    def goal_met(self, rule: Rule):
        if not self.values(rule)["auto_done"]:
            return None
        return self._follow_up_logged("account_id")


SPECS = (CadenceDue(), ChurnFlagged())


def register() -> None:
    """Add the triggers to the engine's registry (idempotent; called from ``AppConfig.ready``)."""
    from salesloop.automation.triggers import TRIGGERS

    for spec in SPECS:
        TRIGGERS.setdefault(spec.code, spec)
