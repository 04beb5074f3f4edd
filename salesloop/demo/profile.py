"""What the demo organisation looks like: its sizes and the world the generator simulates.

Everything here is data, not logic, so a reader can see (and a test can change) the numbers that
shape the demo: how many reps, how deals move through the funnel, how customers pay. Where a
number comes from the seeds it says so: seed 000 is "销售经理工作日常管理流程" (§A), seed 001 the
training course (§B). Money is CNY (the organisation's currency), time is days unless named.
"""

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class DemoSize:
    """How big the organisation is. Counts are totals; each rep gets a share by seniority."""

    code: str
    regions: int
    teams_per_region: int
    groups_per_team: int
    reps: int
    accounts: int
    opportunities: int
    activities: int
    orders: int
    history_days: int = (
        456  # fifteen months ending yesterday: a full year plus a comparison quarter
    )


SIZES: dict[str, DemoSize] = {
    # XS: for tests; big enough that every path of the generator runs, small enough for seconds.
    "XS": DemoSize(
        "XS",
        regions=2,
        teams_per_region=1,
        groups_per_team=1,
        reps=4,
        accounts=120,
        opportunities=150,
        activities=2000,
        orders=300,
    ),
    # S: what `make run` loads into SQLite.
    "S": DemoSize(
        "S",
        regions=2,
        teams_per_region=1,
        groups_per_team=2,
        reps=20,
        accounts=2_000,
        opportunities=2_400,
        activities=50_000,
        orders=4_000,
    ),
    # M: a large sales organisation, for benchmarks on PostgreSQL.
    "M": DemoSize(
        "M",
        regions=5,
        teams_per_region=2,
        groups_per_team=3,
        reps=200,
        accounts=100_000,
        opportunities=120_000,
        activities=2_000_000,
        orders=500_000,
    ),
}


@dataclass(frozen=True)
class RepKind:
    """A seniority band (seed 001 trains new / growing / senior reps differently)."""

    share: float  # of the reps
    tenure_days: tuple[int, int]  # how long ago they joined
    #: Drawn per rep: the chance a deal opened at "lead" is won. Deals opened at "qualified" or
    #: that skip a stage win more often, so measured win rates come out about 20 % higher.
    win_rate: tuple[float, float]
    book_weight: float  # relative number of accounts, deals and orders
    activity_weight: float  # relative number of visits, calls, e-mails
    speed: float  # multiplies time in stage: seniors close faster
    capacity: tuple[str, str]  # Membership.capacity range (1.00 = one full rep)


