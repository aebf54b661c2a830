"""The change feed through NATS JetStream: publish, apply, dedupe, resume, relay, fallback, idle.

Real PostgreSQL (a schema per test), real NATS: the shared server for most tests, a throwaway
nats-server for the ones that stop it. Each test has a stream of its own.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from modelregistry import ModelRegistry
from modelregistry.cache.publisher import (
    DIE_BEFORE_PUBLISH_VARIABLE,
    PUBLISH_TIMEOUT_SECONDS,
    publish_messages,
)
from modelregistry.cache.wire import ChangeMessage, FeedAddress, decode, encode
from modelregistry.domain.history import fingerprint
from modelregistry.registry import run_relay
from throwaway_nats import SHARED_NATS, answers, delete_stream, throwaway_nats, unique_stream

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterator

    from modelregistry import CatalogEvent

DEADLINE = 60.0  # generous: only a broken feed takes this long


def wait_for(predicate: Callable[[], object], what: str, deadline: float = DEADLINE) -> None:
    limit = time.monotonic() + deadline
    while not predicate():
        if time.monotonic() > limit:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.01)


@pytest.fixture(scope="session")
def shared_nats() -> str:
    if not answers("127.0.0.1", 4222):
        reason = "NATS JetStream is not answering on 127.0.0.1:4222"
        if os.environ.get("MODELREGISTRY_REQUIRE_NATS") == "1":
            pytest.fail(f"MODELREGISTRY_REQUIRE_NATS=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    return SHARED_NATS


@pytest.fixture
def feed(shared_nats: str) -> Iterator[str]:
    stream = unique_stream()
    yield f"{shared_nats}/{stream}"
    delete_stream(shared_nats, stream)


@pytest.fixture
def url(postgres_schema_url: str) -> str:
    return postgres_schema_url


def feed_state(registry: ModelRegistry) -> dict[str, Any]:
    state: dict[str, Any] = registry.get_stats()["cache"]["feed"]
    return state


def publishing(registry: ModelRegistry) -> bool:
    publisher = registry._parts.publisher  # noqa: SLF001 - whether the writer is connected
    assert publisher is not None
    return publisher.connected


def status_of(registry: ModelRegistry, model_id: str = "llama3.2:3b") -> str:
    model = registry.get_model(model_id)
    return "" if model is None else model.status.value


def stream_messages(servers: str, stream: str) -> list[tuple[int, bytes]]:
    """Every message in ``stream``: (sequence, data)."""

    async def read() -> list[tuple[int, bytes]]:
        import nats  # noqa: PLC0415 - the nats extra

        client = await nats.connect(servers)
        try:
            js = client.jetstream()
            info = await js.stream_info(stream)
            found = []
            for sequence in range(max(info.state.first_seq, 1), info.state.last_seq + 1):
                stored = await js.get_msg(stream, sequence)
                found.append((sequence, stored.data or b""))
            return found
        finally:
            await client.close()

    return asyncio.run(read())


def revisions_in(servers: str, stream: str) -> list[int]:
    found = [decode(data) for _, data in stream_messages(servers, stream)]
    return [m.revision for m in found if isinstance(m, ChangeMessage)]


@pytest.fixture
def relay_thread(url: str) -> Iterator[Callable[[str], threading.Event]]:
    """Starts ``run_relay`` on a thread; stops it at the end."""
    stops: list[tuple[threading.Event, threading.Thread]] = []

    def start(feed_url: str) -> threading.Event:
        stop, ready = threading.Event(), threading.Event()
        thread = threading.Thread(
            target=run_relay,
            args=(url,),
            kwargs={"feed": feed_url, "stop": stop, "on_ready": lambda _: ready.set()},
            daemon=True,
        )
        thread.start()
        stops.append((stop, thread))
        assert ready.wait(DEADLINE), "the relay did not connect"
        return ready

    yield start
    for stop, thread in stops:
        stop.set()
        thread.join(timeout=30)


# -- publishing and applying -------------------------------------------------------------


def test_reader_applies_published_writes_from_the_stream_without_polling(
    url: str, feed: str
) -> None:
    with (
        ModelRegistry(url, feed=feed) as writer,
        ModelRegistry(url, feed=feed, poll_interval=3600) as reader,
    ):
        wait_for(lambda: feed_state(reader)["transport"] == "jetstream", "the subscription")
        events: list[CatalogEvent] = []
        reader.subscribe(events.append)
        polls = feed_state(reader)["polls"]
        writer.update_model_status("llama3.2:3b", "maintenance")
        writer.set_alias("small", "llama3.2:3b")
        writer.update_model_status("llama3.2:3b", "active")
        wait_for(lambda: len(events) == 2 and reader.get_model("small") is not None, "the changes")
        state = reader.get_stats()["cache"]
        assert state["revision"] == writer.get_stats()["cache"]["revision"]
        assert status_of(reader) == "active"
        assert [(e.model_id, e.version) for e in events] == [("llama3.2:3b", 2), ("llama3.2:3b", 3)]
        # Everything came through the stream: not one read of the database since.
        assert state["feed"]["polls"] == polls
        assert state["feed"]["transport"] == "jetstream"
        assert state["feed"]["messages"] >= 3
        exposition = reader.metrics.exposition().decode()
        assert 'modelregistry_feed_transport{transport="jetstream"} 1.0' in exposition
        assert 'modelregistry_feed_transport{transport="poll"} 0.0' in exposition
        assert 'modelregistry_cache_refreshes_total{trigger="stream"}' in exposition
        assert "modelregistry_feed_lag_seconds " in exposition


def test_a_change_continuing_the_cache_is_applied_on_the_nats_loop_and_told_in_order(
    url: str, feed: str
) -> None:
    with (
        ModelRegistry(url, feed=feed) as writer,
        ModelRegistry(url, feed=feed, poll_interval=3600) as reader,
    ):
        wait_for(lambda: feed_state(reader)["transport"] == "jetstream", "the subscription")
        events: list[CatalogEvent] = []
        reader.subscribe(events.append)
        for status in ("maintenance", "active", "deprecated"):
            writer.update_model_status("llama3.2:3b", status)
        wait_for(lambda: len(events) == 3, "the changes")
        assert [e.version for e in events] == [2, 3, 4]
        assert status_of(reader) == "deprecated"
        # No other refresh was under way and no gap: the loop applied each one itself.
        assert feed_state(reader)["applied_on_loop"] == 3


def test_a_change_arriving_during_another_refresh_leaves_the_nats_loop_free_and_is_applied(
    url: str, feed: str
) -> None:
    with (
        ModelRegistry(url, feed=feed) as writer,
        ModelRegistry(url, feed=feed, poll_interval=3600) as reader,
    ):
        wait_for(lambda: feed_state(reader)["transport"] == "jetstream", "the subscription")
        cache = reader._parts.cache  # noqa: SLF001 - holding its refresh lock, as a write's read does
        assert cache is not None
        messages, polls = feed_state(reader)["messages"], feed_state(reader)["polls"]
        with cache.snapshots._refreshing:  # noqa: SLF001 - another refresh under way
            writer.update_model_status("llama3.2:3b", "maintenance")
            writer.update_model_status("llama3.2:3b", "active")
            # The loop did not wait for the lock: it went on receiving.
            wait_for(lambda: feed_state(reader)["messages"] == messages + 2, "both messages")
            assert cache.snapshots.snapshot.revision < writer.get_stats()["cache"]["revision"]
        wait_for(
            lambda: (
                reader.get_stats()["cache"]["revision"] == writer.get_stats()["cache"]["revision"]
            ),
            "the applying thread to apply them",
        )
        assert status_of(reader) == "active"
        assert feed_state(reader)["polls"] == polls  # from the stream: no database read


def test_a_duplicate_publish_is_dropped_by_the_stream_and_applied_once(url: str, feed: str) -> None:
    address = FeedAddress.parse(feed)
    with (
        ModelRegistry(url, feed=feed) as writer,
        ModelRegistry(url, feed=feed, poll_interval=3600) as reader,
    ):
        wait_for(lambda: feed_state(reader)["transport"] == "jetstream", "the subscription")
        events: list[CatalogEvent] = []
        reader.subscribe(events.append)
        writer.update_model_status("llama3.2:3b", "maintenance")
        wait_for(lambda: len(events) == 1, "the change")
        ((_, data),) = stream_messages(address.servers[0], address.stream)
        again = decode(data)

        async def publish_twice() -> int:
            import nats  # noqa: PLC0415 - the nats extra

            client = await nats.connect(address.servers[0])
            try:
                return await publish_messages(client.jetstream(), address, [again, again])
            finally:
                await client.close()

        assert asyncio.run(publish_twice()) == 0  # both dropped: same Nats-Msg-Id
        assert len(stream_messages(address.servers[0], address.stream)) == 1
        writer.update_model_status("llama3.2:3b", "active")
        wait_for(lambda: len(events) == 2, "the next change")
        assert [e.version for e in events] == [2, 3]


def test_a_message_chained_to_another_database_forces_a_full_reload(url: str, feed: str) -> None:
    address = FeedAddress.parse(feed)
    with (
        ModelRegistry(url, feed=feed) as writer,
        ModelRegistry(url, feed=feed, poll_interval=3600) as reader,
    ):
        wait_for(lambda: feed_state(reader)["transport"] == "jetstream", "the subscription")
        writer.update_model_status("llama3.2:3b", "maintenance")
        wait_for(lambda: status_of(reader) == "maintenance", "the change")
        ((_, data),) = stream_messages(address.servers[0], address.stream)
        real = decode(data)
        assert isinstance(real, ChangeMessage)
        # The next revision, chained to a change this reader never saw (a restored database:
        # the same revision, model and version, another commit time), claiming a status the
        # database does not have.
        forged = ChangeMessage(
            revision=real.revision + 1,
            change=real.change,
            previous=(
                real.revision,
                fingerprint(
                    real.change.model_id,
                    real.change.version,
                    real.change.changed_at - timedelta(seconds=1),
                ),
            ),
            prices=real.prices,
            schema=real.schema,
        )
        reloads = reader.metrics.exposition().decode()
        assert 'trigger="reload"} 1.0' in reloads

        async def publish() -> None:
            import nats  # noqa: PLC0415 - the nats extra

            client = await nats.connect(address.servers[0])
            try:
                await client.jetstream().publish(address.subject, encode(forged))
            finally:
                await client.close()

        writer.update_model_status("llama3.2:3b", "active")  # the database's truth
        wait_for(lambda: status_of(reader) == "active", "the real change")
        asyncio.run(publish())
        wait_for(
            lambda: 'trigger="reload"} 2.0' in reader.metrics.exposition().decode(),
            "a full reload",
        )
        assert status_of(reader) == "active"


def test_another_schema_revision_in_a_message_forces_a_full_reload(url: str, feed: str) -> None:
    address = FeedAddress.parse(feed)
    with (
        ModelRegistry(url, feed=feed) as writer,
        ModelRegistry(url, feed=feed, poll_interval=3600) as reader,
    ):
        wait_for(lambda: feed_state(reader)["transport"] == "jetstream", "the subscription")
        writer.update_model_status("llama3.2:3b", "maintenance")
        wait_for(lambda: status_of(reader) == "maintenance", "the change")
        ((_, data),) = stream_messages(address.servers[0], address.stream)
        real = decode(data)
        assert isinstance(real, ChangeMessage)
        migrated = ChangeMessage(
            revision=real.revision + 1,
            change=real.change,
            previous=real.anchor,
            prices=real.prices,
            schema="9999_a_newer_schema",
        )

        async def publish() -> None:
            import nats  # noqa: PLC0415 - the nats extra

            client = await nats.connect(address.servers[0])
            try:
                await client.jetstream().publish(address.subject, encode(migrated))
            finally:
                await client.close()

        asyncio.run(publish())
        wait_for(
            lambda: 'trigger="reload"} 2.0' in reader.metrics.exposition().decode(),
            "a full reload",
        )


def test_refresh_on_a_feed_reader_reads_the_database_not_only_the_stream(
    url: str, feed: str
) -> None:
    """``refresh()`` promises the database's state now, whatever the stream has brought."""
    with ModelRegistry(url, feed=feed, poll_interval=3600) as reader:
        wait_for(lambda: feed_state(reader)["transport"] == "jetstream", "the subscription")
        with ModelRegistry(url, cache=False) as direct:  # no feed, no relay: never published
            direct.update_model_status("llama3.2:3b", "maintenance")
        reader.refresh()
        assert status_of(reader) == "maintenance"
        assert reader.get_stats()["cache"]["revision"] == 4
        assert feed_state(reader)["transport"] == "jetstream"


