"""Nothing waits for ever: frozen and black-holed servers, paused writers, stuck refreshes.

A frozen server is a throwaway PostgreSQL whose every process got SIGSTOP (its kernel still
acknowledges TCP: only a client-side deadline ends a call); a black hole is a TCP relay in
the test that stops relaying (packets dropped). A paused writer is a process stopped with
SIGSTOP inside its write transaction. Each test's bounds are a few seconds (set through the
constructor or the URL); the defaults are checked separately.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import select
import signal
import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa
from prometheus_client import CollectorRegistry
from sqlalchemy.engine import make_url

from cases import GPT4_TURBO, config
from modelregistry import DatabaseUnavailableError, ModelRegistry
from modelregistry.cache.feed import MIN_REFRESH_GAP
from modelregistry.db.deadline import armed, watchdog_of
from modelregistry.db.engine import (
    CALL_TIMEOUT_SECONDS,
    LOCK_TIMEOUT_SECONDS,
    SQLITE_BUSY_TIMEOUT_SECONDS,
    make_engine,
)
from throwaway_postgres import ThrowawayPostgres, throwaway_postgres

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from multiprocessing.queues import Queue
    from multiprocessing.synchronize import Event

pytestmark = [pytest.mark.reliability, pytest.mark.slow]

DEADLINE = 60.0
"""Generous bound on anything that must end: only a hang takes this long."""
BOUND = 3.0
"""The call timeout the tests give their registries (seconds)."""


def wait_for(predicate: Callable[[], bool], what: str, deadline: float = DEADLINE) -> float:
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)
    return time.monotonic() - started


def in_thread(work: Callable[[], object], deadline: float = DEADLINE) -> tuple[object, float]:
    """Run ``work`` on a thread; its result (or exception) and the seconds it took.

    Fails the test when it does not end within ``deadline`` (the thread is left behind).
    """
    outcome: list[object] = []
    started = time.monotonic()

    def run() -> None:
        try:
            outcome.append(work())
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(deadline)
    if thread.is_alive():
        pytest.fail(f"still waiting after {deadline} s")
    return outcome[0], time.monotonic() - started


def _server_processes(server: ThrowawayPostgres) -> list[int]:
    postmaster = int((server.data_dir / "postmaster.pid").read_text().split()[0])
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == postmaster:
                    children.append(int(entry.name))
    return [postmaster, *children]


@contextlib.contextmanager
def frozen(server: ThrowawayPostgres) -> Iterator[None]:
    """Every process of the server stopped (SIGSTOP), and continued afterwards, whatever."""
    stopped = []
    try:
        for pid in _server_processes(server):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGSTOP)
                stopped.append(pid)
        yield
    finally:
        for pid in stopped:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)


@pytest.fixture(scope="module")
def server() -> Iterator[ThrowawayPostgres]:
    with throwaway_postgres() as running:
        if running is None:
            pytest.skip("no PostgreSQL server binaries (initdb) on this machine")
        ModelRegistry(running.url).close()  # migrated and seeded
        yield running


def test_the_defaults_bound_every_call_and_can_be_changed_in_the_url_and_the_constructor(
    postgres_schema_url: str,
) -> None:
    postgres_url = postgres_schema_url  # a schema of its own: never the database's public one
    assert CALL_TIMEOUT_SECONDS <= 30
    assert LOCK_TIMEOUT_SECONDS <= 60
    assert LOCK_TIMEOUT_SECONDS <= SQLITE_BUSY_TIMEOUT_SECONDS
    engine = make_engine(postgres_url)
    try:
        watchdog = watchdog_of(engine)
        assert watchdog is not None
        assert watchdog.timeout == CALL_TIMEOUT_SECONDS
        with engine.connect() as connection:
            shown = {
                name: connection.exec_driver_sql(f"SHOW {name}").scalar_one()
                for name in (
                    "statement_timeout",
                    "lock_timeout",
                    "idle_in_transaction_session_timeout",
                )
            }
        assert shown == {
            "statement_timeout": f"{int(CALL_TIMEOUT_SECONDS)}s",
            "lock_timeout": f"{int(LOCK_TIMEOUT_SECONDS)}s",
            "idle_in_transaction_session_timeout": f"{int(CALL_TIMEOUT_SECONDS)}s",
        }
    finally:
        engine.dispose()
    url = make_url(postgres_url).update_query_dict({"call_timeout": "7", "lock_timeout": "4"})
    with ModelRegistry(url.render_as_string(hide_password=False), cache=False) as registry:
        timeout = watchdog_of(registry._parts.database.engine)  # noqa: SLF001 - what it runs with
        assert timeout is not None
        assert timeout.timeout == 7.0
    with ModelRegistry(postgres_url, cache=False, call_timeout=2.5) as registry:
        timeout = watchdog_of(registry._parts.database.engine)  # noqa: SLF001 - ditto
        assert timeout is not None
        assert timeout.timeout == 2.5


def test_a_write_and_a_read_against_a_frozen_server_fail_with_e4020_within_the_bound(
    server: ThrowawayPostgres,
) -> None:
    with ModelRegistry(server.url, cache=False, call_timeout=BOUND) as registry:
        registry.get_model("llama3.1:8b")  # a pooled connection, then the server freezes
        with frozen(server):
            raised, took = in_thread(lambda: registry.register_model(GPT4_TURBO))
            assert isinstance(raised, DatabaseUnavailableError), raised
            assert raised.retryable
            assert f"no answer within {BOUND:g} s" in str(raised)
            print(f"\nfrozen server: a write got E4020 after {took:.2f} s (bound {BOUND} s)")  # noqa: T201 - the figure docs/reliability.md quotes
            # Its connection was dropped: a read needs a new one, and connecting is bounded
            # too (connect_timeout: 5 s in this URL, 10 s by default).
            raised, took = in_thread(lambda: registry.get_model("llama3.1:8b"))
            assert isinstance(raised, DatabaseUnavailableError), raised
            print(f"frozen server: a read got E4020 after {took:.2f} s")  # noqa: T201 - ditto
        # The dropped connections are gone: the next calls work at once.
        registry.register_model(GPT4_TURBO)
        assert registry.get_model("gpt-4-turbo") is not None


def test_calls_sent_to_the_driver_directly_are_bounded_on_every_engine_of_the_database(
    postgres_schema_url: str,
) -> None:
    """COPY (an import) and the write's pipeline go to psycopg without a cursor event: they arm
    the watchdog by hand, through the connection of the writer's engine, which is derived
    from the database's engine (``execution_options``) and must find the same watchdog."""
    with ModelRegistry(postgres_schema_url, cache=False, call_timeout=BOUND) as registry:
        database = registry._parts.database  # noqa: SLF001 - its engines are what is checked
        watchdog = watchdog_of(database.engine)
        assert watchdog is not None
        for engine in (database._writer, database._reader):  # noqa: SLF001 - ditto
            assert watchdog_of(engine) is watchdog
            with engine.connect() as connection:
                key = id(connection.connection.dbapi_connection)
                with armed(connection):
                    assert key in watchdog._armed  # noqa: SLF001 - armed for the call
                assert key not in watchdog._armed  # noqa: SLF001 - and disarmed after it


