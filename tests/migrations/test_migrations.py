"""Alembic revisions: round trips, agreement with db/tables.py, seeded data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.dialects.postgresql import JSONB

from cases import CATALOG_TABLES
from modelregistry import ModelRegistry
from modelregistry.db import migrate
from modelregistry.db.engine import make_engine
from modelregistry.db.tables import Base, UTCDateTime
from modelregistry.domain.defaults import DEFAULT_MODELS

if TYPE_CHECKING:
    from collections.abc import Iterator

SYNC_TABLES = {"sync_sources", "model_sync_bases"}
"""Revision 0006's tables (upstream sync)."""
RESTATEMENTS = "model_price_restatements"
"""Revision 0007's table."""
RATES = "model_price_rates"
"""Revision 0008's table."""
TAGS = "model_tags"
"""Revision 0009's table."""
REPORTING_VIEWS = {
    "model_catalog",
    "provider_summary",
    "capability_summary",
    "price_history",
    "model_changes",
    "price_rates",
}
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def tables(engine: sa.Engine) -> set[str]:
    with engine.connect() as connection:
        return set(sa.inspect(connection).get_table_names()) - {"modelregistry_alembic_version"}


def views(engine: sa.Engine) -> set[str]:
    with engine.connect() as connection:
        return set(sa.inspect(connection).get_view_names())


def schema_diff(engine: sa.Engine) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "version_table": migrate.VERSION_TABLE}
        )
        diff: list[object] = compare_metadata(context, Base.metadata)
        return diff


def test_known_revisions_match_alembics_graph() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config())
    walked = [rev.revision for rev in reversed(list(script.walk_revisions()))]
    assert (
        list(migrate.known_revisions())
        == walked
        == ["0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008", "0009"]
    )
    assert migrate.head_revision() == script.get_current_head()


def test_upgrade_downgrade_upgrade_round_trip(engine: sa.Engine) -> None:
    migrate.upgrade(engine)
    assert tables(engine) == set(CATALOG_TABLES)
    # Autogenerate compares tables only: the views are there, and no difference is reported.
    assert views(engine) == REPORTING_VIEWS
    assert schema_diff(engine) == []
    migrate.downgrade(engine, "base")
    assert tables(engine) == set()
    assert views(engine) == set()
    assert migrate.current(engine) is None
    migrate.upgrade(engine)
    assert migrate.current(engine) == migrate.head_revision()
    assert schema_diff(engine) == []
    with ModelRegistry(str(engine.url.render_as_string(hide_password=False))) as registry:
        assert registry.list_models() == list(DEFAULT_MODELS)


def test_every_revision_downgrades_one_step_cleanly(engine: sa.Engine) -> None:
    revisions = migrate.known_revisions()
    for revision in revisions:
        migrate.upgrade(engine, revision)
        assert migrate.current(engine) == revision
    for expected in reversed((None, *revisions[:-1])):
        migrate.downgrade(engine, "-1")
        assert migrate.current(engine) == expected
    assert tables(engine) == set()


def test_seed_revision_creates_exactly_the_default_models(database_url: str) -> None:
    with ModelRegistry(database_url) as registry:
        assert registry.list_models() == sorted(DEFAULT_MODELS, key=lambda m: m.model_id)


def test_downgrading_the_seed_removes_only_seeded_rows(
    database_url: str, engine: sa.Engine
) -> None:
    with ModelRegistry(database_url) as registry:
        registry.register_model(
            {
                "model_id": "qwen2:7b",
                "provider": "ollama",
                "context_window": 32768,
                "max_output_tokens": 4096,
                "capabilities": {"supports_streaming": True},
            }
        )
    migrate.downgrade(engine, "0001")
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT model_id FROM models")).scalars().all() == [
            "qwen2:7b"
        ]
        assert connection.execute(sa.text("SELECT name FROM providers")).scalars().all() == [
            "ollama"
        ]
        assert connection.execute(sa.text("SELECT name FROM capabilities")).scalars().all() == [
            "streaming"
        ]