# -- resuming, relaying, falling back ------------------------------------------------------


def test_reader_resumes_from_the_stream_after_nats_restarts(url: str) -> None:
    with throwaway_nats() as nats_server:
        if nats_server is None:
            pytest.skip("nats-server is not installed")
        feed = f"{nats_server.url}/{unique_stream()}"
        with (
            ModelRegistry(url, feed=feed) as writer,
            ModelRegistry(url, feed=feed, poll_interval=3600) as reader,
        ):
            wait_for(lambda: feed_state(reader)["transport"] == "jetstream", "the subscription")
            writer.update_model_status("llama3.2:3b", "maintenance")
            wait_for(lambda: status_of(reader) == "maintenance", "the first change")
            polls = feed_state(reader)["polls"]
            nats_server.stop()
            wait_for(lambda: feed_state(reader)["transport"] == "poll", "the outage noticed")
            nats_server.start()  # same port, same store: the stream and its sequence survive
            wait_for(lambda: feed_state(reader)["transport"] == "jetstream", "the resumption")
            wait_for(lambda: publishing(writer), "the writer")
            for status in ("deprecated", "active", "maintenance"):
                writer.update_model_status("llama3.2:3b", status)
            wait_for(lambda: reader.get_model_or_raise("llama3.2:3b").version == 5, "the rest")
            # Resumed from the stream sequence: no catching up from the database.
            assert feed_state(reader)["polls"] == polls


