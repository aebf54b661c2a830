"""One catalog, many processes: the read cache, the change feed and database outages."""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
import time
from typing import TYPE_CHECKING, Any

import pytest

from cases import GPT4_TURBO, config, in_threads
from modelregistry import DatabaseUnavailableError, ModelRegistry, ModelStatus
from modelregistry.db import migrate
from modelregistry.db.engine import make_engine
from throwaway_postgres import throwaway_postgres

if TYPE_CHECKING:
    from collections.abc import Callable
    from multiprocessing.queues import Queue
    from pathlib import Path

    from modelregistry import CatalogEvent

pytestmark = pytest.mark.both_apis

DEADLINE = 60.0  # generous: only a broken feed takes this long


def wait_for(predicate: Any, what: str, deadline: float = DEADLINE) -> None:
    limit = time.monotonic() + deadline
    while not predicate():
        if time.monotonic() > limit:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.01)


@pytest.fixture
def catalog(open_registry: Callable[..., ModelRegistry], database_url: str) -> str:
    with open_registry(database_url) as registry:
        registry.register_model(GPT4_TURBO)
        registry.register_model(
            config(model_id="claude-3-opus", provider="anthropic", status="deprecated")
        )
        registry.register_model(config(model_id="o1", capabilities={"supports_reasoning": True}))
        registry.remove_model("o1")
    return database_url


def test_cached_and_uncached_registries_answer_alike(
    open_registry: Callable[..., ModelRegistry], catalog: str
) -> None:
    with (
        open_registry(catalog) as cached,
        open_registry(catalog, cache=False) as direct,
    ):
        for registry in (cached, direct):
            registry.update_model_status("llama3.2:3b", "maintenance")
        queries: list[Callable[[ModelRegistry], object]] = [
            lambda r: r.list_models(),
            lambda r: r.list_models(provider="OpenAI"),
            lambda r: r.list_models(status="deprecated"),
            lambda r: r.list_models("openai", "active", capabilities=["vision", "tool_use"]),
            lambda r: r.get_models_by_capability("vision"),
            lambda r: r.get_models_by_capabilities(["streaming", "json_mode"]),
            lambda r: r.get_models_by_capabilities([]),
            lambda r: r.get_models_by_provider("ollama"),
            lambda r: r.get_available_models(),
            lambda r: r.get_providers(),
            lambda r: r.get_capabilities(),
            lambda r: r.get_model("gpt-4-turbo"),
            lambda r: r.get_model("o1"),
            lambda r: r.get_models_retiring(30),
            lambda r: {k: v for k, v in r.get_stats().items() if k != "cache"},
        ]
        for query in queries:
            assert query(cached) == query(direct)
        assert cached.get_model_or_raise("gpt-4-turbo").version == 1


def test_a_write_is_in_the_writers_cache_when_it_returns(registry: ModelRegistry) -> None:
    before = registry.get_stats()["cache"]["revision"]
    registry.register_model(GPT4_TURBO)
    assert registry.get_model("gpt-4-turbo") == registry.register_model(GPT4_TURBO)
    registry.update_model_status("gpt-4-turbo", "disabled")
    assert registry.get_model_or_raise("gpt-4-turbo").status is ModelStatus.DISABLED
    assert "gpt-4-turbo" not in [m.model_id for m in registry.get_available_models()]
    cache = registry.get_stats()["cache"]
    assert cache["revision"] == before + 2
    assert (cache["enabled"], cache["state"], cache["error"]) == (True, "live", None)
    assert cache["staleness_seconds"] < DEADLINE


def test_subscribe_needs_the_cache(
    open_registry: Callable[..., ModelRegistry], database_url: str
) -> None:
    with (
        open_registry(database_url, cache=False) as registry,
        pytest.raises(RuntimeError, match="cache"),
    ):
        registry.subscribe(print)


def _watch(url: str, poll_interval: float, ready: Queue[Any], report: Queue[Any]) -> None:
    """A reader process: subscribe, say ready, report the first event and what it reads."""
    try:
        with ModelRegistry(url, poll_interval=poll_interval) as registry:
            got: list[CatalogEvent] = []
            arrived = threading.Event()

            def on_change(event: CatalogEvent) -> None:
                got.append(event)
                arrived.set()

            registry.subscribe(on_change)
            ready.put(registry.get_model_or_raise("gpt-4-turbo").status.value)
            if not arrived.wait(DEADLINE):
                report.put("no event")
                return
            event = got[0]
            seen = registry.get_model_or_raise(event.model_id)  # read after the event
            report.put((event.model_id, event.change.value, event.version, seen.status.value))
    except Exception as exc:  # noqa: BLE001 - the parent reports it
        report.put(f"error {exc!r}")


