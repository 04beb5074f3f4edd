"""Generic writes for business records: create, versioned update, delete.

One place for what every write must do: check the writer's scope (``org.access``), validate
foreign keys against what the writer may see, run the model's validation into field errors,
refuse stale versions (409, never a lost update) and write the audit log. App services wrap these
for their own rules (a stage change is logged, order totals are recomputed, ...).
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, ForeignKey, Model
from django.utils import timezone
from django.utils.translation import gettext as _

from salesloop.audit.models import AuditAction
from salesloop.audit.services import audit_record, diff, snapshot
from salesloop.core.errors import Conflict, FieldErrors, Forbidden
from salesloop.org import access
from salesloop.org.models import User


def _foreign_keys(model: type[Model]) -> dict[str, ForeignKey]:
    return {f.attname: f for f in model._meta.concrete_fields if isinstance(f, ForeignKey)}


def check_foreign_keys(model: type[Model], data: dict[str, Any], user: User) -> None:
    """Refuse ids that do not exist or that the writer may not see (an id probe leaks nothing)."""
    errors: dict[str, list[str]] = {}
    for attname, field in _foreign_keys(model).items():
        value = data.get(attname)
        if value is None:
            continue
        target = field.related_model
        qs = target._default_manager.all()
        if target._meta.label_lower in access.POLICY:
            qs = access.restrict(qs, user, "read")
        if not qs.filter(pk=value).exists():
            errors[attname] = [_("Unknown %(model)s id %(id)s.") % {"model": target._meta.verbose_name, "id": value}]
    if errors:
        raise FieldErrors(errors)


def _owner_of(instance: Model) -> User | None:
    path = access.policy_for(type(instance)).owner_path
    if not path:
        return None
    obj: Any = instance
    for part in path.split("__"):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def _check_owner(instance: Model, user: User) -> None:
    rules = access.policy_for(type(instance))
    if rules.team_path:  # a team's or a person's row (targets): see access.may_hold
        team = getattr(instance, rules.team_path, None)
        if not access.may_hold(user, type(instance), owner=_owner_of(instance), team=team):
            raise Forbidden(_("You may not set this for that team or person."))
        return
    if not access.policy_for(type(instance)).owner_path:
        if not access.can_write_model(user, type(instance)):
            raise Forbidden()
        return
    if not access.may_own(user, type(instance), _owner_of(instance)):
        raise Forbidden(_("You may not give this record to that owner."))


def validate(instance: Model, *, exclude: list[str] | None = None) -> None:
    try:
        instance.full_clean(exclude=exclude, validate_unique=True, validate_constraints=True)
    except ValidationError as exc:
        raise FieldErrors(
            {("__all__" if k == "__all__" else k): [str(m) for m in v] for k, v in exc.message_dict.items()}
        ) from exc


#: Person fields a writer may name besides the record's owner path: an order's credited rep and a
#: contract's owner hang off the account's book, but naming someone outside the writer's scope
#: would credit a sale (and its commission) to anyone in the company.
_NAMED_PEOPLE = ("owner_id", "assignee_id")


def _check_named_people(instance: Model, user: User, attnames) -> None:
    rules = access.policy_for(type(instance))
    for attname in _NAMED_PEOPLE:
        if attname not in attnames or attname == f"{rules.owner_path}_id":
            continue
        person = getattr(instance, attname.removesuffix("_id"), None)
        if person is not None and not access.may_own(user, type(instance), person):
            raise Forbidden(_("You may not credit this record to that person."))


def _check_active_people(instance: Model, attnames) -> None:
    """A record is never newly given to someone who has left: their book is moved with
    ``org.services.book_reassign``, and a new deal or task for them would be lost. Records that
    already belong to them stay editable (their fields are not being set)."""
    errors: dict[str, list[str]] = {}
    for attname in _NAMED_PEOPLE:
        if attname not in attnames:
            continue
        person = getattr(instance, attname.removesuffix("_id"), None)
        if person is not None and not person.is_active:
            errors[attname.removesuffix("_id")] = [
                _("%(person)s is no longer active; choose someone else.") % {"person": person}
            ]
    if errors:
        raise FieldErrors(errors)


def _default_owner(model: type[Model], data: dict[str, Any], user: User) -> None:
    field_names = {f.attname for f in model._meta.concrete_fields}
    for attname in ("owner_id", "assignee_id"):
        if attname in field_names and data.get(attname) is None:
            data[attname] = user.pk
    if "performed_by_id" in field_names and data.get("performed_by_id") is None:
        data["performed_by_id"] = user.pk


@transaction.atomic
def record_create(*, model: type[Model], user: User, data: dict[str, Any], source: str = "api") -> Model:
    if not access.can_write_model(user, model):
        raise Forbidden()
    data = dict(data)
    _default_owner(model, data, user)
    check_foreign_keys(model, data, user)
    instance = model(**data)
    validate(instance)
    _check_owner(instance, user)
    _check_named_people(instance, user, data)
    _check_active_people(instance, data)
    instance.save()
    audit_record(
        instance=instance, action=AuditAction.CREATE, actor=user, changes=diff({}, snapshot(instance)), source=source
    )
    return instance


def get_for_write(model: type[Model], pk: int, user: User, *, lock: bool = True) -> Model:
    qs = access.restrict(model._default_manager.all(), user, "write")
    if lock:
        qs = qs.select_for_update(of=("self",))
    return qs.get(pk=pk)


@transaction.atomic
def record_update(
    *, instance: Model, user: User, data: dict[str, Any], version: int | None, source: str = "api"
) -> tuple[Model, dict[str, list[Any]]]:
    """Apply ``data`` if ``version`` is still current; returns the record and what changed.

    ``instance`` must come from a queryset restricted for writing (``get_for_write``).
    """
    model = type(instance)
    current_version = getattr(instance, "version", None)
    if version is None and current_version is not None:
        raise FieldErrors({"version": [_("The version you edited is required.")]})
    if current_version is not None and version != current_version:
        raise Conflict(instance)
    before = snapshot(instance)
    check_foreign_keys(model, data, user)
    for key, value in data.items():
        setattr(instance, key, value)
    validate(instance)
    _check_owner(instance, user)
    after = snapshot(instance)
    changes = diff(before, after)
    _check_named_people(instance, user, changes)
    _check_active_people(instance, changes)
    if changes:
        updates = {k: getattr(instance, k) for k in changes}
        if current_version is not None:
            now = timezone.now()
            rows = model._default_manager.filter(pk=instance.pk, version=current_version).update(
                **updates, version=F("version") + 1, updated_at=now
            )
            if rows != 1:
                raise Conflict(model._default_manager.get(pk=instance.pk))
            instance.version = current_version + 1
            instance.updated_at = now
        else:
            model._default_manager.filter(pk=instance.pk).update(**updates)
        audit_record(instance=instance, action=AuditAction.UPDATE, actor=user, changes=changes, source=source)
    return instance, changes


@transaction.atomic
def record_delete(*, instance: Model, user: User, version: int | None) -> None:
    current_version = getattr(instance, "version", None)
    if current_version is not None and version is not None and version != current_version:
        raise Conflict(instance)
    audit_record(
        instance=instance,
        action=AuditAction.DELETE,
        actor=user,
        changes={k: [v, None] for k, v in snapshot(instance).items()},
    )
    instance.delete()
