"""What only the asyncio API has: a free event loop, concurrent coroutines, cancellation.

Everything ModelRegistry does is also run through AsyncModelRegistry by the suites marked
``both_apis``; these tests drive the coroutines from a real ``asyncio.run``.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest

from cases import config
from modelregistry import AsyncModelRegistry, ModelRegistry
from modelregistry.db.engine import lock_for_writes, make_engine, writer

if TYPE_CHECKING:
    from collections.abc import Iterator

    import sqlalchemy as sa

    from modelregistry import CatalogEvent

DEADLINE = 60.0  # generous: only a broken registry takes this long


@pytest.fixture
def catalog(database_url: str) -> str:
    """A migrated, seeded catalog."""
    ModelRegistry(database_url).close()
    return database_url


@pytest.fixture
def lock_holder(catalog: str) -> Iterator[sa.Engine]:
    """An engine whose write transactions hold the catalog's write lock."""
    engine = make_engine(catalog)
    yield writer(engine)
    engine.dispose()


def test_a_write_waiting_for_the_lock_leaves_the_event_loop_free(
    catalog: str, lock_holder: sa.Engine
) -> None:
    async def main() -> int:
        async with AsyncModelRegistry(catalog) as registry:
            with lock_holder.connect() as connection, connection.begin():
                lock_for_writes(connection)  # another writer holds the lock
                write = asyncio.create_task(registry.register_model(config(model_id="m")))
                for _ in range(20):  # the loop keeps running other coroutines meanwhile
                    await asyncio.sleep(0.01)
                assert not write.done()
                # ... and the cache answers them.
                assert await registry.get_model("llama3.1:8b") is not None
            model = await asyncio.wait_for(write, DEADLINE)  # the lock is free: it goes on
            assert await registry.get_model("m") == model
            assert model.version is not None
            return model.version

    assert asyncio.run(main()) == 1


def test_concurrent_coroutines_lose_no_write(database_url: str) -> None:
    async def main() -> None:
        async with AsyncModelRegistry(database_url) as registry:

            async def bump(worker: int) -> None:
                for n in range(5):
                    await registry.register_model(
                        config(model_id=f"w{worker}", context_window=n + 1)
                    )
                    assert (await registry.get_model(f"w{worker}")) is not None

            await asyncio.gather(*(bump(worker) for worker in range(8)))
            for worker in range(8):
                model = await registry.get_model_or_raise(f"w{worker}")
                assert (model.context_window, model.version) == (5, 5)
                assert len(await registry.get_model_history(f"w{worker}")) == 5
            # The cache, caught up by every write, equals what the database says.
            async with AsyncModelRegistry(database_url, cache=False) as direct:
                assert await registry.list_models() == await direct.list_models()

    asyncio.run(main())


def test_an_in_memory_catalog_serves_concurrent_coroutines() -> None:
    async def main() -> list[int]:
        async with AsyncModelRegistry("sqlite://") as registry:
            written = await asyncio.gather(
                *(registry.register_model(config(model_id=f"m{n}")) for n in range(10)),
                *(registry.update_model_status("llama3.1:8b", s) for s in ("disabled", "active")),
            )
            assert len(await registry.list_models()) == 13
            stats = await registry.get_stats()
            assert stats["cache"]["state"] == "live"
            return sorted(model.version or 0 for model in written[:10])

    assert asyncio.run(main()) == [1] * 10


def test_a_cancelled_call_stops_waiting_and_the_write_ends_whole_on_its_own(
    catalog: str, lock_holder: sa.Engine
) -> None:
    # A statement cannot be taken back halfway (aiosqlite's thread goes on with it): the
    # caller is released at once, the write commits as a whole once it can, and nothing is
    # left holding a lock (an abandoned SQLite connection would, for the whole busy timeout).
    async def main() -> None:
        async with AsyncModelRegistry(catalog) as registry:
            with lock_holder.connect() as connection, connection.begin():
                lock_for_writes(connection)
                write = asyncio.create_task(registry.register_model(config(model_id="late")))
                await asyncio.sleep(0.2)
                write.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await write
                assert await registry.get_model("late") is None  # still waiting for the lock
            kept = await asyncio.wait_for(
                registry.register_model(config(model_id="kept")), DEADLINE / 2
            )
            assert kept.version == 1
        async with AsyncModelRegistry(catalog, cache=False) as direct:
            # close() waited for the cancelled caller's write: it is there, whole.
            assert [r.version for r in await direct.get_model_history("late")] == [1]
            assert [r.version for r in await direct.get_model_history("kept")] == [1]

    asyncio.run(main())


def test_events_reach_the_event_loop_through_call_soon_threadsafe(catalog: str) -> None:
    async def main() -> CatalogEvent:
        loop = asyncio.get_running_loop()
        events: asyncio.Queue[CatalogEvent] = asyncio.Queue()
        async with AsyncModelRegistry(catalog, poll_interval=0.05) as registry:
            unsubscribe = registry.subscribe(
                lambda event: loop.call_soon_threadsafe(events.put_nowait, event)
            )
            # Another process's registry makes the change.
            await asyncio.to_thread(_disable_in_another_registry, catalog)
            event = await asyncio.wait_for(events.get(), DEADLINE)
            unsubscribe()
            assert (await registry.get_model_or_raise("llama3.1:8b")).status.value == "disabled"
            return event

    event = asyncio.run(main())
    assert (event.model_id, event.change.value, event.version) == (
        "llama3.1:8b",
        "status_changed",
        2,
    )


def _disable_in_another_registry(url: str) -> None:
    with ModelRegistry(url, cache=False) as other:
        other.update_model_status("llama3.1:8b", "disabled")


def test_subscribe_before_open_says_to_open_first() -> None:
    with pytest.raises(RuntimeError, match="open"):
        AsyncModelRegistry("sqlite://").subscribe(print)


def test_a_closed_registry_refuses_calls() -> None:
    async def main() -> None:
        registry = AsyncModelRegistry("sqlite://")
        assert await registry.get_model("llama3.1:8b") is not None  # opened by the first call
        await registry.close()
        with pytest.raises(RuntimeError, match="closed"):
            await registry.get_model("llama3.1:8b")

    asyncio.run(main())


def test_invalid_poll_interval_is_refused_at_construction() -> None:
    with pytest.raises(ValueError, match="poll_interval"):
        AsyncModelRegistry("sqlite://", poll_interval=0)
