"""What one single-model write costs in round trips to the database, counted on both engines.

Counted with SQLAlchemy's engine events in the writing thread (the change feed's thread,
which may refresh meanwhile on PostgreSQL, is left out): every statement, plus the BEGIN that
psycopg sends before a transaction's first statement and the COMMIT. A status change used to
take 16 statements (a pre-write read, the lock, the clock, an alias lookup, the model,
max(version), providers, capabilities, model ids, an UPDATE of every column, DELETE and
re-INSERT of the capability links, the revision, a re-SELECT, NOTIFY) and two more to catch
the cache up. Issue 15's target is 4 round trips on PostgreSQL: there they are counted on the
wire, by a proxy in front of the server (``tests/round_trips.py``), since psycopg's ``BEGIN``
and the pipeline that sends it with the write lock and the first read are not SQLAlchemy
statements; on SQLite (no round trips: statements) with the engine events.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import event

from modelregistry.db.repository import Repository
from round_trips import RoundTripProxy
from statement_events import statements_and_commits

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    import pytest

    from modelregistry import ModelRegistry
    from modelregistry.cache.feed import ChangeFeed

WRITE_ROUND_TRIPS = {"postgresql": 4, "sqlite": 6}
"""A writer without a cache (or whose cache is behind the database). PostgreSQL, round trips
on the wire: BEGIN + lock + clock (with the newest revision) in one pipeline, the current row,
one statement for the UPDATE of the changed columns + the revision's INSERT + NOTIFY, COMMIT.
SQLite, statements: BEGIN IMMEDIATE, the newest revision, the current row, UPDATE, the
revision, COMMIT."""
CACHED_WRITE_ROUND_TRIPS = {"postgresql": 3, "sqlite": 5}
"""A writer whose cache is at the revision found under the lock takes the current model from
it: the same, without the current row."""
CATCH_UP_STATEMENTS = 0
"""The writer's cache applies its own status change without reading it back (its snapshot was
at the revision the write found under the lock, and no price changed)."""


class _Counter:
    def __init__(self, backend: str, *, writes: bool) -> None:
        self.thread = threading.get_ident()
        self.in_write: list[str] = []
        self.after: list[str] = []
        # PostgreSQL: the write lock goes to the driver in a pipeline, unseen by the events;
        # a call that writes does so before it reads anything: it is writing from the start.
        self.writing = writes and backend == "postgresql"
        self.committed = False

    def statement(self, statement: str) -> None:
        if threading.get_ident() != self.thread:
            return
        text = " ".join(statement.split())
        if text.startswith("BEGIN IMMEDIATE") or "pg_advisory_xact_lock" in text:
            self.writing = True
        (self.in_write if self.writing and not self.committed else self.after).append(text)

    def commit(self) -> None:
        if threading.get_ident() == self.thread and self.writing and not self.committed:
            self.in_write.append("COMMIT")
            self.committed = True


@contextmanager
def _counting(backend: str, *, writes: bool = True) -> Iterator[_Counter]:
    counter = _Counter(backend, writes=writes)
    with statements_and_commits(counter.statement, counter.commit):
        yield counter


def test_a_status_change_takes_a_bounded_number_of_round_trips(
    registry: ModelRegistry, backend: str
) -> None:
    registry.update_model_status("llama3.1:8b", "maintenance")  # warm: statement caches
    with _counting(backend) as counted:
        changed = registry.update_model_status("llama3.1:8b", "deprecated")
    assert changed.status.value == "deprecated"
    assert registry.get_model_or_raise("llama3.1:8b").status.value == "deprecated"
    if backend == "sqlite":
        assert len(counted.in_write) <= CACHED_WRITE_ROUND_TRIPS[backend], "\n".join(
            counted.in_write
        )
    assert _row_reads(counted.in_write) == [], "\n".join(counted.in_write)
    assert not any(text.startswith("UPDATE models SET provider_id") for text in counted.in_write)
    assert not any(
        text.startswith(("DELETE FROM model_capabilities", "INSERT INTO model_capabilities"))
        for text in counted.in_write
    )
    reads = [text for text in counted.after if text != "BEGIN"]  # SQLite's, for the read
    assert len(reads) <= CATCH_UP_STATEMENTS, "\n".join(reads)


def test_a_change_of_one_field_updates_only_that_column_and_keeps_the_links(
    registry: ModelRegistry, backend: str
) -> None:
    model = registry.get_model_or_raise("llama3.1:8b")
    registry.register_model(model.model_copy(update={"context_window": model.context_window + 1}))
    with _counting(backend) as counted:
        stored = registry.register_model(
            model.model_copy(update={"context_window": model.context_window + 2})
        )
    assert stored.context_window == model.context_window + 2
    assert stored.capabilities == model.capabilities
    # (PostgreSQL: inside the statement that also records the revision and notifies.)
    updates = [
        text.split("UPDATE models ", 1)[1] for text in counted.in_write if "UPDATE models " in text
    ]
    assert len(updates) == 1
    assert updates[0].split(" WHERE ")[0].count("=") == 3, updates[0]  # the column, version, time
    if backend == "sqlite":
        assert len(counted.in_write) <= WRITE_ROUND_TRIPS[backend], "\n".join(counted.in_write)
    with registry.__class__(registry.url, cache=False) as direct:
        read_back = direct.get_model_or_raise("llama3.1:8b")
        assert read_back == stored
        assert read_back.version == stored.version == 3


def _reads(counted: _Counter) -> list[str]:
    return [text for text in counted.after if text != "BEGIN"]


def _row_reads(statements: list[str]) -> list[str]:
    """The statements that read rows of ``models`` (the current model's, in a write)."""
    return [text for text in statements if text.startswith("SELECT") and " FROM models" in text]


def test_a_writer_whose_cache_is_behind_reads_the_row_and_loses_no_change(
    registry: ModelRegistry, backend: str
) -> None:
    """Another writer's change that the cache does not hold yet (its refreshes held back, as
    while the change feed is busy): the write reads the row under the lock, so the status
    change keeps the other writer's context window."""
    registry.update_model_status("llama3.1:8b", "maintenance")  # warm
    cache = registry._parts.cache  # noqa: SLF001 - holding its refreshes back
    assert cache is not None
    with registry.__class__(registry.url, cache=False) as other:
        with cache.snapshots.holding_refreshes() as holding:
            assert holding
            other.register_model(
                other.get_model_or_raise("llama3.1:8b").model_copy(update={"context_window": 4321})
            )
            assert registry.get_model_or_raise("llama3.1:8b").context_window != 4321
            with _counting(backend) as counted:
                changed = registry.update_model_status("llama3.1:8b", "deprecated")
        assert len(_row_reads(counted.in_write)) == 1, "\n".join(counted.in_write)
        assert (changed.status.value, changed.context_window) == ("deprecated", 4321)
        stored = other.get_model_or_raise("llama3.1:8b")
        assert (stored.status.value, stored.context_window) == ("deprecated", 4321)
        assert registry.get_model_or_raise("llama3.1:8b") == stored == changed


def test_a_cached_writer_after_a_price_took_effect_writes_that_price(
    registry: ModelRegistry, backend: str
) -> None:
    """A scheduled price that took effect since the cache's snapshot was made (no read has
    rolled it): the write reads the row, whose costs are the new price, and records them."""
    registry.update_model_status("llama3.1:8b", "maintenance")  # warm
    due = datetime.now(UTC) + timedelta(seconds=1)
    registry.set_price("llama3.1:8b", input_per_1m="7.5", output_per_1m="8.5", effective_from=due)
    registry.update_model_status("llama3.1:8b", "active")  # before it: from the cache
    limit = time.monotonic() + 60
    while datetime.now(UTC) <= due + timedelta(milliseconds=50):  # no read meanwhile
        assert time.monotonic() < limit
        time.sleep(0.05)
    with _counting(backend) as counted:
        changed = registry.update_model_status("llama3.1:8b", "deprecated")
    assert len(_row_reads(counted.in_write)) == 1, "\n".join(counted.in_write)
    assert (changed.cost_per_1m_input_tokens, changed.cost_per_1m_output_tokens) == (7.5, 8.5)
    history = registry.get_model_history("llama3.1:8b")
    assert history[-1].config.cost_per_1m_input_tokens == 7.5
    with registry.__class__(registry.url, cache=False) as direct:
        assert direct.get_model_or_raise("llama3.1:8b") == changed


def test_a_price_that_takes_effect_while_a_cache_loads_reaches_its_reads_and_writes(
    registry: ModelRegistry, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full load reads the models, then the anchor, the timelines and the aliases; a price
    that takes effect in between must expire the snapshot, not be missed by it (the snapshot
    was once dated after its last read, so its models kept the old price until some other
    change, and a cached write recorded that price in the history)."""
    del backend  # (both engines: the fixture's)
    due = datetime.now(UTC) + timedelta(seconds=1)
    registry.set_price("llama3.1:8b", input_per_1m="7.5", output_per_1m="8.5", effective_from=due)
    anchor = Repository.catalog_anchor

    def slow_anchor(repository: Repository) -> Any:
        limit = time.monotonic() + 60  # the rest of the load takes until the price is due
        while datetime.now(UTC) <= due + timedelta(milliseconds=50):
            assert time.monotonic() < limit
            time.sleep(0.05)
        return anchor(repository)

    monkeypatch.setattr(Repository, "catalog_anchor", slow_anchor)
    with registry.__class__(registry.url) as loaded:
        monkeypatch.setattr(Repository, "catalog_anchor", anchor)
        changed = loaded.update_model_status("llama3.1:8b", "maintenance")  # no read before
        assert loaded.get_model_or_raise("llama3.1:8b") == changed
    assert (changed.cost_per_1m_input_tokens, changed.cost_per_1m_output_tokens) == (7.5, 8.5)
    with registry.__class__(registry.url, cache=False) as direct:
        assert direct.get_model_or_raise("llama3.1:8b") == changed
    assert registry.get_model_history("llama3.1:8b")[-1].config.cost_per_1m_input_tokens == 7.5


def test_a_writers_own_changes_are_applied_without_reads_and_stay_on_the_databases_timeline(
    registry: ModelRegistry, backend: str
) -> None:
    """Status, field and removal changes: no read after the commit; the next refresh of a
    change made elsewhere reads it incrementally (the anchor the writer set matches the
    database's row: a wrong one would force a full reload, which reads ``models``)."""
    registry.update_model_status("llama3.1:8b", "maintenance")  # warm
    model = registry.get_model_or_raise("llama3.2:3b")
    writes: list[Callable[[], object]] = [
        lambda: registry.update_model_status("llama3.1:8b", "deprecated"),
        lambda: registry.register_model(
            model.model_copy(update={"context_window": model.context_window + 1})
        ),
        lambda: registry.remove_model("llama3.2:3b"),
    ]
    for write in writes:
        with _counting(backend) as counted:
            write()
        assert _reads(counted) == [], "\n".join(_reads(counted))
    assert registry.get_model("llama3.2:3b") is None
    assert registry.get_model_or_raise("llama3.1:8b").status.value == "deprecated"
    with registry.__class__(registry.url, cache=False) as other:
        other.update_model_status("llama3.1:8b", "active")
        expected = other.list_models()
    with _counting(backend, writes=False) as counted:
        registry.refresh()
    assert not any(" FROM models" in text for text in _reads(counted)), _reads(counted)
    assert registry.list_models() == expected


def test_a_write_that_prices_keeps_the_timeline_it_wrote_without_reading_it_back(
    registry: ModelRegistry, backend: str
) -> None:
    model = registry.get_model_or_raise("llama3.1:8b")
    cost = model.cost_per_1m_input_tokens + 1
    with _counting(backend) as counted:
        stored = registry.register_model(
            model.model_copy(update={"cost_per_1m_input_tokens": cost})
        )
    assert _reads(counted) == [], "\n".join(_reads(counted))
    assert registry.get_model_or_raise("llama3.1:8b") == stored
    assert registry.get_price("llama3.1:8b").input_per_1m == stored.cost_per_1m_input_tokens
    with registry.__class__(registry.url, cache=False) as direct:
        assert direct.get_price_history("llama3.1:8b") == registry.get_price_history("llama3.1:8b")


def test_another_processs_status_change_costs_a_reader_one_statement(
    database_url: str, backend: str
) -> None:
    """The reader's refresh reads the change and no price timeline (it cannot have changed);
    a change that prices, or a model with a price scheduled, still reads the timeline."""
    from modelregistry import ModelRegistry  # noqa: PLC0415 - the class under test

    with (
        ModelRegistry(database_url, poll_interval=3600) as reader,
        ModelRegistry(database_url, cache=False) as writer,
    ):
        writer.update_model_status("llama3.1:8b", "maintenance")  # warm
        reader.refresh()
        writer.update_model_status("llama3.1:8b", "deprecated")
        with _counting(backend, writes=False) as counted:
            reader.refresh()
        # (On PostgreSQL the reader's feed may have read it first: then this reads nothing new.)
        assert len(_reads(counted)) == 1, "\n".join(_reads(counted))
        assert reader.get_model_or_raise("llama3.1:8b").status.value == "deprecated"

        model = writer.get_model_or_raise("llama3.1:8b")
        writer.register_model(
            model.model_copy(
                update={"cost_per_1m_output_tokens": model.cost_per_1m_output_tokens + 2}
            )
        )
        later = datetime.now(UTC) + timedelta(days=30)
        writer.set_price(
            "llama3.2:3b",
            input_per_1m=Decimal(7),
            output_per_1m=Decimal(9),
            effective_from=later,
        )
        reader.refresh()
        writer.update_model_status("llama3.2:3b", "deprecated")
        reader.refresh()
        for model_id in ("llama3.1:8b", "llama3.2:3b"):
            assert reader.get_model(model_id) == writer.get_model(model_id)
            assert reader.get_price_history(model_id) == writer.get_price_history(model_id)
        assert reader.get_price("llama3.2:3b", later).input_per_1m == Decimal(7)


def test_the_one_statement_write_notifies_other_processes_at_commit(
    postgres_schema_url: str,
) -> None:
    """PostgreSQL: the UPDATE, the revision and pg_notify go as one statement; a reader that
    only listens (it would poll once an hour) still hears the change."""
    from modelregistry import ModelRegistry  # noqa: PLC0415 - the class under test

    with (
        ModelRegistry(postgres_schema_url, poll_interval=3600) as reader,
        ModelRegistry(postgres_schema_url, cache=False) as writer,
    ):
        model = writer.get_model_or_raise("llama3.1:8b")
        with _counting("postgresql") as counted:
            writer.register_model(model.model_copy(update={"context_window": 12_345}))
        notifying = [text for text in counted.in_write if "pg_notify" in text]
        assert len(notifying) == 1, counted.in_write
        assert "UPDATE models " in notifying[0], notifying[0]
        assert "INSERT INTO model_revisions " in notifying[0], notifying[0]
        limit = time.monotonic() + 60  # generous: only a missing NOTIFY takes this long
        while reader.get_model_or_raise("llama3.1:8b").context_window != 12_345:
            assert time.monotonic() < limit, "the reader never heard of the change"
            time.sleep(0.01)


def test_every_statement_of_a_repeated_write_comes_from_the_compiled_cache(
    registry: ModelRegistry,
) -> None:
    """Once warm, a status change and a one-field change compile nothing again (no statement
    whose cache key changes per call: a new ``text()``, inlined values, a lambda)."""
    from sqlalchemy.engine.default import CACHE_HIT  # noqa: PLC0415 - the test's only use

    model = registry.get_model_or_raise("llama3.1:8b")
    writes: list[Callable[[], object]] = [
        lambda: registry.update_model_status("llama3.1:8b", "maintenance"),
        lambda: registry.update_model_status("llama3.1:8b", "active"),
        lambda: registry.register_model(
            model.model_copy(update={"context_window": model.context_window + 1})
        ),
        lambda: registry.register_model(model),
    ]
    for write in writes:
        write()  # warm
    thread = threading.get_ident()
    compiled: list[tuple[str, object]] = []

    def before(_conn: Any, _cursor: Any, statement: str, _p: Any, context: Any, _m: Any) -> None:
        if threading.get_ident() == thread and context.compiled is not None:
            compiled.append((" ".join(statement.split())[:80], context.cache_hit))

    event.listen(sa.engine.Engine, "before_cursor_execute", before)
    try:
        for write in writes:
            write()
    finally:
        event.remove(sa.engine.Engine, "before_cursor_execute", before)
    # (PostgreSQL's write lock and the read after it go to the driver, compiled once: see
    # db/pipeline.py; the writer's cache gives the current model: the change remains.)
    per_write = 3 if registry.url.startswith("sqlite") else 1
    assert len(compiled) >= len(writes) * per_write
    missed = [text for text, hit in compiled if hit is not CACHE_HIT]
    assert missed == [], missed


def test_a_single_model_write_on_postgresql_takes_four_round_trips_on_the_wire(
    postgres_schema_url: str,
) -> None:
    """Counted by a proxy between the registry and the server: BEGIN, the write lock and the
    read after it go in one pipeline; then the row, the change (with its revision and NOTIFY)
    and COMMIT. Another writer committing while this one waits for the lock is still seen
    (the read after the lock runs after it is granted)."""
    from modelregistry import ModelRegistry  # noqa: PLC0415 - the class under test

    ModelRegistry(postgres_schema_url, cache=False).close()  # migrated, defaults inserted
    with (
        RoundTripProxy(postgres_schema_url) as proxy,
        ModelRegistry(proxy.url, cache=False) as registry,
    ):
        model = registry.get_model_or_raise("llama3.1:8b")
        # Warm: psycopg prepares a statement at its fifth execution, at the cost of one more
        # round trip that once.
        for number in range(6):
            registry.update_model_status("llama3.1:8b", ("maintenance", "active")[number % 2])
            registry.register_model(model.model_copy(update={"context_window": 1 + number % 2}))
        before = proxy.round_trips()
        registry.update_model_status("llama3.1:8b", "deprecated")
        assert proxy.round_trips() - before == WRITE_ROUND_TRIPS["postgresql"]
        changed = registry.get_model_or_raise("llama3.1:8b").model_copy(
            update={"context_window": 3}
        )
        before = proxy.round_trips()
        registry.register_model(changed)
        assert proxy.round_trips() - before == WRITE_ROUND_TRIPS["postgresql"]
        with ModelRegistry(postgres_schema_url, cache=False) as direct:
            stored = direct.get_model_or_raise("llama3.1:8b")
            assert (stored.status.value, stored.context_window) == ("deprecated", 3)
            history = direct.get_model_history("llama3.1:8b")
            assert history[-1].version == stored.version
        assert registry.get_model_or_raise("llama3.1:8b") == stored


def _listening(registry: ModelRegistry) -> ChangeFeed:
    """The registry's LISTEN feed once its LISTEN is up (writes before it expect no notice)."""
    from modelregistry.cache.feed import ChangeFeed  # noqa: PLC0415 - only here, by name

    feed = registry._parts.cache._feed  # type: ignore[union-attr]  # noqa: SLF001 - what it did is checked
    assert isinstance(feed, ChangeFeed)
    limit = time.monotonic() + 60
    while feed.listening() is None:
        assert time.monotonic() < limit, "the change feed never listened"
        time.sleep(0.01)
    return feed


def _settled(feed: ChangeFeed) -> None:
    """Wait until the feed has heard every own notification it expects (and so is past the
    catch-up its LISTEN began with: it reads notifications only after that)."""
    limit = time.monotonic() + 60  # generous: only a lost notification takes this long
    while feed.own_notices < 1 or feed._own:  # noqa: SLF001
        assert time.monotonic() < limit, "the feed never heard its own writes"
        time.sleep(0.01)


def test_a_cached_write_on_postgresql_takes_three_round_trips_on_the_wire(
    postgres_schema_url: str,
) -> None:
    """With its cache at the revision found under the lock, the writer sends no read of the
    row: the pipeline, the change, COMMIT. With its cache held behind another writer's change,
    four again (and the catch-up's read), and that change kept. The change feed's own
    connection (through the proxy too) sends nothing: it hears its writer's notifications and
    skips them."""
    from modelregistry import ModelRegistry  # noqa: PLC0415 - the class under test

    ModelRegistry(postgres_schema_url, cache=False).close()  # migrated, defaults inserted
    with (
        RoundTripProxy(postgres_schema_url) as proxy,
        ModelRegistry(proxy.url, poll_interval=3600) as registry,
        ModelRegistry(postgres_schema_url, cache=False) as other,
    ):
        feed = _listening(registry)
        model = registry.get_model_or_raise("llama3.1:8b")
        for number in range(6):  # warm: see the four-round-trip test
            registry.update_model_status("llama3.1:8b", ("maintenance", "active")[number % 2])
            registry.register_model(model.model_copy(update={"context_window": 1 + number % 2}))
        _settled(feed)  # (its connection goes through the proxy too)
        before = proxy.round_trips()
        registry.update_model_status("llama3.1:8b", "deprecated")
        assert proxy.round_trips() - before == CACHED_WRITE_ROUND_TRIPS["postgresql"]
        _settled(feed)
        cache = registry._parts.cache  # noqa: SLF001 - holding its refreshes back
        assert cache is not None
        with cache.snapshots.holding_refreshes():
            other.register_model(
                other.get_model_or_raise("llama3.1:8b").model_copy(update={"context_window": 7})
            )
            before = proxy.round_trips()
            changed = registry.update_model_status("llama3.1:8b", "active")
            # (And one more after the commit: the catch-up reads both changes back.)
            assert proxy.round_trips() - before == WRITE_ROUND_TRIPS["postgresql"] + 1
        assert (changed.status.value, changed.context_window) == ("active", 7)
        assert other.get_model_or_raise("llama3.1:8b") == changed


def test_a_writers_own_notifications_cost_its_change_feed_no_read(
    postgres_schema_url: str,
) -> None:
    """PostgreSQL: the change feed hears the NOTIFY of each of its own process's writes; the
    cache has applied them already, so the feed reads nothing. Another writer's change, heard
    the same way, is still read at once (the cache would poll only once an hour)."""
    from modelregistry import ModelRegistry  # noqa: PLC0415 - the class under test

    feed_statements: list[str] = []

    def statement(text: str) -> None:
        if threading.current_thread().name == "modelregistry-feed":
            feed_statements.append(" ".join(text.split())[:100])

    with (
        ModelRegistry(postgres_schema_url, poll_interval=3600) as registry,
        ModelRegistry(postgres_schema_url, cache=False) as other,
    ):
        feed = _listening(registry)
        registry.update_model_status("llama3.1:8b", "maintenance")  # warm
        _settled(feed)
        limit = time.monotonic() + 60  # generous: only a lost notification takes this long
        with statements_and_commits(statement, lambda: None):
            for number in range(5):
                registry.update_model_status("llama3.1:8b", ("deprecated", "active")[number % 2])
            while feed.own_notices < 6:
                assert time.monotonic() < limit, f"heard {feed.own_notices - 1} of 5"
                time.sleep(0.01)
        assert feed_statements == []
        other.update_model_status("llama3.2:3b", "deprecated")
        while registry.get_model_or_raise("llama3.2:3b").status.value != "deprecated":
            assert time.monotonic() < limit, "another writer's change was never read"
            time.sleep(0.01)
        assert feed.own_notices == 6
        assert registry.list_models() == other.list_models()
