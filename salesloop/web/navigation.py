"""The header's navigation, by role.

Why per role and not one long menu: a rep starts the day from their own book, a lead or manager
also from the team's, finance from money and legal from contracts (issue #3 item 1). Every entry
that points at a list is only offered when ``org.access`` lets the user read that model at all, so
the menu never advertises a page that would be empty by rule.
"""

from dataclasses import dataclass, field

from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from salesloop.activities.models import Activity, Task
from salesloop.customers.models import Account, Contact, Lead
from salesloop.org import access
from salesloop.org.models import LEADING_ROLES, Role, User
from salesloop.pipeline.models import Opportunity
from salesloop.sales.models import Contract, Invoice, Order, Payment


@dataclass(frozen=True)
class NavLink:
    label: str
    url: str
    key: str


@dataclass
class NavSection:
    label: str
    links: list[NavLink] = field(default_factory=list)


# (url name, model, label for "mine", label for the team / everything)
_BOOK = [
    ("account_list", Account, _("My accounts"), _("Team accounts")),
    ("lead_list", Lead, _("My leads"), _("Team leads")),
    ("opportunity_list", Opportunity, _("My deals"), _("Team deals")),
    ("activity_list", Activity, _("My activities"), _("Team activities")),
    ("task_list", Task, _("My tasks"), _("Team tasks")),
]
_OWNER_PARAM = {"task_list": "assignee_id"}

_ALL_LISTS = [
    ("account_list", Account, _("Accounts")),
    ("contact_list", Contact, _("Contacts")),
    ("lead_list", Lead, _("Leads")),
    ("opportunity_list", Opportunity, _("Deals")),
    ("activity_list", Activity, _("Activities")),
    ("task_list", Task, _("Tasks")),
    ("order_list", Order, _("Orders")),
    ("invoice_list", Invoice, _("Invoices")),
    ("payment_list", Payment, _("Payments")),
    ("contract_list", Contract, _("Contracts")),
]

# The lists each support role works from first; the rest sit under "Records".
_SUPPORT_PRIMARY = {
    Role.FINANCE: ["invoice_list", "payment_list", "order_list"],
    Role.LEGAL: ["contract_list", "account_list"],
    Role.AFTER_SALES: ["account_list", "contact_list", "order_list"],
    Role.MARKETING: ["lead_list", "account_list"],
    Role.ADMIN: ["account_list", "opportunity_list", "order_list", "invoice_list"],
}


def home_url() -> str:
    """The workspace's home page once it is mounted; ``/`` until then."""
    try:
        return reverse("home")
    except NoReverseMatch:
        return "/"


def _mine(url_name: str, user: User) -> str:
    param = _OWNER_PARAM.get(url_name, "owner_id")
    return f"{reverse(url_name)}?{urlencode({param: user.pk})}"


def nav_for(user: User) -> list[NavSection]:
    if not user.is_authenticated:
        return []
    sections: list[NavSection] = []
    used: set[str] = set()
    role = user.role
    if role == Role.REP:
        mine = NavSection(_("My work"))
        for name, model, label_mine, _label_team in _BOOK:
            if access.can_read_model(user, model):
                mine.links.append(NavLink(str(label_mine), reverse(name), name))
                used.add(name)
        sections.append(mine)
    elif role in LEADING_ROLES:
        mine, team = NavSection(_("My work")), NavSection(_("Team"))
        for name, model, label_mine, label_team in _BOOK:
            if access.can_read_model(user, model):
                mine.links.append(NavLink(str(label_mine), _mine(name, user), f"{name}:mine"))
                team.links.append(NavLink(str(label_team), reverse(name), name))
                used.add(name)
        sections += [mine, team]
    else:
        primary = NavSection(_("My work"))
        labels = {name: label for name, _model, label in _ALL_LISTS}
        models = {name: model for name, model, _label in _ALL_LISTS}
        for name in _SUPPORT_PRIMARY.get(role, []):
            if access.can_read_model(user, models[name]):
                primary.links.append(NavLink(str(labels[name]), reverse(name), name))
                used.add(name)
        primary.links.append(
            NavLink(str(_("My tasks")), _mine("task_list", user), "task_list:mine")
        )
        sections.append(primary)
    loop = _management_loop(user)
    if loop.links:
        sections.append(loop)
    intel = _intelligence(user)
    if intel.links:
        sections.append(intel)
    others = NavSection(_("Records"))
    for name, model, label in _ALL_LISTS:
        if name not in used and access.can_read_model(user, model):
            others.links.append(NavLink(str(label), reverse(name), name))
    if others.links:
        sections.append(others)
    return sections


