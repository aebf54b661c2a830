"""The LISTEN feed's own-notification skipping never swallows a notification it must read.

A cached writer tells its change feed that its own write's notification (from the server
process that sent it) brings nothing new, so the feed can skip the read. These tests drive a
real :class:`~modelregistry.cache.feed.ChangeFeed` on PostgreSQL with notifications sent from
connections whose server processes they know, and a refresh that records what it is asked:

- a batch holding an own notification and another writer's is read, and uses up the own
  expectation (left over, it would swallow the next notification from that server process:
  with no pooler, a later write of this same process that its cache did not apply);
- an expectation for a LISTEN connection that is no longer up is dropped (its notification
  went to the broken connection, or was sent before the first LISTEN);
- own notifications, skipped, do not keep postponing the poll that catches lost ones.
"""

from __future__ import annotations

import threading
import time
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa

from modelregistry import ModelRegistry
from modelregistry.cache.feed import ChangeFeed
from modelregistry.db.notify import CHANGES_CHANNEL

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from sqlalchemy.engine import Connection

    from modelregistry.db.database import Database

DEADLINE = 60.0
"""Generous: only a notification that is never read takes this long."""


class _Refreshes:
    """The feed's refresh: records each trigger; ``unless`` as the cache asks it."""

    def __init__(self) -> None:
        self.read: list[str] = []
        self.skipped = 0
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()
        self.lock = threading.Lock()

    def __call__(self, trigger: str, *, unless: Callable[[], bool] | None = None) -> object:
        self.entered.set()
        assert self.gate.wait(DEADLINE), "the test never let the refresh go on"
        with self.lock:
            if unless is not None and unless():
                self.skipped += 1
            else:
                self.read.append(trigger)
        return None

    def count(self, trigger: str) -> int:
        with self.lock:
            return self.read.count(trigger)


def _until(condition: Callable[[], bool], what: str) -> None:
    limit = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < limit, what
        time.sleep(0.01)


@pytest.fixture
def database(postgres_schema_url: str) -> Iterator[Database]:
    """The migrated catalog's database (its schema of the test server)."""
    with ModelRegistry(postgres_schema_url, cache=False) as registry:
        yield registry._parts.database  # noqa: SLF001 - the feed is built on it directly


@pytest.fixture
def feed(database: Database) -> Iterator[tuple[ChangeFeed, _Refreshes]]:
    """A feed that polls once an hour, its LISTEN up and its first catch-up done."""
    refreshes = _Refreshes()
    failures: list[BaseException] = []
    changes = ChangeFeed(database, refreshes, failures.append, poll_interval=3600)
    try:
        _until(lambda: changes.listening() is not None, "the feed never listened")
        _until(lambda: refreshes.count("poll") >= 1, "the new LISTEN's catch-up never ran")
        yield changes, refreshes
    finally:
        changes.close()


def _sender(stack: ExitStack, database: Database) -> tuple[Connection, int]:
    connection = stack.enter_context(database.engine.connect())
    pid = int(connection.connection.driver_connection.info.backend_pid)  # type: ignore[union-attr]
    return connection, pid


def _notify(connection: Connection) -> None:
    """What a writer's commit sends: the channel, our schema."""
    connection.execute(sa.select(sa.func.pg_notify(CHANGES_CHANNEL, sa.func.current_schema())))
    connection.commit()


def test_a_batch_with_another_writers_notice_uses_up_the_own_expectation_it_heard(
    database: Database, feed: tuple[ChangeFeed, _Refreshes]
) -> None:
    changes, refreshes = feed
    with ExitStack() as stack:
        ours, own_pid = _sender(stack, database)
        theirs, _ = _sender(stack, database)
        listening = changes.listening()
        assert listening is not None
        # Hold the feed in a refresh, so the next two notifications arrive as one batch.
        refreshes.gate.clear()
        refreshes.entered.clear()
        _notify(theirs)
        assert refreshes.entered.wait(DEADLINE), "the feed never heard the first notification"
        changes.expect_own(own_pid, listening)  # our write, applied from memory
        _notify(ours)
        _notify(theirs)
        time.sleep(0.2)  # (not a bound: both may arrive later; the batch is then split)
        reads = refreshes.count("notify")
        refreshes.gate.set()
        _until(lambda: refreshes.count("notify") >= reads + 1, "the mixed batch was never read")
        _until(lambda: not changes._heard, "the batch was never taken")  # noqa: SLF001
        # A later notification from our server process that the cache did not apply itself
        # (an own write whose catch-up failed; another client of that server process).
        before = refreshes.count("notify")
        _notify(ours)
        _until(
            lambda: refreshes.count("notify") > before,
            "a notification from our server process was swallowed by a used expectation",
        )


def test_an_expectation_for_a_listen_that_broke_is_dropped(
    database: Database, feed: tuple[ChangeFeed, _Refreshes]
) -> None:
    changes, refreshes = feed
    old = changes.listening()
    assert old is not None
    listener: Any = changes._listener  # noqa: SLF001 - its server process is ended below
    listener_pid = int(listener._connection.info.backend_pid)  # noqa: SLF001
    with ExitStack() as stack:
        ours, own_pid = _sender(stack, database)
        polls = refreshes.count("poll")
        ours.execute(sa.select(sa.func.pg_terminate_backend(listener_pid)))
        ours.commit()
        _until(lambda: refreshes.count("poll") > polls, "the feed never listened again")
        assert changes.listening() not in (None, old)
        # A write committed while the old LISTEN was up, whose notification went to it.
        changes.expect_own(own_pid, old)
        before = refreshes.count("notify")
        _notify(ours)
        _until(
            lambda: refreshes.count("notify") > before,
            "a notification was swallowed by an expectation for a broken LISTEN",
        )
        assert refreshes.skipped == 0


def test_own_notices_do_not_keep_postponing_the_poll(database: Database) -> None:
    refreshes = _Refreshes()
    changes = ChangeFeed(database, refreshes, lambda _: None, poll_interval=1.0)
    try:
        _until(lambda: changes.listening() is not None, "the feed never listened")
        _until(lambda: refreshes.count("poll") >= 1, "the new LISTEN's catch-up never ran")
        with ExitStack() as stack:
            ours, own_pid = _sender(stack, database)
            polls = refreshes.count("poll")
            limit = time.monotonic() + DEADLINE
            # An own write's notification every 0.2 s, each skipped: the poll must still come.
            while refreshes.count("poll") == polls:
                assert time.monotonic() < limit, "own notifications postponed the poll forever"
                listening = changes.listening()
                assert listening is not None
                changes.expect_own(own_pid, listening)
                _notify(ours)
                time.sleep(0.2)
            assert refreshes.skipped >= 1
    finally:
        changes.close()
