"""Key-account tier proposals: a score from value, growth and strategic fields (``TierPolicy``).

Value is the account's percentile of window revenue among *all* scored accounts of the
organisation (a rep's best customer is not "strategic" just because their book is small), with
the RFM tie policy: equal revenue, equal percentile (the lower one). The ranking is one window
query over ``custops_accountrfm``; the page then reads only the accounts the user may see.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Exists, F, OuterRef, QuerySet, Window
from django.db.models.functions import Rank

from salesloop.customers.models import Account, CompanySize, Contact, KeyAccountTier
from salesloop.custops.models import AccountRfm, TierPolicy
from salesloop.org import access
from salesloop.org.models import User

_LARGE = {CompanySize.LARGE, CompanySize.ENTERPRISE}


@dataclass(frozen=True)
class TierProposal:
    account: Account
    value_score: float
    growth_score: float
    strategic_score: float
    score: float
    proposed: str
    growth_pct: float | None
    reasons: tuple[str, ...]

    @property
    def differs(self) -> bool:
        return self.proposed != (self.account.key_account_tier or "")


def value_percentiles() -> dict[int, float]:
    """account id → 0–100: the share of scored accounts with strictly less window revenue."""
    rows = (
        AccountRfm.objects.filter(first_order_date__isnull=False)
        .annotate(rank=Window(Rank(), order_by=F("monetary").asc()), n=Window(Count("pk")))
        .values_list("account_id", "rank", "n")
    )
    return {pk: 100.0 * (rank - 1) / n for pk, rank, n in rows}


def growth_score(
    current: Decimal, previous: Decimal, policy: TierPolicy
) -> tuple[float, float | None]:
    """Year-on-year change mapped linearly from the floor (0) to the cap (100).

    A customer new this window (nothing before, something now) counts as growing at the cap;
    nothing in either window is no growth signal at all (0).
    """
    floor, cap = float(policy.growth_floor_pct), float(policy.growth_cap_pct)
    if previous > 0:
        pct = float((current - previous) / previous * 100)
    elif current > 0:
        pct = cap
    else:
        return 0.0, None
    return max(0.0, min(100.0, 100.0 * (pct - floor) / (cap - floor))), pct


def strategic_score(
    account: Account, has_decision_maker: bool, policy: TierPolicy
) -> tuple[float, list[str]]:
    points, why = 0, []
    if account.industry and account.industry in policy.strategic_industries:
        points += policy.strategic_industry_points
        why.append("industry")
    if account.size in _LARGE:
        points += policy.large_company_points
        why.append("size")
    tags = {str(t).strip().lower() for t in (account.tags or [])}
    if tags & {str(t).strip().lower() for t in policy.strategic_tags}:
        points += policy.strategic_tag_points
        why.append("tag")
    if has_decision_maker:
        points += policy.decision_maker_points
        why.append("decision_maker")
    return float(min(points, 100)), why


def propose(value: float, growth: float, strategic: float, policy: TierPolicy) -> tuple[float, str]:
    score = (
        float(policy.value_weight) * value
        + float(policy.growth_weight) * growth
        + float(policy.strategic_weight) * strategic
    )
    if score >= policy.strategic_min_score:
        return score, KeyAccountTier.STRATEGIC
    if growth >= policy.growth_min_growth_score:
        return score, KeyAccountTier.GROWTH
    if value >= policy.maintenance_min_value_score:
        return score, KeyAccountTier.MAINTENANCE
    return score, KeyAccountTier.DEVELOPMENT


def tier_proposals(*, user: User, accounts: QuerySet | None = None) -> list[TierProposal]:
    """Proposals for the accounts with orders that ``user`` may read, highest score first."""
    policy = TierPolicy.current()
    percentiles = value_percentiles()
    qs = accounts if accounts is not None else Account.objects.all()
    decision_maker = Contact.objects.filter(account_id=OuterRef("pk"), is_decision_maker=True)
    qs = (
        access.restrict(qs, user, "read")
        .filter(rfm__first_order_date__isnull=False)
        .select_related("rfm", "owner")
        .annotate(has_decision_maker=Exists(decision_maker))
    )
    out = []
    for account in qs:
        value = percentiles.get(account.pk, 0.0)
        growth, pct = growth_score(account.rfm.monetary, account.rfm.previous_monetary, policy)
        strategic, why = strategic_score(account, account.has_decision_maker, policy)
        score, tier = propose(value, growth, strategic, policy)
        out.append(
            TierProposal(
                account,
                round(value, 1),
                round(growth, 1),
                round(strategic, 1),
                round(score, 1),
                str(tier),
                None if pct is None else round(pct, 1),
                tuple(why),
            )
        )
    return sorted(out, key=lambda p: (-p.score, p.account.name))