# The targets loop's pages, offered by role (the automation and customer-operations apps add their
# own menus through their template tags): (url name, label, roles that see it).
_LOOP: list[tuple[str, object, frozenset[str]]] = [
    ("targets:today", _("Morning board"), frozenset(LEADING_ROLES)),
    ("targets:tracking", _("Live tracking"), frozenset({Role.REP, *LEADING_ROLES})),
    ("targets:list", _("Targets"), frozenset({Role.REP, *LEADING_ROLES, Role.ADMIN})),
    ("targets:flags", _("Bottleneck flags"), frozenset(LEADING_ROLES)),
    ("targets:attribution", _("Variance attribution"), frozenset(LEADING_ROLES)),
    ("targets:funnel", _("Reverse funnel"), frozenset(LEADING_ROLES)),
    ("targets:pack", _("Meeting packs"), frozenset(LEADING_ROLES)),
]


def _management_loop(user: User) -> NavSection:
    section = NavSection(_("Targets and the daily loop"))
    for name, label, roles in _LOOP:
        if roles and user.role not in roles and not user.is_superuser:
            continue
        try:
            url = reverse(name, args=["morning"]) if name == "targets:pack" else reverse(name)
        except NoReverseMatch:  # the app is not installed
            continue
        section.links.append(NavLink(str(label), url, name))
    return section


# Pipeline intelligence (issue #7): funnel review, routing, analytics views, forecasts, scoring.
# Every page also checks access itself; a page whose app is not installed is left out.
_INTEL: list[tuple[str, object, frozenset[str]]] = [
    ("intel:funnel", _("Funnel review"), frozenset({Role.REP, *LEADING_ROLES})),
    ("intel:heatmap", _("Activity heatmap"), frozenset({Role.REP, *LEADING_ROLES})),
    ("intel:regions", _("Regional distribution"), frozenset({Role.REP, *LEADING_ROLES})),
    ("intel:sources", _("Lead sources and campaigns"), frozenset({Role.REP, *LEADING_ROLES, Role.MARKETING})),
    ("intel:won_profile", _("Won-deal profile"), frozenset({Role.REP, *LEADING_ROLES, Role.MARKETING})),
    ("intel:routing", _("Lead routing"), frozenset({*LEADING_ROLES, Role.ADMIN})),
    ("forecasting:overview", _("Forecasts"), frozenset({Role.REP, *LEADING_ROLES})),
    ("forecasting:commit", _("My call sheet"), frozenset({Role.REP, *LEADING_ROLES})),
    ("forecasting:commit_team", _("Team forecast roll-up"), frozenset({*LEADING_ROLES, Role.ADMIN})),
    ("forecasting:accuracy", _("Forecast accuracy"), frozenset({Role.REP, *LEADING_ROLES})),
    ("scoring:model", _("Win-probability model"), frozenset({*LEADING_ROLES, Role.ADMIN})),
]


def _intelligence(user: User) -> NavSection:
    section = NavSection(_("Pipeline intelligence"))
    for name, label, roles in _INTEL:
        if user.role not in roles and not user.is_superuser:
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:  # the page is not built or the app is not installed
            continue
        section.links.append(NavLink(str(label), url, name))
    return section
