"""Writing a plan: the bulk path used for every import, and the per-row service path it must equal.

``write_with_services`` sends each row through the same services as the API
(``core.records.record_create`` / ``record_update``, ``opportunity_create`` / ``_update``,
``order_create`` / ``_update``): the reference behaviour, but ~5 queries and a savepoint per row.

``write_in_bulk`` applies the same rules to all rows at once and writes with ``bulk_create`` /
``bulk_update``, a constant number of queries per 500 rows. It validates exactly as those
services do — the model's ``full_clean`` (field checks, ``clean()``), the owner rule
(``access.may_own`` on the record's owner path), the line rules and totals of an order, the stage
bookkeeping of a deal — with two checks done for the whole file instead of per row: foreign keys
were resolved against what the importer may read (planning), and uniqueness of ``external_id`` /
``number`` was settled by the upsert matching. It writes what they write: the records with
``version`` bumped on change, one audit entry per create/update (``source="import"``), a stage
change row per new deal and per stage move, order lines. ``tests/test_equivalence.py`` runs both
on the same files and requires the same errors and the same database afterwards.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import NON_FIELD_ERRORS, ObjectDoesNotExist, ValidationError
from django.db import connection, models, transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from salesloop.audit.models import AuditAction, AuditEntry
from salesloop.audit.services import diff, is_audited, snapshot
from salesloop.core import records
from salesloop.core.errors import Conflict, FieldErrors, Forbidden
from salesloop.core.money import line_amount, quantize_money
from salesloop.dataio.planning import Item, Plan
from salesloop.intel.stage_reach import stage_reach_refresh
from salesloop.org import access
from salesloop.org.models import User
from salesloop.pipeline import services as pipeline_services
from salesloop.pipeline.models import Opportunity, Stage, StageChange
from salesloop.sales import services as sales_services
from salesloop.sales.models import Order, OrderLine

BATCH = 500
SOURCE = "import"


class Outcome:
    def __init__(self) -> None:
        self.created = 0
        self.updated = 0
        self.unchanged = 0
        # Ids of created records whose row named no owner (issue #7 routes such leads).
        self.unowned_created: list[int] = []


# Error mapping (both paths) -------------------------------------------------------------------


def _report_field_errors(plan: Plan, item: Item, errors: dict[str, list[str]]) -> None:
    """Service field errors → (row, column): ``owner`` / ``owner_id`` → the owner column,
    ``lines.2.quantity`` → the quantity cell of the order's third line."""
    for key, messages in errors.items():
        row, name = item.row, key
        if key.startswith("lines."):
            _prefix, index, attr = key.split(".", 2)
            if item.lines is not None and int(index) < len(item.lines):
                row = item.lines[int(index)].row
            name = "product" if attr == "product_id" else attr
        elif key in (NON_FIELD_ERRORS, "__all__"):
            name = None
        elif key.endswith("_id") and key[:-3] in {f.name for f in plan.spec.model._meta.fields}:
            name = key[:-3]
        for message in messages:
            plan.error(row, name, str(message))


def _owner_column(plan: Plan) -> str:
    return access.policy_for(plan.spec.model).owner_path.split("__")[0]


def _report_forbidden(plan: Plan, item: Item, exc: Exception) -> None:
    plan.error(item.row, _owner_column(plan), str(exc) or _("You may not do this."))


# The per-row service path -----------------------------------------------------------------------


def _service_data(model: type[Model], item: Item) -> dict[str, Any]:
    """The item as an API payload: foreign keys by ``<name>_id``, order lines as dicts."""
    foreign_keys = {f.name for f in model._meta.concrete_fields if f.is_relation}
    data: dict[str, Any] = {}
    for name, value in item.values.items():
        if name in foreign_keys:
            data[f"{name}_id"] = value.pk if value is not None else None
        else:
            data[name] = value
    if item.lines is not None:
        data["lines"] = [
            {
                "product_id": line.product.pk,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "discount_pct": line.discount_pct,
            }
            for line in item.lines
        ]
    return data


