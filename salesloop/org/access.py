"""Who may read and write which records: the one place the rule lives.

Every selector, API handler and page gets its querysets through :func:`restrict`, so a list, a
detail page and an htmx fragment are protected alike. The rule (issue #2):

* a rep reads and writes their own book;
* a group lead, manager or director reads and writes the book of everyone in the subtree of the
  team they belong to (a group lead's team is a group, so that is their group);
* support roles (finance, legal, after-sales, marketing) read what their work needs across the
  organisation and write only their own kind of record; nobody but sales sees private notes;
* admin reads and writes everything.

A record's owner is reached through ``owner_path`` (a contact belongs to its account's owner,
an invoice to its account's owner, and so on).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.db.models import Model, Q, QuerySet

from salesloop.org.models import LEADING_ROLES, Role, User


class Scope(StrEnum):
    NONE = "none"
    OWN = "own"
    SUBTREE = "subtree"
    ALL = "all"


SALES_ROLES = frozenset({Role.REP, *LEADING_ROLES})


@dataclass(frozen=True)
class ModelAccess:
    owner_path: str
    read: dict[str, Scope]
    write: dict[str, Scope]
    # For records that belong to a team node rather than (or besides) a person, e.g. a team's
    # target: the path to that ``org.Team``. OWN then also reads the team-level rows of the
    # user's own team; SUBTREE also covers team-level rows anywhere under the user's team.
    team_path: str = ""


def _sales(**extra: Scope) -> dict[str, Scope]:
    """The sales hierarchy's default: own book for a rep, subtree for leaders, all for admin."""
    base = {
        Role.REP: Scope.OWN,
        Role.GROUP_LEAD: Scope.SUBTREE,
        Role.MANAGER: Scope.SUBTREE,
        Role.DIRECTOR: Scope.SUBTREE,
        Role.ADMIN: Scope.ALL,
    }
    base.update(extra)
    return base


def _everyone(scope: Scope) -> dict[str, Scope]:
    return {role: scope for role in Role.values}


