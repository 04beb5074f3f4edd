from decimal import Decimal

from django.db import migrations


def load(apps, schema_editor):
    from salesloop.intel.defaults import DEFAULT_BENCHMARKS, DEFAULT_RULES

    Stage = apps.get_model("pipeline", "Stage")
    Benchmark = apps.get_model("intel", "FunnelBenchmark")
    Rule = apps.get_model("intel", "RoutingRule")
    stages = {s.code: s for s in Stage.objects.all()}
    for src, dst, rate, label in DEFAULT_BENCHMARKS:
        if src in stages and dst in stages:
            Benchmark.objects.get_or_create(
                from_stage=stages[src], to_stage=stages[dst], label=label, defaults={"rate": Decimal(rate)}
            )
    if not Rule.objects.exists():
        for spec in DEFAULT_RULES:
            Rule.objects.create(**spec)


class Migration(migrations.Migration):
    dependencies = [("intel", "0001_initial"), ("pipeline", "0002_default_stages")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