class BlackHole:
    """A TCP relay to ``target`` that, once ``drop`` is set, relays nothing (and closes nothing)."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.drop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._sockets: list[socket.socket] = [self._listener]
        self._closed = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self._sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._relay, args=(source, sink), daemon=True).start()

    def _relay(self, source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while not self._closed.is_set():
                ready, _, _ = select.select([source], [], [], 0.1)
                if not ready or self.drop.is_set():
                    continue  # dropped: the bytes stay unread, nothing is answered
                data = source.recv(65536)
                if not data:
                    return
                sink.sendall(data)

    def close(self) -> None:
        self._closed.set()
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.close()


def test_a_black_holed_server_fails_calls_with_e4020_within_the_bound(
    postgres_schema_url: str,
) -> None:
    url = make_url(postgres_schema_url)
    hole = BlackHole((url.host or "127.0.0.1", url.port or 5432))
    try:
        through = url.set(host="127.0.0.1", port=hole.port).render_as_string(hide_password=False)
        with ModelRegistry(through, cache=False, call_timeout=BOUND) as registry:
            registry.register_model(GPT4_TURBO)
            hole.drop.set()
            raised, took = in_thread(
                lambda: registry.update_model_status("gpt-4-turbo", "deprecated")
            )
            assert isinstance(raised, DatabaseUnavailableError), raised
            assert f"no answer within {BOUND:g} s" in str(raised)
            print(f"\nblack hole: E4020 after {took:.2f} s (bound {BOUND} s)")  # noqa: T201 - the figure docs/reliability.md quotes
    finally:
        hole.close()


# -- a writer paused inside its transaction --------------------------------------------------


def _write_and_pause(url: str, paused: Event, results: Queue[str]) -> None:
    try:
        with ModelRegistry(url, cache=False) as registry:

            def progress(_done: int, _total: int) -> None:
                paused.set()
                os.kill(os.getpid(), signal.SIGSTOP)  # inside the import's transaction

            registry.import_catalog(
                {"models": [config(model_id=f"paused-{n}") for n in range(3)]}, progress=progress
            )
        results.put("committed")
    except Exception as exc:  # noqa: BLE001 - the parent reports whatever happened
        results.put(f"error {type(exc).__name__}")


def _sessions_in_transaction(admin_url: str, application: str) -> int:
    engine = sa.create_engine(admin_url)
    try:
        with engine.connect() as connection:
            query = sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = :a"
                " AND state LIKE 'idle in transaction%'"
            )
            return int(connection.execute(query, {"a": application}).scalar_one())
    finally:
        engine.dispose()


def test_a_paused_writer_holds_others_only_until_the_lock_timeout_and_loses_its_session(
    postgres_schema_url: str, postgres_url: str
) -> None:
    application = f"mr-paused-{os.getpid()}-{time.monotonic_ns()}"
    paused_url = (
        make_url(postgres_schema_url)
        .update_query_dict({"application_name": application, "call_timeout": "6"})
        .render_as_string(hide_password=False)
    )
    ModelRegistry(postgres_schema_url, cache=False).close()
    context = multiprocessing.get_context("spawn")
    paused = context.Event()
    results: Queue[str] = context.Queue()
    child = context.Process(target=_write_and_pause, args=(paused_url, paused, results))
    child.start()
    try:
        assert paused.wait(DEADLINE), "the writer never paused"
        wait_for(lambda: _sessions_in_transaction(postgres_url, application) == 1, "the pause")
        with ModelRegistry(postgres_schema_url, cache=False, lock_timeout=1.0) as other:
            raised, took = in_thread(lambda: other.register_model(GPT4_TURBO))
            assert isinstance(raised, DatabaseUnavailableError), raised
            assert "lock timeout" in str(raised)
            print(f"\npaused writer: the other writer got E4020 after {took:.2f} s (lock 1 s)")  # noqa: T201 - the figure docs/reliability.md quotes
            # The server ends the paused session's transaction (idle_in_transaction 6 s):
            # the lock is free while the writer is still stopped.
            ended = wait_for(
                lambda: _sessions_in_transaction(postgres_url, application) == 0,
                "the server to end the paused transaction",
            )
            print(f"paused writer: its session ended {ended:.1f} s later")  # noqa: T201 - ditto
            other.register_model(GPT4_TURBO)
            assert [
                m.model_id for m in other.list_models() if m.model_id.startswith("paused")
            ] == []
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(child.pid or 0, signal.SIGCONT)
        child.join(timeout=DEADLINE)
        if child.is_alive():
            child.kill()
    assert results.get(timeout=DEADLINE).startswith("error")  # its transaction was ended


# -- the cache while a refresh is stuck ------------------------------------------------------


def _stale_sample(collectors: CollectorRegistry) -> float | None:
    return collectors.get_sample_value("modelregistry_cache_stale")


def test_cached_reads_and_a_due_price_never_wait_for_a_stuck_refresh(
    server: ThrowawayPostgres,
) -> None:
    collectors = CollectorRegistry()
    with ModelRegistry(
        server.url, poll_interval=0.2, call_timeout=DEADLINE, metrics=collectors
    ) as registry:
        registry.register_model(GPT4_TURBO)
        due = datetime.now(UTC) + timedelta(seconds=2)
        registry.set_price("gpt-4-turbo", 1, 2, effective_from=due)
        assert registry.get_stats()["cache"]["state"] == "live"
        assert _stale_sample(collectors) == 0
        with frozen(server):
            # The feed's next poll is now stuck on the frozen server for the whole test.
            wait_for(lambda: datetime.now(UTC) > due + timedelta(seconds=0.5), "the price")
            for read in (
                lambda: registry.get_model_or_raise("gpt-4-turbo"),
                lambda: registry.get_price("gpt-4-turbo"),
                lambda: registry.estimate_cost("gpt-4-turbo", 1_000_000, 0),
                lambda: len(registry.list_models()),
            ):
                answer, took = in_thread(read, deadline=10.0)
                assert not isinstance(answer, BaseException), answer
                assert took < 10.0
            price = registry.get_price("gpt-4-turbo")
            assert price.effective_from == due  # rolled from memory
            assert registry.estimate_cost("gpt-4-turbo", 1_000_000, 0) == 1
            # Stale once the database has not answered for a few polls (at least 2 s).
            wait_for(lambda: registry.get_stats()["cache"]["state"] == "stale", "stale state")
            stats = registry.get_stats()["cache"]
            assert "has not confirmed the cache" in stats["error"]
            assert _stale_sample(collectors) == 1
            health = registry.metrics.health()
            assert not health.ok
            assert "cache stale" in health.detail
        wait_for(lambda: registry.get_stats()["cache"]["state"] == "live", "live again")
        assert _stale_sample(collectors) == 0


# -- subscribers -----------------------------------------------------------------------------


def test_a_blocked_subscriber_does_not_stall_the_processs_own_writes(
    registry: ModelRegistry,
) -> None:
    release = threading.Event()
    told: list[str] = []

    def blocked(event: Any) -> None:
        told.append(event.model_id)
        release.wait(DEADLINE)

    registry.subscribe(blocked)
    try:
        done, took = in_thread(
            lambda: [
                registry.register_model(config(model_id=f"sub-{n}", context_window=n + 1))
                for n in range(3)
            ],
            deadline=30.0,
        )
        assert not isinstance(done, BaseException), done
        assert registry.get_model("sub-2") is not None  # read your writes, subscriber or not
        print(f"\nblocked subscriber: 3 writes in {took:.2f} s")  # noqa: T201 - the figure
    finally:
        release.set()
    wait_for(lambda: told == ["sub-0", "sub-1", "sub-2"], "every event, in order")


def test_a_subscriber_may_write_and_wait_for_other_threads_that_write(
    registry: ModelRegistry,
) -> None:
    finished: list[str] = []

    def on_change(event: Any) -> None:
        if event.model_id == "trigger":
            registry.register_model(config(model_id="written-by-subscriber"))

            def elsewhere() -> None:
                registry.register_model(config(model_id="written-by-its-thread"))

            helper = threading.Thread(target=elsewhere)
            helper.start()
            helper.join(DEADLINE)
            finished.append("joined" if not helper.is_alive() else "deadlocked")

    registry.subscribe(on_change)
    registry.register_model(config(model_id="trigger"))
    wait_for(lambda: finished != [], "the subscriber")
    assert finished == ["joined"]
    assert registry.get_model("written-by-subscriber") is not None
    assert registry.get_model("written-by-its-thread") is not None


# -- NOTIFY storms ---------------------------------------------------------------------------


def _refreshes(collectors: CollectorRegistry, trigger: str) -> float:
    return (
        collectors.get_sample_value("modelregistry_cache_refreshes_total", {"trigger": trigger})
        or 0.0
    )


def test_a_notify_storm_is_coalesced_and_loses_no_real_change(postgres_schema_url: str) -> None:
    collectors = CollectorRegistry()
    storm = 3000
    with (
        ModelRegistry(postgres_schema_url, poll_interval=3600, metrics=collectors) as reader,
        ModelRegistry(postgres_schema_url, cache=False) as writer,
    ):
        engine = sa.create_engine(make_url(postgres_schema_url))
        before = _refreshes(collectors, "notify")
        try:
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                started = time.monotonic()
                for n in range(storm):
                    connection.exec_driver_sql(
                        "SELECT pg_notify('modelregistry_changes', current_schema())"
                    )
                    if n == storm // 2:
                        writer.register_model(GPT4_TURBO)  # a real change, mid-storm
                took = time.monotonic() - started
        finally:
            engine.dispose()
        wait_for(lambda: reader.get_model("gpt-4-turbo") is not None, "the real change")
        time.sleep(0.5)  # let the last coalesced refresh run (a lower bound, not a deadline)
        refreshes = _refreshes(collectors, "notify") - before
    print(  # noqa: T201 - the figure docs/reliability.md quotes
        f"\nNOTIFY storm: {storm} notifications in {took:.2f} s -> {refreshes:.0f} refreshes"
    )
    # Refreshes start at least 10 ms apart: never more than one per 10 ms of the storm.
    assert refreshes <= (took + 0.5) / MIN_REFRESH_GAP + 2