@pytest.mark.slow
def test_a_change_reaches_other_processes_and_their_subscribers(
    open_registry: Callable[..., ModelRegistry], catalog: str, backend: str
) -> None:
    # PostgreSQL: a poll interval far beyond the deadline, so only NOTIFY can be in time.
    poll_interval = 3600.0 if backend == "postgresql" else 0.05
    context = multiprocessing.get_context("spawn")
    ready: Queue[Any] = context.Queue()
    report: Queue[Any] = context.Queue()
    watcher = context.Process(target=_watch, args=(catalog, poll_interval, ready, report))
    watcher.start()
    try:
        assert ready.get(timeout=DEADLINE) == "active"
        with open_registry(catalog) as writer:
            writer.update_model_status("gpt-4-turbo", "deprecated", reason="test")
        assert report.get(timeout=DEADLINE) == ("gpt-4-turbo", "status_changed", 2, "deprecated")
    finally:
        watcher.join(timeout=DEADLINE)
        if watcher.is_alive():
            watcher.kill()


@pytest.mark.slow
def test_reads_survive_a_database_outage_and_the_cache_resynchronises(
    open_registry: Callable[..., ModelRegistry],
) -> None:
    with throwaway_postgres() as server:
        if server is None:
            pytest.skip("no PostgreSQL server binaries (initdb) on this machine")
        with (
            open_registry(server.url, poll_interval=0.05) as reader,
            open_registry(server.url, poll_interval=3600) as listener,  # only LISTEN to go on
            open_registry(server.url, cache=False) as writer,
        ):
            writer.register_model(GPT4_TURBO)
            wait_for(lambda: reader.get_model("gpt-4-turbo") is not None, "the first change")

            server.stop()
            # Reads keep answering from the last snapshot; the cache says it is stale.
            wait_for(lambda: reader.get_stats()["cache"]["state"] == "stale", "stale state")
            assert reader.get_model_or_raise("gpt-4-turbo").status is ModelStatus.ACTIVE
            assert [m.model_id for m in reader.get_models_by_provider("openai")] == ["gpt-4-turbo"]
            stale = reader.get_stats()["cache"]
            assert stale["error"]
            with pytest.raises(DatabaseUnavailableError) as raised:
                writer.update_model_status("gpt-4-turbo", "disabled")
            assert raised.value.retryable is True
            with pytest.raises(DatabaseUnavailableError):
                reader.update_model_status("gpt-4-turbo", "disabled")

            server.start()

            def write_again() -> bool:
                try:
                    writer.update_model_status("gpt-4-turbo", "maintenance")
                except DatabaseUnavailableError:
                    return False  # a pooled connection from before the restart; retry
                return True

            wait_for(write_again, "a write after the restart")
            wait_for(
                lambda: reader.get_model_or_raise("gpt-4-turbo").status is ModelStatus.MAINTENANCE,
                "the cache to resynchronise",
            )
            assert reader.get_stats()["cache"]["state"] == "live"
            assert reader.get_model_or_raise("gpt-4-turbo").version == 2
            # The listener noticed the lost connection, and on reconnecting caught up at once.
            wait_for(
                # (get_model: the first change may not have reached it before the stop)
                lambda: getattr(listener.get_model("gpt-4-turbo"), "version", None) == 2,
                "the LISTEN-only cache to catch up after the restart",
            )
            assert listener.get_stats()["cache"]["state"] == "live"


