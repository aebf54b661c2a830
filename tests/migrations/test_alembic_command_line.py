"""Plain Alembic from a checkout, as a user runs it: ``alembic upgrade head`` beside alembic.ini.

The schema it builds must be the one the registry builds for itself on open, on both engines.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from modelregistry import ModelRegistry
from modelregistry.db import migrate
from modelregistry.db.engine import make_engine
from modelregistry.db.tables import Base
from modelregistry.domain.defaults import DEFAULT_MODELS

ROOT = Path(__file__).resolve().parents[2]
ALEMBIC = Path(sys.executable).parent / "alembic"

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


def alembic(*args: str, database_url: str | None = None) -> str:
    """Run the venv's ``alembic`` from the repository root; its stdout.

    ``database_url`` goes into ``MODELREGISTRY_DATABASE_URL``, as a user would export it.
    """
    env = dict(os.environ)
    if database_url is not None:
        env["MODELREGISTRY_DATABASE_URL"] = database_url
    command = [str(ALEMBIC), *args]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"{shlex.join(command)}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


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


def diff_from_tables_py(url: str) -> list[object]:
    """Alembic's autogenerate comparison of the database with ``db/tables.py``."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "version_table": migrate.VERSION_TABLE}
            )
            diff: list[object] = compare_metadata(context, Base.metadata)
            return diff
    finally:
        engine.dispose()


def test_plain_alembic_from_the_checkout_builds_the_registrys_schema(
    database_url: str, tmp_path: Path
) -> None:
    head = migrate.head_revision()
    alembic("upgrade", "head", database_url=database_url)

    # -x url= wins over the environment variable, which here names another (empty) database.
    decoy = tmp_path / "decoy.db"
    current = alembic("-x", f"url={database_url}", "current", database_url=f"sqlite:///{decoy}")
    assert current.split() == [head, "(head)"]
    assert not decoy.exists()

    # At head already: opened without migrating (an older schema would raise E4010).
    with ModelRegistry(database_url, auto_migrate=False, cache=False) as registry:
        assert registry.is_initialized()
        assert registry.list_models() == sorted(DEFAULT_MODELS, key=lambda m: m.model_id)
    built_by_alembic = schema_of(database_url)
    assert diff_from_tables_py(database_url) == []

    alembic("downgrade", "base", database_url=database_url)
    emptied = schema_of(database_url)
    assert set(emptied["tables"]) == {migrate.VERSION_TABLE}
    assert emptied["views"] == {}
    assert emptied["triggers"] == emptied["functions"] == []

    with ModelRegistry(database_url, cache=False) as registry:  # migrates the empty database
        assert registry.is_initialized()
    assert schema_of(database_url) == built_by_alembic