POLICY: dict[str, ModelAccess] = {
    "customers.account": ModelAccess(
        "owner",
        read=_sales(finance=Scope.ALL, legal=Scope.ALL, after_sales=Scope.ALL, marketing=Scope.ALL),
        write=_sales(),
    ),
    "customers.contact": ModelAccess("account__owner", read=_sales(after_sales=Scope.ALL), write=_sales()),
    "customers.lead": ModelAccess("owner", read=_sales(marketing=Scope.ALL), write=_sales(marketing=Scope.ALL)),
    "pipeline.opportunity": ModelAccess("owner", read=_sales(finance=Scope.ALL), write=_sales()),
    "pipeline.stagechange": ModelAccess("opportunity__owner", read=_sales(finance=Scope.ALL), write={}),
    "activities.activity": ModelAccess("owner", read=_sales(), write=_sales()),
    "activities.task": ModelAccess(
        "assignee",
        read={**_everyone(Scope.OWN), **_sales()},
        write={**_everyone(Scope.OWN), **_sales()},
    ),
    "sales.order": ModelAccess(
        "account__owner",
        read=_sales(finance=Scope.ALL, legal=Scope.ALL, after_sales=Scope.ALL),
        write=_sales(),
    ),
    "sales.invoice": ModelAccess(
        "account__owner", read=_sales(finance=Scope.ALL), write={Role.FINANCE: Scope.ALL, Role.ADMIN: Scope.ALL}
    ),
    "sales.payment": ModelAccess(
        "account__owner", read=_sales(finance=Scope.ALL), write={Role.FINANCE: Scope.ALL, Role.ADMIN: Scope.ALL}
    ),
    "sales.contract": ModelAccess(
        "account__owner",
        read=_sales(finance=Scope.ALL, legal=Scope.ALL),
        write=_sales(legal=Scope.ALL),
    ),
    # Reference data: everyone reads; the catalogue and the stage list are kept by admin
    # (products also by directors).
    "sales.product": ModelAccess(
        "", read=_everyone(Scope.ALL), write={Role.ADMIN: Scope.ALL, Role.DIRECTOR: Scope.ALL}
    ),
    "pipeline.stage": ModelAccess("", read=_everyone(Scope.ALL), write={Role.ADMIN: Scope.ALL}),
    "pipeline.lossreason": ModelAccess("", read=_everyone(Scope.ALL), write={Role.ADMIN: Scope.ALL}),
    "org.user": ModelAccess("", read=_everyone(Scope.ALL), write={Role.ADMIN: Scope.ALL}),
    "org.team": ModelAccess("", read=_everyone(Scope.ALL), write={Role.ADMIN: Scope.ALL}),
    # Targets (issue #5): a rep reads their own and their team's targets and writes only their
    # own bottom-up submissions (the service allows nothing else); leads and managers their
    # subtree; directors and admin everything.
    "targets.target": ModelAccess(
        "rep",
        read=_sales(director=Scope.ALL),
        write=_sales(director=Scope.ALL),
        team_path="team",
    ),
    "targets.creditsplit": ModelAccess("user", read=_sales(finance=Scope.ALL), write=_sales()),
    "targets.flag": ModelAccess("rep", read=_sales(director=Scope.ALL), write={}),
    "targets.targetsettings": ModelAccess("", read=_everyone(Scope.ALL), write={Role.ADMIN: Scope.ALL}),
    "targets.bottleneckrule": ModelAccess("", read=_everyone(Scope.ALL), write={Role.ADMIN: Scope.ALL}),
    "targets.seasonalprofile": ModelAccess(
        "", read=_everyone(Scope.ALL), write={Role.ADMIN: Scope.ALL, Role.DIRECTOR: Scope.ALL}
    ),
    # Customer operations (issue #6): needs are read by marketing and after-sales across the
    # organisation (the weekly needs report is for product and marketing); plans, segments and
    # churn scores follow the account's owner; the numbers behind them are kept by admin.
    "custops.customerneed": ModelAccess(
        "account__owner", read=_sales(marketing=Scope.ALL, after_sales=Scope.ALL), write=_sales()
    ),
    "custops.accountplan": ModelAccess("account__owner", read=_sales(), write=_sales()),
    "custops.accountrfm": ModelAccess("account__owner", read=_sales(marketing=Scope.ALL), write={}),
    "custops.segmentchange": ModelAccess("account__owner", read=_sales(marketing=Scope.ALL), write={}),
    "custops.accountchurn": ModelAccess("account__owner", read=_sales(), write={}),
    "custops.scoringrun": ModelAccess("", read=_everyone(Scope.ALL), write={}),
    "custops.customeropspolicy": ModelAccess("", read=_everyone(Scope.ALL), write={Role.ADMIN: Scope.ALL}),
    "custops.rulesegment": ModelAccess("", read=_everyone(Scope.ALL), write={Role.ADMIN: Scope.ALL}),
    "custops.gridsegment": ModelAccess("", read=_everyone(Scope.ALL), write={Role.ADMIN: Scope.ALL}),
    "custops.cadence": ModelAccess("", read=_everyone(Scope.ALL), write={Role.ADMIN: Scope.ALL}),
    "custops.tierpolicy": ModelAccess("", read=_everyone(Scope.ALL), write={Role.ADMIN: Scope.ALL}),
    "custops.sopguidance": ModelAccess("", read=_everyone(Scope.ALL), write={Role.ADMIN: Scope.ALL}),
    # Automation and notifications (issue #4): rules and the holiday calendar are reference data
    # kept by admin; briefs and evening reports follow their person up the sales hierarchy;
    # notifications are read by their recipient alone; the job log and chat webhooks (their URLs
    # hold access tokens) are for admin.
    "automation.rule": ModelAccess("", read=_everyone(Scope.ALL), write={Role.ADMIN: Scope.ALL}),
    "automation.holiday": ModelAccess("", read=_everyone(Scope.ALL), write={Role.ADMIN: Scope.ALL}),
    "automation.scheduledjob": ModelAccess("", read={Role.ADMIN: Scope.ALL}, write={Role.ADMIN: Scope.ALL}),
    "automation.jobrun": ModelAccess("", read={Role.ADMIN: Scope.ALL}, write={Role.ADMIN: Scope.ALL}),
    "automation.brief": ModelAccess("user", read=_sales(), write={}),
    "automation.eveningreport": ModelAccess("user", read=_sales(), write=_everyone(Scope.OWN)),
    "notifications.notification": ModelAccess("recipient", read=_everyone(Scope.OWN), write=_everyone(Scope.OWN)),
    "notifications.webhookendpoint": ModelAccess("", read={Role.ADMIN: Scope.ALL}, write={Role.ADMIN: Scope.ALL}),
    # Pipeline intelligence (issue #7): benchmarks, routing rules and the routing policy are
    # reference data kept by admin; the routing log follows the assignee up the sales line
    # (unassigned rows only for those who see every lead); campaign costs are kept by marketing.
    "intel.funnelbenchmark": ModelAccess(
        "", read=_everyone(Scope.ALL), write={Role.ADMIN: Scope.ALL, Role.DIRECTOR: Scope.ALL, Role.MANAGER: Scope.ALL}
    ),
    "intel.routingpolicy": ModelAccess("", read=_everyone(Scope.ALL), write={Role.ADMIN: Scope.ALL}),
    "intel.routingrule": ModelAccess("", read=_everyone(Scope.ALL), write={Role.ADMIN: Scope.ALL}),
    "intel.leadassignment": ModelAccess("assignee", read=_sales(marketing=Scope.ALL), write={}),
    "intel.campaigncost": ModelAccess(
        "",
        read=_everyone(Scope.ALL),
        write={Role.MARKETING: Scope.ALL, Role.MANAGER: Scope.ALL, Role.DIRECTOR: Scope.ALL, Role.ADMIN: Scope.ALL},
    ),
}


