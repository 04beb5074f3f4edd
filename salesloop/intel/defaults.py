"""Seed defaults (seed 000 §四.1–2), loaded by a data migration; all editable as data afterwards.

* Benchmark: the seed's example compares proposal → won with an industry rate of 50%.
* Routing: "leads from top industries or with a budget of 100k or more go to senior reps",
  then everyone else by round robin. Which industries are "top" is not named in the seed; the
  list below is a placeholder an admin replaces.
"""

DEFAULT_BENCHMARKS = [
    # from stage code, to stage code, rate (fraction), label
    ("proposal", "won", "0.50", "industry"),
]

TOP_INDUSTRIES = ["金融", "制造业", "医疗"]

DEFAULT_RULES = [
    {
        "name": "头部行业或预算≥10万 → 资深销售 / Top industries or budget ≥ 100k → senior reps",
        "position": 10,
        "match": "any",
        "conditions": [
            {"field": "industry", "op": "in", "value": TOP_INDUSTRIES},
            {"field": "budget", "op": "gte", "value": "100000"},
        ],
        "strategy": "least_loaded",
        "seniority": "senior",
    },
    {
        "name": "其余线索轮询 / Everyone else: round robin",
        "position": 100,
        "match": "all",
        "conditions": [],
        "strategy": "round_robin",
        "seniority": "",
    },
]
