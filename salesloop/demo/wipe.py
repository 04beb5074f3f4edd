"""``demo --reset``: empty the organisation and its business records, keep the configuration.

What goes: people, teams, the catalogue, customers, the pipeline's deals, activities, money
records, the audit log, sessions, and every table of any app that refers to those through a
foreign key that would cascade or protect (a target of a rep, a coaching note…). What stays: the
stage list, loss reasons, organisation settings and any configuration row that only points at a
person through a nullable ``SET_NULL`` key (that key is cleared). The set is computed from the
models, so apps added later are covered without editing this file.
"""

from __future__ import annotations

from django.apps import apps
from django.db import connection, models

from salesloop.org.models import OrgSettings

#: Where the demo's data lives; everything referring to these (transitively) goes with them.
ROOT_LABELS = (
    "org.User",
    "org.Team",
    "org.Membership",
    "org.ApiToken",
    "customers.Account",
    "customers.Contact",
    "customers.Lead",
    "pipeline.Opportunity",
    "pipeline.StageChange",
    "activities.Activity",
    "activities.Task",
    "sales.Product",
    "sales.Order",
    "sales.OrderLine",
    "sales.Invoice",
    "sales.Payment",
    "sales.Contract",
    "audit.AuditEntry",
    "demo.DemoDataset",
    "sessions.Session",
)
#: Never wiped even if something points from them into the set (they are configuration).
KEEP = (OrgSettings,)


def wipe_plan() -> tuple[list[type[models.Model]], list[tuple[type[models.Model], models.Field]]]:
    """(models to empty, (model, field) pairs to set to NULL), from the foreign keys."""
    wiped: set[type[models.Model]] = set()
    for label in ROOT_LABELS:
        try:
            wiped.add(apps.get_model(label))
        except LookupError:  # an optional app (sessions) not installed
            continue
    every = [
        m
        for m in apps.get_models(include_auto_created=True)
        if m._meta.managed and not m._meta.proxy
    ]
    nulled: dict[tuple[type[models.Model], str], models.Field] = {}
    changed = True
    while changed:
        changed = False
        for model in every:
            if model in wiped or model in KEEP:
                continue
            for f in model._meta.concrete_fields:
                if not f.is_relation or f.related_model not in wiped:
                    continue
                if f.remote_field.on_delete in (models.SET_NULL, models.SET_DEFAULT) and f.null:
                    nulled[(model, f.name)] = f
                else:
                    wiped.add(model)
                    changed = True
                    break
    to_null = [
        (m, f)
        for (m, _name), f in sorted(nulled.items(), key=lambda kv: (kv[0][0]._meta.label, kv[0][1]))
        if m not in wiped
    ]
    return sorted(wiped, key=lambda m: m._meta.label), to_null


def wipe() -> dict[str, int]:
    """Empty the demo tables inside the caller's transaction; returns rows removed per model."""
    wiped, to_null = wipe_plan()
    removed = {m._meta.label: m._base_manager.count() for m in wiped}
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        for model, f in to_null:
            cursor.execute(f"UPDATE {qn(model._meta.db_table)} SET {qn(f.column)} = NULL")
        tables = [m._meta.db_table for m in wiped]
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # TRUNCATE refuses pending checks
            outside = _foreign_keys_from_outside(cursor, tables)
            for table, name, _definition in outside:
                cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            cursor.execute(f"TRUNCATE {', '.join(qn(t) for t in tables)} RESTART IDENTITY")
            for table, name, definition in outside:
                cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        else:
            for table in tables:
                cursor.execute(f"DELETE FROM {qn(table)}")
            if connection.vendor == "sqlite":
                placeholders = ", ".join(["%s"] * len(tables))
                cursor.execute(
                    f"DELETE FROM sqlite_sequence WHERE name IN ({placeholders})", tables
                )
    return removed


def _foreign_keys_from_outside(cursor, tables: list[str]) -> list[tuple[str, str, str]]:
    """Keys from kept tables (their columns were just cleared) that would block TRUNCATE."""
    cursor.execute(
        """
        SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
        FROM pg_constraint c
        WHERE c.contype = 'f'
          AND c.confrelid IN (SELECT to_regclass(t) FROM unnest(%s::text[]) AS t)
          AND c.conrelid NOT IN (SELECT to_regclass(t) FROM unnest(%s::text[]) AS t)
        """,
        [tables, tables],
    )
    return cursor.fetchall()
