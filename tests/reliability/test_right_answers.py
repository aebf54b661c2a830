"""Right answers under faults: restored backups, clock skew, a SQLite file replaced.

A backup restored under a running cache (``pg_restore --clean``, or SQLite's backup API into
the live file) is another timeline of the database, even where it replays the same revision
numbers, ids and versions: the cache reloads it. A server clock ahead of this machine's
(PostgreSQL: a ``clock_timestamp()`` 5 s ahead, earlier on the search path) never puts a
process's reads before its own writes. A SQLite file deleted or replaced under a running
process refuses writes (E4022) and its cache goes stale.
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import subprocess
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from cases import GPT4_TURBO, config
from modelregistry import DatabaseReplacedError, ModelRegistry

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

pytestmark = pytest.mark.reliability

DEADLINE = 60.0


def wait_for(predicate: Callable[[], bool], what: str, deadline: float = DEADLINE) -> None:
    limit = time.monotonic() + deadline
    while not predicate():
        if time.monotonic() > limit:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


# -- restored backups ------------------------------------------------------------------------


def _postgres_binary(name: str) -> str | None:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    return str(found[-1]) if found else shutil.which(name)


@contextlib.contextmanager
def _backup_and_restore(database_url: str, tmp_path: Path) -> Iterator[Callable[[], None]]:
    """Take a backup now; yield a function that restores it into the live database."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        path = str(url.database)
        backup = str(tmp_path / "backup.db")
        with (
            contextlib.closing(sqlite3.connect(path)) as live,
            contextlib.closing(sqlite3.connect(backup)) as copy,
        ):
            live.backup(copy)

        def restore_sqlite() -> None:
            with (
                contextlib.closing(sqlite3.connect(backup)) as copy,
                contextlib.closing(sqlite3.connect(path)) as live,
            ):
                copy.backup(live)  # into the live file, as the README says (no rename)

        yield restore_sqlite
        return
    dump, restore = _postgres_binary("pg_dump"), _postgres_binary("pg_restore")
    if dump is None or restore is None:
        pytest.skip("pg_dump/pg_restore are not installed")
    schema = str(url.query["options"]).removeprefix("-csearch_path=")
    libpq = url.set(drivername="postgresql").difference_update_query(["options"])
    conninfo = libpq.render_as_string(hide_password=False)
    archive = tmp_path / "backup.dump"
    subprocess.run(
        [dump, "-Fc", "-n", schema, "-f", str(archive), conninfo],
        check=True,
        capture_output=True,
        timeout=120,
    )

    def restore_postgres() -> None:
        subprocess.run(
            [restore, "--clean", "-d", conninfo, str(archive)],
            check=True,
            capture_output=True,
            timeout=120,
        )

    yield restore_postgres


def test_a_restored_backup_is_reloaded_not_mistaken_for_the_same_history(
    database_url: str, tmp_path: Path
) -> None:
    with ModelRegistry(database_url, poll_interval=3600) as reader:
        reader.register_model(GPT4_TURBO)
        with (
            _backup_and_restore(database_url, tmp_path) as restore,
            ModelRegistry(database_url, cache=False) as writer,
        ):
            writer.update_model_status("gpt-4-turbo", "deprecated")  # version 2
            reader.refresh()
            assert reader.get_model_or_raise("gpt-4-turbo").status.value == "deprecated"
            restore()
            # A different change, numbered, and at the version, as the undone one was.
            writer.update_model_status("gpt-4-turbo", "disabled")
            truth = writer.list_models()
        reader.refresh()
        assert reader.get_model_or_raise("gpt-4-turbo").version == 2
        assert reader.get_model_or_raise("gpt-4-turbo").status.value == "disabled"
        assert reader.list_models() == truth
        assert reader.get_stats()["cache"]["state"] == "live"


# -- clock skew ------------------------------------------------------------------------------


@pytest.fixture
def server_ahead(postgres_schema_url: str) -> str:
    """The test's schema with a ``clock_timestamp()`` 5 s ahead, found before pg_catalog's."""
    url = make_url(postgres_schema_url)
    schema = str(url.query["options"]).removeprefix("-csearch_path=")
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(
                f'CREATE FUNCTION "{schema}".clock_timestamp() RETURNS timestamptz '
                "LANGUAGE sql AS $$ SELECT pg_catalog.clock_timestamp() + interval '5 s' $$"
            )
    finally:
        engine.dispose()
    ahead = url.update_query_dict({"options": f"-csearch_path={schema},pg_catalog"})
    return ahead.render_as_string(hide_password=False)


@pytest.mark.parametrize("cache", [True, False])
def test_reads_are_never_behind_the_processs_own_writes_on_a_server_clock_ahead(
    server_ahead: str, cache: bool
) -> None:
    with ModelRegistry(server_ahead, cache=cache) as registry:
        model = registry.register_model(GPT4_TURBO)
        # Written at the server's time, 5 s ahead: in effect at once for its writer.
        assert registry.get_price("gpt-4-turbo").input_per_1m == Decimal(
            str(GPT4_TURBO["cost_per_1m_input_tokens"])
        )
        assert registry.estimate_cost("gpt-4-turbo", 1_000_000, 0) == Decimal(
            str(GPT4_TURBO["cost_per_1m_input_tokens"])
        )
        assert model.version == 1
        registry.set_price("gpt-4-turbo", "1.5", 3)
        assert registry.get_price("gpt-4-turbo").input_per_1m == Decimal("1.5")
        assert registry.get_model_or_raise("gpt-4-turbo").cost_per_1m_input_tokens == Decimal("1.5")


# -- a SQLite file deleted or replaced -------------------------------------------------------


def _remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


@pytest.mark.parametrize("how", ["deleted", "replaced"])
def test_a_sqlite_file_deleted_or_replaced_refuses_writes_and_goes_stale(
    tmp_path: Path, how: str
) -> None:
    path = tmp_path / "catalog.db"
    url = f"sqlite:///{path}"
    with (
        ModelRegistry(url, poll_interval=0.05) as registry,
        ModelRegistry(url, cache=False) as uncached,
    ):
        registry.register_model(GPT4_TURBO)
        _remove_sqlite(path)
        if how == "replaced":
            other = tmp_path / f"other-{uuid.uuid4().hex}.db"
            with ModelRegistry(f"sqlite:///{other}") as fresh:
                fresh.register_model(config(model_id="from-the-new-file"))
            other.rename(path)  # what the README says never to do
        for writer in (registry, uncached):
            with pytest.raises(DatabaseReplacedError) as raised:
                writer.register_model(config(model_id="lost-write"))
            assert raised.value.code == "E4022"
            assert not raised.value.retryable
            assert how in str(raised.value)
        with pytest.raises(DatabaseReplacedError):
            uncached.get_model("gpt-4-turbo")
        # The cache keeps answering from memory and says it is stale, with the reason.
        assert registry.get_model("gpt-4-turbo") is not None
        wait_for(lambda: registry.get_stats()["cache"]["state"] == "stale", "stale state")
        assert "E4022" in str(registry.get_stats()["cache"]["error"])
    if how == "replaced":
        with ModelRegistry(url, cache=False) as reopened:  # reopening uses the new file
            assert reopened.get_model("from-the-new-file") is not None
            assert reopened.get_model("lost-write") is None
            reopened.register_model(config(model_id="after-reopening"))