def write_with_services(plan: Plan) -> Outcome:
    """The reference path: each row through the app's own services, in its own savepoint."""
    outcome = Outcome()
    model = plan.spec.model
    for item in plan.items:
        if not item.is_create and not item.changed:
            outcome.unchanged += 1
            continue
        data = _service_data(model, item)
        try:
            with transaction.atomic():
                if item.is_create:
                    created = _service_create(model, plan.user, data)
                    outcome.created += 1
                    if "owner" not in item.values:
                        outcome.unowned_created.append(created.pk)
                else:
                    _service_update(model, item.target.pk, plan.user, data, item.target.version)
                    outcome.updated += 1
        except FieldErrors as exc:
            _report_field_errors(plan, item, exc.errors)
        except Forbidden as exc:
            _report_forbidden(plan, item, exc)
        except Conflict:
            plan.error(
                item.row, "version", _("This record was changed by someone else during the import.")
            )
        except ObjectDoesNotExist:
            plan.error(
                item.row,
                "id",
                _("This identifies a %(model)s that you may not change.")
                % {"model": model._meta.verbose_name},
            )
    return outcome


def _service_create(model: type[Model], user: User, data: dict[str, Any]) -> Model:
    if model is Opportunity:
        return pipeline_services.opportunity_create(user=user, data=data, source=SOURCE)
    if model is Order:
        return sales_services.order_create(user=user, data=data, source=SOURCE)
    return records.record_create(model=model, user=user, data=data, source=SOURCE)


def _service_update(
    model: type[Model], pk: int, user: User, data: dict[str, Any], version: int
) -> Model:
    if model is Opportunity:
        return pipeline_services.opportunity_update(
            opportunity_id=pk, user=user, data=data, version=version, source=SOURCE
        )
    if model is Order:
        return sales_services.order_update(
            order_id=pk, user=user, data=data, version=version, source=SOURCE
        )
    instance = records.get_for_write(model, pk, user)
    return records.record_update(
        instance=instance, user=user, data=data, version=version, source=SOURCE
    )[0]


# The bulk path ----------------------------------------------------------------------------------


