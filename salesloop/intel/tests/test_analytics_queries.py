"""Regional distribution, lead-source effectiveness and won-deal profile on hand-built data.

Given (period January 2026, observed on 1 March 2026):

  accounts  A1 rep_a1 华东/江苏/南京 制造 medium expo     A2 rep_a1 华东/浙江/杭州 零售 small website
            A3 rep_b1 华南/广东/深圳 制造 large referral   A4 rep_b1 华南/广东/广州, created in February
  deals     D1 A1 won  100,000.00 Jan 10 from L1     D2 A1 lost  50,000 Jan 12
            D3 A2 won   30,000.50 Jan 20             D4 A3 won  200,000 Jan 15 from L5
            D5 A3 lost  80,000    Jan 25 from L4     D6 A3 won      999 Dec 2025
            D7 A1 open  70,000                       D8 A2 won   40,000 Feb 5 from L3
            D9 A3 open  from L6, created 5 March (after the observation date)
  leads     L1 rep_a1 expo/工博会 Jan 3 → D1 (won)    L2 rep_a1 expo/工博会 Jan 5 (no deal)
            L3 rep_a1 website Jan 8 → D8 (won Feb 5)  L4 rep_b1 expo/工博会 Jan 9 → D5 (lost)
            L5 rep_b1 referral Dec 20 → D4 (not in the January cohort)
            L6 rep_b1 website Jan 30 → D9 (converted only after the observation date)
  costs     C1 expo/工博会 2025-12-16..2026-01-15 31,000.00 → 15 of 31 days → 15,000.00
            C2 expo (whole source) 2026 full year 36,500.00 → 31 of 365 days → 3,100.00
            C3 website Feb → no overlap           C4 referral Jan 31..Feb 1 10.01 → 1 of 2 days → 5.01 (half up)
"""

import datetime as dt
import random
from decimal import Decimal

import pandas as pd
import pytest
from django.utils import timezone

from salesloop.analytics.queries.lead_sources import campaign_costs, lead_source_effectiveness
from salesloop.analytics.queries.regional import regional_distribution, totals
from salesloop.analytics.queries.won_profile import wilson_interval, won_deal_profile
from salesloop.customers.models import Account, Lead
from salesloop.intel import services_analytics as svc
from salesloop.intel.models import CampaignCost
from salesloop.org import access
from salesloop.pipeline.models import Opportunity
from salesloop.testing.factories import AccountFactory, LeadFactory, OpportunityFactory, stage

TZ = timezone.get_fixed_timezone(8 * 60)
JAN = (dt.date(2026, 1, 1), dt.date(2026, 1, 31))
AS_OF = dt.datetime(2026, 3, 1, tzinfo=TZ)


def at(month: int, day: int, year: int = 2026) -> dt.datetime:
    return dt.datetime(year, month, day, 10, 0, tzinfo=TZ)


def account(owner, region, province, city, industry="", size="", source="", created=None) -> Account:
    acc = AccountFactory(
        owner=owner, region=region, province=province, city=city, industry=industry, size=size, source_channel=source
    )
    Account.objects.filter(pk=acc.pk).update(created_at=created or at(12, 1, 2025))
    return acc


def lead(owner, source, created, campaign="") -> Lead:
    obj = LeadFactory(owner=owner, source=source, campaign=campaign)
    Lead.objects.filter(pk=obj.pk).update(created_at=created)
    return obj


def deal(acc, code, amount, closed=None, lead=None, created=None) -> Opportunity:
    opp = OpportunityFactory(
        account=acc, owner=acc.owner, stage=stage(code), amount=Decimal(amount), closed_at=closed, lead=lead
    )
    Opportunity.objects.filter(pk=opp.pk).update(created_at=created or at(12, 1, 2025))
    return opp


