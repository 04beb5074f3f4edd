"""What can be imported, and the columns of each file: the one declaration of the file formats.

Each column has an English header (the model's field name) and a Chinese header; either may be
used, in any order and mixed. References are by the natural keys a user has in a spreadsheet
(an account's external ID or exact name, a user's login name, a stage's code, a product's SKU),
or by the numeric ids that an export contains, so an exported file can be edited and imported
again. Columns an export contains but an import cannot change (``created_at``, ``total``, ...)
are accepted and ignored, nothing else unknown is.

The templates, the column documentation (``import_data <entity> --columns``, ``GET
/api/import/entities``) and the README table are all generated from this module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Model
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from salesloop.activities.models import Activity
from salesloop.customers.models import Account, Contact, Lead
from salesloop.pipeline.models import Opportunity
from salesloop.sales.models import Order, OrderLine


@dataclass(frozen=True)
class Ref:
    """A reference column: which kind of record it names, and by what."""

    target: str  # user | account | contact | lead | opportunity | stage | loss_reason | product
    by: str  # username | pk | external_id | name | code | sku


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    help: Promise | str
    #: ``field``: a model field; ``ref``: a reference filling ``field``; ``id``/``version``:
    #: matching and concurrency; ``line``: an order line's field; ``ignored``: export-only.
    role: str = "field"
    field: str | None = None
    ref: Ref | None = None
    aliases: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.field is None and self.role == "field":
            object.__setattr__(self, "field", self.key)

    @property
    def headers(self) -> tuple[str, ...]:
        return (self.key, self.zh, *self.aliases)


@dataclass(frozen=True)
class EntitySpec:
    name: str
    model: type[Model]
    label: Promise
    columns: tuple[Column, ...]
    #: Orders: a row is one order line; rows with the same order number are one order.
    has_lines: bool = False
    notes: Promise | str = ""
    by_header: dict[str, Column] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for column in self.columns:
            for header in column.headers:
                key = normalise_header(header)
                if key in self.by_header:  # a spec bug, caught at import time
                    raise ValueError(f"{self.name}: header {header!r} declared twice")
                self.by_header[key] = column

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)

    def model_field(self, name: str) -> Any:
        return self.model._meta.get_field(name)


def normalise_header(text: str) -> str:
    """``" Account External ID "`` → ``account_external_id``; Chinese is kept as is."""
    return "_".join(str(text).strip().lstrip("\ufeff").lower().replace("-", " ").split())


# Building blocks ----------------------------------------------------------------------------

_ID = Column(
    "id",
    "系统ID",
    _("Salesloop's own id of the record, as in an export. Leave empty for new records."),
    role="id",
)
_VERSION = Column(
    "version",
    "版本",
    _(
        "The version you exported. If the record was changed since, the row is refused instead of "
        "overwriting someone else's change. Optional."
    ),
    role="version",
)
_EXTERNAL_ID = Column(
    "external_id",
    "外部编号",
    _(
        "Your own unique key for the record (e.g. the id in your old CRM). Importing a row with an "
        "existing external ID updates that record instead of creating a new one."
    ),
)


def _ignored(key: str, zh: str) -> Column:
    return Column(key, zh, _("Written by exports; ignored on import."), role="ignored")


_TIMESTAMPS = (_ignored("created_at", "创建时间"), _ignored("updated_at", "更新时间"))


def _owner(
    help_text: Promise | str = "", zh: str = "负责人", zh_id: str = "负责人ID"
) -> tuple[Column, ...]:
    help_text = help_text or _(
        "Login name of the owner. Empty: you (new records) or unchanged (updates). "
        "Must be someone whose book you may write."
    )
    return (
        Column(
            "owner",
            zh,
            help_text,
            role="ref",
            field="owner",
            ref=Ref("user", "username"),
            aliases=("owner_name", "owner_username"),
        ),
        Column(
            "owner_id",
            zh_id,
            _("The owner's user id (as in an export)."),
            role="ref",
            field="owner",
            ref=Ref("user", "pk"),
        ),
    )


def _account() -> tuple[Column, ...]:
    return (
        Column(
            "account_external_id",
            "客户外部编号",
            _("The account's external ID."),
            role="ref",
            field="account",
            ref=Ref("account", "external_id"),
        ),
        Column(
            "account",
            "客户名称",
            _("The account's exact name (if no two accounts you can see share it)."),
            role="ref",
            field="account",
            ref=Ref("account", "name"),
            aliases=("account_name", "客户"),
        ),
        Column(
            "account_id",
            "客户ID",
            _("The account's id (as in an export)."),
            role="ref",
            field="account",
            ref=Ref("account", "pk"),
        ),
    )


def _simple(key: str, zh: str, help_text: Promise | str, *aliases: str) -> Column:
    return Column(key, zh, help_text, field=key, aliases=aliases)


# Entities -----------------------------------------------------------------------------------

ACCOUNTS = EntitySpec(
    name="accounts",
    model=Account,
    label=_("Accounts"),
    columns=(
        _ID,
        _EXTERNAL_ID,
        _simple("name", "名称", _("Company name."), "客户名称", "公司名称"),
        _simple("industry", "行业", ""),
        _simple("region", "区域", ""),
        _simple("province", "省份", ""),
        _simple("city", "城市", ""),
        _simple("size", "规模", _("Company size.")),
        *_owner(),
        _simple(
            "key_account_tier",
            "客户级别",
            _("Key-account tier (战略合作/成长型/维护型/开发型)."),
            "重点客户等级",
        ),
        _simple("source_channel", "来源渠道", ""),
        _simple("decision_style", "决策风格", _("Rational or relational (理性型/关系型).")),
        _simple("tags", "标签", _("Several tags separated by commas.")),
        _simple("phone", "电话", ""),
        _simple("website", "网站", ""),
        _simple("notes", "备注", _("Private notes (seen by the sales line only).")),
        _VERSION,
        *_TIMESTAMPS,
    ),
)

CONTACTS = EntitySpec(
    name="contacts",
    model=Contact,
    label=_("Contacts"),
    columns=(
        _ID,
        _EXTERNAL_ID,
        *_account(),
        _simple("name", "姓名", "", "联系人"),
        _simple("title", "职务", ""),
        _simple("is_decision_maker", "决策人", _("Yes or no (是/否).")),
        _simple("birthday", "生日", _("A date, e.g. 1980-05-20.")),
        _simple("phone", "电话", "", "手机"),
        _simple("email", "邮箱", "", "电子邮件"),
        _VERSION,
        *_TIMESTAMPS,
    ),
    notes=_("A contact belongs to an account (required): give its external ID, name or id."),
)

LEADS = EntitySpec(
    name="leads",
    model=Lead,
    label=_("Leads"),
    columns=(
        _ID,
        _EXTERNAL_ID,
        _simple("name", "名称", "", "线索名称"),
        _simple("company", "公司", ""),
        _simple("contact_name", "联系人", ""),
        _simple("phone", "电话", "", "手机"),
        _simple("email", "邮箱", "", "电子邮件"),
        _simple("source", "来源", _("Lead source channel.")),
        _simple("campaign", "市场活动", ""),
        _simple("budget", "预算", _("Amount in the currency column, two decimals.")),
        _simple("currency", "币种", _("ISO code, e.g. CNY (the default).")),
        _simple("industry", "行业", ""),
        _simple("province", "省份", ""),
        _simple("city", "城市", ""),
        _simple("status", "状态", ""),
        *_owner(),
        *_account(),
        _simple("first_touch_at", "首次接触时间", _("Date and time, local time.")),
        _VERSION,
        *_TIMESTAMPS,
    ),
)

OPPORTUNITIES = EntitySpec(
    name="opportunities",
    model=Opportunity,
    label=_("Opportunities"),
    columns=(
        _ID,
        _EXTERNAL_ID,
        _simple("name", "名称", "", "商机名称"),
        *_account(),
        *_owner(),
        Column(
            "lead_external_id",
            "线索外部编号",
            _("The lead it came from, by external ID."),
            role="ref",
            field="lead",
            ref=Ref("lead", "external_id"),
        ),
        Column(
            "lead_id",
            "线索ID",
            _("The lead it came from, by id."),
            role="ref",
            field="lead",
            ref=Ref("lead", "pk"),
        ),
        _simple("amount", "金额", _("Deal amount in the currency column, two decimals.")),
        _simple("currency", "币种", _("ISO code, e.g. CNY (the default).")),
        Column(
            "stage",
            "阶段",
            _(
                "Stage code (lead, qualified, proposal, negotiation, won, paid, lost) or name. "
                "Empty on a new deal: the first stage. A change is logged as a stage move."
            ),
            role="ref",
            field="stage",
            ref=Ref("stage", "code"),
            aliases=("stage_code",),
        ),
        Column(
            "stage_id",
            "阶段ID",
            _("The stage's id (as in an export)."),
            role="ref",
            field="stage",
            ref=Ref("stage", "pk"),
        ),
        _simple("expected_close_date", "预计成交日期", ""),
        _simple("probability", "赢率", _("0-100; empty uses the stage's default.")),
        Column(
            "decision_maker_external_id",
            "决策人外部编号",
            _("A contact of the account, by external ID."),
            role="ref",
            field="decision_maker",
            ref=Ref("contact", "external_id"),
        ),
        Column(
            "decision_maker",
            "决策人",
            _("A contact of the account, by exact name."),
            role="ref",
            field="decision_maker",
            ref=Ref("contact", "name"),
        ),
        Column(
            "decision_maker_id",
            "决策人ID",
            _("A contact, by id."),
            role="ref",
            field="decision_maker",
            ref=Ref("contact", "pk"),
        ),
        _simple("decision_date", "决策日期", ""),
        _simple("competitors", "竞争对手", ""),
        _simple("next_step", "下一步", ""),
        Column(
            "loss_reason",
            "输单原因",
            _("Loss reason code or name; required for a lost deal."),
            role="ref",
            field="loss_reason",
            ref=Ref("loss_reason", "code"),
            aliases=("loss_reason_code",),
        ),
        Column(
            "loss_reason_id",
            "输单原因ID",
            _("The loss reason's id."),
            role="ref",
            field="loss_reason",
            ref=Ref("loss_reason", "pk"),
        ),
        _simple("loss_note", "输单说明", ""),
        _VERSION,
        _ignored("stage_entered_at", "进入阶段时间"),
        _ignored("closed_at", "关闭时间"),
        *_TIMESTAMPS,
    ),
)

ACTIVITIES = EntitySpec(
    name="activities",
    model=Activity,
    label=_("Activities"),
    columns=(
        _ID,
        _EXTERNAL_ID,
        _simple("kind", "类型", ""),
        _simple("subject", "主题", ""),
        _simple("occurred_at", "时间", _("Local time."), "发生时间"),
        _simple("outcome", "结果", ""),
        _simple("notes", "备注", _("Private notes (seen by the sales line only).")),
        *_owner(),
        Column(
            "performed_by",
            "执行人",
            _("Login name of who did it; empty: the owner."),
            role="ref",
            field="performed_by",
            ref=Ref("user", "username"),
        ),
        Column(
            "performed_by_id",
            "执行人ID",
            _("Who did it, by user id."),
            role="ref",
            field="performed_by",
            ref=Ref("user", "pk"),
        ),
        *_account(),
        Column(
            "opportunity_external_id",
            "商机外部编号",
            _("The deal it belongs to, by external ID."),
            role="ref",
            field="opportunity",
            ref=Ref("opportunity", "external_id"),
        ),
        Column(
            "opportunity_id",
            "商机ID",
            _("The deal it belongs to, by id."),
            role="ref",
            field="opportunity",
            ref=Ref("opportunity", "pk"),
        ),
        Column(
            "lead_external_id",
            "线索外部编号",
            _("The lead it belongs to, by external ID."),
            role="ref",
            field="lead",
            ref=Ref("lead", "external_id"),
        ),
        Column(
            "lead_id",
            "线索ID",
            _("The lead it belongs to, by id."),
            role="ref",
            field="lead",
            ref=Ref("lead", "pk"),
        ),
        _VERSION,
        *_TIMESTAMPS,
    ),
)

ORDERS = EntitySpec(
    name="orders",
    model=Order,
    label=_("Orders"),
    has_lines=True,
    columns=(
        _ID,
        _EXTERNAL_ID,
        _simple(
            "number",
            "订单号",
            _("Unique. An existing number updates that order."),
            "订单编号",
        ),
        *_account(),
        *_owner(
            _(
                "Login name of the rep credited with the sale. "
                "Empty: you (new orders) or unchanged."
            ),
            zh="业绩归属",
            zh_id="业绩归属ID",
        ),
        Column(
            "opportunity_external_id",
            "商机外部编号",
            _("The deal it closes, by external ID."),
            role="ref",
            field="opportunity",
            ref=Ref("opportunity", "external_id"),
        ),
        Column(
            "opportunity_id",
            "商机ID",
            _("The deal it closes, by id."),
            role="ref",
            field="opportunity",
            ref=Ref("opportunity", "pk"),
        ),
        _simple("order_date", "下单日期", "", "订单日期"),
        _simple("status", "状态", ""),
        _simple("currency", "币种", _("ISO code, e.g. CNY (the default).")),
        Column(
            "product_sku",
            "产品编码",
            _(
                "One order line per row: the product's SKU. Rows with the same "
                "order number are the lines of one order."
            ),
            role="line",
            field="product",
            ref=Ref("product", "sku"),
            aliases=("sku", "产品SKU"),
        ),
        Column("quantity", "数量", _("Quantity of the line, > 0."), role="line", field="quantity"),
        Column(
            "unit_price",
            "单价",
            _("Unit price; empty: the product's list price."),
            role="line",
            field="unit_price",
        ),
        Column(
            "discount_pct",
            "折扣%",
            _("Discount in percent, 0-100."),
            role="line",
            field="discount_pct",
            aliases=("折扣",),
        ),
        _VERSION,
        _ignored("total", "总额"),
        _ignored("cost_total", "成本"),
        _ignored("margin", "毛利"),
        _ignored("lines", "订单行"),
        *_TIMESTAMPS,
    ),
    notes=_(
        "One row per order line; the order's own columns repeat on each of its rows and must "
        "agree. "
        "Totals, cost and margin are computed from the lines. A file without line columns updates "
        "the orders' own fields and keeps their lines; a file with them replaces the lines."
    ),
)

ENTITIES: dict[str, EntitySpec] = {
    spec.name: spec for spec in (ACCOUNTS, CONTACTS, LEADS, OPPORTUNITIES, ACTIVITIES, ORDERS)
}

LINE_MODEL = OrderLine