KILLED_WRITER = (
    "import sys; from modelregistry import ModelRegistry\n"
    "r = ModelRegistry(sys.argv[1], feed=sys.argv[2])\n"
    "r.update_model_status(sys.argv[3], sys.argv[4])\n"
)


def write_and_die(url: str, feed: str, model_id: str, status: str) -> None:
    """A writer process that SIGKILLs itself after its commit, before publishing."""
    env = {**os.environ, DIE_BEFORE_PUBLISH_VARIABLE: "1"}
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_WRITER, url, feed, model_id, status],
        env=env,
        check=False,
        timeout=120,
    )
    assert killed.returncode == -signal.SIGKILL
    with ModelRegistry(url, cache=False) as direct:
        assert status_of(direct, model_id) == status  # committed


def test_relay_publishes_a_revision_whose_writer_died_between_commit_and_publish(
    url: str, feed: str, relay_thread: Callable[[str], threading.Event]
) -> None:
    address = FeedAddress.parse(feed)
    with ModelRegistry(url, feed=feed, poll_interval=3600) as reader:
        wait_for(lambda: feed_state(reader)["transport"] == "jetstream", "the subscription")
        polls = feed_state(reader)["polls"]
        relay_thread(feed)
        write_and_die(url, feed, "llama3.2:3b", "maintenance")
        # The newest change, so the reader sees no gap: only the relay can bring it.
        wait_for(lambda: status_of(reader) == "maintenance", "the relayed revision")
        assert revisions_in(address.servers[0], address.stream) == [4]
        state = feed_state(reader)
        assert (state["polls"], state["gap_reads"]) == (polls, 0)