@pytest.fixture
def world(org):
    a1 = account(org.rep_a1, "华东", "江苏", "南京", "制造", "medium", "expo")
    a2 = account(org.rep_a1, "华东", "浙江", "杭州", "零售", "small", "website")
    a3 = account(org.rep_b1, "华南", "广东", "深圳", "制造", "large", "referral")
    account(org.rep_b1, "华南", "广东", "广州", created=at(2, 3))
    l1 = lead(org.rep_a1, "expo", at(1, 3), "工博会")
    lead(org.rep_a1, "expo", at(1, 5), "工博会")
    l3 = lead(org.rep_a1, "website", at(1, 8))
    l4 = lead(org.rep_b1, "expo", at(1, 9), "工博会")
    l5 = lead(org.rep_b1, "referral", at(12, 20, 2025))
    l6 = lead(org.rep_b1, "website", at(1, 30))
    deal(a1, "won", "100000.00", at(1, 10), lead=l1, created=at(1, 4))
    deal(a1, "lost", "50000", at(1, 12))
    deal(a2, "won", "30000.50", at(1, 20))
    deal(a3, "won", "200000", at(1, 15), lead=l5, created=at(12, 21, 2025))
    deal(a3, "lost", "80000", at(1, 25), lead=l4, created=at(1, 10))
    deal(a3, "won", "999", at(12, 28, 2025))
    deal(a1, "qualified", "70000")
    deal(a2, "won", "40000", at(2, 5), lead=l3, created=at(1, 9))
    deal(a3, "qualified", "1", lead=l6, created=at(3, 5))
    CampaignCost.objects.create(
        source="expo",
        campaign="工博会",
        period_start=dt.date(2025, 12, 16),
        period_end=dt.date(2026, 1, 15),
        amount=Decimal("31000.00"),
    )
    CampaignCost.objects.create(
        source="expo", period_start=dt.date(2026, 1, 1), period_end=dt.date(2026, 12, 31), amount=Decimal("36500.00")
    )
    CampaignCost.objects.create(
        source="website", period_start=dt.date(2026, 2, 1), period_end=dt.date(2026, 2, 28), amount=Decimal("999")
    )
    CampaignCost.objects.create(
        source="referral", period_start=dt.date(2026, 1, 31), period_end=dt.date(2026, 2, 1), amount=Decimal("10.01")
    )
    return org


def places(user, level="province"):
    accounts, deals = svc.regional_scope(user)
    rows = regional_distribution(
        visible_accounts=accounts, visible_opportunities=deals, start=JAN[0], end=JAN[1], level=level
    )
    return {r.key: r for r in rows}, rows


# -- regional ---------------------------------------------------------------------------------


def test_regional_counts_accounts_revenue_and_win_rate_per_province(world):
    by_key, rows = places(world.admin)

    assert [r.key for r in rows] == [("广东",), ("江苏",), ("浙江",)]  # ranked by revenue
    gd, js, zj = by_key[("广东",)], by_key[("江苏",)], by_key[("浙江",)]
    assert (gd.accounts, gd.buying_accounts, gd.won, gd.lost, gd.revenue) == (1, 1, 1, 1, Decimal("200000.00"))
    assert (js.accounts, js.won, js.lost, js.revenue, js.win_rate) == (1, 1, 1, Decimal("100000.00"), Decimal("0.5"))
    assert (zj.won, zj.lost, zj.revenue, zj.win_rate, zj.avg_deal_size) == (
        1,
        0,
        Decimal("30000.50"),
        Decimal(1),
        Decimal("30000.50"),
    )
    total = totals(rows)
    assert (total.accounts, total.won, total.lost, total.revenue) == (3, 3, 2, Decimal("330000.50"))


def test_regional_city_level_is_keyed_with_the_province_and_region_level_sums(world):
    by_city, _ = places(world.admin, "city")
    assert set(by_city) == {("广东", "深圳"), ("江苏", "南京"), ("浙江", "杭州")}
    assert by_city[("江苏", "南京")].label == "江苏 / 南京"
    by_region, _ = places(world.admin, "region")
    assert by_region[("华东",)].revenue == Decimal("130000.50") and by_region[("华东",)].win_rate == Decimal("0.6667")
    assert by_region[("华南",)].accounts == 1  # the February account is not yet in the January book


def test_regional_shows_a_rep_only_their_book(world):
    by_key, _ = places(world.rep_a1)
    assert set(by_key) == {("江苏",), ("浙江",)}
    by_key, _ = places(world.lead_b1)
    assert set(by_key) == {("广东",)}


def test_regional_is_refused_to_roles_without_deal_access(world):
    with pytest.raises(svc.Forbidden):
        svc.regional_scope(world.marketing)


# -- lead sources ------------------------------------------------------------------------------


def sources(user, by="source", with_costs=True):
    rows = lead_source_effectiveness(
        visible_leads=svc.source_scope(user), start=JAN[0], end=JAN[1], by=by, as_of=AS_OF, with_costs=with_costs
    )
    return {r.key: r for r in rows}


