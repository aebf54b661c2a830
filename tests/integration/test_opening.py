"""Opening a catalog: default locations, schema checks, concurrent first use, bad URLs."""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from modelregistry import (
    DatabaseError,
    DatabaseUnavailableError,
    ModelRegistry,
    SchemaOutdatedError,
    SchemaUnknownError,
)
from modelregistry.db import migrate
from modelregistry.db.engine import make_engine
from modelregistry.settings import default_database_path

if TYPE_CHECKING:
    from collections.abc import Callable
    from multiprocessing.queues import Queue
    from multiprocessing.synchronize import Barrier
    from pathlib import Path

from cases import GPT4_TURBO, in_processes

pytestmark = pytest.mark.both_apis


def test_environment_variable_names_the_default_database(
    open_registry: Callable[..., ModelRegistry], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "from-env.db"
    monkeypatch.setenv("MODELREGISTRY_DATABASE_URL", f"sqlite:///{path}")
    with open_registry() as registry:
        registry.register_model(GPT4_TURBO)
        assert registry.url == f"sqlite:///{path}"
    assert path.exists()
    with open_registry(f"sqlite:///{path}") as registry:
        assert registry.get_model("gpt-4-turbo") is not None


def test_without_a_url_an_embedded_sqlite_file_is_created_in_the_user_data_dir(
    open_registry: Callable[..., ModelRegistry],
    tmp_path: Path,
) -> None:
    expected = tmp_path / "xdg-data" / "modelregistry" / "catalog.db"
    assert default_database_path() == expected
    assert not expected.exists()
    with open_registry() as registry:
        registry.update_model_status("llama3.1:8b", "maintenance")
    assert expected.exists()
    with open_registry() as registry:
        assert registry.get_model_or_raise("llama3.1:8b").status.value == "maintenance"


def test_in_memory_sqlite_is_private_to_its_registry(
    open_registry: Callable[..., ModelRegistry],
) -> None:
    with open_registry("sqlite://") as first, open_registry("sqlite://") as second:
        first.register_model(GPT4_TURBO)
        assert first.get_model("gpt-4-turbo") is not None
        assert second.get_model("gpt-4-turbo") is None
        assert second.get_stats()["total_models"] == 3


def test_an_older_schema_is_refused_and_left_unchanged(
    open_registry: Callable[..., ModelRegistry], database_url: str
) -> None:
    engine = make_engine(database_url)
    try:
        migrate.upgrade(engine, "0001")
        with pytest.raises(SchemaOutdatedError, match="modelregistry db upgrade") as raised:
            open_registry(database_url)
        assert raised.value.code == "E4010"
        assert migrate.current(engine) == "0001"
        with engine.connect() as connection:
            assert connection.execute(sa.text("SELECT COUNT(*) FROM models")).scalar() == 0
    finally:
        engine.dispose()


def test_auto_migrate_upgrades_an_older_schema(
    open_registry: Callable[..., ModelRegistry], database_url: str
) -> None:
    engine = make_engine(database_url)
    try:
        migrate.upgrade(engine, "0001")
    finally:
        engine.dispose()
    with open_registry(database_url, auto_migrate=True) as registry:
        assert registry.is_initialized()
        assert registry.get_stats()["total_models"] == 3


def test_an_unknown_newer_revision_is_refused_and_nothing_is_touched(
    open_registry: Callable[..., ModelRegistry], database_url: str, raw_engine: sa.Engine
) -> None:
    open_registry(database_url).close()
    with raw_engine.begin() as connection:
        connection.execute(sa.text("UPDATE modelregistry_alembic_version SET version_num = '9999'"))
        before = connection.execute(sa.text("SELECT * FROM models ORDER BY id")).all()
    for auto_migrate in (False, True):
        with pytest.raises(SchemaUnknownError, match="9999") as raised:
            open_registry(database_url, auto_migrate=auto_migrate)
        assert raised.value.code == "E4011"
    engine = make_engine(database_url)
    try:
        with pytest.raises(SchemaUnknownError):
            migrate.upgrade(engine)
        assert migrate.current(engine) == "9999"
    finally:
        engine.dispose()
    with raw_engine.connect() as connection:
        assert connection.execute(sa.text("SELECT * FROM models ORDER BY id")).all() == before


def _open_and_report(url: str, barrier: Barrier, results: Queue[str]) -> None:
    barrier.wait(timeout=120)
    try:
        with ModelRegistry(url) as registry:
            results.put(f"ok {registry.get_stats()['total_models']}")
    except Exception as exc:  # noqa: BLE001 - the parent reports whatever happened
        results.put(f"error {type(exc).__name__}: {exc}")


@pytest.mark.slow
def test_processes_opening_one_empty_database_at_once_create_one_schema(
    database_url: str, raw_engine: sa.Engine
) -> None:
    processes = 6
    outcomes = in_processes(_open_and_report, [(database_url,)] * processes, timeout=180)
    assert outcomes == ["ok 3"] * processes
    with raw_engine.connect() as connection:
        assert connection.execute(
            sa.text("SELECT version_num FROM modelregistry_alembic_version")
        ).all() == [(migrate.head_revision(),)]
        assert connection.execute(sa.text("SELECT COUNT(*) FROM models")).scalar() == 3
        assert connection.execute(sa.text("SELECT COUNT(*) FROM providers")).scalar() == 1
        assert connection.execute(sa.text("SELECT COUNT(*) FROM capabilities")).scalar() == 3
        # Seeded once: one revision per default model, each version 1.
        assert connection.execute(
            sa.text("SELECT model_id, version FROM model_revisions ORDER BY model_id")
        ).all() == [("llama3.1:8b", 1), ("llama3.2:3b", 1), ("llava-llama3:latest", 1)]


def test_an_unreachable_database_is_e4020_without_the_password(
    open_registry: Callable[..., ModelRegistry],
) -> None:
    with pytest.raises(DatabaseUnavailableError) as raised:
        open_registry("postgresql://admin:s3cr3t-pw@127.0.0.1:1/catalog?connect_timeout=5")
    error = raised.value
    assert error.code == "E4020"
    assert error.retryable is True
    assert "s3cr3t-pw" not in str(error)
    assert "s3cr3t-pw" not in repr(error.to_dict())
    assert "admin:***@127.0.0.1:1" in str(error)


def test_a_malformed_url_is_e4021(open_registry: Callable[..., ModelRegistry]) -> None:
    with pytest.raises(DatabaseError) as raised:
        open_registry("this is not a database url")
    assert raised.value.code == "E4021"


def test_repr_and_url_mask_the_password(
    api: str, open_registry: Callable[..., ModelRegistry], tmp_path: Path
) -> None:
    name = "AsyncModelRegistry" if api == "async" else "ModelRegistry"
    with open_registry(f"sqlite:///{tmp_path / 'r.db'}") as registry:
        assert repr(registry) == f"{name}('sqlite:///{tmp_path / 'r.db'}')"


def test_close_releases_every_connection(
    open_registry: Callable[..., ModelRegistry], postgres_schema_url: str, postgres_url: str
) -> None:
    name = f"mr-close-{uuid.uuid4().hex[:8]}"
    url = make_url(postgres_schema_url).update_query_dict({"application_name": name})
    count = sa.text("SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = :name")
    observer = sa.create_engine(postgres_url)
    try:
        with open_registry(url.render_as_string(hide_password=False)) as registry:
            registry.get_stats()
            with observer.connect() as connection:
                assert connection.execute(count, {"name": name}).scalar_one() >= 1
        deadline = time.monotonic() + 30
        while True:
            with observer.connect() as connection:
                remaining = connection.execute(count, {"name": name}).scalar_one()
            if remaining == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert remaining == 0
    finally:
        observer.dispose()


def test_reads_survive_the_server_dropping_pooled_connections(
    open_registry: Callable[..., ModelRegistry], postgres_schema_url: str, postgres_url: str
) -> None:
    name = f"mr-drop-{uuid.uuid4().hex[:8]}"
    url = make_url(postgres_schema_url).update_query_dict({"application_name": name})
    observer = sa.create_engine(postgres_url)
    sessions = sa.text("SELECT pid FROM pg_stat_activity WHERE application_name = :name")
    terminate = sa.text("SELECT pg_terminate_backend(pid) FROM unnest(:pids) AS pid")
    alive = sa.text("SELECT COUNT(*) FROM pg_stat_activity WHERE pid = ANY(:pids)")
    try:
        # Without the cache, so that the reads below need the (dead) pooled connection.
        with open_registry(url.render_as_string(hide_password=False), cache=False) as registry:
            registry.register_model(GPT4_TURBO)
            assert registry.get_model("gpt-4-turbo") is not None
            with observer.begin() as connection:
                pids = list(connection.execute(sessions, {"name": name}).scalars())
                assert pids
                connection.execute(terminate, {"pids": pids})
            # Wait for those sessions to end (the change feed may open a new one at once).
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                with observer.connect() as connection:
                    if connection.execute(alive, {"pids": pids}).scalar_one() == 0:
                        break
                time.sleep(0.05)
            # The pooled connection is dead; the read notices, drops it and retries once.
            assert registry.get_model_or_raise("gpt-4-turbo").model_id == "gpt-4-turbo"
            assert registry.get_stats()["total_models"] == 4
    finally:
        observer.dispose()
