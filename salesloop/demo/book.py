"""One rep's book of business over the history window, simulated and written as rows.

For each rep, in this order: the accounts they own (some inherited from before the window, some
won from leads during it), the leads that brought the new ones, the deals and every stage move of
each deal, the orders (a won deal's first order, then customers' repeat orders), invoices and
payments, contracts, the activities behind all of it, and the open and done tasks. A rep's
random stream is seeded with ``(seed, rep index)``, so a rep's book does not depend on how the
load is chunked and the same seed always gives the same organisation.

Times are fractional days since the window opened (``t``); ``Calendar.moment`` turns them into
aware datetimes in the organisation's time zone. Nothing happens on or after the as-of day
(index ``days``): history ends yesterday, and only tasks, due dates and contract ends lie ahead.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from itertools import accumulate, count

from salesloop.activities.models import Activity, Task
from salesloop.core.money import line_amount, quantize_money
from salesloop.customers.models import Account, Contact, Lead
from salesloop.demo import names
from salesloop.demo.catalogue import CATALOGUE, Item
from salesloop.demo.geography import Region
from salesloop.demo.organisation import RepPlan
from salesloop.demo.profile import DemoProfile
from salesloop.demo.seasons import Calendar
from salesloop.demo.sinks import Sink
from salesloop.pipeline.models import Opportunity, StageChange
from salesloop.sales.models import Contract, Invoice, Order, OrderLine, Payment

COLUMNS: dict[type, tuple[str, ...]] = {
    Account: (
        "id",
        "created_at",
        "updated_at",
        "version",
        "name",
        "industry",
        "region",
        "province",
        "city",
        "size",
        "owner_id",
        "key_account_tier",
        "source_channel",
        "decision_style",
        "tags",
        "phone",
        "website",
        "notes",
    ),
    Contact: (
        "id",
        "created_at",
        "updated_at",
        "version",
        "account_id",
        "name",
        "title",
        "is_decision_maker",
        "birthday",
        "phone",
        "email",
    ),
    Lead: (
        "id",
        "created_at",
        "updated_at",
        "version",
        "name",
        "company",
        "contact_name",
        "phone",
        "email",
        "source",
        "campaign",
        "budget",
        "currency",
        "industry",
        "province",
        "city",
        "status",
        "owner_id",
        "account_id",
        "first_touch_at",
    ),
    Opportunity: (
        "id",
        "created_at",
        "updated_at",
        "version",
        "name",
        "account_id",
        "owner_id",
        "lead_id",
        "amount",
        "currency",
        "stage_id",
        "stage_entered_at",
        "expected_close_date",
        "probability",
        "decision_maker_id",
        "decision_date",
        "competitors",
        "next_step",
        "loss_reason_id",
        "loss_note",
        "closed_at",
    ),
    StageChange: (
        "id",
        "opportunity_id",
        "from_stage_id",
        "to_stage_id",
        "changed_at",
        "changed_by_id",
        "amount",
    ),
    Activity: (
        "id",
        "created_at",
        "updated_at",
        "version",
        "kind",
        "subject",
        "occurred_at",
        "outcome",
        "notes",
        "owner_id",
        "performed_by_id",
        "account_id",
        "opportunity_id",
        "lead_id",
    ),
    Task: (
        "id",
        "created_at",
        "updated_at",
        "version",
        "title",
        "kind",
        "due_at",
        "status",
        "assignee_id",
        "source",
        "account_id",
        "opportunity_id",
        "lead_id",
        "notes",
        "completed_at",
    ),
    Order: (
        "id",
        "created_at",
        "updated_at",
        "version",
        "number",
        "account_id",
        "owner_id",
        "opportunity_id",
        "order_date",
        "status",
        "currency",
        "total",
        "cost_total",
        "margin",
    ),
    OrderLine: (
        "id",
        "order_id",
        "product_id",
        "quantity",
        "unit_price",
        "discount_pct",
        "unit_cost",
        "line_total",
        "line_cost",
    ),
    Invoice: (
        "id",
        "created_at",
        "updated_at",
        "version",
        "number",
        "order_id",
        "account_id",
        "issue_date",
        "due_date",
        "amount",
        "currency",
        "paid_amount",
        "status",
    ),
    Payment: (
        "id",
        "created_at",
        "updated_at",
        "version",
        "invoice_id",
        "account_id",
        "amount",
        "currency",
        "paid_at",
        "method",
        "reference",
    ),
    Contract: (
        "id",
        "created_at",
        "updated_at",
        "version",
        "number",
        "title",
        "account_id",
        "opportunity_id",
        "owner_id",
        "start_date",
        "end_date",
        "value",
        "currency",
        "status",
    ),
}
#: Load order: parents before children (foreign keys are checked at the end anyway).
MODELS = tuple(COLUMNS)

OPEN_STAGES = ("lead", "qualified", "proposal", "negotiation")
STAGE_ORDER = ("lead", "qualified", "proposal", "negotiation", "won")
#: The stage-moving contact for a move into each stage: (activity kind, outcome, topic).
DECISIVE = {
    "qualified": ("visit", "qualified", "需求确认"),
    "proposal": ("proposal", "interested", "提交方案"),
    "negotiation": ("meeting", "negotiating", "商务谈判"),
    "won": ("meeting", "negotiating", "签约"),
    "lost": ("call", "not_interested", "跟进结果"),
}
CURRENCY = "CNY"
ZERO = Decimal(0)
DISCOUNTS = tuple(Decimal(d) for d in (0, 0, 0, 2, 3, 5, 5, 8, 10, 12, 15))
SMALL_DISCOUNTS = tuple(Decimal(d) for d in (0, 0, 0, 0, 2, 5))


class Weighted:
    """A weighted choice in one binary search; ``random.choices`` rebuilds its tables per call,
    which at millions of rows is a measurable share of the load."""

    __slots__ = ("items", "cum", "total")

    def __init__(self, weights: dict) -> None:
        self.items = list(weights)
        self.cum = list(accumulate(weights.values()))
        self.total = self.cum[-1]

    def __call__(self, rng: random.Random):
        return self.items[bisect_right(self.cum, rng.random() * self.total)]


def pick(rng: random.Random, items):
    """``rng.choice`` without its rejection loop (a uniform pick is all that is needed here)."""
    return items[int(rng.random() * len(items))]


def poisson(rng: random.Random, lam: float) -> int:
    """Knuth's method for the small means used here (a few touches per stage)."""
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, int(rng.gauss(lam, math.sqrt(lam)) + 0.5))
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