@dataclass(frozen=True)
class DemoProfile:
    # -- people -----------------------------------------------------------------------------
    rep_kinds: dict[str, RepKind] = field(
        default_factory=lambda: {
            "senior": RepKind(
                0.30, (3 * 365, 8 * 365), (0.24, 0.27), 1.4, 1.1, 0.85, ("1.00", "1.20")
            ),
            "growing": RepKind(0.40, (365, 3 * 365), (0.20, 0.24), 1.0, 1.0, 1.0, ("0.90", "1.00")),
            "new": RepKind(0.30, (45, 330), (0.18, 0.22), 0.6, 0.85, 1.2, ("0.50", "0.80")),
        }
    )
    #: One rep per team converts clearly below the team (seed 000 §一.2: "转化率低于均值20%").
    struggler_factor: float = 0.72
    #: Share of reps who moved group during their tenure (memberships keep the history).
    moved_group_share: float = 0.15

    # -- customers --------------------------------------------------------------------------
    #: Accounts won during the history window from converted leads; the rest existed before.
    acquired_share: float = 0.40
    #: Of the accounts that existed before the window, the share already buying from us.
    legacy_customer_share: float = 0.65
    company_sizes: dict[str, float] = field(
        default_factory=lambda: {
            "micro": 0.12,
            "small": 0.33,
            "medium": 0.32,
            "large": 0.17,
            "enterprise": 0.06,
        }
    )
    #: Median first-deal amount by company size (CNY); amounts are log-normal around it.
    deal_median: dict[str, int] = field(
        default_factory=lambda: {
            "micro": 18_000,
            "small": 45_000,
            "medium": 95_000,
            "large": 210_000,
            "enterprise": 480_000,
        }
    )
    deal_sigma: float = 0.65
    decision_styles: dict[str, float] = field(
        default_factory=lambda: {"rational": 0.55, "relational": 0.45}
    )
    contacts_per_account: dict[int, float] = field(
        default_factory=lambda: {1: 0.2, 2: 0.35, 3: 0.25, 4: 0.12, 5: 0.08}
    )
    #: Payment behaviour of an account: good pays by the due date, slow pays late, bad may not pay.
    payer_mix: dict[str, float] = field(
        default_factory=lambda: {"good": 0.74, "slow": 0.21, "bad": 0.05}
    )
    #: Industries flagged high-risk in seed 000 §四.3 have three times the share of bad payers.
    high_risk_bad_payer_factor: float = 3.0
    #: Payment terms in days by company size (strategic accounts get 90).
    payment_terms: dict[str, int] = field(
        default_factory=lambda: {
            "micro": 30,
            "small": 30,
            "medium": 30,
            "large": 45,
            "enterprise": 60,
        }
    )
    partial_payment_share: float = 0.10

    # -- leads (seed 000 §五.1: "某展会线索转化率25%") ---------------------------------------------
    lead_sources: dict[str, float] = field(
        default_factory=lambda: {
            "website": 0.24,
            "cold_call": 0.20,
            "expo": 0.15,
            "referral": 0.10,
            "advertising": 0.12,
            "social": 0.10,
            "partner": 0.06,
            "other": 0.03,
        }
    )
    lead_conversion: dict[str, float] = field(
        default_factory=lambda: {
            "website": 0.12,
            "cold_call": 0.06,
            "expo": 0.25,
            "referral": 0.35,
            "advertising": 0.08,
            "social": 0.07,
            "partner": 0.22,
            "other": 0.10,
        }
    )
    #: First touch within the 72-hour SLA of seed 000 §三.2 for this share of leads.
    first_touch_in_sla_share: float = 0.86
    unassigned_recent_leads: float = 0.004  # of all leads: today's pool awaiting routing

    # -- the funnel (seed 000 §四.1) --------------------------------------------------------------
    #: Chance an average rep moves a deal forward from the stage (else it is lost).
    advance: dict[str, float] = field(
        default_factory=lambda: {
            "lead": 0.80,
            "qualified": 0.76,
            "proposal": 0.60,
            "negotiation": 0.68,
        }
    )
    #: Mean days in stage before it is left; times are log-normal (sigma below).
    stage_days: dict[str, float] = field(
        default_factory=lambda: {
            "lead": 7.0,
            "qualified": 9.0,
            "proposal": 10.5,
            "negotiation": 9.5,
        }
    )
    stage_days_sigma: float = 0.55
    #: A lost deal lingers this much longer in its last stage than one that moves.
    lost_linger: float = 1.3
    #: Deals that skip a stage (lead → proposal, qualified → negotiation).
    skip_share: float = 0.07
    #: Deals that fall back from negotiation to proposal once instead of being lost.
    back_share: float = 0.25
    #: New deals on an existing account often start qualified; converted leads less so.
    start_qualified_share: dict[str, float] = field(
        default_factory=lambda: {"lead": 0.35, "account": 0.6}
    )
    #: Loss reasons by stage: early deals die of budget and fit, late ones of price and rivals.
    loss_reasons_early: dict[str, float] = field(
        default_factory=lambda: {
            "no_budget": 0.30,
            "product_fit": 0.22,
            "timing": 0.22,
            "no_decision": 0.12,
            "relationship": 0.08,
            "competitor": 0.04,
            "price": 0.02,
        }
    )
    loss_reasons_late: dict[str, float] = field(
        default_factory=lambda: {
            "price": 0.34,
            "competitor": 0.28,
            "no_decision": 0.16,
            "relationship": 0.10,
            "timing": 0.06,
            "no_budget": 0.04,
            "product_fit": 0.02,
        }
    )
    #: Month → multiplier on closing a deal in negotiation: year-end budgets (the Q4 peak).
    year_end_push: dict[int, float] = field(default_factory=lambda: {11: 1.12, 12: 1.2})
    #: Amount at negotiation shrinks by this factor range (the discount conceded).
    negotiation_discount: tuple[float, float] = (0.88, 0.98)
    contract_threshold: int = 50_000  # won deals from this amount get a contract

    # -- activities (seed 000 §四.2: "周三/周四拜访转化率最高") ------------------------------------
    activity_kinds: dict[str, float] = field(
        default_factory=lambda: {
            "visit": 0.35,
            "call": 0.35,
            "email": 0.12,
            "meeting": 0.08,
            "demo": 0.05,
            "proposal": 0.05,
        }
    )
    #: Share of visits that end qualified or interested, before the weekday and rep factors.
    visit_conversion: float = 0.24
    #: ISO weekday → multiplier on visit conversion.
    weekday_conversion: dict[int, float] = field(
        default_factory=lambda: {
            1: 0.95,
            2: 1.0,
            3: 1.25,
            4: 1.2,
            5: 0.9,
            6: 0.85,
            7: 0.85,
        }
    )
    #: Touches per day on an open deal besides the stage-moving meeting.
    touches_per_deal_day: float = 0.25
    #: Relative maintenance attention by key-account tier (seed 000 §三.1 cadence).
    tier_attention: dict[str, float] = field(
        default_factory=lambda: {
            "strategic": 8.0,
            "growth": 4.0,
            "maintenance": 2.0,
            "development": 1.0,
            "": 0.6,
        }
    )
    #: Relative repeat-order frequency by key-account tier.
    tier_reorder: dict[str, float] = field(
        default_factory=lambda: {
            "strategic": 6.0,
            "growth": 3.0,
            "maintenance": 1.5,
            "development": 0.7,
            "": 0.5,
        }
    )
    done_task_share: float = 0.05  # of activities, a finished task behind it

    # -- the calendar ---------------------------------------------------------------------
    #: Month → weight: a Q4 peak, a soft summer; holidays below come on top.
    month_weights: dict[int, float] = field(
        default_factory=lambda: {
            1: 0.95,
            2: 0.9,
            3: 1.0,
            4: 1.0,
            5: 0.95,
            6: 1.0,
            7: 0.85,
            8: 0.82,
            9: 1.0,
            10: 1.15,
            11: 1.35,
            12: 1.5,
        }
    )
    #: ISO weekday → weight of ordinary business (visits, orders, stage moves).
    business_weekdays: dict[int, float] = field(
        default_factory=lambda: {
            1: 1.0,
            2: 1.0,
            3: 1.0,
            4: 1.0,
            5: 0.95,
            6: 0.12,
            7: 0.05,
        }
    )
    #: Year-on-year growth of the business, so comparisons with last year mean something.
    yearly_growth: float = 0.15
    #: Factor during the Spring Festival (days relative to 初一): the dip of seed 000 §一.1.
    spring_festival: tuple[tuple[int, int, float], ...] = (
        (-10, -4, 0.7),
        (-3, 6, 0.08),
        (7, 14, 0.7),
    )
    #: Fixed-date holidays (month, first day, last day, factor): Labour Day, National Day.
    fixed_holidays: tuple[tuple[int, int, int, float], ...] = ((5, 1, 5, 0.15), (10, 1, 7, 0.08))
    #: Trade-show months (month → weight) that bring expo leads.
    expo_months: dict[int, float] = field(default_factory=lambda: {3: 3.0, 4: 2.5, 9: 3.0, 11: 3.5})


#: Spring Festival (春节, 正月初一) dates; the lunar calendar is data, not arithmetic.
SPRING_FESTIVAL: dict[int, date] = {
    2020: date(2020, 1, 25),
    2021: date(2021, 2, 12),
    2022: date(2022, 2, 1),
    2023: date(2023, 1, 22),
    2024: date(2024, 2, 10),
    2025: date(2025, 1, 29),
    2026: date(2026, 2, 17),
    2027: date(2027, 2, 6),
    2028: date(2028, 1, 26),
    2029: date(2029, 2, 13),
    2030: date(2030, 2, 3),
    2031: date(2031, 1, 23),
    2032: date(2032, 2, 11),
    2033: date(2033, 1, 31),
    2034: date(2034, 2, 19),
    2035: date(2035, 2, 8),
}

#: The one password every demo login gets (documented in the README and printed by demo_logins).
DEMO_PASSWORD = "demo1234"  # noqa: S105 - a published demo password, never a real secret
