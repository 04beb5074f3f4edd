"""The seeds' defaults for customer operations, loaded by the data migration ``0002_defaults``.

Seed 000 §三.1 gives the rule segments and their follow-up rhythm; the R×F grid is the common
10-segment map of recency score × frequency score (REFERENCES.md, "RFM"). Numbers the seeds do not
give (tier cadences, the "other" cadence, tier-proposal weights) are our defaults, documented in
docs/custops.md, and editable by an administrator like the rest.
"""

from decimal import Decimal

# code, 中文, English, kind, precedence, R min, R max, F min, F max, M min, M max, value rank
RULE_SEGMENTS = [
    (
        "high_value",
        "高价值客户",
        "High value",
        "rule",
        10,
        None,
        30,
        3,
        None,
        Decimal(50000),
        None,
        40,
    ),
    (
        "potential",
        "潜力客户",
        "Potential",
        "rule",
        20,
        None,
        90,
        1,
        2,
        Decimal(10000),
        Decimal(50000),
        30,
    ),
    ("dormant", "沉睡客户", "Dormant", "rule", 30, 180, None, None, 1, None, Decimal(10000), 10),
    # Accounts no rule covers (e.g. bought recently but under 50,000, or last order 91–179 days
    # ago): ranked between potential and dormant, contacted monthly.
    (
        "other",
        "其他客户(未归类)",
        "Other (no rule matches)",
        "fallback",
        900,
        None,
        None,
        None,
        None,
        None,
        None,
        20,
    ),
    (
        "no_purchase",
        "未成交客户",
        "No purchase yet",
        "no_purchase",
        0,
        None,
        None,
        None,
        None,
        None,
        None,
        0,
    ),
]

# code, 中文, English, R score min, max, F score min, max, value rank
GRID_SEGMENTS = [
    ("champions", "重要价值客户(冠军)", "Champions", 5, 5, 4, 5, 100),
    ("loyal", "忠诚客户", "Loyal", 3, 4, 4, 5, 90),
    ("potential_loyalists", "潜在忠诚客户", "Potential loyalists", 4, 5, 2, 3, 80),
    ("new_customers", "新客户", "New customers", 5, 5, 1, 1, 70),
    ("promising", "有潜力客户", "Promising", 4, 4, 1, 1, 60),
    ("need_attention", "需要关注", "Need attention", 3, 3, 3, 3, 50),
    ("about_to_sleep", "即将沉睡", "About to sleep", 3, 3, 1, 2, 40),
    ("cant_lose", "不能流失", "Can't lose them", 1, 2, 5, 5, 30),
    ("at_risk", "有流失风险", "At risk", 1, 2, 3, 4, 20),
    ("hibernating", "休眠客户", "Hibernating", 1, 2, 1, 2, 10),
]

# segment code or tier, interval days, purpose 中文, English
SEGMENT_CADENCES = [
    (
        "high_value",
        7,
        "每周深度沟通(行业动态、定制方案优化)",
        "Weekly deep contact (industry news, tailored proposal)",
    ),
    (
        "potential",
        15,
        "每月2次跟进(产品迭代、成功案例)",
        "Twice a month (product updates, success stories)",
    ),
    (
        "dormant",
        90,
        "每季度1次唤醒(节日关怀、新服务推荐)",
        "Quarterly wake-up (seasonal care, new services)",
    ),
    ("other", 30, "每月1次跟进", "Monthly follow-up"),
]
TIER_CADENCES = [
    ("strategic", 7, "战略客户每周高层沟通", "Strategic: weekly senior contact"),
    ("growth", 14, "成长型客户每两周跟进", "Growth: every two weeks"),
    ("maintenance", 30, "维护型客户每月回访", "Maintenance: monthly check-in"),
    (
        "development",
        60,
        "开发型客户每两月挖掘需求",
        "Development: needs discovery every two months",
    ),
]

# stage code ('' = any), decision style, customer tag, 中文, English (seed 000 §三.2)
SOP_GUIDANCE = [
    (
        "",
        "rational",
        "",
        "理性型决策人:准备数据支撑(ROI测算、对比表、案例数据)",
        "Rational decider: bring data (ROI estimate, comparison table, case figures)",
    ),
    (
        "",
        "relational",
        "",
        "关系型决策人:重视情感维护(面谈、节日问候、高层互访)",
        "Relational decider: invest in the relationship (meet in person, greetings, senior visits)",
    ),
    (
        "",
        "",
        "国企",
        "国企客户:增加合规性说明和成功案例背书",
        "State-owned customer: add compliance notes and reference cases",
    ),
    (
        "lead",
        "",
        "",
        "72小时内首次触达(电话+邮件同步),明确我能提供的价值",
        "First touch within 72 h (call and e-mail), state the value we offer",
    ),
    (
        "qualified",
        "",
        "",
        "3天内完成需求调研,5天内输出方案,每周同步进展",
        "Needs research within 3 days, proposal within 5 days, weekly progress",
    ),
    (
        "proposal",
        "",
        "",
        "方案提交后3天内电话确认,安排方案讲解会",
        "Call within 3 days of the proposal, arrange a walk-through",
    ),
    (
        "negotiation",
        "",
        "",
        "每日复盘卡点(预算审批、决策人异议),协调内部资源",
        "Review blockers daily (budget approval, decision-maker objections), line up internal help",
    ),
]