def _label(model: type[Model]) -> str:
    return model._meta.label_lower


def policy_for(model: type[Model]) -> ModelAccess:
    try:
        return POLICY[_label(model)]
    except KeyError as exc:  # a new model must be given a rule before it can be served
        raise LookupError(f"No access rule for {_label(model)}") from exc


def scope_for(user: User, model: type[Model], action: str = "read") -> Scope:
    if not user.is_authenticated or not user.is_active:
        return Scope.NONE
    if user.is_superuser:
        return Scope.ALL
    rules = policy_for(model)
    table = rules.read if action == "read" else rules.write
    scope = table.get(user.role, Scope.NONE)
    if scope == Scope.SUBTREE and user.team_id is None:
        return Scope.OWN  # a leader not yet placed in the tree sees only their own book
    return scope


def subtree_user_ids(user: User) -> QuerySet:
    """Ids of the people in the subtree of ``user``'s team (a subquery, never materialised)."""
    if user.team_id is None:
        return User.objects.filter(pk=user.pk).values("pk")
    return User.objects.filter(team__path__startswith=user.team.path).values("pk")


def restrict(queryset: QuerySet, user: User, action: str = "read") -> QuerySet:
    """``queryset`` narrowed to the rows ``user`` may read (or write, with ``action="write"``)."""
    scope = scope_for(user, queryset.model, action)
    if scope == Scope.ALL:
        return queryset
    if scope == Scope.NONE:
        return queryset.none()
    rules = policy_for(queryset.model)
    path = rules.owner_path
    if scope == Scope.OWN:
        own = Q(**{path: user})
        if rules.team_path and action == "read" and user.team_id is not None:
            own |= Q(**{rules.team_path: user.team_id, f"{path}__isnull": True})
        return queryset.filter(own)
    subtree = Q(**{f"{path}__in": subtree_user_ids(user)})
    if rules.team_path and user.team_id is not None:
        subtree |= Q(**{f"{rules.team_path}__path__startswith": user.team.path})
    return queryset.filter(subtree)


def can_read_model(user: User, model: type[Model]) -> bool:
    return scope_for(user, model, "read") != Scope.NONE


def can_write_model(user: User, model: type[Model]) -> bool:
    return scope_for(user, model, "write") != Scope.NONE


def may_own(user: User, model: type[Model], owner: User | None) -> bool:
    """May ``user`` create or keep a record of ``model`` owned by ``owner``?"""
    scope = scope_for(user, model, "write")
    if scope == Scope.ALL:
        return True
    if scope == Scope.NONE or owner is None:
        return False
    if scope == Scope.OWN:
        return owner.pk == user.pk
    if owner.pk == user.pk:
        return True
    return (
        user.team_id is not None
        and owner.team_id is not None
        and User.objects.filter(pk=owner.pk, team__path__startswith=user.team.path).exists()
    )


def may_hold(user: User, model: type[Model], *, owner: User | None, team=None) -> bool:
    """May ``user`` write a record of a team-scoped ``model`` for ``owner`` (a person) or, when
    ``owner`` is None, for ``team`` (a team node)? Person-scoped rows follow :func:`may_own`."""
    if owner is not None:
        return may_own(user, model, owner)
    scope = scope_for(user, model, "write")
    if scope == Scope.ALL:
        return True
    if scope != Scope.SUBTREE or team is None or user.team_id is None:
        return False
    return team.path.startswith(user.team.path)


def can_see_private_notes(user: User) -> bool:
    """Private notes (account and activity notes) are for the sales line and admin only."""
    return user.is_superuser or user.role in SALES_ROLES or user.role == Role.ADMIN
