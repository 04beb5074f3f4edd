from django.db import migrations


def load(apps, schema_editor):
    from salesloop.targets.defaults import DEFAULT_PROFILES, DEFAULT_RULES

    TargetSettings = apps.get_model("targets", "TargetSettings")
    BottleneckRule = apps.get_model("targets", "BottleneckRule")
    SeasonalProfile = apps.get_model("targets", "SeasonalProfile")
    if not TargetSettings.objects.exists():
        TargetSettings.objects.create()
    for code, threshold, lookback, sample, due in DEFAULT_RULES:
        BottleneckRule.objects.get_or_create(
            code=code,
            defaults={"threshold": threshold, "lookback_days": lookback, "min_sample": sample, "coaching_due_hours": due},
        )
    for code, name, name_en, weights in DEFAULT_PROFILES:
        SeasonalProfile.objects.get_or_create(
            code=code, defaults={"name": name, "name_en": name_en, "month_weights": weights}
        )


class Migration(migrations.Migration):
    dependencies = [("targets", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
