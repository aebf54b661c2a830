"""A role that may only SELECT: it reads everything and follows changes; its writes fail.

The role is set up by running the ``sql`` block of README's "Least privilege" section as
written (with this test's role, schema and database swapped in), so the documentation cannot
drift from what works. PostgreSQL only: SQLite has no roles.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from cases import GPT4_TURBO, config, database_dump
from modelregistry import (
    DatabaseError,
    ModelRegistry,
    ModelStatus,
    SchemaOutdatedError,
)
from modelregistry.cli import app
from modelregistry.db import migrate
from modelregistry.db.engine import make_engine

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from modelregistry import CatalogEvent

pytestmark = pytest.mark.reliability

README = Path(__file__).resolve().parents[2] / "README.md"
DEADLINE = 60.0


def readme_grants() -> str:
    """The ``sql`` block of README's "Least privilege" section."""
    text = README.read_text(encoding="utf-8")
    section = text.split("### Least privilege", 1)[1].split("\n## ", 1)[0]
    blocks: list[str] = re.findall(r"^```sql\n(.*?)^```$", section, flags=re.MULTILINE | re.DOTALL)
    assert len(blocks) == 1, "the Least privilege section has one sql block"
    return blocks[0]


def grants_for(role: str, password: str, database: str, schema: str) -> str:
    """The README's statements for this role, database and schema (each name must occur)."""
    sql = readme_grants()
    for documented, ours in {
        "modelregistry_reader": f'"{role}"',
        "'change-me'": f"'{password}'",
        "DATABASE modelregistry": f'DATABASE "{database}"',
        "SCHEMA public": f'SCHEMA "{schema}"',
    }.items():
        assert documented in sql, f"README's grants no longer mention {documented}"
        sql = sql.replace(documented, ours)
    return sql


def _schema_of(url: str) -> str:
    options = str(make_url(url).query["options"])
    return options.removeprefix("-csearch_path=")


@pytest.fixture
def owner_url(postgres_schema_url: str) -> str:
    """A catalog at the newest schema, with one extra model and some history."""
    with ModelRegistry(postgres_schema_url) as owner:
        owner.register_model(GPT4_TURBO)
        owner.update_model_status("gpt-4-turbo", "deprecated", reason="superseded")
    return postgres_schema_url


@pytest.fixture
def reader_factory(postgres_url: str) -> Iterator[Callable[[str], str]]:
    """Makes a SELECT-only role for a schema's URL (README's grants); returns its URL."""
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    roles: list[str] = []

    def reader_for(url: str) -> str:
        role = f"mr_reader_{uuid.uuid4().hex[:10]}"
        password = f"pw-{uuid.uuid4().hex}"
        database = str(make_url(postgres_url).database)
        roles.append(role)
        with admin.connect() as connection:
            for statement in grants_for(role, password, database, _schema_of(url)).split(";"):
                lines = [line for line in statement.splitlines() if not line.startswith("--")]
                if "".join(lines).strip():
                    connection.exec_driver_sql("\n".join(lines))
        parsed = make_url(url).set(username=role, password=password)
        rendered: str = parsed.render_as_string(hide_password=False)
        return rendered

    yield reader_for
    with admin.connect() as connection:
        for role in roles:
            connection.exec_driver_sql(f'DROP OWNED BY "{role}"')
            connection.exec_driver_sql(f'DROP ROLE "{role}"')
    admin.dispose()


def _reads(registry: ModelRegistry) -> dict[str, object]:
    """Every read method of the public API, with arguments that find something."""
    now = datetime.now(UTC)
    return {
        "get_model": registry.get_model("gpt-4-turbo"),
        "get_model_or_raise": registry.get_model_or_raise("llama3.1:8b"),
        "get_model as_of": registry.get_model("gpt-4-turbo", as_of=now),
        "list_models": registry.list_models(),
        "list_models filtered": registry.list_models("ollama", "active", capabilities=["vision"]),
        "list_models as_of": registry.list_models(as_of=now),
        "find_models": registry.find_models(capabilities=["streaming"], order_by="cost"),
        "select_model": registry.select_model(statuses=None, order_by="-context_window"),
        "get_models_by_capability": registry.get_models_by_capability("vision"),
        "get_models_by_capabilities": registry.get_models_by_capabilities(["tool_use"]),
        "get_models_by_provider": registry.get_models_by_provider("OpenAI"),
        "get_available_models": registry.get_available_models(),
        "get_providers": registry.get_providers(),
        "get_capabilities": registry.get_capabilities(),
        "get_models_retiring": registry.get_models_retiring(365),
        "get_stats": {k: v for k, v in registry.get_stats().items() if k != "cache"},
        "is_initialized": registry.is_initialized(),
        "get_model_history": registry.get_model_history("gpt-4-turbo"),
        "get_model_version": registry.get_model_version("gpt-4-turbo", 1),
        "diff_versions": registry.diff_versions("gpt-4-turbo", 1, 2),
        # Every field but the export's own time (schema version 2 carries it).
        "export_catalog": {
            key: value
            for key, value in json.loads(registry.export_catalog(format="json")).items()
            if key != "exported_at"
        },
        "import_catalog dry run": registry.import_catalog(
            {"models": [GPT4_TURBO]}, prune=True, dry_run=True
        ),
    }


