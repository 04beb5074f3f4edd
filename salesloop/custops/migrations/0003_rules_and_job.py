"""The cadence and win-back rules (automation rules as data) and the daily recompute schedule."""

import datetime as dt

from django.db import migrations
from django.utils import timezone

RULES = [
    {
        "code": "cadence_follow_up",
        "name": "按客户分层节奏跟进",
        "name_en": "Follow-up cadence by segment and tier",
        "description": "种子 000 §三.1：高价值客户每周、潜力客户每月 2 次、沉睡客户每季度 1 次（节奏见客户运营设置）。",
        "trigger": "cadence_due",
        "params": {"days_ahead": 0, "catch_up_days": 14, "auto_done": True},
        "task_kind": "follow_up",
        "task_title": "按节奏跟进：{account}（{segment}，每 {days} 天）",
        "task_title_en": "Cadence follow-up: {account} ({segment}, every {days} days)",
        "due_amount": 1,
        "due_unit": "working_days",
        "escalate_after_hours": 18,
    },
    {
        "code": "churn_winback",
        "name": "流失预警挽回",
        "name_en": "Churn warning: win back",
        "description": "种子 001 客户流失预警与挽回：模型判定可能流失的客户，3 个工作日内联系挽回。",
        "trigger": "churn_flagged",
        "params": {"cooldown_days": 30, "auto_done": True},
        "task_kind": "call",
        "task_title": "挽回流失风险客户：{account}（{reason}，风险价值 {value}）",
        "task_title_en": "Win back {account} ({reason}, value at risk {value})",
        "due_amount": 3,
        "due_unit": "working_days",
        "notify_lead": True,
        "escalate_after_hours": 9,
    },
]


def load(apps, schema_editor):
    Rule = apps.get_model("automation", "Rule")
    ScheduledJob = apps.get_model("automation", "ScheduledJob")
    now = timezone.now()
    for spec in RULES:
        fields = dict(spec)
        code = fields.pop("code")
        Rule.objects.get_or_create(code=code, defaults={**fields, "active_since": now})
    ScheduledJob.objects.get_or_create(
        name="custops_recompute",
        defaults={"kind": "daily", "at_time": dt.time(5, 30), "working_days_only": False},
    )


def unload(apps, schema_editor):
    apps.get_model("automation", "Rule").objects.filter(code__in=[r["code"] for r in RULES]).delete()
    apps.get_model("automation", "ScheduledJob").objects.filter(name="custops_recompute").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("custops", "0002_defaults"),
        ("automation", "0002_default_rules_and_jobs"),
    ]

    operations = [migrations.RunPython(load, unload)]