@dataclass(slots=True)
class Acc:
    id: int
    name: str
    short: str
    industry: names.Industry
    city: object
    size: str
    created_t: float
    payer: str
    style: str
    source: str
    tags: list[str]
    phone: str
    domain: (
        str  # e-mail domain of its contacts (a reserved .example.com name: nothing is ever sent)
    )
    acquired: bool = False
    customer_since: float | None = None
    tier: str = ""
    contacts: list[int] = field(default_factory=list)
    decision_maker: int | None = None
    open_from: float = 0.0  # when the rep can work on it


@dataclass(slots=True)
class Deal:
    id: int
    acc: Acc
    created_t: float
    start: str
    target: float
    lead_id: int | None = None
    changes: list = field(default_factory=list)  # (from, to, t, amount)
    stage: str = "lead"
    amount: Decimal = ZERO
    won_t: float | None = None
    closed_t: float | None = None
    loss_reason: str | None = None
    main: Item | None = None  # what the deal is about; a won deal's order leads with it
    order_id: int | None = None


@dataclass
class Context:
    """What every rep's book shares: the calendar, reference ids, the id counters and the sink."""

    seed: int
    profile: DemoProfile
    calendar: Calendar
    sink: Sink
    stage_ids: dict[str, int]
    stage_probability: dict[str, Decimal]
    loss_reason_ids: dict[str, int]
    product_ids: dict[str, int]
    ids: dict[type, Iterator[int]]  # the next free id per model (itertools.count)
    #: (sku, quantity, discount) → (quantity, line total, line cost): the same few lines recur.
    lines: dict[tuple, tuple[Decimal, Decimal, Decimal]] = field(default_factory=dict)

    def new_id(self, model: type) -> int:
        return next(self.ids[model])


