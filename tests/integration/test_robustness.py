"""Inputs and situations a catalog meets in real use: threads, odd ids, refused databases."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from cases import config, in_threads
from modelregistry import DatabaseError, ModelNotFoundError, ModelRegistry, SchemaUnknownError

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    import sqlalchemy as sa

pytestmark = pytest.mark.both_apis

THREADS = 8
PER_THREAD = 20


@pytest.fixture(params=["memory", "file-or-postgresql"])
def threaded_url(request: pytest.FixtureRequest, database_url: str) -> str:
    return "sqlite://" if request.param == "memory" else database_url


def test_one_registry_serves_many_threads(
    open_registry: Callable[..., ModelRegistry], threaded_url: str
) -> None:
    with open_registry(threaded_url) as registry:

        def work(thread: int) -> None:
            for i in range(PER_THREAD):
                model_id = f"t{thread}-m{i}"
                registry.register_model(config(model_id=model_id))
                assert registry.get_model_or_raise(model_id).model_id == model_id
                registry.get_stats()

        assert in_threads(work, THREADS) == []
        assert registry.get_stats()["total_models"] == 3 + THREADS * PER_THREAD
        assert len(registry.get_model_history("t0-m0")) == 1


@pytest.mark.parametrize("model_id", ["a\x00b", "a\ud800", "with space", "", "x" * 300])
def test_ids_no_model_can_have_are_simply_missing_on_both_backends(
    registry: ModelRegistry, model_id: str
) -> None:
    assert registry.get_model(model_id) is None
    with pytest.raises(ModelNotFoundError):
        registry.update_model_status(model_id, "active")
    with pytest.raises(ModelNotFoundError):
        registry.remove_model(model_id)
    with pytest.raises(ModelNotFoundError):
        registry.get_model_history(model_id)


@pytest.mark.parametrize("name", ["\udc00", "a\x00", "vision!", "a,b"])
def test_capabilities_and_providers_no_model_can_have_match_nothing(
    registry: ModelRegistry, name: str
) -> None:
    assert registry.get_models_by_capability(name) == []
    assert registry.get_models_by_capabilities(["streaming", name]) == []
    assert registry.get_models_by_provider(name) == []
    assert registry.list_models(provider=name, status="active") == []


def test_a_refused_sqlite_database_is_left_byte_for_byte_untouched(
    open_registry: Callable[..., ModelRegistry], tmp_path: Path
) -> None:
    path = tmp_path / "newer.db"
    open_registry(f"sqlite:///{path}").close()
    import sqlite3  # noqa: PLC0415 - a plain connection, outside modelregistry

    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA journal_mode = DELETE")
        connection.execute("UPDATE modelregistry_alembic_version SET version_num = '9999'")
    connection.close()
    before = path.read_bytes()
    with pytest.raises(SchemaUnknownError):
        open_registry(f"sqlite:///{path}")
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["newer.db"]


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("mysql://user@127.0.0.1/catalog", "MySQL is not supported"),
        ("mariadb://user@127.0.0.1/catalog", "MariaDB is not supported"),
        ("catalog.db", "write sqlite:///catalog.db"),
    ],
)
def test_an_unsupported_or_bare_url_is_e4021_saying_what_to_write(
    open_registry: Callable[..., ModelRegistry], url: str, said: str
) -> None:
    with pytest.raises(DatabaseError, match=said) as raised:
        open_registry(url)
    assert raised.value.code == "E4021"
    assert not raised.value.retryable


@pytest.mark.parametrize("url", ["postgresql+psycopg2://user@127.0.0.1/catalog"])
def test_a_url_whose_driver_is_not_installed_is_e4021(
    open_registry: Callable[..., ModelRegistry], url: str
) -> None:
    with pytest.raises(DatabaseError, match="driver is not installed") as raised:
        open_registry(url)
    assert raised.value.code == "E4021"


def test_an_empty_url_is_refused_rather_than_guessed(
    open_registry: Callable[..., ModelRegistry],
) -> None:
    with pytest.raises(DatabaseError, match="empty"):
        open_registry("")


def test_sqlite_errors_that_are_not_about_reachability_are_not_retryable(
    open_registry: Callable[..., ModelRegistry], database_url: str, raw_engine: sa.Engine
) -> None:
    with open_registry(database_url, cache=False) as registry:
        with raw_engine.begin() as connection:
            # PostgreSQL drops the reporting views that read the table too (SQLite leaves them).
            cascade = " CASCADE" if connection.dialect.name == "postgresql" else ""
            connection.exec_driver_sql(f"DROP TABLE model_capabilities{cascade}")
        with pytest.raises(DatabaseError) as raised:
            registry.get_model("llama3.1:8b")
        assert raised.value.retryable is False