def test_alembic_command_line_works_from_a_checkout(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    env = {**os.environ, "MODELREGISTRY_DATABASE_URL": url}
    alembic = [sys.executable, "-m", "alembic", "-c", str(ROOT / "alembic.ini")]
    subprocess.run([*alembic, "upgrade", "head"], check=True, env=env, capture_output=True)
    current = subprocess.run(
        [*alembic, "current"], check=True, env=env, capture_output=True, text=True
    )
    assert f"{migrate.head_revision()} (head)" in current.stdout
    subprocess.run([*alembic, "downgrade", "base"], check=True, env=env, capture_output=True)
    engine = make_engine(url)
    try:
        assert tables(engine) == set()
    finally:
        engine.dispose()


def test_constraints_and_collations_autogenerate_cannot_see(engine: sa.Engine) -> None:
    migrate.upgrade(engine)
    with engine.connect() as connection:
        inspector = sa.inspect(connection)
        checks = {check["name"] for check in inspector.get_check_constraints("models")}
        assert checks >= {
            "ck_models_status",
            "ck_models_context_window_positive",
            "ck_models_max_output_tokens_positive",
            "ck_models_costs_non_negative",
        }
        if engine.dialect.name == "postgresql":
            collations = {
                (table, column["name"]): getattr(column["type"], "collation", None)
                for table in ("models", "providers", "capabilities", "model_revisions")
                for column in inspector.get_columns(table)
            }
            for key in [
                ("models", "model_id"),
                ("models", "successor_model_id"),
                ("providers", "name"),
                ("capabilities", "name"),
                ("model_revisions", "model_id"),
            ]:
                assert collations[key] == "C", key
        with pytest.raises(sa.exc.IntegrityError):
            connection.execute(sa.text("UPDATE models SET status = 'retired'"))


def test_0004_rebuilds_the_price_history_from_the_model_history(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        migrate.upgrade(engine, "0003")
        revisions = sa.table(
            "model_revisions",
            *(sa.column(name) for name in ("model_id", "version", "change", "actor", "reason")),
            sa.column("config", sa.JSON().with_variant(JSONB(), "postgresql")),
            sa.column("changed_at", UTCDateTime()),
        )
        base = dict(DEFAULT_MODELS[0].model_dump(mode="json"), model_id="x")
        t = [datetime(2026, 1, day, tzinfo=UTC) for day in (1, 2, 3, 4)]
        steps = [  # (change, costs): only the first and third change the price
            ("created", (1.5, 2.0)),
            ("status_changed", (1.5, 2.0)),
            ("updated", (0.1, 4.0)),
            ("removed", (0.1, 4.0)),
        ]
        with engine.begin() as connection:
            connection.execute(
                sa.insert(revisions),
                [
                    {
                        "model_id": "x",
                        "version": number + 1,
                        "change": change,
                        "actor": "alice",
                        "reason": None,
                        "config": base
                        | {"cost_per_1m_input_tokens": i, "cost_per_1m_output_tokens": o},
                        "changed_at": t[number],
                    }
                    for number, (change, (i, o)) in enumerate(steps)
                ],
            )
        migrate.upgrade(engine)
    finally:
        engine.dispose()
    with ModelRegistry(database_url, cache=False) as registry:
        history = registry.get_price_history("x")
        assert [
            (p.input_per_1m, p.output_per_1m, p.effective_from, p.effective_until, p.actor)
            for p in history
        ] == [
            (Decimal("1.5"), Decimal(2), t[0], t[2], "alice"),
            (Decimal("0.1"), Decimal(4), t[2], None, "alice"),
        ]
        # Estimates for the past use the price of then; the model itself is gone.
        assert registry.estimate_cost("x", 10**6, 10**6, at=t[1]) == Decimal("3.5")
        assert registry.get_model("x") is None


def test_0005_views_come_and_go_and_delete_nothing(database_url: str, engine: sa.Engine) -> None:
    with ModelRegistry(database_url) as registry:
        registry.set_price("llama3.1:8b", "0.5", "1.5", reason="hosted")
        before = registry.get_price_history("llama3.1:8b")
    migrate.downgrade(engine, "0004")
    assert views(engine) == set()
    assert tables(engine) == set(CATALOG_TABLES) - SYNC_TABLES - {RESTATEMENTS, RATES, TAGS}
    # Tables as at 0004: 0005 added no table (0006's to 0009's are the only difference).
    added = {diff[1].name for diff in schema_diff(engine) if diff[0] == "add_table"}  # type: ignore[index]
    assert added == SYNC_TABLES | {RESTATEMENTS, RATES, TAGS}
    migrate.upgrade(engine)
    assert views(engine) == REPORTING_VIEWS
    with ModelRegistry(database_url) as registry:
        assert registry.get_price_history("llama3.1:8b") == before
    with engine.connect() as connection:
        prices = connection.execute(
            sa.text(
                "SELECT cost_per_1m_input_tokens FROM model_catalog WHERE model_id = 'llama3.1:8b'"
            )
        ).scalar_one()
    assert Decimal(str(prices)) == Decimal("0.5")


def test_0006_adds_the_sync_tables_and_provenance_to_model_catalog_and_takes_them_back(
    engine: sa.Engine,
) -> None:
    def catalog_columns() -> list[str]:
        with engine.connect() as connection:
            return [c["name"] for c in sa.inspect(connection).get_columns("model_catalog")]

    migrate.upgrade(engine)
    provenance = ["sync_source", "sync_location", "sync_content_sha256", "sync_etag", "synced_at"]
    assert catalog_columns()[-5:] == provenance
    migrate.downgrade(engine, "0005")
    assert not (SYNC_TABLES | {RESTATEMENTS, RATES, TAGS}) & tables(engine)
    assert views(engine) == REPORTING_VIEWS - {"price_rates"}  # 0008's view
    columns = catalog_columns()
    assert columns[-1] == "updated_at"
    assert not set(provenance) & set(columns)
    with engine.connect() as connection:  # the view of 0005 still answers
        assert connection.execute(sa.text("SELECT COUNT(*) FROM model_catalog")).scalar_one() == 3
    migrate.upgrade(engine)
    assert catalog_columns()[-5:] == provenance
    assert schema_diff(engine) == []


def test_0007_restatements_are_append_only_and_go_with_the_downgrade(
    database_url: str, engine: sa.Engine
) -> None:
    with ModelRegistry(database_url) as registry:
        document = {
            "schema_version": 2,
            "models": [registry.get_model_or_raise("llama3.1:8b").model_dump(mode="json")],
            "prices": {
                "llama3.1:8b": [
                    {
                        "effective_from": "2026-01-01T00:00:00+00:00",
                        "input_per_1m": "0.5",
                        "output_per_1m": "1",
                        "cached_input_per_1m": None,
                        "recorded_at": "2026-01-01T00:00:00+00:00",
                        "actor": "ops",
                    }
                ]
            },
        }
        registry.import_catalog(document)
        assert [p.input_per_1m for p in registry.get_price_history("llama3.1:8b")] == [
            Decimal("0.5")
        ]
    history = "SELECT COUNT(*) FROM price_history WHERE model_id = 'llama3.1:8b'"
    cost = "SELECT cost_per_1m_input_tokens FROM model_catalog WHERE model_id = 'llama3.1:8b'"
    with engine.connect() as connection:  # the views count only the restated timeline
        assert connection.execute(sa.text(history)).scalar_one() == 1
        assert Decimal(str(connection.execute(sa.text(cost)).scalar_one())) == Decimal("0.5")
    for statement in (
        "DELETE FROM model_price_restatements",
        "UPDATE model_price_restatements SET actor = 'x'",
    ):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), engine.begin() as c:
            c.execute(sa.text(statement))
    migrate.downgrade(engine, "0006")
    assert RESTATEMENTS not in tables(engine)
    with engine.connect() as connection:  # the price rows stay: the seeded one, then 0.5
        count = "SELECT COUNT(*) FROM model_prices WHERE model_id = 'llama3.1:8b'"
        assert connection.execute(sa.text(count)).scalar_one() == 2
        assert connection.execute(sa.text(history)).scalar_one() == 2  # the view of 0006
    migrate.upgrade(engine)
    assert schema_diff(engine) == []


def test_0009_adds_the_model_fields_unknown_for_existing_models_and_takes_them_back(
    database_url: str, engine: sa.Engine
) -> None:
    descriptive = [
        "input_modalities",
        "output_modalities",
        "mode",
        "release_date",
        "knowledge_cutoff",
        "open_weights",
    ]

    def columns(table: str) -> list[str]:
        with engine.connect() as connection:
            return [c["name"] for c in sa.inspect(connection).get_columns(table)]

    migrate.upgrade(engine, "0008")
    migrate.upgrade(engine)
    # Nothing invented for the models already there: every field unknown.
    with ModelRegistry(database_url) as registry:
        seeded = registry.get_model_or_raise("llama3.1:8b")
        assert (seeded.input_modalities, seeded.mode, seeded.open_weights) == ((), None, None)
        assert seeded.tags == {}
        registry.register_model(
            {**seeded.model_dump(), "input_modalities": ["text"], "tags": {"team": "ml"}}
        )
    assert set(descriptive) <= set(columns("models"))
    assert set(descriptive) | {"tags"} <= set(columns("model_catalog"))
    migrate.downgrade(engine, "0008")
    assert TAGS not in tables(engine)
    assert not set(descriptive) & set(columns("models"))
    assert not ({"tags", *descriptive}) & set(columns("model_catalog"))
    assert views(engine) == REPORTING_VIEWS
    with engine.connect() as connection:
        # The view of 0008 still answers, and the revision keeps what the columns lost.
        assert connection.execute(sa.text("SELECT COUNT(*) FROM model_catalog")).scalar_one() == 3
        config = connection.execute(
            sa.text(
                "SELECT config FROM model_revisions WHERE model_id = 'llama3.1:8b' "
                "ORDER BY version DESC LIMIT 1"
            )
        ).scalar_one()
    document = json.loads(config) if isinstance(config, str) else config
    assert document["tags"] == {"team": "ml"}
    migrate.upgrade(engine)
    assert schema_diff(engine) == []