class RepBook:
    def __init__(self, ctx: Context, rep: RepPlan) -> None:
        self.ctx = ctx
        self.rep = rep
        self.p = ctx.profile
        self.cal = ctx.calendar
        self.rng = random.Random(f"{ctx.seed}:rep:{rep.index}")
        self.H = ctx.calendar.days
        self.rows: dict[type, list[tuple]] = {m: [] for m in MODELS}
        self.activity_count = 0
        self.open_deal_count = 0
        region: Region = rep.region
        self.city = Weighted({c: c.weight for c in region.cities})
        self.industry = Weighted({i: i.weight for i in names.INDUSTRIES})
        self.size = Weighted(self.p.company_sizes)
        self.source = Weighted(self.p.lead_sources)
        self.kind = Weighted(self.p.activity_kinds)
        self.style = Weighted(self.p.decision_styles)
        self.n_contacts = Weighted(self.p.contacts_per_account)
        self.touch_kind = Weighted({"call": 45, "email": 30, "visit": 25})
        self.payment_method = Weighted({"bank_transfer": 85, "online": 10, "other": 5})
        self.no_deal_outcome = Weighted({"contacted": 70, "not_interested": 10, "": 20})
        advance = self.p.advance
        base = math.prod(advance.values())
        factor = (rep.win_rate / base) ** 0.25
        self.advance = {stage: min(0.97, prob * factor) for stage, prob in advance.items()}
        sigma = self.p.stage_days_sigma
        self.stage_mu = {
            s: math.log(d * rep.speed) - sigma * sigma / 2 for s, d in self.p.stage_days.items()
        }
        self.mains = [it for it in CATALOGUE if it.role in ("main", "subscription")]
        self.cheapest_main = min(self.mains, key=lambda it: it.list_price)
        self.first_weekday = ctx.calendar.first_day.isoweekday()
        # Document numbers and e-mail addresses carry the rep's number and a per-rep sequence,
        # never a database id: ids are assigned after generation when workers build the books.
        self.office = f"{rep.index + 1:03d}"
        self.seq = defaultdict(lambda: count(1))
        self.next_activity_id = ctx.ids[Activity].__next__
        self.consumables = [it for it in CATALOGUE if it.role == "consumable"]
        self.items = {it.sku: it for it in CATALOGUE}

    # ------------------------------------------------------------------ the whole book
    def build(self) -> None:
        rep = self.rep
        accounts = self._accounts()
        acquired = [a for a in accounts if a.acquired]
        deals = self._leads(acquired)
        deals += self._more_deals(accounts, len(deals))
        for deal in deals:
            self._simulate(deal)
        self._assign_tiers(accounts)
        first_orders = 0
        for deal in deals:
            if deal.won_t is not None:
                self._deal_order(deal)
                first_orders += 1
        self._repeat_orders(accounts, max(0, rep.orders - first_orders))
        for deal in deals:
            self._emit_deal(deal)
        self._legacy_contracts(accounts)
        self._fill_activities(accounts, rep.activities - self.activity_count)
        self._done_tasks()
        for acc in accounts:
            self._emit_account(acc)

    def flush(self) -> int:
        total = 0
        for model in MODELS:
            rows = self.rows[model]
            self.ctx.sink.extend(model, rows)
            total += len(rows)
        return total

    # ------------------------------------------------------------------ accounts and contacts
    def _accounts(self) -> list[Acc]:
        rng, p, rep = self.rng, self.p, self.rep
        n = self.rep.accounts
        # Accounts won in the window scale with the time the rep worked in it; the rest of a new
        # rep's book was handed over from colleagues.
        worked = (self.H - rep.start_index) / self.H
        n_acquired = round(n * p.acquired_share * worked) if self.H - rep.start_index > 30 else 0
        accounts = []
        for i in range(n):
            city = self.city(rng)
            industry = self.industry(rng)
            size = self.size(rng)
            full, short = names.company_name(rng, city.short, industry)
            payer = rng.choices(("good", "slow", "bad"), weights=self._payer_weights(industry))[0]
            tags = rng.sample(names.TAGS, k=pick(rng, (0, 0, 1, 1, 2)))
            acc = Acc(
                id=self.ctx.new_id(Account),
                name=full,
                short=short,
                industry=industry,
                city=city,
                size=size,
                created_t=-rng.uniform(30, 2000),
                payer=payer,
                style=self.style(rng),
                source=self.source(rng),
                tags=tags,
                phone=f"{city.area_code}-{rng.randrange(2 * 10**7, 9 * 10**7)}",
                domain=f"k{self.office}{i + 1:04d}.example.com",
            )
            if i < n_acquired:
                acc.acquired = True  # created_t is set and contacts are made when its lead converts
            else:
                if rng.random() < p.legacy_customer_share:
                    acc.customer_since = min(-1.0, acc.created_t + rng.uniform(10, 300))
                self._contacts(acc)
            accounts.append(acc)
        return accounts

    def _payer_weights(self, industry: names.Industry) -> tuple[float, float, float]:
        mix = self.p.payer_mix
        bad = mix["bad"] * (self.p.high_risk_bad_payer_factor if industry.high_risk else 1)
        return mix["good"], mix["slow"], bad

    def _contacts(self, acc: Acc, first: tuple[str, str, str] | None = None) -> None:
        """Contacts with titles, birthdays and one decision maker (seed 000 §三, 客户 360)."""
        rng, cal = self.rng, self.cal
        n = self.n_contacts(rng)
        created = cal.moment(max(acc.created_t, -2500))
        rows = self.rows[Contact]
        for k in range(n):
            if k == 0 and first is not None:
                name, phone, email = first
            else:
                surname, given = names.person_name(rng)
                name = surname + given
                phone = pick(rng, names.MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
                email = ""
            cid = self.ctx.new_id(Contact)
            if not email and rng.random() < 0.55:
                email = f"c{k + 1}@{acc.domain}"
            decision_maker = k == 0
            title = pick(
                rng, names.DECISION_MAKER_TITLES if decision_maker else names.CONTACT_TITLES
            )
            born = cal.as_of - timedelta(days=rng.randint(26 * 365, 60 * 365))
            birthday = born if rng.random() < 0.8 else None
            rows.append(
                (
                    cid,
                    created,
                    created,
                    1,
                    acc.id,
                    name,
                    title,
                    decision_maker,
                    birthday,
                    phone if rng.random() < 0.92 else "",
                    email,
                )
            )
            acc.contacts.append(cid)
            if decision_maker:
                acc.decision_maker = cid

    def _emit_account(self, acc: Acc) -> None:
        rng = self.rng
        if not acc.contacts:
            self._contacts(acc)
        created = self.cal.moment(max(acc.created_t, -2500))
        notes = pick(rng, names.NOTES) if rng.random() < 0.15 else ""
        self.rows[Account].append(
            (
                acc.id,
                created,
                created,
                1,
                acc.name,
                acc.industry.name,
                self.rep.region.name,
                acc.city.province,
                acc.city.name,
                acc.size,
                self.rep.user_id,
                acc.tier,
                acc.source,
                acc.style,
                acc.tags,
                acc.phone,
                "",
                notes,
            )
        )

    def _assign_tiers(self, accounts: list[Acc]) -> None:
        """Key-account tiers of seed 001 (战略合作/成长型/维护型/开发型) by size and status."""
        rng = self.rng
        by_size = {
            "enterprise": (("strategic", 0.5), ("growth", 0.5)),
            "large": (("strategic", 0.15), ("growth", 0.45), ("maintenance", 0.4)),
            "medium": (("growth", 0.25), ("maintenance", 0.6), ("development", 0.15)),
            "small": (("maintenance", 0.5), ("development", 0.5)),
            "micro": (("maintenance", 0.4), ("development", 0.6)),
        }
        for acc in accounts:
            if acc.customer_since is None:
                acc.tier = "development" if rng.random() < 0.7 else ""
            else:
                tiers, weights = zip(*by_size[acc.size], strict=True)
                acc.tier = rng.choices(tiers, weights=weights)[0]

    # ------------------------------------------------------------------ leads
    def _leads(self, acquired: list[Acc]) -> list[Deal]:
        """Leads until every acquired account has been won from one (seed 000 §五.1 conversion).

        Each source converts at its own rate; a lead that converts becomes an account, its
        contact the first contact, and a first deal opens the same day.
        """
        rng, p, cal, rep, H = self.rng, self.p, self.cal, self.rep, self.H
        deals: list[Deal] = []
        needed = len(acquired)
        cap = int(needed / 0.04) + 10
        made = 0
        lead_rows = self.rows[Lead]
        while len(deals) < needed and made < cap:
            made += 1
            source = self.source(rng)
            curve = {
                "expo": "expo",
                "website": "everyday",
                "social": "everyday",
                "advertising": "everyday",
            }.get(source, "business")
            day = cal.sample(rng, rep.start_index, H - 2, curve)
            if day is None:
                break
            t = day + rng.uniform(8.5, 20) / 24
            lid = self.ctx.new_id(Lead)
            if rng.random() < p.first_touch_in_sla_share:
                touch = t + min(rng.expovariate(1 / 16), 71.5) / 24
            else:
                touch = t + rng.uniform(72, 240) / 24
            first_touch = touch if touch < H else None
            converts = (
                first_touch is not None
                and rng.random() < p.lead_conversion[source] * rep.lead_skill
            )
            conversion = None
            if converts:
                conversion = cal.converting_moment(
                    rng, max(t + rng.uniform(2, 25), first_touch + 0.5)
                )
                if conversion >= H:
                    conversion = None
            surname, given = names.person_name(rng)
            contact = surname + given
            phone = pick(rng, names.MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
            email = (
                f"lead{self.office}{next(self.seq['lead']):05d}@example.com"
                if rng.random() < 0.5
                else ""
            )
            size = self.size(rng)
            budget = None
            if rng.random() < 0.45:
                budget = Decimal(int(self._deal_target(size) // 10_000 + 1) * 10_000)
            campaign = ""
            if source in names.CAMPAIGNS:
                campaign = pick(rng, names.CAMPAIGNS[source]).format(year=cal.date(day).year)
            if conversion is not None:
                acc = acquired[len(deals)]
                acc.created_t = conversion
                acc.open_from = conversion
                acc.source = source
                company, industry, city = acc.name, acc.industry, acc.city
                status, account_id, updated, version = "converted", acc.id, conversion, 3
                self._contacts(acc, first=(contact, phone, email))
                deal = Deal(
                    id=self.ctx.new_id(Opportunity),
                    acc=acc,
                    created_t=conversion + 0.01,
                    start="qualified" if rng.random() < p.start_qualified_share["lead"] else "lead",
                    target=self._deal_target(acc.size),
                    lead_id=lid,
                )
                deals.append(deal)
                self._activity(
                    "visit",
                    conversion,
                    "qualified",
                    f"拜访{acc.short}：需求确认",
                    account_id=acc.id,
                    lead_id=lid,
                )
            else:
                industry = self.industry(rng)
                city = self.city(rng)
                company = names.company_name(rng, city.short, industry)[0]
                account_id, updated = None, first_touch or t
                status = self._open_lead_status(H - t, first_touch is not None)
                version = 1 if first_touch is None else 2
            if first_touch is not None:
                outcome = {
                    "converted": "interested",
                    "qualified": "interested",
                    "disqualified": "not_interested",
                }.get(status, pick(rng, ("contacted", "no_answer")))
                self._activity("call", first_touch, outcome, f"首次触达：{company}", lead_id=lid)
            elif status == "new":
                self._task(f"首次触达：{company}", "call", t + 3, lead_id=lid, created_t=t)
            lead_rows.append(
                (
                    lid,
                    cal.moment(t),
                    cal.moment(updated),
                    version,
                    company,
                    company,
                    contact,
                    phone,
                    email,
                    source,
                    campaign,
                    budget,
                    CURRENCY,
                    industry.name,
                    city.province,
                    city.name,
                    status,
                    rep.user_id,
                    account_id,
                    cal.moment(first_touch) if first_touch is not None else None,
                )
            )
        return deals

    def _open_lead_status(self, age: float, touched: bool) -> str:
        rng = self.rng
        if not touched:
            return "new"
        if age <= 14:
            return "contacted" if rng.random() < 0.6 else "qualified"
        if age <= 45:
            return rng.choices(("contacted", "qualified", "disqualified"), weights=(3, 2, 5))[0]
        return "disqualified" if rng.random() < 0.75 else "contacted"

    # ------------------------------------------------------------------ deals
    def _deal_target(self, size: str) -> float:
        median = self.p.deal_median[size]
        return median * math.exp(self.rng.gauss(0, self.p.deal_sigma))

    def _more_deals(self, accounts: list[Acc], already: int) -> list[Deal]:
        """Expansion and new-need deals on accounts the rep already has, across the window."""
        rng, cal, H, p = self.rng, self.cal, self.H, self.p
        wanted = self.rep.opportunities - already
        if wanted <= 0:
            return []
        start = self.rep.start_index
        weights = []
        for acc in accounts:
            lo = max(start, math.ceil(acc.created_t))
            span = max(0, H - 1 - lo)
            weights.append(span * (3.0 if acc.customer_since is not None else 1.0))
        if not any(weights):
            return []
        cum = list(accumulate(weights))
        deals = []
        for acc in rng.choices(accounts, cum_weights=cum, k=wanted):
            lo = max(start, math.ceil(acc.created_t))
            day = cal.sample(rng, lo, H - 2)
            if day is None:
                continue
            t = cal.converting_moment(rng, day)
            if t >= H:
                continue
            target = self._deal_target(acc.size) * (0.7 if acc.customer_since is not None else 1.0)
            deal = Deal(
                id=self.ctx.new_id(Opportunity),
                acc=acc,
                created_t=t,
                start="qualified" if rng.random() < p.start_qualified_share["account"] else "lead",
                target=target,
            )
            deals.append(deal)
            self._activity(
                "visit",
                t,
                "interested",
                f"拜访{acc.short}：{pick(rng, names.VISIT_TOPICS)}",
                account_id=acc.id,
                opportunity_id=deal.id,
            )
        return deals

    def _simulate(self, deal: Deal) -> None:
        """Walk the deal through the stages until it is won, lost, or today comes first."""
        rng, cal, p, H = self.rng, self.cal, self.p, self.H
        amount = Decimal(int(deal.target * rng.uniform(1.0, 1.25)) // 1000 * 1000 + 1000)
        target = deal.target
        fitting = [it for it in self.mains if target * 0.08 <= float(it.list_price) <= target * 0.8]
        deal.main = pick(rng, fitting) if fitting else self.cheapest_main
        t, stage, went_back = deal.created_t, deal.start, False
        deal.changes.append((None, stage, t, amount))
        sigma = p.stage_days_sigma
        while stage in OPEN_STAGES:
            dwell = rng.lognormvariate(self.stage_mu[stage], sigma)
            t_next = t + dwell
            chance = self.advance[stage]
            if stage == "negotiation":  # year-end budgets: deals in talks close more in Nov/Dec
                chance *= p.year_end_push.get(cal.date(int(t_next)).month, 1.0)
            moves_on = rng.random() < min(0.97, chance)
            if moves_on:
                t_next = cal.converting_moment(rng, t_next, after=t)
            else:
                t_next = cal.business_moment(rng, t + dwell * p.lost_linger, after=t)
            if t_next >= H:
                break
            if moves_on:
                following = STAGE_ORDER.index(stage) + 1
                if stage in ("lead", "qualified") and rng.random() < p.skip_share:
                    following += 1
                nxt = STAGE_ORDER[following]
            elif stage == "negotiation" and not went_back and rng.random() < p.back_share:
                nxt, went_back = "proposal", True
            else:
                nxt = "lost"
            if nxt == "negotiation":
                amount = Decimal(
                    int(amount * Decimal(rng.uniform(*p.negotiation_discount))) // 100 * 100
                )
            deal.changes.append((stage, nxt, t_next, amount))
            stage, t = nxt, t_next
        deal.stage = stage
        deal.amount = amount
        if stage == "won":
            deal.won_t = deal.closed_t = t
            if deal.acc.customer_since is None:
                deal.acc.customer_since = t
        elif stage == "lost":
            deal.closed_t = t
            early = deal.changes[-1][0] in ("lead", "qualified")
            reasons = p.loss_reasons_early if early else p.loss_reasons_late
            deal.loss_reason = rng.choices(list(reasons), weights=list(reasons.values()))[0]

    def _emit_deal(self, deal: Deal) -> None:
        rng, cal, ctx, H = self.rng, self.cal, self.ctx, self.H
        acc, rep = deal.acc, self.rep
        stage_ids = ctx.stage_ids
        changes = self.rows[StageChange]
        touches = self.p.touches_per_deal_day
        for i, (frm, to, t, amount) in enumerate(deal.changes):
            changes.append(
                (
                    ctx.new_id(StageChange),
                    deal.id,
                    stage_ids[frm] if frm else None,
                    stage_ids[to],
                    cal.moment(t),
                    rep.user_id,
                    amount,
                )
            )
            if i and to in DECISIVE:
                kind, outcome, topic = DECISIVE[to]
                self._activity(
                    kind,
                    t,
                    outcome,
                    f"{acc.short}：{topic}",
                    account_id=acc.id,
                    opportunity_id=deal.id,
                )
            if to in OPEN_STAGES:  # routine touches while the deal sits in this stage
                end = deal.changes[i + 1][2] if i + 1 < len(deal.changes) else H - 0.01
                for _ in range(min(12, poisson(rng, (end - t) * touches))):
                    day = cal.sample(rng, int(t), int(end))
                    if day is None:
                        continue
                    kind = self.touch_kind(rng)
                    outcome, subject = self._routine(kind, day, acc)
                    when = day + rng.uniform(8.5, 18.5) / 24
                    if when <= t:  # same day as the move: after it
                        when = t + rng.uniform(0.01, 0.1)
                    if when < H:
                        self._activity(
                            kind, when, outcome, subject, account_id=acc.id, opportunity_id=deal.id
                        )
        last_t = deal.changes[-1][2]
        created, last = cal.moment(deal.created_t), cal.moment(last_t)
        created_day = cal.date(int(deal.created_t))
        expected = decision_date = None
        next_step = loss_note = ""
        probability = None
        closed_at = cal.moment(deal.closed_t) if deal.closed_t is not None else None
        if deal.stage in OPEN_STAGES:
            self.open_deal_count += 1
            if rng.random() < 0.15:  # slipped: the expected date passed and nobody updated it
                expected = max(created_day, cal.as_of - timedelta(days=rng.randint(1, 20)))
            else:
                expected = cal.as_of + timedelta(days=rng.randint(3, 60))
            next_step = pick(rng, names.NEXT_STEPS[deal.stage])
            if rng.random() < 0.2:  # the rep's own commit instead of the stage default
                default = ctx.stage_probability[deal.stage]
                probability = max(
                    ZERO, min(Decimal(100), default + Decimal(pick(rng, (-15, -10, -5, 5, 10, 15))))
                )
            if deal.stage == "negotiation" and deal.amount >= self.p.contract_threshold:
                self._contract(
                    acc,
                    deal.id,
                    expected,
                    365,
                    deal.amount,
                    pick(rng, ("in_review", "in_review", "draft")),
                    last_t,
                    f"{self._deal_name(deal)}合同",
                )
            kind = {"lead": "call", "qualified": "visit", "proposal": "proposal"}.get(
                deal.stage, "follow_up"
            )
            self._task(
                f"{next_step}：{acc.short}",
                kind,
                H + rng.randint(-3, 7) + 10 / 24,
                account_id=acc.id,
                opportunity_id=deal.id,
                created_t=last_t,
            )
        else:
            expected = max(
                created_day, cal.date(int(deal.closed_t)) + timedelta(days=rng.randint(-10, 10))
            )
            if deal.won_t is not None:
                decision_date = cal.date(int(deal.won_t))
            else:
                loss_note = names.LOSS_NOTES[deal.loss_reason] if rng.random() < 0.6 else ""
        competitors = "、".join(rng.sample(names.COMPETITORS, k=pick(rng, (0, 0, 1, 1, 2))))
        decision_maker = acc.decision_maker if rng.random() < 0.7 else None
        self.rows[Opportunity].append(
            (
                deal.id,
                created,
                last,
                len(deal.changes),
                self._deal_name(deal),
                acc.id,
                rep.user_id,
                deal.lead_id,
                deal.amount,
                CURRENCY,
                stage_ids[deal.stage],
                last,
                expected,
                probability,
                decision_maker,
                decision_date,
                competitors,
                next_step,
                ctx.loss_reason_ids[deal.loss_reason] if deal.loss_reason else None,
                loss_note,
                closed_at,
            )
        )

    @staticmethod
    def _deal_name(deal: Deal) -> str:
        return f"{deal.acc.short}·{deal.main.name.split('（')[0]}项目"

    # ------------------------------------------------------------------ orders and money
    def _deal_order(self, deal: Deal) -> None:
        """A won deal's order: a main item sized to the deal, services, a discount to close."""
        rng = self.rng
        target = float(deal.amount)
        main = deal.main
        qty = max(1, min(60, round(target * 0.65 / float(main.list_price))))
        lines = [(main, qty, pick(rng, DISCOUNTS))]
        if rng.random() < 0.6:
            days = max(1, min(60, round(target * 0.08 / 2800)))
            lines.append((self.items["SV-IMP-D"], days, pick(rng, SMALL_DISCOUNTS)))
        if rng.random() < 0.3:
            lines.append((self.items["SV-MNT-Y"], 1, pick(rng, SMALL_DISCOUNTS)))
        if rng.random() < 0.25:
            lines.append((self.items["SV-TRN-D"], rng.randint(1, 5), ZERO))
        day = int(deal.won_t)
        deal.order_id, total, paid_t = self._order(
            deal.acc, day, lines, deal.id, "delivered" if day < self.H - 7 else "confirmed"
        )
        deal.amount = total
        # the move into "won" records the signed amount
        frm, to, t, _amount = deal.changes[-1]
        deal.changes[-1] = (frm, to, t, total)
        if paid_t is not None:
            deal.changes.append(
                ("won", "paid", self.cal.business_moment(rng, paid_t, after=t), total)
            )
            if deal.changes[-1][2] >= self.H:
                deal.changes.pop()
            else:
                deal.stage = "paid"

    def _repeat_orders(self, accounts: list[Acc], count: int) -> None:
        """Customers reorder consumables and renew services, more often the higher their tier."""
        rng, cal, H, start = self.rng, self.cal, self.H, self.rep.start_index
        customers, weights = [], []
        for acc in accounts:
            if acc.customer_since is None:
                continue
            lo = max(start, math.floor(acc.customer_since) + 7)
            if lo <= H - 1:
                customers.append((acc, lo))
                weights.append(self.p.tier_reorder[acc.tier] * (H - lo))
        if not customers or count <= 0:
            return
        scale = {"micro": 1, "small": 2, "medium": 4, "large": 8, "enterprise": 15}
        for acc, lo in rng.choices(customers, cum_weights=list(accumulate(weights)), k=count):
            day = cal.sample(rng, lo, H - 1)
            if day is None:
                continue
            lines = []
            for item in rng.sample(self.consumables, k=pick(rng, (1, 1, 2, 2, 3))):
                lines.append(
                    (item, rng.randint(1, 6) * scale[acc.size], pick(rng, SMALL_DISCOUNTS))
                )
            if rng.random() < 0.08:
                renew = (
                    "SV-MNT-Y"
                    if acc.tier not in ("strategic", "growth")
                    else pick(rng, ("SW-IOT-50", "SW-MES-S"))
                )
                lines.append((self.items[renew], 1, pick(rng, SMALL_DISCOUNTS)))
            if day >= H - 5:
                status = "confirmed" if rng.random() < 0.75 else "draft"
            else:
                status = "delivered" if rng.random() < 0.97 else "cancelled"
            self._order(acc, day, lines, None, status)

    def _order(
        self,
        acc: Acc,
        day: int,
        lines: list[tuple[Item, int, Decimal]],
        deal_id: int | None,
        status: str,
    ) -> tuple[int, Decimal, float | None]:
        """An order with its lines and, once it ships, its invoice: (id, total, when fully paid)."""
        rng, cal, ctx = self.rng, self.cal, self.ctx
        oid = ctx.new_id(Order)
        total = cost = ZERO
        line_rows = self.rows[OrderLine]
        cache = ctx.lines
        for item, qty, discount in lines:
            key = (item.sku, qty, discount)
            cached = cache.get(key)
            if cached is None:
                quantity = Decimal(qty)
                cached = cache[key] = (
                    quantity,
                    line_amount(quantity, item.list_price, discount),
                    quantize_money(quantity * item.cost),
                )
            quantity, line_total, line_cost = cached
            total += line_total
            cost += line_cost
            line_rows.append(
                (
                    ctx.new_id(OrderLine),
                    oid,
                    ctx.product_ids[item.sku],
                    quantity,
                    item.list_price,
                    discount,
                    item.cost,
                    line_total,
                    line_cost,
                )
            )
        t = day + rng.uniform(9, 18) / 24
        moment = cal.moment(t)
        order_date = cal.date(day)
        number = f"SO{cal.month_code(day)}-{self.office}{next(self.seq['order']):05d}"
        self.rows[Order].append(
            (
                oid,
                moment,
                moment,
                1,
                number,
                acc.id,
                self.rep.user_id,
                deal_id,
                order_date,
                status,
                CURRENCY,
                total,
                cost,
                total - cost,
            )
        )
        paid_t = (
            self._invoice(acc, oid, day, total) if status in ("delivered", "confirmed") else None
        )
        return oid, total, paid_t

    def _invoice(self, acc: Acc, order_id: int, day: int, amount: Decimal) -> float | None:
        """Invoice with payment terms: good payers pay on time, slow ones late, bad maybe never."""
        rng, cal, ctx, H, p = self.rng, self.cal, self.ctx, self.H, self.p
        issue = min(day + rng.randint(0, 3), H - 1)
        terms = 90 if acc.tier == "strategic" else p.payment_terms[acc.size]
        due = issue + terms
        if acc.payer == "good":
            pay = issue + terms * rng.uniform(0.3, 1.0)
        elif acc.payer == "slow":
            pay = due + rng.uniform(1, 45)
        else:
            pay = due + rng.uniform(30, 150) if rng.random() < 0.5 else None
        iid = ctx.new_id(Invoice)
        issue_date = cal.date(issue)
        number = f"INV{cal.month_code(issue)}-{self.office}{next(self.seq['invoice']):05d}"
        payments: list[tuple[float, Decimal]] = []
        if pay is not None:
            if rng.random() < p.partial_payment_share:
                first = quantize_money(amount * Decimal(pick(rng, ("0.3", "0.5", "0.7"))))
                payments = [
                    (max(issue + 1, pay - rng.uniform(5, 20)), first),
                    (pay, amount - first),
                ]
            else:
                payments = [(pay, amount)]
        paid = ZERO
        last_t = issue + 0.5
        pay_rows = self.rows[Payment]
        for when, value in payments:
            when = cal.business_moment(rng, when, after=issue + 0.4)
            if when >= H or value <= 0:
                break
            moment = cal.moment(when)
            pid = ctx.new_id(Payment)
            method = self.payment_method(rng)
            pay_rows.append(
                (
                    pid,
                    moment,
                    moment,
                    1,
                    iid,
                    acc.id,
                    value,
                    CURRENCY,
                    moment,
                    method,
                    f"回单{cal.month_code(int(when))}-{self.office}{next(self.seq['payment']):05d}",
                )
            )
            paid += value
            last_t = when
        settled = paid >= amount
        created = cal.moment(issue + 0.45)
        self.rows[Invoice].append(
            (
                iid,
                created,
                cal.moment(max(last_t, issue + 0.45)),
                1 + len(payments),
                number,
                order_id,
                acc.id,
                issue_date,
                cal.date(due),
                amount,
                CURRENCY,
                paid,
                "paid" if settled else "open",
            )
        )
        if not settled and due + 30 < H:
            self._task(
                f"催收：{number}",
                "collection",
                due + 31 + 10 / 24,
                account_id=acc.id,
                created_t=due + 31,
            )
        return last_t if settled else None

    # ------------------------------------------------------------------ contracts
    def _contract(
        self,
        acc: Acc,
        deal_id: int | None,
        start: date,
        days: int,
        value: Decimal,
        status: str,
        created_t: float,
        title: str,
    ) -> None:
        cid = self.ctx.new_id(Contract)
        end = start + timedelta(days=days - 1)
        created = self.cal.moment(created_t)
        number = f"HT{start:%Y}-{self.office}{next(self.seq['contract']):04d}"
        self.rows[Contract].append(
            (
                cid,
                created,
                created,
                1,
                number,
                title[:200],
                acc.id,
                deal_id,
                self.rep.user_id,
                start,
                end,
                value,
                CURRENCY,
                status,
            )
        )

    def _legacy_contracts(self, accounts: list[Acc]) -> None:
        """Annual framework contracts, renewed year after year; some are about to expire."""
        rng, cal = self.rng, self.cal
        as_of = cal.as_of
        for acc in accounts:
            if acc.customer_since is None or acc.tier not in ("strategic", "growth", "maintenance"):
                continue
            if acc.acquired or rng.random() < 0.4:
                continue
            value = Decimal(int(self._deal_target(acc.size) * 1.5) // 1000 * 1000 + 1000)
            start = as_of - timedelta(days=rng.randint(1, 730))
            while True:
                end = start + timedelta(days=364)
                status = "active" if end >= as_of else "expired"
                self._contract(
                    acc,
                    None,
                    start,
                    365,
                    value,
                    status,
                    cal.index(start) - rng.uniform(3, 20),
                    f"{acc.short}年度框架协议",
                )
                if end >= as_of or rng.random() > 0.8:
                    break
                start = end + timedelta(days=1)

    # ------------------------------------------------------------------ activities and tasks
    def _activity(
        self,
        kind: str,
        t: float,
        outcome: str,
        subject: str,
        *,
        account_id=None,
        opportunity_id=None,
        lead_id=None,
        notes: str = "",
    ) -> None:
        moment = self.cal.moment
        created = moment(
            min(t + 0.01 + self.rng.random() * 0.19, self.H - 0.001)
        )  # logged later that day
        user = self.rep.user_id
        self.rows[Activity].append(
            (
                self.next_activity_id(),
                created,
                created,
                1,
                kind,
                subject,
                moment(t),
                outcome,
                notes,
                user,
                user,
                account_id,
                opportunity_id,
                lead_id,
            )
        )
        self.activity_count += 1

    def _fill_activities(self, accounts: list[Acc], count: int) -> None:
        """The rest of the rep's week: visits, calls and e-mails to customers and prospects.

        Visits convert better mid-week (seed 000 §四.2's heat map: 周三/周四), and by rep skill.
        """
        if count <= 0:
            return
        rng, cal, H, p = self.rng, self.cal, self.H, self.p
        start = self.rep.start_index
        targets, weights = [], []
        for acc in accounts:
            lo = max(start, math.ceil(acc.created_t))
            if lo <= H - 1:
                targets.append((acc, lo))
                weights.append(p.tier_attention[acc.tier] * (H - lo))
        if not targets:
            return
        choose_kind = self.kind
        for acc, lo in rng.choices(targets, cum_weights=list(accumulate(weights)), k=count):
            day = cal.sample(rng, lo, H - 1)
            if day is None:
                continue
            kind = choose_kind(rng)
            t = day + rng.uniform(8.5, 18.5) / 24
            outcome, subject = self._routine(kind, day, acc)
            notes = pick(rng, names.NOTES) if rng.random() < 0.12 else ""
            self._activity(kind, t, outcome, subject, account_id=acc.id, notes=notes)

    def _routine(self, kind: str, day: int, acc: Acc) -> tuple[str, str]:
        """Outcome and subject of an everyday contact. Visits convert by rep skill and weekday."""
        rng = self.rng
        r = rng.random()
        if kind == "visit":
            weekday = (self.first_weekday - 1 + day) % 7 + 1
            chance = (
                self.p.visit_conversion * self.rep.visit_skill * self.p.weekday_conversion[weekday]
            )
            if r < chance:
                outcome = "qualified" if r < chance * 0.4 else "interested"
            else:
                outcome = self.no_deal_outcome(rng)
            return outcome, f"拜访{acc.short}：{pick(rng, names.VISIT_TOPICS)}"
        if kind == "call":
            outcome = (
                "no_answer"
                if r < 0.25
                else ("contacted" if r < 0.8 else ("interested" if r < 0.95 else ""))
            )
            return outcome, f"{acc.short}：{pick(rng, names.CALL_TOPICS)}"
        if kind == "email":
            return ("" if r < 0.7 else "contacted"), f"{acc.short}：{pick(rng, names.EMAIL_TOPICS)}"
        outcome = "interested" if r < 0.4 else ("contacted" if r < 0.9 else "")
        return outcome, f"{acc.short}：{pick(rng, names.MEETING_TOPICS)}"

    def _task(
        self,
        title: str,
        kind: str,
        due_t: float,
        *,
        account_id=None,
        opportunity_id=None,
        lead_id=None,
        created_t: float,
    ) -> None:
        cal = self.cal
        created = cal.moment(min(created_t, self.H - 0.001))
        self.rows[Task].append(
            (
                self.ctx.new_id(Task),
                created,
                created,
                1,
                title[:200],
                kind,
                cal.moment(due_t),
                "open",
                self.rep.user_id,
                "manual",
                account_id,
                opportunity_id,
                lead_id,
                "",
                None,
            )
        )

    def _done_tasks(self) -> None:
        """Finished (and a few cancelled) tasks behind a share of the activities."""
        rng = self.rng
        activities = self.rows[Activity]
        if not activities:
            return
        count = int(len(activities) * self.p.done_task_share)
        kinds = {"visit": "visit", "call": "call", "proposal": "proposal"}
        rows = self.rows[Task]
        for act in rng.sample(activities, k=min(count, len(activities))):
            (
                _id,
                created,
                _u,
                _v,
                kind,
                subject,
                occurred,
                _o,
                _n,
                owner,
                _p,
                account_id,
                opportunity_id,
                lead_id,
            ) = act
            cancelled = rng.random() < 0.05
            due = occurred - timedelta(hours=rng.randint(0, 48))
            rows.append(
                (
                    self.ctx.new_id(Task),
                    due - timedelta(days=rng.randint(1, 5)),
                    created,
                    2,
                    subject[:200],
                    kinds.get(kind, "follow_up"),
                    due,
                    "cancelled" if cancelled else "done",
                    owner,
                    "manual",
                    account_id,
                    opportunity_id,
                    lead_id,
                    "",
                    None if cancelled else occurred,
                )
            )


def unassigned_leads(ctx: Context, regions: list[Region], count: int) -> list[tuple]:
    """Today's pool of fresh leads from the website and shows, waiting for routing (owner empty)."""
    rng, cal = random.Random(f"{ctx.seed}:lead-pool"), ctx.calendar
    rows = []
    cities = [c for r in regions for c in r.cities]
    cum = list(accumulate(c.weight for c in cities))
    industries = list(names.INDUSTRIES)
    industry_cum = list(accumulate(i.weight for i in industries))
    for _ in range(count):
        city = rng.choices(cities, cum_weights=cum)[0]
        industry = rng.choices(industries, cum_weights=industry_cum)[0]
        company = names.company_name(rng, city.short, industry)[0]
        surname, given = names.person_name(rng)
        t = cal.days - rng.uniform(0.05, 2.5)
        moment = cal.moment(t)
        lid = ctx.new_id(Lead)
        source = pick(rng, ("website", "expo", "advertising", "social"))
        budget = (
            Decimal(pick(rng, (50_000, 100_000, 150_000, 300_000))) if rng.random() < 0.6 else None
        )
        rows.append(
            (
                lid,
                moment,
                moment,
                1,
                company,
                company,
                surname + given,
                pick(rng, names.MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}",
                f"l{lid}@example.com",
                source,
                "",
                budget,
                CURRENCY,
                industry.name,
                city.province,
                city.name,
                "new",
                None,
                None,
                None,
            )
        )
    return rows