def test_costs_are_prorated_by_days_of_overlap_rounded_half_up_to_the_cent(world):
    by_source = campaign_costs(start=JAN[0], end=JAN[1], by="source")
    assert by_source == {("expo",): 1_500_000 + 310_000, ("referral",): 501}
    by_campaign = campaign_costs(start=JAN[0], end=JAN[1], by="campaign")
    assert by_campaign == {("expo", "工博会"): 1_500_000, ("expo", ""): 310_000, ("referral", ""): 501}
    # A period inside one entry: 10 of C2's 365 days, and 0 of the others outside.
    assert campaign_costs(start=dt.date(2026, 6, 1), end=dt.date(2026, 6, 10)) == {("expo",): 100_000}


def test_lead_cohort_conversion_won_revenue_and_cost_ratios_by_source(world):
    rows = sources(world.admin)

    expo, web, ref = rows[("expo",)], rows[("website",)], rows[("referral",)]
    assert (expo.leads, expo.converted, expo.won_deals, expo.revenue) == (3, 2, 1, Decimal("100000.00"))
    assert expo.conversion_rate == Decimal("0.6667")
    assert expo.cost == Decimal("18100.00")
    assert expo.cost_per_lead == Decimal("6033.33") and expo.cost_per_won_deal == Decimal("18100.00")
    assert expo.roi == Decimal("4.5249")  # (100,000 − 18,100) / 18,100
    # The website lead converted in January and its deal was won on 5 February (before as_of);
    # L6's deal was created after the observation date, so it is not (yet) converted.
    assert (web.leads, web.converted, web.won_deals, web.revenue, web.cost, web.roi) == (
        2,
        1,
        1,
        Decimal("40000.00"),
        Decimal("0.00"),
        None,
    )
    # A cost with no lead in the cohort still shows (L5 was created in December).
    assert (ref.leads, ref.cost, ref.cost_per_lead, ref.cost_per_won_deal) == (0, Decimal("5.01"), None, None)


def test_campaign_level_puts_source_wide_costs_on_the_leads_without_a_campaign(world):
    rows = sources(world.admin, by="campaign")
    assert rows[("expo", "工博会")].leads == 3 and rows[("expo", "工博会")].cost == Decimal("15000.00")
    assert rows[("expo", "")].leads == 0 and rows[("expo", "")].cost == Decimal("3100.00")
    assert rows[("website", "")].leads == 2


def test_a_rep_sees_only_their_leads_and_observation_date_limits_wins(world):
    rows = sources(world.rep_a1, with_costs=False)
    assert set(rows) == {("expo",), ("website",)}
    assert (rows[("expo",)].leads, rows[("expo",)].won_deals, rows[("expo",)].cost_cents) == (2, 1, 0)
    early = lead_source_effectiveness(
        visible_leads=svc.source_scope(world.admin), start=JAN[0], end=JAN[1], as_of=at(2, 1)
    )
    web = next(r for r in early if r.key == ("website",))
    assert (web.converted, web.won_deals) == (1, 0)  # D8 was still open on 1 February


def test_costs_are_shown_only_to_viewers_who_see_every_lead(world):
    assert svc.sees_all_leads(world.marketing) and svc.sees_all_leads(world.admin)
    assert svc.sees_all_leads(world.director)  # the director sits at the company node
    assert not svc.sees_all_leads(world.manager_a) and not svc.sees_all_leads(world.rep_a1)


# -- won profile -------------------------------------------------------------------------------


def profile(user):
    return won_deal_profile(visible_opportunities=svc.profile_scope(user), start=JAN[0], end=JAN[1])


def test_won_profile_segments_with_win_rate_lift_and_share(world):
    result = profile(world.admin)

    assert (result.won, result.lost, result.win_rate) == (3, 2, Decimal("0.6"))
    industry = {s.value: s for s in result.by("industry")}
    assert (industry["制造"].won, industry["制造"].lost, industry["制造"].revenue) == (2, 2, Decimal("300000.00"))
    assert industry["制造"].win_rate == Decimal("0.5") and industry["制造"].lift == Decimal("0.83")
    assert industry["零售"].lift == Decimal("1.67") and industry["零售"].share_of_won == Decimal("0.3333")
    # Source: the lead's, else the account's channel (D2 and D3 have no lead).
    source = {s.value: (s.won, s.lost) for s in result.by("source")}
    assert source == {"expo": (1, 2), "website": (1, 0), "referral": (1, 0)}
    size = {s.value: (s.won, s.lost) for s in result.by("size")}
    assert size == {"medium": (1, 1), "small": (1, 0), "large": (1, 1)}
    region = {s.value: s.win_rate for s in result.by("region")}
    assert region == {"华东": Decimal("0.6667"), "华南": Decimal("0.5")}
    # Five deals are too few for any segment to be called above or below average.
    assert {s.verdict for s in result.segments} == {""}


