"""Everything the migrations define in a database, as the database reports it (for comparing).

Shared by the tests that build a schema two ways (plain Alembic, offline SQL applied by hand)
and check that it is the one the registry builds for itself.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from modelregistry.db.engine import make_engine

_TRIGGERS = {
    "sqlite": "SELECT tbl_name, name, sql FROM sqlite_master WHERE type = 'trigger'",
    "postgresql": (
        "SELECT c.relname, t.tgname, pg_get_triggerdef(t.oid) FROM pg_trigger AS t"
        " JOIN pg_class AS c ON c.oid = t.tgrelid"
        " WHERE NOT t.tgisinternal AND c.relnamespace = current_schema()::regnamespace"
    ),
}
_FUNCTIONS = (
    "SELECT proname, pg_get_functiondef(oid) FROM pg_proc"
    " WHERE pronamespace = current_schema()::regnamespace"
)


def _by_name(items: list[Any]) -> list[Any]:
    return sorted(items, key=lambda item: str(item.get("name")))


def schema_of(url: str) -> dict[str, Any]:
    """Everything the migrations define, as the database reports it.

    Tables (columns, keys, indexes, constraints), views with their definitions, triggers and,
    on PostgreSQL, functions.
    """
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            inspector = sa.inspect(connection)
            tables = {
                table: {
                    "columns": [
                        (c["name"], str(c["type"]), c["nullable"], c.get("default"))
                        for c in inspector.get_columns(table)
                    ],
                    "primary_key": inspector.get_pk_constraint(table),
                    "foreign_keys": _by_name(inspector.get_foreign_keys(table)),
                    "indexes": _by_name(inspector.get_indexes(table)),
                    "unique": _by_name(inspector.get_unique_constraints(table)),
                    "checks": _by_name(inspector.get_check_constraints(table)),
                }
                for table in inspector.get_table_names()
            }
            dialect = connection.dialect.name
            views = {
                view: inspector.get_view_definition(view) for view in inspector.get_view_names()
            }
            triggers = sorted(map(tuple, connection.execute(sa.text(_TRIGGERS[dialect]))))
            functions = (
                sorted(map(tuple, connection.execute(sa.text(_FUNCTIONS))))
                if dialect == "postgresql"
                else []
            )
    finally:
        engine.dispose()
    return {"tables": tables, "views": views, "triggers": triggers, "functions": functions}


TIMES = frozenset({"created_at", "updated_at", "changed_at", "effective_from", "recorded_at"})
"""Columns that hold when a row was written: they differ between two builds."""


def data_of(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows in primary-key order, without the columns of :data:`TIMES`."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            metadata = sa.MetaData()
            metadata.reflect(connection)
            data = {}
            for name, table in sorted(metadata.tables.items()):
                kept = [column for column in table.columns if column.name not in TIMES]
                order = list(table.primary_key.columns) or kept
                rows = connection.execute(sa.select(*kept).order_by(*order))
                data[name] = [tuple(row) for row in rows]
    finally:
        engine.dispose()
    return data
