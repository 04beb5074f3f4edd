"""Load the seeds' defaults (``salesloop.custops.defaults``) as editable rows."""

from django.db import migrations


def load(apps, schema_editor):
    from salesloop.custops import defaults

    RuleSegment = apps.get_model("custops", "RuleSegment")
    GridSegment = apps.get_model("custops", "GridSegment")
    Cadence = apps.get_model("custops", "Cadence")
    SopGuidance = apps.get_model("custops", "SopGuidance")
    CustomerOpsPolicy = apps.get_model("custops", "CustomerOpsPolicy")
    TierPolicy = apps.get_model("custops", "TierPolicy")

    by_code = {}
    for code, name, name_en, kind, precedence, r_lo, r_hi, f_lo, f_hi, m_lo, m_hi, rank in defaults.RULE_SEGMENTS:
        by_code[code], _ = RuleSegment.objects.get_or_create(
            code=code,
            defaults=dict(
                name=name, name_en=name_en, kind=kind, precedence=precedence,
                recency_min_days=r_lo, recency_max_days=r_hi, frequency_min=f_lo, frequency_max=f_hi,
                monetary_min=m_lo, monetary_max=m_hi, value_rank=rank,
            ),
        )
    for code, name, name_en, r_lo, r_hi, f_lo, f_hi, rank in defaults.GRID_SEGMENTS:
        GridSegment.objects.get_or_create(
            code=code,
            defaults=dict(
                name=name, name_en=name_en, recency_score_min=r_lo, recency_score_max=r_hi,
                frequency_score_min=f_lo, frequency_score_max=f_hi, value_rank=rank,
            ),
        )
    for code, days, purpose, purpose_en in defaults.SEGMENT_CADENCES:
        Cadence.objects.get_or_create(
            segment=by_code[code], defaults=dict(interval_days=days, purpose=purpose, purpose_en=purpose_en)
        )
    for tier, days, purpose, purpose_en in defaults.TIER_CADENCES:
        Cadence.objects.get_or_create(
            key_account_tier=tier, segment=None,
            defaults=dict(interval_days=days, purpose=purpose, purpose_en=purpose_en),
        )
    for stage, style, tag, text, text_en in defaults.SOP_GUIDANCE:
        SopGuidance.objects.get_or_create(
            stage_code=stage, decision_style=style, customer_tag=tag, defaults=dict(text=text, text_en=text_en)
        )
    if not CustomerOpsPolicy.objects.exists():
        CustomerOpsPolicy.objects.create()
    if not TierPolicy.objects.exists():
        TierPolicy.objects.create(strategic_tags=["战略", "strategic"], strategic_industries=[])


class Migration(migrations.Migration):
    dependencies = [("custops", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