def test_the_documented_grants_give_every_read_the_cache_and_the_change_feed(
    owner_url: str, reader_factory: Callable[[str], str]
) -> None:
    reader_url = reader_factory(owner_url)
    with (
        ModelRegistry(owner_url) as owner,
        # A poll interval far beyond the deadline: only NOTIFY can bring changes in time.
        ModelRegistry(reader_url, poll_interval=3600) as cached,
        ModelRegistry(reader_url, cache=False) as direct,
    ):
        expected = _reads(owner)
        assert _reads(cached) == expected
        assert _reads(direct) == expected
        assert cached.get_stats()["cache"]["state"] == "live"

        arrived = threading.Event()
        events: list[CatalogEvent] = []

        def on_change(event: CatalogEvent) -> None:
            events.append(event)
            arrived.set()

        cached.subscribe(on_change)
        owner.update_model_status("gpt-4-turbo", "disabled", reason="a change to follow")
        assert arrived.wait(DEADLINE), "the reader's change feed never delivered the change"
        assert [(e.model_id, e.change.value, e.version) for e in events] == [
            ("gpt-4-turbo", "status_changed", 3)
        ]
        assert cached.get_model_or_raise("gpt-4-turbo").status is ModelStatus.DISABLED
        cached.refresh()
        assert _reads(cached) == _reads(owner)


def test_every_write_of_a_select_only_role_fails_clearly_and_changes_nothing(
    owner_url: str, reader_factory: Callable[[str], str]
) -> None:
    reader_url = reader_factory(owner_url)
    role = make_url(reader_url).username
    before = database_dump(owner_url)
    writes: dict[str, Callable[[ModelRegistry], object]] = {
        "register_model": lambda r: r.register_model(config(model_id="new-model")),
        "register_model update": lambda r: r.register_model(config(context_window=1)),
        "update_model_status": lambda r: r.update_model_status("llama3.1:8b", "disabled"),
        "remove_model": lambda r: r.remove_model("llama3.2:3b"),
        "restore_model": lambda r: r.restore_model("gpt-4-turbo", 1),
        "import_catalog": lambda r: r.import_catalog({"models": [GPT4_TURBO]}, prune=True),
    }
    for cache in (True, False):
        with ModelRegistry(reader_url, cache=cache) as reader:
            for name, write in writes.items():
                with pytest.raises(DatabaseError) as raised:
                    write(reader)
                error = raised.value
                assert (error.code, error.retryable) == ("E4021", False), name
                assert "permission denied" in str(error), name
                assert repr(role) in str(error), name
                assert error.to_dict()["sqlstate"] == "42501"
                assert "pw-" not in str(error)
            # A write that changes nothing needs no privilege, and writes nothing.
            assert reader.load_default_models() == 0
            assert reader.get_stats()["total_models"] == 4
    assert database_dump(owner_url) == before


def test_the_cli_as_a_select_only_role_reads_and_refuses_writes_in_one_line(
    owner_url: str, reader_factory: Callable[[str], str]
) -> None:
    reader_url = reader_factory(owner_url)
    runner = CliRunner()
    listed = runner.invoke(app, ["--db", reader_url, "models", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    assert "gpt-4-turbo" in [m["model_id"] for m in json.loads(listed.stdout)]
    current = runner.invoke(app, ["--db", reader_url, "db", "current", "--json"])
    assert json.loads(current.stdout)["up_to_date"] is True
    refused = runner.invoke(
        app, ["--db", reader_url, "models", "set-status", "gpt-4-turbo", "active"]
    )
    assert refused.exit_code == 1
    assert refused.stderr.startswith("error: E4021: permission denied (")
    assert refused.stderr.count("\n") == 1
    upgrade = runner.invoke(app, ["--db", reader_url, "db", "downgrade", "0002", "--yes"])
    assert upgrade.exit_code == 1
    assert upgrade.stderr.startswith("error: E4021: permission denied (")


def test_a_select_only_role_never_migrates_and_says_why(
    postgres_schema_url: str, reader_factory: Callable[[str], str]
) -> None:
    engine = make_engine(postgres_schema_url)
    try:
        # An empty schema: creating the catalog takes the owner.
        with pytest.raises(DatabaseError, match="permission denied") as raised:
            ModelRegistry(reader_factory(postgres_schema_url))
        assert raised.value.to_dict()["sqlstate"] == "42501"
        assert migrate.current(engine) is None
        # An older schema: refused as outdated; with auto_migrate, the upgrade is refused.
        migrate.upgrade(engine, "0002")
        reader_url = reader_factory(postgres_schema_url)
        with pytest.raises(SchemaOutdatedError):
            ModelRegistry(reader_url)
        with pytest.raises(DatabaseError, match="permission denied"):
            ModelRegistry(reader_url, auto_migrate=True)
        assert migrate.current(engine) == "0002"
    finally:
        engine.dispose()