def test_marketing_sees_the_profile_of_deals_that_came_from_leads(world):
    result = profile(world.marketing)
    assert (result.won, result.lost) == (2, 1)  # D1 and D4 won, D5 lost; D2, D3 had no lead
    rep = profile(world.rep_a1)
    assert (rep.won, rep.lost) == (2, 1)  # D1, D3 won and D2 lost: the rep's own book


def test_wilson_interval_matches_the_textbook_value():
    # 8 of 10 by hand: centre (0.8 + z²/20) / (1 + z²/10) = 0.7167, half-width z·√(0.016 + z²/400) / (1 + z²/10)
    # = 0.2266, so 0.4902 .. 0.9433.
    low, high = wilson_interval(8, 10)
    assert (round(low, 4), round(high, 4)) == (0.4902, 0.9433)
    assert wilson_interval(0, 0) is None


def test_a_segment_is_marked_above_average_only_when_its_interval_clears_the_rate(org):
    big = account(org.rep_a1, "华东", "江苏", "南京", industry="能源")
    small = account(org.rep_a1, "华东", "江苏", "南京", industry="零售")
    for k in range(30):
        deal(big, "won", "10", at(1, 5) + dt.timedelta(hours=k))
    for k in range(30):
        deal(small, "lost" if k < 25 else "won", "10", at(1, 6) + dt.timedelta(hours=k))
    result = profile(org.admin)
    verdicts = {s.value: s.verdict for s in result.by("industry")}
    assert verdicts == {"能源": "above", "零售": "below"}


# -- cross-check -------------------------------------------------------------------------------


def test_regional_query_agrees_with_pandas_groupby_over_the_same_rows(org):
    rng = random.Random(7)
    provinces = ["江苏", "浙江", "广东", "四川", ""]
    owners = [org.rep_a1, org.rep_a2, org.rep_b1]
    accounts = [account(rng.choice(owners), "华东", rng.choice(provinces), "城") for _ in range(12)]
    for _ in range(60):
        acc = rng.choice(accounts)
        code = rng.choice(["won", "lost", "qualified", "won"])
        closed = at(1, rng.randint(1, 31)) if code != "qualified" else None
        if rng.random() < 0.2 and closed:
            closed = at(2, rng.randint(1, 20))  # outside the period
        deal(acc, code, f"{rng.randint(1, 10**6)}.{rng.randint(0, 99):02d}", closed)

    by_key, _ = places(org.manager_a)

    visible_acc = access.restrict(Account.objects.all(), org.manager_a, "read")
    visible_opp = access.restrict(Opportunity.objects.all(), org.manager_a, "read")
    acc = pd.DataFrame(list(visible_acc.values("id", "province")))
    opp = pd.DataFrame(
        list(visible_opp.values("account__province", "amount", "stage__is_won", "stage__is_lost", "closed_at"))
    )
    lo, hi = dt.datetime(2026, 1, 1, tzinfo=timezone.get_current_timezone()), None
    hi = dt.datetime(2026, 2, 1, tzinfo=timezone.get_current_timezone())
    closed = opp[(opp.closed_at >= lo) & (opp.closed_at < hi) & (opp.stage__is_won | opp.stage__is_lost)]
    expected_deals = closed.groupby("account__province").agg(
        won=("stage__is_won", "sum"),
        lost=("stage__is_lost", "sum"),
        revenue=(
            "amount",
            lambda s: sum((a for a, w in zip(s, closed.loc[s.index, "stage__is_won"], strict=True) if w), Decimal(0)),
        ),
    )
    expected_accounts = acc.groupby("province").size()
    assert set(by_key) == {(p,) for p in set(expected_accounts.index) | set(expected_deals.index)}
    for (province,), row in by_key.items():
        assert row.accounts == int(expected_accounts.get(province, 0))
        if province in expected_deals.index:
            e = expected_deals.loc[province]
            assert (row.won, row.lost, row.revenue) == (
                int(e.won),
                int(e.lost),
                Decimal(e.revenue).quantize(Decimal("0.01")),
            )
        else:
            assert (row.won, row.lost, row.revenue_cents) == (0, 0, 0)
