"""From a read table to a plan: what each row means, which record it creates or updates.

Everything here is shared by both ways of writing (``writers.py``): matching the header,
reading every cell as its field's type, resolving references in a few queries against what the
importer may *see* (``access.restrict``), deciding create / update / unchanged by the upsert
key, and the checks a file has that a single API call has not (two rows for one record, order
rows that disagree, a stale ``version``). Every problem becomes a :class:`RowError` and the
planning goes on, so one pass reports every bad row.

Upsert key, in order: ``external_id`` (if a record has it) → ``id`` (as an export writes it) →
for orders the order ``number``; otherwise the row creates a record.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import Model, QuerySet
from django.utils.translation import gettext as _

from salesloop.customers.models import Account, Contact, Lead
from salesloop.dataio import cells
from salesloop.dataio.entities import LINE_MODEL, Column, EntitySpec, Ref, normalise_header
from salesloop.dataio.reader import Table
from salesloop.org import access
from salesloop.org.models import User
from salesloop.pipeline.models import LossReason, Opportunity, Stage
from salesloop.sales.models import Order, Product

#: ``.xlsx`` keeps times to the millisecond; a stored time within this of the cell is the same.
XLSX_TIME_RESOLUTION = timedelta(milliseconds=1)
#: Rows per ``IN (...)`` query, well below SQLite's and PostgreSQL's parameter limits.
CHUNK = 900


class _Empty:
    def __repr__(self) -> str:
        return "EMPTY"


#: An empty cell in a present column (distinct from ``None``, a value some fields hold).
EMPTY = _Empty()


@dataclass(frozen=True)
class RowError:
    row: int | None
    column: str | None
    field: str | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "column": self.column,
            "field": self.field,
            "message": self.message,
        }


@dataclass
class Line:
    row: int
    product: Product
    quantity: Decimal
    unit_price: Decimal | None
    discount_pct: Decimal


@dataclass
class Item:
    """One record to write: a row, or for orders the rows of one order (its lines)."""

    rows: list[int]
    values: dict[str, Any]  # model field name → value (a model instance for a foreign key)
    target: Model | None = None  # the existing record this updates
    lines: list[Line] | None = None  # orders: None keeps the existing lines
    changed: bool = True

    @property
    def row(self) -> int:
        return self.rows[0]

    @property
    def is_create(self) -> bool:
        return self.target is None


@dataclass
class Plan:
    spec: EntitySpec
    user: User
    headers: dict[str, str]  # column key → header as written in the file
    items: list[Item] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    rows: int = 0
    notes: list[str] = field(default_factory=list)

    def header_for(self, name: str) -> str:
        """The header the user wrote for field/column ``name`` (first present column filling it)."""
        if name in self.headers:
            return self.headers[name]
        for column in self.spec.columns:
            if column.field == name and column.key in self.headers:
                return self.headers[column.key]
        return name

    def error(self, row: int | None, name: str | None, message: str) -> None:
        self.errors.append(
            RowError(
                row=row, column=self.header_for(name) if name else None, field=name, message=message
            )
        )


class HeaderRejected(Exception):
    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(errors[0].message)
        self.errors = errors


# Header -------------------------------------------------------------------------------------


def map_header(spec: EntitySpec, header: list[str]) -> dict[int, Column]:
    """Column index → column; unknown, duplicate or missing headers reject the whole file."""
    mapping: dict[int, Column] = {}
    seen: dict[str, str] = {}
    errors: list[RowError] = []
    unknown: list[str] = []
    for index, text in enumerate(header):
        if not str(text).strip():
            continue
        column = spec.by_header.get(normalise_header(text))
        if column is None:
            unknown.append(str(text))
            continue
        if column.key in seen:
            errors.append(
                RowError(
                    1,
                    str(text),
                    column.key,
                    _("Column “%(this)s” repeats column “%(other)s”.")
                    % {"this": text, "other": seen[column.key]},
                )
            )
            continue
        seen[column.key] = str(text)
        mapping[index] = column
    if not mapping:
        raise HeaderRejected(
            [
                RowError(
                    1,
                    None,
                    None,
                    _(
                        "The first row must name the columns (for example %(example)s); "
                        "none of its cells is a "
                        "column of %(entity)s. Download the template to see the columns."
                    )
                    % {
                        "example": ", ".join(c.key for c in spec.columns[1:4]),
                        "entity": spec.label,
                    },
                )
            ]
        )
    for text in unknown:
        errors.append(
            RowError(
                1,
                text,
                None,
                _(
                    "Unknown column “%(column)s” for %(entity)s. Remove it or rename it to "
                    "one of the template's columns."
                )
                % {"column": text, "entity": spec.label},
            )
        )
    if errors:
        raise HeaderRejected(errors)
    return mapping


# Reference lookups --------------------------------------------------------------------------

_TARGETS: dict[str, type[Model]] = {
    "user": User,
    "account": Account,
    "contact": Contact,
    "lead": Lead,
    "opportunity": Opportunity,
    "stage": Stage,
    "loss_reason": LossReason,
    "product": Product,
}
_RELATED: dict[str, tuple[str, ...]] = {
    "account": ("owner",),
    "contact": ("account",),
    "user": ("team",),
}


def _chunks(values: list[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def visible(model: type[Model], user: User) -> QuerySet:
    qs = model._default_manager.all()
    if model._meta.label_lower in access.POLICY:
        qs = access.restrict(qs, user, "read")
    return qs


def keyed(qs: QuerySet, lookup: str, values: list[Any]) -> QuerySet:
    """``qs`` narrowed to rows whose ``lookup`` is in ``values``, as ``pk IN (SELECT pk … WHERE
    lookup IN values)``, unordered.

    Why the sub-select: combined with ``access.restrict``'s "owner in my subtree" condition, a
    plain ``id IN (900 values)`` makes SQLite (no table statistics) start from the owners and
    probe every id for every account, ~1.5 s per 900 rows at 2,000 contacts and quadratic
    beyond; the sub-select makes it start from the keys (0.1 s). PostgreSQL plans both alike.
    """
    inner = qs.model._default_manager.filter(**{f"{lookup}__in": values}).values("pk")
    return qs.filter(pk__in=inner).order_by()


def _lookup_key(ref: Ref, raw: Any) -> Any:
    if ref.by == "pk":
        return cells.parse_int(raw)
    return cells.as_text(raw)


class References:
    """Every referenced record, fetched once per (kind, key type) for the whole file."""

    def __init__(self, user: User) -> None:
        self.user = user
        self.found: dict[tuple[str, str], dict[Any, list[Model]]] = {}

    def load(self, ref: Ref, keys: set[Any]) -> None:
        if not keys:
            return
        model = _TARGETS[ref.target]
        qs = visible(model, self.user)
        if ref.target in _RELATED:
            qs = qs.select_related(*_RELATED[ref.target])
        table: dict[Any, list[Model]] = defaultdict(list)
        if ref.target in ("stage", "loss_reason") and ref.by == "code":
            # Small reference lists: match the code exactly, else the Chinese or English name.
            rows = list(qs)
            by_code = {obj.code: obj for obj in rows}
            for key in keys:
                if key in by_code:
                    table[key].append(by_code[key])
                    continue
                table[key].extend(
                    obj
                    for obj in rows
                    if key.lower() in (obj.name.lower(), (obj.name_en or "").lower())
                )
        else:
            lookup = "pk" if ref.by == "pk" else ref.by
            for chunk in _chunks(sorted(keys, key=str)):
                for obj in keyed(qs, lookup, chunk):
                    table[getattr(obj, lookup)].append(obj)
        self.found[(ref.target, ref.by)] = table

    def get(self, ref: Ref, key: Any) -> list[Model]:
        return self.found.get((ref.target, ref.by), {}).get(key, [])


# The planner --------------------------------------------------------------------------------


@dataclass
class _Row:
    number: int
    raw: dict[str, Any]  # column key → cell (present columns only)
    values: dict[str, Any] = field(default_factory=dict)  # field → parsed value or EMPTY
    key: dict[str, Any] = field(default_factory=dict)  # id / external_id / number / version
    line: dict[str, Any] = field(default_factory=dict)
    bad: bool = False


class Planner:
    def __init__(self, spec: EntitySpec, user: User, table: Table, *, lock: bool) -> None:
        self.spec = spec
        self.user = user
        self.table = table
        self.lock = lock
        self.mapping = map_header(spec, table.header)
        headers = {c.key: table.header[i] for i, c in self.mapping.items()}
        self.plan = Plan(
            spec=spec, user=user, headers=headers, rows=len(table.rows), notes=list(table.notes)
        )
        self.present = {c.key: c for c in self.mapping.values()}
        self.refs = References(user)
        self._choices: dict[str, dict[str, str]] = {}
        self._fields: dict[str, models.Field] = {}
        self._owner_rights: dict[tuple[type[Model], int], bool] = {}

    # Cells ---------------------------------------------------------------------------------

    def _field(self, column: Column) -> models.Field:
        model = LINE_MODEL if column.role == "line" else self.spec.model
        return model._meta.get_field(column.field or column.key)

    def _parse(self, column: Column, raw: Any) -> Any:
        if column.key not in self._fields:
            self._fields[column.key] = self._field(column)
        fld = self._fields[column.key]
        if fld.choices and fld.name not in self._choices:
            self._choices[fld.name] = cells.choice_lookup(fld)
        value = cells.parse_for_field(raw, fld, lookup=self._choices.get(fld.name))
        if isinstance(value, Decimal):
            whole_digits = fld.max_digits - fld.decimal_places
            if abs(value) >= Decimal(10) ** whole_digits:
                raise cells.CellError(_("The number %(value)s is too large.") % {"value": value})
        if isinstance(fld, models.CharField | models.TextField) and isinstance(value, str):
            if fld.max_length and len(value) > fld.max_length:
                raise cells.CellError(
                    _("At most %(max)s characters (this has %(len)s).")
                    % {"max": fld.max_length, "len": len(value)}
                )
        return value

    def _read_rows(self) -> list[_Row]:
        rows = []
        width = len(self.table.header)
        for number, raw_cells in self.table.rows:
            row = _Row(number=number, raw={})
            for index, raw in enumerate(raw_cells):
                column = self.mapping.get(index)
                if column is None:
                    if index >= width or not str(self.table.header[index]).strip():
                        if not cells.is_empty(raw):
                            self.plan.errors.append(
                                RowError(
                                    number,
                                    None,
                                    None,
                                    _("Cell %(cell)s has a value but its column has no header.")
                                    % {"cell": _column_letter(index) + str(number)},
                                )
                            )
                            row.bad = True
                    continue
                row.raw[column.key] = raw
            for column in self.present.values():
                raw = row.raw.get(column.key)
                if column.role in ("ignored", "ref"):
                    continue
                try:
                    if column.role == "id":
                        row.key["id"] = None if cells.is_empty(raw) else cells.parse_int(raw)
                    elif column.role == "version":
                        row.key["version"] = None if cells.is_empty(raw) else cells.parse_int(raw)
                    elif cells.is_empty(raw):
                        (row.line if column.role == "line" else row.values)[
                            column.field or column.key
                        ] = EMPTY
                    elif column.role == "line":
                        row.line[column.field] = self._parse(column, raw)
                    else:
                        row.values[column.field] = self._parse(column, raw)
                except cells.CellError as exc:
                    self.plan.error(number, column.key, str(exc))
                    row.bad = True
            for name in ("external_id", "number"):
                value = row.values.get(name)
                row.key[name] = None if value in (None, EMPTY, "") else value
            rows.append(row)
        return rows

    # References ----------------------------------------------------------------------------

    def _ref_columns(self) -> list[Column]:
        return [c for c in self.present.values() if c.ref is not None]

    def _load_references(self, rows: list[_Row]) -> None:
        wanted: dict[Ref, set[Any]] = defaultdict(set)
        for row in rows:
            for column in self._ref_columns():
                raw = row.raw.get(column.key)
                if cells.is_empty(raw):
                    continue
                try:
                    wanted[column.ref].add(_lookup_key(column.ref, raw))
                except cells.CellError as exc:
                    self.plan.error(row.number, column.key, str(exc))
                    row.bad = True
        for ref, keys in wanted.items():
            self.refs.load(ref, keys)

    def _resolve(self, row: _Row, target: Model | None) -> None:
        """Fill ``row.values`` (or ``row.line``) with the referenced records."""
        by_field: dict[str, list[Column]] = defaultdict(list)
        for column in self._ref_columns():
            by_field[column.field].append(column)
        # Contacts by name are looked up within the row's account, so accounts go first.
        for name in sorted(by_field, key=lambda f: f == "decision_maker"):
            value = self._resolve_field(row, target, by_field[name])
            if value is None:
                row.bad = True
            elif by_field[name][0].role == "line":
                row.line[name] = value
            else:
                row.values[name] = value

    def _resolve_field(self, row: _Row, target: Model | None, columns: list[Column]) -> Any:
        """The record the row's columns for one field name (``EMPTY`` if all are empty), or
        ``None`` after reporting why not. A name shared by several records is fine when another
        column of the row (an id, an external ID) picks one of them, as in an export."""
        matches: list[tuple[Column, list[Model]]] = []
        failed = False
        for column in columns:
            raw = row.raw.get(column.key)
            if cells.is_empty(raw):
                continue
            try:
                key = _lookup_key(column.ref, raw)
            except cells.CellError:
                failed = True  # reported while loading
                continue
            candidates = self.refs.get(column.ref, key)
            if column.ref.target == "contact" and column.ref.by == "name":
                account = row.values.get("account")
                account_id = (
                    account.pk
                    if isinstance(account, Account)
                    else getattr(target, "account_id", None)
                )
                candidates = [c for c in candidates if c.account_id == account_id]
            if not candidates:
                self.plan.error(
                    row.number,
                    column.key,
                    _("No %(model)s “%(value)s” that you can see.")
                    % {
                        "model": _TARGETS[column.ref.target]._meta.verbose_name,
                        "value": cells.as_text(raw),
                    },
                )
                failed = True
                continue
            matches.append((column, candidates))
        if failed:
            return None
        if not matches:
            return EMPTY
        unique = [(column, found[0]) for column, found in matches if len(found) == 1]
        chosen = unique[0][1] if unique else None
        for column, found in matches:
            model = _TARGETS[column.ref.target]
            if chosen is None:
                self.plan.error(
                    row.number,
                    column.key,
                    _(
                        "%(count)s %(models)s you can see match “%(value)s”; "
                        "use the external ID or id column."
                    )
                    % {
                        "count": len(found),
                        "models": model._meta.verbose_name_plural,
                        "value": cells.as_text(row.raw.get(column.key)),
                    },
                )
                return None
            if chosen.pk not in {obj.pk for obj in found}:
                self.plan.error(
                    row.number,
                    column.key,
                    _("Names a different %(model)s than column “%(other)s” on the same row.")
                    % {
                        "model": model._meta.verbose_name,
                        "other": self.plan.headers[unique[0][0].key],
                    },
                )
                return None
        return chosen

    # Matching ------------------------------------------------------------------------------

    def _targets(self, rows: list[_Row]) -> tuple[dict, dict, set[int], dict[int, Model]]:
        model = self.spec.model
        external_ids = sorted({r.key["external_id"] for r in rows if r.key.get("external_id")})
        numbers = (
            sorted({r.key["number"] for r in rows if r.key.get("number")})
            if self.spec.has_lines
            else []
        )
        ids = sorted({r.key["id"] for r in rows if r.key.get("id") is not None})
        by_external: dict[str, int] = {}
        for chunk in _chunks(external_ids):
            by_external.update(
                model._default_manager.filter(external_id__in=chunk).values_list(
                    "external_id", "pk"
                )
            )
        by_number: dict[str, int] = {}
        for chunk in _chunks(numbers):
            by_number.update(Order.objects.filter(number__in=chunk).values_list("number", "pk"))
        readable: set[int] = set()
        for chunk in _chunks(ids):
            readable.update(
                keyed(visible(model, self.user), "pk", chunk).values_list("pk", flat=True)
            )
        candidates = sorted(set(by_external.values()) | set(by_number.values()) | readable)
        writable: dict[int, Model] = {}
        qs = access.restrict(model._default_manager.all(), self.user, "write")
        related = {
            Account: ["owner"],
            Contact: ["account__owner"],
            Opportunity: ["stage", "owner"],
            Order: ["account__owner", "owner"],
        }.get(model, ["owner"])
        qs = qs.select_related(*related)
        if self.lock:
            qs = qs.select_for_update(of=("self",))
        for chunk in _chunks(candidates):
            chunk_qs = keyed(qs, "pk", chunk)
            if self.spec.has_lines:
                chunk_qs = chunk_qs.prefetch_related("lines")
            writable.update({obj.pk: obj for obj in chunk_qs})
        return by_external, by_number, readable, writable

    def _match(
        self, row: _Row, by_external, by_number, readable, writable
    ) -> tuple[bool, Model | None, str]:
        """(ok, target, key column used) for the row's upsert key; reports why a key cannot be
        used."""
        external_id, record_id, number = (
            row.key.get("external_id"),
            row.key.get("id"),
            row.key.get("number"),
        )
        pk, via = None, None
        if external_id and external_id in by_external:
            pk, via = by_external[external_id], "external_id"
            if record_id is not None and record_id != pk:
                self.plan.error(
                    row.number,
                    "id",
                    _("Id %(id)s is not the record with external ID “%(external_id)s”.")
                    % {"id": record_id, "external_id": external_id},
                )
                return False, None, ""
        elif record_id is not None:
            if record_id not in readable:
                self.plan.error(
                    row.number,
                    "id",
                    _(
                        "No %(model)s with id %(id)s that you can see. "
                        "Leave id empty to create a new record."
                    )
                    % {"model": self.spec.model._meta.verbose_name, "id": record_id},
                )
                return False, None, ""
            pk, via = record_id, "id"
        elif number and number in by_number:
            pk, via = by_number[number], "number"
        if pk is None:
            return True, None, ""
        if number and by_number.get(number, pk) != pk:
            self.plan.error(
                row.number,
                "number",
                _("Order number %(number)s belongs to another order.") % {"number": number},
            )
            return False, None, ""
        if pk not in writable:
            self.plan.error(
                row.number,
                via,
                _("This identifies a %(model)s that you may not change.")
                % {"model": self.spec.model._meta.verbose_name},
            )
            return False, None, ""
        return True, writable[pk], via

    # Building items ------------------------------------------------------------------------

    def _may_own(self, model: type[Model], owner: User) -> bool:
        key = (model, owner.pk)
        if key not in self._owner_rights:
            self._owner_rights[key] = access.may_own(self.user, model, owner)
        return self._owner_rights[key]

    def _final_values(self, row: _Row, target: Model | None) -> dict[str, Any]:
        """Apply the empty-cell rule: an empty cell clears a field that may be empty; for a field
        that must have a value it keeps the current one (update) or leaves the default (create)."""
        values: dict[str, Any] = {}
        for name, value in row.values.items():
            fld = self.spec.model._meta.get_field(name)
            if value is EMPTY:
                if name in ("owner", "performed_by"):
                    continue  # empty owner: you on a new record, unchanged on an update
                if fld.is_relation:
                    if fld.null:
                        values[name] = None
                    continue
                if fld.blank or isinstance(fld, models.BooleanField):
                    values[name] = cells.empty_value(fld)
                continue
            if target is not None:
                value = self._same_as_stored(fld, getattr(target, fld.attname), value)
            values[name] = value
        if (
            target is None
            and self.spec.model.__name__ == "Activity"
            and "performed_by" not in values
        ):
            owner = values.get("owner")
            values["performed_by"] = owner if owner is not None else self.user
        return values

    def _same_as_stored(self, fld: models.Field, stored: Any, value: Any) -> Any:
        """The stored value when the cell means the same thing, so an unchanged cell is no change
        (one instant in another zone; a time rounded to the millisecond by ``.xlsx``)."""
        if isinstance(value, Model):
            return value
        if stored == value and type(stored) is type(value):
            return stored
        if isinstance(stored, datetime) and isinstance(value, datetime):
            if stored == value or (self.table.typed and abs(stored - value) < XLSX_TIME_RESOLUTION):
                return stored
        return value

    def _lines(self, rows: list[_Row]) -> list[Line] | None:
        if not any(c.role == "line" for c in self.present.values()):
            return None
        lines = []
        for row in rows:
            product = row.line.get("product", EMPTY)
            if product is EMPTY:
                self.plan.error(
                    row.number, "product", _("Each row is an order line and needs a product SKU.")
                )
                row.bad = True
                continue
            quantity = row.line.get("quantity", EMPTY)
            if quantity is EMPTY:
                self.plan.error(row.number, "quantity", _("Enter the quantity of this line."))
                row.bad = True
                continue
            unit_price = row.line.get("unit_price", EMPTY)
            discount = row.line.get("discount_pct", EMPTY)
            lines.append(
                Line(
                    row=row.number,
                    product=product,
                    quantity=quantity,
                    unit_price=None if unit_price is EMPTY else unit_price,
                    discount_pct=Decimal("0.00") if discount is EMPTY else discount,
                )
            )
        return lines

    def _group(self, rows: list[_Row]) -> list[list[_Row]]:
        if not self.spec.has_lines:
            return [[row] for row in rows]
        groups: dict[Any, list[_Row]] = {}
        for row in rows:
            key = (
                row.key.get("number")
                or (("external_id", row.key["external_id"]) if row.key.get("external_id") else None)
                or (("id", row.key["id"]) if row.key.get("id") is not None else ("row", row.number))
            )
            groups.setdefault(key, []).append(row)
        for group in groups.values():
            first = group[0]
            for row in group[1:]:
                for key in self.present:
                    column = self.present[key]
                    if column.role in ("line", "ignored"):
                        continue
                    if cells.as_text(row.raw.get(key)) != cells.as_text(first.raw.get(key)):
                        self.plan.error(
                            row.number,
                            key,
                            _(
                                "Differs from row %(row)s of the same order; "
                                "an order's columns must agree on "
                                "all its rows."
                            )
                            % {"row": first.number},
                        )
                        row.bad = True
        return list(groups.values())

    def _existing_lines(self, order: Order) -> list[tuple]:
        return [
            (ln.product_id, ln.quantity, ln.unit_price, ln.discount_pct) for ln in order.lines.all()
        ]

    def _planned_lines(self, lines: list[Line]) -> list[tuple]:
        return [
            (
                ln.product.pk,
                ln.quantity,
                ln.unit_price if ln.unit_price is not None else ln.product.list_price,
                ln.discount_pct,
            )
            for ln in lines
        ]

    def build(self) -> Plan:
        rows = self._read_rows()
        self._load_references(rows)
        by_external, by_number, readable, writable = self._targets(rows)
        seen_target: dict[int, int] = {}
        seen_new_key: dict[tuple[str, Any], int] = {}
        for group in self._group(rows):
            first = group[0]
            ok, target, via = self._match(first, by_external, by_number, readable, writable)
            for row in group:
                self._resolve(row, target)
            lines = self._lines(group) if self.spec.has_lines else None
            if not ok or any(row.bad for row in group):
                continue
            if target is not None:
                if target.pk in seen_target:
                    self.plan.error(
                        first.number,
                        via,
                        _("Row %(row)s already imports this record.")
                        % {"row": seen_target[target.pk]},
                    )
                    continue
                seen_target[target.pk] = first.number
            else:
                duplicate = False
                for name in ("external_id", "number"):
                    key = first.key.get(name)
                    if key and (name, key) in seen_new_key:
                        self.plan.error(
                            first.number,
                            name,
                            _("Row %(row)s already has “%(value)s”.")
                            % {"row": seen_new_key[(name, key)], "value": key},
                        )
                        duplicate = True
                    elif key:
                        seen_new_key[(name, key)] = first.number
                if duplicate:
                    continue
            values = self._final_values(first, target)
            item = Item(rows=[r.number for r in group], values=values, target=target, lines=lines)
            if not self._check_item(item, first):
                continue
            self.plan.items.append(item)
        return self.plan

    @staticmethod
    def _stored_form(value: Any) -> Any:
        return value.pk if isinstance(value, Model) else value

    def _check_item(self, item: Item, first: _Row) -> bool:
        """Checks that depend on the record as it is now: is anything changing, and was the row
        exported from the current version? A new order also needs lines."""
        if self.spec.has_lines:
            owner = item.values.get("owner")
            current_owner = getattr(item.target, "owner_id", None)
            if owner is not None and owner.pk != current_owner and not self._may_own(Order, owner):
                self.plan.error(item.row, "owner", _("You may not credit a sale to that person."))
                return False
            if item.is_create and not item.lines:
                self.plan.error(
                    item.row, "product", _("A new order needs at least one line (a product SKU).")
                )
                return False
        if item.is_create:
            return True
        target = item.target
        if item.lines is not None and self._existing_lines(target) == self._planned_lines(
            item.lines
        ):
            item.lines = None  # same lines: keep them rather than replace them with equal ones
        # Values equal to the stored ones were replaced by them (_same_as_stored), so a plain
        # comparison finds exactly the fields an audit diff would list.
        item.changed = item.lines is not None or any(
            self._stored_form(value)
            != getattr(target, self.spec.model._meta.get_field(name).attname)
            for name, value in item.values.items()
        )
        version = first.key.get("version")
        if item.changed and version is not None and version != target.version:
            self.plan.error(
                item.row,
                "version",
                _(
                    "This record was changed by someone else after version %(version)s "
                    "(it is now version "
                    "%(current)s). Export it again and reapply your change."
                )
                % {"version": version, "current": target.version},
            )
            return False
        return True


def sort_errors(errors: list[RowError], header: list[str]) -> list[RowError]:
    """By row, then left to right as the columns stand in the file (the way a user reads a row)."""
    position = {str(text): index for index, text in reversed(list(enumerate(header)))}
    return sorted(errors, key=lambda e: (e.row or 0, position.get(e.column or "", len(header))))


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def build_plan(spec: EntitySpec, user: User, table: Table, *, lock: bool) -> Plan:
    return Planner(spec, user, table, lock=lock).build()
