"""Writes on the organisation: moving a leaver's book, tokens, language."""

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.hashers import make_password
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from salesloop.activities.models import Activity, Task, TaskStatus
from salesloop.audit.models import AuditAction, AuditEntry
from salesloop.core.errors import FieldErrors, Forbidden
from salesloop.core.records import get_for_write, record_create, record_update
from salesloop.customers.models import Account, Lead
from salesloop.org import access
from salesloop.org.models import Team, User
from salesloop.pipeline.models import Opportunity
from salesloop.sales.models import Contract


@dataclass(frozen=True)
class BookMove:
    accounts: int
    leads: int
    opportunities: int
    activities: int
    open_tasks: int
    contracts: int


@transaction.atomic
def book_reassign(*, from_user: User, to_user: User, by: User) -> BookMove:
    """Move everything ``from_user`` owns to ``to_user`` (a rep leaves or changes territory).

    History is kept: each moved account and opportunity gets an audit entry with the old owner,
    activities keep ``performed_by``, orders keep the credited rep, done tasks stay with whoever
    did them.
    """
    if from_user.pk == to_user.pk:
        raise FieldErrors({"to_user_id": [_("Choose a different person.")]})
    if not to_user.is_active:
        raise FieldErrors({"to_user_id": [_("That person is not active.")]})
    for model in (Account, Opportunity):
        if not (access.may_own(by, model, from_user) and access.may_own(by, model, to_user)):
            raise Forbidden(_("You may only move books within your own team."))
    change = {"owner_id": [from_user.pk, to_user.pk]}
    entries = []
    # Every audited record that moves gets an entry (contracts are audited too).
    for model, label in ((Account, "name"), (Opportunity, "name"), (Contract, "number")):
        content_type = ContentType.objects.get_for_model(model)
        entries += [
            AuditEntry(
                content_type=content_type,
                object_id=pk,
                object_repr=name[:200],
                action=AuditAction.REASSIGN,
                actor=by,
                changes=change,
                source="reassign",
            )
            for pk, name in model.objects.filter(owner=from_user).values_list("pk", label).iterator()
        ]
    AuditEntry.objects.bulk_create(entries, batch_size=2000)
    # A move is a write like any other: it bumps ``version`` so that an edit prepared before the
    # move is refused with 409 instead of being applied to a record that changed hands.
    bump = {"version": F("version") + 1, "updated_at": timezone.now()}
    return BookMove(
        accounts=Account.objects.filter(owner=from_user).update(owner=to_user, **bump),
        leads=Lead.objects.filter(owner=from_user).update(owner=to_user, **bump),
        opportunities=Opportunity.objects.filter(owner=from_user).update(owner=to_user, **bump),
        activities=Activity.objects.filter(owner=from_user).update(owner=to_user, **bump),
        open_tasks=Task.objects.filter(assignee=from_user, status=TaskStatus.OPEN).update(assignee=to_user, **bump),
        contracts=Contract.objects.filter(owner=from_user).update(owner=to_user, **bump),
    )


@transaction.atomic
def user_create(*, user: User, data: dict[str, Any], source: str = "api") -> User:
    """A new person starts without a usable password: an admin sets one, or they reset it.

    Why: the API never carries passwords in a record body; ``full_clean`` would otherwise refuse
    the empty password field and no one could be added through the API.
    """
    data = {**data, "password": make_password(None)}
    return record_create(model=User, user=user, data=data, source=source)


@transaction.atomic
def team_move(*, team: Team, parent: Team | None) -> Team:
    """Hang ``team`` and everything under it below ``parent``, rewriting the subtree's paths.

    Why one UPDATE: visibility ("everyone under this manager") is a ``path LIKE '/1/4/%'`` test,
    so every descendant's materialised path must change with the move, atomically.
    """
    team = Team.objects.select_for_update().get(pk=team.pk)
    if parent is not None and parent.path.startswith(team.path):
        raise FieldErrors({"parent_id": [_("A team cannot be moved under itself or one of its own teams.")]})
    old_path = team.path
    new_path = (parent.path if parent is not None else "/") + f"{team.pk}/"
    Team.objects.filter(pk=team.pk).update(parent=parent)
    if new_path != old_path:
        Team.objects.filter(path__startswith=old_path).update(
            path=Concat(Value(new_path), Substr("path", len(old_path) + 1))
        )
    team.refresh_from_db()
    return team


@transaction.atomic
def team_update(*, team_id: int, user: User, data: dict[str, Any], version: int | None, source: str = "api") -> Team:
    """Edit a team; a new parent moves its whole subtree (:func:`team_move`)."""
    team = get_for_write(Team, team_id, user)
    data = dict(data)
    parent_id = data.pop("parent_id", team.parent_id)
    team, _changes = record_update(instance=team, user=user, data=data, version=version, source=source)
    if parent_id != team.parent_id:
        parent = None
        if parent_id is not None:
            parent = access.restrict(Team.objects.all(), user, "read").filter(pk=parent_id).first()
            if parent is None:
                raise FieldErrors({"parent_id": [_("Unknown team id %(id)s.") % {"id": parent_id}]})
        team = team_move(team=team, parent=parent)
    return team