def test_a_gap_left_by_a_killed_writer_is_filled_and_applied_in_order(
    url: str, feed: str, relay_thread: Callable[[str], threading.Event]
) -> None:
    address = FeedAddress.parse(feed)
    with ModelRegistry(url, feed=feed, poll_interval=3600) as reader:
        wait_for(lambda: feed_state(reader)["transport"] == "jetstream", "the subscription")
        events: list[CatalogEvent] = []
        reader.subscribe(events.append)
        write_and_die(url, feed, "llama3.2:3b", "maintenance")
        # The next writer publishes revision 5: the reader holds it until 4 arrives.
        with ModelRegistry(url, feed=feed) as writer:
            writer.update_model_status("llama3.1:8b", "deprecated")
        assert revisions_in(address.servers[0], address.stream) == [5]
        relay_thread(feed)  # started after the hole: it reads the stream back to find it
        wait_for(lambda: len(events) == 2, "both revisions")
        assert [(e.revision, e.model_id) for e in events] == [
            (4, "llama3.2:3b"),
            (5, "llama3.1:8b"),
        ]
        wait_for(
            lambda: sorted(revisions_in(address.servers[0], address.stream)) == [4, 5],
            "the relay to publish the hole",
        )


@pytest.mark.parametrize("given", ["option", "environment"])
def test_the_relay_command_fills_a_hole_and_stops_on_sigterm(
    url: str, feed: str, given: str
) -> None:
    """As the README runs it: the feed from ``--feed`` or from ``MODELREGISTRY_FEED_URL``."""
    address = FeedAddress.parse(feed)
    env = {**os.environ, "MODELREGISTRY_DATABASE_URL": url}
    command = [str(Path(sys.executable).with_name("modelregistry")), "relay"]
    if given == "option":
        command += ["--feed", feed]
    else:
        env["MODELREGISTRY_FEED_URL"] = feed
    relay = subprocess.Popen(
        command,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert relay.stderr is not None
        assert "relaying to stream" in relay.stderr.readline()
        with ModelRegistry(url, cache=False) as direct:  # no feed: a write nobody publishes
            direct.update_model_status("llama3.2:3b", "maintenance")
        wait_for(
            lambda: revisions_in(address.servers[0], address.stream) == [4], "the relayed write"
        )
    finally:
        relay.send_signal(signal.SIGTERM)
        assert relay.wait(timeout=60) == 0
        if relay.stderr is not None:
            relay.stderr.close()


def test_reader_polls_while_nats_is_down_and_returns_to_the_stream(url: str) -> None:
    with throwaway_nats() as nats_server:
        if nats_server is None:
            pytest.skip("nats-server is not installed")
        feed = f"{nats_server.url}/{unique_stream()}"
        with (
            ModelRegistry(url, feed=feed) as writer,
            ModelRegistry(url, feed=feed, poll_interval=0.2) as reader,
        ):
            wait_for(lambda: feed_state(reader)["transport"] == "jetstream", "the subscription")
            nats_server.kill()
            wait_for(lambda: feed_state(reader)["transport"] == "poll", "the fallback")
            writer.update_model_status("llama3.2:3b", "maintenance")  # not published
            wait_for(lambda: status_of(reader) == "maintenance", "the change, by polling")
            nats_server.start()
            wait_for(lambda: feed_state(reader)["transport"] == "jetstream", "the way back")
            messages = feed_state(reader)["messages"]
            wait_for(lambda: publishing(writer), "the writer")
            writer.update_model_status("llama3.2:3b", "active")
            wait_for(lambda: status_of(reader) == "active", "the change, from the stream")
            assert feed_state(reader)["messages"] > messages


# -- connections --------------------------------------------------------------------------


def connections(admin: sa.Engine, application: str) -> int:
    with admin.connect() as connection:
        return int(
            connection.execute(
                sa.text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :name"),
                {"name": application},
            ).scalar_one()
        )


def test_idle_feed_readers_hold_no_connection_and_listen_readers_hold_theirs(
    url: str, feed: str, postgres_url: str
) -> None:
    def named(application: str) -> str:
        return (
            make_url(url)
            .update_query_dict({"application_name": application})
            .render_as_string(hide_password=False)
        )

    tag = unique_stream()
    admin = sa.create_engine(postgres_url)
    try:
        with (
            ModelRegistry(url, feed=feed) as writer,
            ModelRegistry(named(f"{tag}-feed"), feed=feed, poll_interval=3600) as first,
            ModelRegistry(named(f"{tag}-feed"), feed=feed, poll_interval=3600) as second,
            ModelRegistry(named(f"{tag}-listen")) as listening,
        ):
            wait_for(lambda: feed_state(second)["transport"] == "jetstream", "the subscription")
            wait_for(lambda: connections(admin, f"{tag}-feed") == 0, "the pool to let go")
            writer.update_model_status("llama3.2:3b", "maintenance")
            wait_for(lambda: status_of(first) == status_of(second) == "maintenance", "the change")
            wait_for(lambda: status_of(listening) == "maintenance", "the LISTEN reader")
            assert connections(admin, f"{tag}-feed") == 0  # applied without the database
            # Its LISTEN session, and the pool keeps the one its catch-up read used.
            assert connections(admin, f"{tag}-listen") >= 1
    finally:
        admin.dispose()


def test_an_async_registry_on_the_feed_publishes_and_applies_the_stream(
    url: str, feed: str
) -> None:
    """AsyncModelRegistry(feed=...): its writes reach a reader, and it applies the stream."""
    from modelregistry import AsyncModelRegistry  # noqa: PLC0415 - the async extra

    async def scenario(sync_writer: ModelRegistry) -> None:
        async with AsyncModelRegistry(url, feed=feed, poll_interval=3600) as reader:

            async def until(predicate: Callable[[], Awaitable[bool]], what: str) -> None:
                limit = time.monotonic() + DEADLINE
                while not await predicate():
                    if time.monotonic() > limit:
                        pytest.fail(f"timed out waiting for {what}")
                    await asyncio.sleep(0.01)

            async def transport() -> bool:
                stats = await reader.get_stats()
                return bool(stats["cache"]["feed"]["transport"] == "jetstream")

            await until(transport, "the async reader's subscription")
            polls = (await reader.get_stats())["cache"]["feed"]["polls"]
            # Another process's write, applied from the stream (not a poll).
            await asyncio.to_thread(sync_writer.update_model_status, "llama3.2:3b", "maintenance")

            async def applied() -> bool:
                model = await reader.get_model("llama3.2:3b")
                return model is not None and model.status.value == "maintenance"

            await until(applied, "the change from the stream")
            state = (await reader.get_stats())["cache"]["feed"]
            assert state["transport"] == "jetstream"
            assert state["polls"] == polls
            # Its own write is published: the synchronous reader applies it from the stream.
            await reader.update_model_status("llama3.2:3b", "active")
            await asyncio.to_thread(
                wait_for, lambda: status_of(sync_writer) == "active", "the async write"
            )
            assert feed_state(sync_writer)["transport"] == "jetstream"

    with ModelRegistry(url, feed=feed, poll_interval=3600) as writer:
        wait_for(lambda: feed_state(writer)["transport"] == "jetstream", "the subscription")
        asyncio.run(scenario(writer))


# -- an async write's publish and the event loop ----------------------------------------------


async def loop_stall_during(work: Awaitable[object]) -> tuple[float, float]:
    """Await ``work``; the longest the loop then went without running a 1 ms ticker, its time."""
    worst, done = 0.0, False

    async def tick() -> None:
        nonlocal worst
        while not done:
            before = time.perf_counter()
            await asyncio.sleep(0.001)
            worst = max(worst, time.perf_counter() - before)

    ticking = asyncio.create_task(tick())
    await asyncio.sleep(0.01)
    worst, started = 0.0, time.perf_counter()
    await work
    took = time.perf_counter() - started
    done = True
    await ticking
    return worst, took


# Generous against a loaded machine's scheduling: a loop held by the publish stops for the
# whole of PUBLISH_TIMEOUT_SECONDS (1 s), which the write below waits out.
STALL_BOUND = 0.5


def test_an_async_write_waiting_for_the_stream_ack_leaves_the_event_loop_running(
    url: str,
) -> None:
    from modelregistry import AsyncModelRegistry  # noqa: PLC0415 - the async extra

    with throwaway_nats() as nats_server:
        if nats_server is None or nats_server.process is None:
            pytest.skip("nats-server is not installed")
        pid = nats_server.process.pid
        feed = f"{nats_server.url}/{unique_stream()}"

        async def scenario() -> tuple[float, float]:
            async with AsyncModelRegistry(url, feed=feed, poll_interval=3600) as registry:
                await registry.update_model_status("llama3.2:3b", "maintenance")  # connected
                os.kill(pid, signal.SIGSTOP)  # the connection stays; no acknowledgement comes
                try:
                    return await loop_stall_during(
                        registry.update_model_status("llama3.2:3b", "active")
                    )
                finally:
                    os.kill(pid, signal.SIGCONT)

        stall, took = asyncio.run(scenario())
    assert took >= 0.9 * PUBLISH_TIMEOUT_SECONDS  # the publish waited for its acknowledgement
    assert stall < STALL_BOUND  # ... and the loop ran the ticker meanwhile


def test_an_async_first_write_waiting_for_nats_to_connect_leaves_the_event_loop_running(
    url: str,
) -> None:
    from modelregistry import AsyncModelRegistry  # noqa: PLC0415 - the async extra

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens there once the probe closes
    feed = f"nats://127.0.0.1:{port}/{unique_stream()}"

    async def scenario() -> tuple[float, float]:
        async with AsyncModelRegistry(url, feed=feed, poll_interval=3600) as registry:
            return await loop_stall_during(
                registry.update_model_status("llama3.2:3b", "maintenance")
            )

    stall, took = asyncio.run(scenario())
    assert took >= 0.9 * PUBLISH_TIMEOUT_SECONDS  # the first write waited for a connection
    assert stall < STALL_BOUND
    with ModelRegistry(url, cache=False) as direct:
        assert status_of(direct) == "maintenance"  # committed all the same (the relay publishes it)
