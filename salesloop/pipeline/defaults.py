"""The seeds' default stage list and loss reasons (seed 000 §四.1), loaded by a data migration.

Probabilities are the usual B2B stage weights; an admin edits them as data.
"""

DEFAULT_STAGES = [
    # code, 中文, English, order, probability %, won, lost
    ("lead", "线索", "Lead", 10, "10", False, False),
    ("qualified", "意向", "Qualified", 20, "25", False, False),
    ("proposal", "方案", "Proposal", 30, "50", False, False),
    ("negotiation", "谈判", "Negotiation", 40, "75", False, False),
    ("won", "成交", "Won", 50, "100", True, False),
    ("paid", "回款", "Paid", 60, "100", True, False),
    ("lost", "输单", "Lost", 90, "0", False, True),
]

DEFAULT_LOSS_REASONS = [
    ("price", "价格过高", "Price too high"),
    ("competitor", "输给竞争对手", "Lost to a competitor"),
    ("no_budget", "预算不足", "No budget"),
    ("no_decision", "无决策/搁置", "No decision"),
    ("product_fit", "产品不匹配", "Product does not fit"),
    ("timing", "时机不对", "Bad timing"),
    ("relationship", "关系维护不足", "Weak relationship"),
]
