from decimal import Decimal

from django.db import migrations


def load(apps, schema_editor):
    from salesloop.pipeline.defaults import DEFAULT_LOSS_REASONS, DEFAULT_STAGES

    Stage = apps.get_model("pipeline", "Stage")
    LossReason = apps.get_model("pipeline", "LossReason")
    for code, name, name_en, order, prob, won, lost in DEFAULT_STAGES:
        Stage.objects.get_or_create(
            code=code,
            defaults={"name": name, "name_en": name_en, "order": order, "probability": Decimal(prob), "is_won": won, "is_lost": lost},
        )
    for code, name, name_en in DEFAULT_LOSS_REASONS:
        LossReason.objects.get_or_create(code=code, defaults={"name": name, "name_en": name_en})


class Migration(migrations.Migration):
    dependencies = [("pipeline", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
