"""Plain Alembic from a checkout, as a user runs it: ``alembic upgrade head`` beside alembic.ini.

The schema it builds must be the one the registry builds for itself on open, on both engines.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from modelregistry import ModelRegistry
from modelregistry.db import migrate
from modelregistry.db.engine import make_engine
from modelregistry.db.tables import Base
from modelregistry.domain.defaults import DEFAULT_MODELS
from schema_dump import schema_of

ROOT = Path(__file__).resolve().parents[2]
ALEMBIC = Path(sys.executable).parent / "alembic"


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
