"""Shared fixtures: every catalog test runs on SQLite and on PostgreSQL.

PostgreSQL comes from ``MODELREGISTRY_TEST_POSTGRES_URL``, else the local server on
127.0.0.1:5432, else a container started through testcontainers (``postgres_source.py``). Each
test gets its own schema there (``search_path``), built by the real migrations, and dropped
afterwards. When no source works the PostgreSQL half is skipped with the reason, unless
``MODELREGISTRY_REQUIRE_POSTGRES=1`` (CI), where it fails the run.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from async_bridge import opener
from modelregistry.cli import app
from postgres_source import PostgresChoice, postgres_schema, real_choice

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from typer.testing import Result

    from cases import Cli
    from modelregistry import ModelRegistry

BACKENDS = ("sqlite", "postgresql")
APIS = ("sync", "async")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run the tests of modules marked ``both_apis`` against ModelRegistry and
    AsyncModelRegistry alike (the ``api`` fixture; every other test uses the sync API)."""
    if "api" in metafunc.fixturenames and metafunc.definition.get_closest_marker("both_apis"):
        metafunc.parametrize("api", APIS, indirect=True)


@pytest.fixture(scope="session")
def postgres_source() -> Iterator[PostgresChoice]:
    """The suite's PostgreSQL, chosen once (a container it started is stopped at the end)."""
    choice = real_choice(os.environ)
    try:
        yield choice
    finally:
        if choice.container is not None:
            choice.container.stop()


@pytest.fixture(scope="session")
def postgres_url(postgres_source: PostgresChoice) -> str:
    """The PostgreSQL server URL; skip, or fail under MODELREGISTRY_REQUIRE_POSTGRES=1."""
    if postgres_source.action == "fail":
        pytest.fail(f"MODELREGISTRY_REQUIRE_POSTGRES=1 but {postgres_source.reason}", pytrace=False)
    if postgres_source.url is None:
        pytest.skip(postgres_source.reason)
    return postgres_source.url


@pytest.fixture
def postgres_schema_url(postgres_url: str) -> Iterator[str]:
    """A URL whose connections use a fresh, empty schema of the PostgreSQL test database."""
    with postgres_schema(postgres_url) as url:
        yield url


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The name of the backend under test."""
    name: str = request.param
    return name


@pytest.fixture
def database_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """URL of an empty database on the backend under test (not yet migrated)."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'catalog.db'}"
    url: str = request.getfixturevalue("postgres_schema_url")
    return url


@pytest.fixture
def api(request: pytest.FixtureRequest) -> str:
    """The API under test: ``sync`` (ModelRegistry) or ``async`` (AsyncModelRegistry)."""
    name: str = getattr(request, "param", "sync")
    return name


@pytest.fixture
def open_registry(api: str) -> Callable[..., ModelRegistry]:
    """Opens a registry with the API under test: ``open_registry(url, **options)``.

    For ``async``, an AsyncModelRegistry driven through blocking calls (tests/async_bridge.py).
    """
    return opener(api)


@pytest.fixture
def registry(
    database_url: str, open_registry: Callable[..., ModelRegistry]
) -> Iterator[ModelRegistry]:
    """A registry on a fresh catalog (migrated, seeded with the three default models)."""
    with open_registry(database_url) as opened:
        yield opened


@pytest.fixture
def raw_engine(database_url: str) -> Iterator[sa.Engine]:
    """A plain SQLAlchemy engine on the same database, to look behind the registry's back."""
    engine = sa.create_engine(make_url(database_url).set(drivername=_driver(database_url)))
    yield engine
    engine.dispose()


def _driver(url: str) -> str:
    name = make_url(url).get_backend_name()
    return "postgresql+psycopg" if name == "postgresql" else "sqlite"


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Keep the developer's catalog and settings out of every test."""
    monkeypatch.delenv("MODELREGISTRY_DATABASE_URL", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))


@pytest.fixture
def cli(database_url: str) -> Cli:
    """The ``modelregistry`` command line on the backend under test, on a catalog created
    beforehand (migrated and seeded; what first use prints: tests/cli/test_cli_conventions.py)."""
    from modelregistry import ModelRegistry  # noqa: PLC0415 - only for this fixture

    ModelRegistry(database_url, cache=False).close()
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(app, ["--database-url", database_url, *args], catch_exceptions=False)

    return invoke
