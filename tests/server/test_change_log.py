"""The change log behind /api/changes, on a real registry: replay, eviction (410), waiting."""

from __future__ import annotations

import asyncio

import pytest

from cases import config
from modelregistry import CatalogEvent, ChangeKind, ModelRegistry, RevisionGoneError
from modelregistry.server.changes import ChangeLog
from served import wait_for


def test_the_log_replays_in_order_and_forgets_the_oldest_with_410(database_url: str) -> None:
    with ModelRegistry(database_url) as registry:
        log = ChangeLog(size=2)
        start = registry.get_stats()["cache"]["revision"]
        log.follow(registry, start)
        assert log.since(start) == []
        registry.update_model_status("llama3.1:8b", "deprecated")
        registry.update_model_status("llama3.2:3b", "deprecated")
        # Subscribers are told on the cache's dispatcher thread, after the write returns.
        wait_for(lambda: log.newest == start + 2, "the log to hear both changes")
        assert [(c.revision, c.model_id) for c in log.since(start)] == [
            (start + 1, "llama3.1:8b"),
            (start + 2, "llama3.2:3b"),
        ]
        registry.remove_model("llava-llama3:latest")  # the oldest change drops out
        wait_for(lambda: log.newest == start + 3, "the log to hear the removal")
        with pytest.raises(RevisionGoneError):
            log.since(start)
        assert [c.change for c in log.since(start + 1)] == ["status_changed", "removed"]
        assert log.newest == start + 3
        log.close()


def test_a_waiter_wakes_on_a_change_from_another_thread(database_url: str) -> None:
    with ModelRegistry(database_url) as registry:
        log = ChangeLog(size=100)
        start = registry.get_stats()["cache"]["revision"]
        log.follow(registry, start)

        async def scenario() -> list[str]:
            waiting = asyncio.ensure_future(log.wait(start, 60))
            await asyncio.sleep(0)
            await asyncio.to_thread(registry.register_model, config(model_id="new/one"))
            return [change.model_id for change in await waiting]

        assert asyncio.run(scenario()) == ["new/one"]
        log.close()


def test_a_history_heard_again_sends_streams_to_reload() -> None:
    log = ChangeLog(size=100)
    log._heard(CatalogEvent("a", ChangeKind.CREATED, 1, 5))  # noqa: SLF001 - the subscriber
    resets = log.resets
    # A full reload after a restore tells its changes at one revision, heard again.
    log._heard(CatalogEvent("b", ChangeKind.UPDATED, 2, 5))  # noqa: SLF001 - ditto
    with pytest.raises(RevisionGoneError):
        log.since(5, resets)
    with pytest.raises(RevisionGoneError):
        log.since(4)