class _BulkWriter:
    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.user = plan.user
        self.model = plan.spec.model
        self.now = timezone.now()
        self.fk_fields = [
            f for f in self.model._meta.concrete_fields if isinstance(f, models.ForeignKey)
        ]
        self._may_own: dict[int | None, bool] = {}
        self._first_stage: Stage | None = None
        self.line_objects: dict[int, list[OrderLine]] = {}  # id(instance) → its new lines
        self.stage_moves: list[tuple[Model, int | None]] = []  # (deal, from stage id)

    # Rules, as the services apply them ----------------------------------------------------

    def _validate(self, instance: Model) -> dict[str, list[str]]:
        """``records.validate`` minus its per-row queries: foreign keys were resolved against what
        the importer may read, and uniqueness was settled by the upsert matching."""
        errors: dict[str, list[str]] = {}
        for fld in self.fk_fields:
            if getattr(instance, fld.attname) is None and not fld.null:
                errors[fld.name] = [str(fld.error_messages["null"])]
        try:
            instance.full_clean(
                exclude=[f.name for f in self.fk_fields],
                validate_unique=False,
                validate_constraints=True,
            )
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                errors.setdefault(key, []).extend(str(m) for m in messages)
        return errors

    def _owner_allowed(self, instance: Model) -> bool:
        """``records._check_owner``: may the importer give the record to its owner?"""
        owner: Any = instance
        for part in access.policy_for(self.model).owner_path.split("__"):
            owner = getattr(owner, part, None)
            if owner is None:
                break
        key = getattr(owner, "pk", None)
        if key not in self._may_own:
            self._may_own[key] = access.may_own(self.user, self.model, owner)
        return self._may_own[key]

    def _check(self, item: Item, instance: Model) -> bool:
        errors = self._validate(instance)
        if errors:
            _report_field_errors(self.plan, item, errors)
            return False
        if not self._owner_allowed(instance):
            _report_forbidden(
                self.plan, item, Forbidden(_("You may not give this record to that owner."))
            )
            return False
        return True

    def _build_lines(self, item: Item) -> list[OrderLine] | None:
        """``sales.services._build_lines``: the same checks and amounts, without a query."""
        built, errors = [], {}
        for i, line in enumerate(item.lines or []):
            product = line.product
            unit_price = line.unit_price if line.unit_price is not None else product.list_price
            if line.quantity <= 0:
                errors[f"lines.{i}.quantity"] = [_("Quantity must be positive.")]
            if unit_price < 0:
                errors[f"lines.{i}.unit_price"] = [_("Price cannot be negative.")]
            if not Decimal(0) <= line.discount_pct <= Decimal(100):
                errors[f"lines.{i}.discount_pct"] = [_("Discount must be between 0 and 100%.")]
            built.append(
                OrderLine(
                    product=product,
                    quantity=line.quantity,
                    unit_price=unit_price,
                    discount_pct=line.discount_pct,
                    unit_cost=product.cost,
                    line_total=line_amount(line.quantity, unit_price, line.discount_pct),
                    line_cost=quantize_money(line.quantity * product.cost),
                )
            )
        if errors:
            _report_field_errors(self.plan, item, errors)
            return None
        return built

    @staticmethod
    def _totals(lines: list[OrderLine]) -> dict[str, Decimal]:
        total = sum((line.line_total for line in lines), Decimal(0))
        cost = sum((line.line_cost for line in lines), Decimal(0))
        return {"total": total, "cost_total": cost, "margin": total - cost}

    def first_stage(self) -> Stage | None:
        if self._first_stage is None:
            self._first_stage = Stage.objects.filter(is_active=True).order_by("order").first()
        return self._first_stage

    # Create and update ---------------------------------------------------------------------

    def prepare_create(self, item: Item) -> Model | None:
        values = dict(item.values)
        lines = None
        if self.model is Order:
            lines = self._build_lines(item)
            if lines is None:
                return None
            values.update(self._totals(lines))
        instance = self.model(**values)
        # records._default_owner: the importer owns what they create unless the file says otherwise.
        for attname in ("owner_id", "assignee_id", "performed_by_id"):
            if hasattr(instance, attname) and getattr(instance, attname) is None:
                setattr(instance, attname.removesuffix("_id"), self.user)
        if self.model is Opportunity:
            if instance.stage_id is None and self.first_stage() is not None:
                instance.stage = self.first_stage()
            if instance.stage_id is not None:
                instance.closed_at = self.now if instance.stage.is_closed else None
            instance.stage_entered_at = self.now
        if not self._check(item, instance):
            return None
        if lines is not None:
            self.line_objects[id(instance)] = lines
        return instance

    def prepare_update(self, item: Item) -> tuple[Model, dict[str, list[Any]]] | None:
        instance = item.target
        before = snapshot(instance)
        values = dict(item.values)
        lines = None
        if self.model is Order and item.lines is not None:
            lines = self._build_lines(item)
            if lines is None:
                return None
            values.update(self._totals(lines))
        from_stage_id = getattr(instance, "stage_id", None)
        for name, value in values.items():
            setattr(instance, name, value)
        if self.model is Opportunity and instance.stage_id != from_stage_id:
            stage = instance.stage
            instance.closed_at = (instance.closed_at or self.now) if stage.is_closed else None
            instance.stage_entered_at = self.now
        if not self._check(item, instance):
            return None
        changes = diff(before, snapshot(instance))
        if self.model is Opportunity and "stage_id" in changes:
            self.stage_moves.append((instance, from_stage_id))
        if lines is not None:
            self.line_objects[id(instance)] = lines
        return instance, changes