@pytest.mark.slow
def test_sqlite_writes_fail_retryably_while_another_process_holds_the_lock(
    open_registry: Callable[..., ModelRegistry],
    tmp_path: Path,
) -> None:
    # SQLite has no server to lose: the nearest thing to an outage is a writer that holds the
    # lock (a hung admin script). WAL readers are never blocked, so reads and the cache go on.
    url = f"sqlite:///{tmp_path / 'catalog.db'}?timeout=0.2"
    with (
        open_registry(url, poll_interval=0.05) as reader,
        open_registry(url, cache=False) as writer,
    ):
        writer.register_model(GPT4_TURBO)
        wait_for(lambda: reader.get_model("gpt-4-turbo") is not None, "the first change")
        holder = sqlite3.connect(tmp_path / "catalog.db", isolation_level=None, timeout=30)
        holder.execute("BEGIN IMMEDIATE")
        holder.execute("UPDATE models SET display_name = display_name WHERE 0")
        try:
            with pytest.raises(DatabaseUnavailableError, match="locked") as raised:
                writer.update_model_status("gpt-4-turbo", "disabled")
            assert raised.value.retryable is True
            assert reader.get_model_or_raise("gpt-4-turbo").status is ModelStatus.ACTIVE
            assert writer.get_model_or_raise("gpt-4-turbo").status is ModelStatus.ACTIVE
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        writer.update_model_status("gpt-4-turbo", "maintenance")
        wait_for(
            lambda: reader.get_model_or_raise("gpt-4-turbo").status is ModelStatus.MAINTENANCE,
            "the cache to catch up",
        )
        assert reader.get_stats()["cache"]["state"] == "live"


def test_a_database_replaced_under_a_running_cache_is_reloaded(
    open_registry: Callable[..., ModelRegistry], database_url: str
) -> None:
    with open_registry(database_url, poll_interval=3600) as reader:
        reader.register_model(GPT4_TURBO)
        seen: list[CatalogEvent] = []
        reader.subscribe(seen.append)
        # Restored from elsewhere: same URL, another history, longer than the old one.
        engine = make_engine(database_url)
        try:
            migrate.downgrade(engine, "base")
            migrate.upgrade(engine)
        finally:
            engine.dispose()
        with open_registry(database_url, cache=False) as other:
            for n in range(6):
                other.register_model(config(model_id=f"restored-{n}", provider="anthropic"))
            expected = other.list_models()
        reader.refresh()
        assert reader.list_models() == expected
        restored = {f"restored-{n}" for n in range(6)}

        def told() -> bool:
            changes = {(e.model_id, e.change.value) for e in seen}
            return ("gpt-4-turbo", "removed") in changes and all(
                (model_id, "created") in changes for model_id in restored
            )

        # Subscribers are told on the cache's dispatcher thread, and the change feed may have
        # reloaded part-way through the six writes (the rest then comes as later events).
        wait_for(told, "the reload's events")


def test_subscribers_get_events_in_revision_order_from_concurrent_writers(
    open_registry: Callable[..., ModelRegistry],
    database_url: str,
) -> None:
    with open_registry(database_url, poll_interval=0.01) as registry:
        revisions: list[int] = []
        registry.subscribe(lambda event: revisions.append(event.revision))

        def write(thread: int) -> None:
            for n in range(15):
                registry.register_model(config(model_id=f"t{thread}", context_window=n + 1))

        assert in_threads(write, 4) == []
        final = registry.get_stats()["cache"]["revision"]
        wait_for(lambda: revisions and revisions[-1] == final, "the last event")
        assert revisions == sorted(set(revisions))  # in order, none twice
        assert revisions == list(range(revisions[0], final + 1))  # none missed


def _read_after_fork(registry: ModelRegistry, report: Queue[Any]) -> None:
    try:
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            model = registry.get_model("gpt-4-turbo")
            if model is not None and model.status is ModelStatus.DISABLED:
                report.put("seen")
                return
            time.sleep(0.01)
        report.put("never seen")
    except Exception as exc:  # noqa: BLE001 - the parent reports it
        report.put(f"error {exc!r}")


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # fork with threads (3.12+ warns)
def test_a_registry_opened_before_fork_keeps_following_changes_in_the_child(
    catalog: str,
) -> None:
    # ModelRegistry only: an event loop (the async API's) does not survive fork().
    context = multiprocessing.get_context("fork")
    report: Queue[Any] = context.Queue()
    with ModelRegistry(catalog, poll_interval=0.05) as registry:
        child = context.Process(target=_read_after_fork, args=(registry, report))
        child.start()
        try:
            with ModelRegistry(catalog, cache=False) as writer:
                writer.update_model_status("gpt-4-turbo", "disabled")
            assert report.get(timeout=DEADLINE) == "seen"
        finally:
            child.join(timeout=DEADLINE)
