import datetime as dt

from django.db import migrations
from django.utils import timezone


def load(apps, schema_editor):
    from salesloop.automation.defaults import DEFAULT_JOBS, DEFAULT_RULES

    Rule = apps.get_model("automation", "Rule")
    ScheduledJob = apps.get_model("automation", "ScheduledJob")
    AutomationSettings = apps.get_model("automation", "AutomationSettings")
    now = timezone.now()
    for spec in DEFAULT_RULES:
        fields = dict(spec)
        code = fields.pop("code")
        Rule.objects.get_or_create(code=code, defaults={**fields, "active_since": now})
    for name, kind, every, at, working in DEFAULT_JOBS:
        ScheduledJob.objects.get_or_create(
            name=name,
            defaults={
                "kind": kind,
                "every_seconds": every,
                "at_time": dt.time.fromisoformat(at) if at else None,
                "working_days_only": working,
            },
        )
    if not AutomationSettings.objects.exists():
        AutomationSettings.objects.create()


class Migration(migrations.Migration):
    dependencies = [("automation", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
