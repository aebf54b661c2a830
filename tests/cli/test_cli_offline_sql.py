"""``db upgrade --sql`` as a DBA uses it: the SQL from nothing, applied by hand, is the schema.

On SQLite the SQL goes through the ``sqlite3`` module's ``executescript`` (what the ``sqlite3``
shell does with a file); on PostgreSQL through ``psql`` into a fresh schema. Either way the
database then says it is at head and holds what ``modelregistry db upgrade`` builds: the same
tables, views, triggers and functions, the same seeded rows (their write times aside).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from typing import TYPE_CHECKING

import pytest
from sqlalchemy.engine import make_url
from terminal import environment, run

from postgres_source import postgres_schema
from schema_dump import data_of, schema_of

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


def _offline_sql(home: Path, url: str, *args: str) -> str:
    done = run(
        "db", "upgrade", "--sql", *args, env=environment(home, MODELREGISTRY_DATABASE_URL=url)
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    return done.stdout


def _migrated(home: Path, url: str) -> None:
    done = run("db", "upgrade", env=environment(home, MODELREGISTRY_DATABASE_URL=url))
    assert done.returncode == 0, done.stderr


def _at_head(home: Path, url: str) -> None:
    done = run("db", "current", "--json", env=environment(home, MODELREGISTRY_DATABASE_URL=url))
    assert done.returncode == 0, done.stderr
    assert '"up_to_date": true' in done.stdout, done.stdout


def test_sqlite_sql_from_nothing_applied_by_hand_is_the_migrated_catalog(tmp_path: Path) -> None:
    by_hand, migrated = tmp_path / "by_hand.db", tmp_path / "migrated.db"
    # Offline: the URL only names the dialect; nothing is created or opened.
    sql = _offline_sql(tmp_path, f"sqlite:///{by_hand}")
    assert not by_hand.exists()
    assert "INSERT INTO models" in sql
    assert "INSERT INTO model_revisions" in sql
    with sqlite3.connect(by_hand) as connection:
        connection.executescript(sql)
    connection.close()
    _migrated(tmp_path, f"sqlite:///{migrated}")
    _at_head(tmp_path, f"sqlite:///{by_hand}")
    assert schema_of(f"sqlite:///{by_hand}") == schema_of(f"sqlite:///{migrated}")
    assert data_of(f"sqlite:///{by_hand}") == data_of(f"sqlite:///{migrated}")


@pytest.fixture
def two_schemas(postgres_url: str) -> Iterator[tuple[str, str]]:
    with postgres_schema(postgres_url) as by_hand, postgres_schema(postgres_url) as migrated:
        yield by_hand, migrated


@pytest.mark.skipif(shutil.which("psql") is None, reason="psql (the DBA's tool) is not installed")
def test_postgresql_sql_from_nothing_applied_with_psql_is_the_migrated_catalog(
    tmp_path: Path, two_schemas: tuple[str, str]
) -> None:
    by_hand, migrated = two_schemas
    sql = _offline_sql(tmp_path, by_hand)
    assert "CREATE FUNCTION model_revisions_append_only()" in sql
    url = make_url(by_hand)
    (tmp_path / "upgrade.sql").write_text(sql)
    applied = subprocess.run(
        [
            "psql", "--no-psqlrc", "--quiet", "-v", "ON_ERROR_STOP=1",
            "-h", url.host or "127.0.0.1", "-p", str(url.port or 5432),
            "-U", url.username or "postgres", "-d", url.database or "postgres",
            "-f", str(tmp_path / "upgrade.sql"),
        ],
        env={
            **environment(tmp_path),
            "PGOPTIONS": str(url.query["options"]),  # -csearch_path=<the fresh schema>
            **({"PGPASSWORD": url.password} if url.password else {}),
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )  # fmt: skip
    assert applied.returncode == 0, applied.stderr
    _migrated(tmp_path, migrated)
    _at_head(tmp_path, by_hand)
    assert _schema_named_alike(by_hand) == _schema_named_alike(migrated)
    assert data_of(by_hand) == data_of(migrated)


def _schema_named_alike(url: str) -> str:
    """:func:`schema_of` with the schema's own name (in functions and triggers) made alike."""
    name = str(make_url(url).query["options"]).removeprefix("-csearch_path=")
    return json.dumps(schema_of(url), default=str, sort_keys=True).replace(name, "<schema>")


@pytest.mark.parametrize("start", ["0002", "0003"])
def test_sql_from_inside_the_data_migrations_says_where_it_can_start(
    tmp_path: Path, start: str
) -> None:
    # From 0002 or 0003 the rows the next data migration copies are in the database: offline
    # SQL cannot know them. It says so (E4012) and where it can start, and prints no SQL.
    env = environment(tmp_path, MODELREGISTRY_DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}")
    done = run("db", "upgrade", "--sql", "--from", start, env=env)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.startswith("error: E4012: ")
    assert "offline only from an empty database (or from 0004 on)" in done.stderr
    assert done.stderr.count("\n") == 1
