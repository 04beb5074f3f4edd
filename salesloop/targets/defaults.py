"""Seed defaults loaded by the data migration ``0002_defaults`` (all editable as data).

Detector thresholds come from seed 000 §一.2 ("conversion 20% below the average" is the seed's
own number); the others are stated starting points a manager tunes: a deal is stalled at 150% of
the team's usual time in its stage, a 20% fall in average deal size is worth a conversation.
Seasonal month weights are illustrative shapes (China retail peaks around 618 and Double 11;
B2B budgets flush at year end), to be replaced by a learned profile once a year of data exists.
"""

DEFAULT_RULES = [
    # code, threshold %, look-back days, minimum sample, coaching due (hours)
    ("conversion_gap", "20", 90, 20, 24),
    ("visits_below_pace", "100", 7, 2, 24),
    ("stage_stall", "150", 180, 5, 48),
    ("deal_size_falling", "20", 90, 3, 72),
]

DEFAULT_PROFILES = [
    # code, 中文, English, Jan..Dec
    ("flat", "平均分布", "Flat", ["1"] * 12),
    ("retail", "零售季节性", "Retail seasonality", ["10", "6", "7", "7", "8", "10", "7", "7", "8", "9", "12", "10"]),
    (
        "b2b_year_end",
        "企业采购年末高峰",
        "B2B year-end peak",
        ["6", "5", "8", "8", "8", "10", "7", "7", "9", "8", "10", "14"],
    ),
]