def write_in_bulk(plan: Plan) -> Outcome:
    outcome = Outcome()
    writer = _BulkWriter(plan)
    creates: list[Model] = []
    unowned: list[Model] = []
    updates: list[tuple[Model, dict[str, list[Any]]]] = []
    for item in plan.items:
        if item.is_create:
            instance = writer.prepare_create(item)
            if instance is not None:
                creates.append(instance)
                if "owner" not in item.values:
                    unowned.append(instance)
        elif not item.changed:
            outcome.unchanged += 1
        else:
            prepared = writer.prepare_update(item)
            if prepared is not None:
                updates.append(prepared)
    if plan.errors:
        return outcome
    model = plan.spec.model
    audited = is_audited(model)
    content_type = ContentType.objects.get_for_model(model)
    entries: list[AuditEntry] = []

    model._default_manager.bulk_create(creates, batch_size=BATCH)
    outcome.created = len(creates)
    outcome.unowned_created = [instance.pk for instance in unowned]
    for instance in creates:
        if audited:
            entries.append(
                _audit(
                    instance,
                    content_type,
                    AuditAction.CREATE,
                    diff({}, snapshot(instance)),
                    plan.user,
                )
            )
        if model is Opportunity:
            writer.stage_moves.append((instance, None))

    changed = [(instance, changes) for instance, changes in updates if changes]
    for instance, changes in changed:
        instance.version += 1
        instance.updated_at = writer.now
        if audited:
            entries.append(_audit(instance, content_type, AuditAction.UPDATE, changes, plan.user))
    _update_rows(model, changed)
    outcome.updated = len(updates)  # a changed order line list with equal totals is still an update

    AuditEntry.objects.bulk_create(entries, batch_size=BATCH)
    if writer.stage_moves:
        StageChange.objects.bulk_create(
            [
                StageChange(
                    opportunity=deal,
                    from_stage_id=from_stage_id,
                    to_stage_id=deal.stage_id,
                    changed_at=writer.now,
                    changed_by=plan.user,
                    amount=deal.amount,
                )
                for deal, from_stage_id in writer.stage_moves
            ],
            batch_size=BATCH,
        )
        stage_reach_refresh(opportunity_ids=[deal.pk for deal, _from in writer.stage_moves])
    if model is Order:
        replaced = [i.pk for i, _c in updates if id(i) in writer.line_objects]
        if replaced:
            OrderLine.objects.filter(order_id__in=replaced).delete()
        new_lines = []
        for instance in [*creates, *(i for i, _c in updates)]:
            for line in writer.line_objects.get(id(instance), []):
                line.order = instance
                new_lines.append(line)
        OrderLine.objects.bulk_create(new_lines, batch_size=BATCH)
    return outcome


def _update_rows(model: type[Model], changed: list[tuple[Model, dict[str, list[Any]]]]) -> None:
    """``UPDATE <table> SET <changed columns>, version, updated_at WHERE id = %s`` for each row,
    sent with ``executemany`` per set of changed columns.

    Why not ``QuerySet.bulk_update``: it builds a ``CASE WHEN id = … THEN …`` expression per row and
    column, which costs more than the import's whole validation at 10,000 rows. This statement
    is the one ``records.record_update`` issues per record (changed fields, version, updated_at),
    with bound parameters prepared by each field for the database in use; the rows were locked
    when they were read (``select_for_update`` in planning), so no version check is needed here.
    """
    by_columns: dict[tuple[str, ...], list[Model]] = {}
    for instance, changes in changed:
        by_columns.setdefault(tuple(sorted(changes)), []).append(instance)
    fields_by_attname = {f.attname: f for f in model._meta.concrete_fields}
    quote = connection.ops.quote_name
    for attnames, instances in by_columns.items():
        fields = [fields_by_attname[a] for a in attnames] + [
            fields_by_attname["version"],
            fields_by_attname["updated_at"],
        ]
        assignments = ", ".join(f"{quote(f.column)} = %s" for f in fields)
        table, key = quote(model._meta.db_table), quote(model._meta.pk.column)
        sql = f"UPDATE {table} SET {assignments} WHERE {key} = %s"
        params = [
            [f.get_db_prep_save(getattr(instance, f.attname), connection) for f in fields]
            + [instance.pk]
            for instance in instances
        ]
        with connection.cursor() as cursor:
            for start in range(0, len(params), BATCH):
                cursor.executemany(sql, params[start : start + BATCH])


def _audit(
    instance: Model, content_type: ContentType, action: str, changes: dict, user: User
) -> AuditEntry:
    """One entry as ``audit.services.audit_record`` writes it."""
    return AuditEntry(
        content_type=content_type,
        object_id=instance.pk,
        object_repr=str(instance)[:200],
        action=action,
        actor=user if user is not None and user.pk else None,
        changes=changes,
        source=SOURCE,
    )
