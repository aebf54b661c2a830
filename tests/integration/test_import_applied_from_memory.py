"""The writer's cache applies its own import from memory: exactly what a fresh load gives.

After an import the writer knows every model it wrote, its version and revision number and
each price timeline it changed; its cache applies them without reading the import back. The
snapshot must be the one a new process loads from the database: the models (prices in effect,
capabilities, tags), the price timelines (a price scheduled later stays after the new one),
the aliases, the revision and anchor, and the events subscribers hear must carry the
database's revision numbers.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from cases import config
from modelregistry import ModelConfig, ModelRegistry
from statement_events import statements_and_commits

if TYPE_CHECKING:
    from collections.abc import Iterator

    from modelregistry.cache.cache import CatalogEvent
    from modelregistry.cache.snapshot import Snapshot


@contextmanager
def _reads_after_commit() -> Iterator[list[str]]:
    """The statements this thread sends after its first COMMIT (the cache's catch-up)."""
    thread, after, committed = threading.get_ident(), [], [False]

    def before(statement: str) -> None:
        if threading.get_ident() == thread and committed[0] and statement != "BEGIN":
            after.append(" ".join(statement.split()))

    def commit() -> None:
        if threading.get_ident() == thread:
            committed[0] = True

    with statements_and_commits(before, commit):
        yield after


def _snapshot(registry: ModelRegistry) -> Snapshot:
    cache = registry._parts.cache  # noqa: SLF001 - the snapshot under test
    assert cache is not None
    return cache.current()


def _state(registry: ModelRegistry) -> dict[str, Any]:
    snapshot = _snapshot(registry)
    cache = registry._parts.cache  # noqa: SLF001 - its anchor
    assert cache is not None
    return {
        "revision": snapshot.revision,
        "anchor": cache.snapshots._anchor,  # noqa: SLF001 - which change it stands on
        "models": snapshot._models,  # noqa: SLF001 - every model as held
        "ids": snapshot._ids,  # noqa: SLF001 - and every index
        "by_provider": snapshot._by_provider,  # noqa: SLF001
        "by_capability": snapshot._by_capability,  # noqa: SLF001
        "by_status": snapshot._by_status,  # noqa: SLF001
        "names": snapshot._names,  # noqa: SLF001
        "prices": snapshot._prices,  # noqa: SLF001 - every timeline
        "aliases": snapshot.aliases(),
        "expires_at": snapshot.expires_at,
    }


def _as_loaded(registry: ModelRegistry) -> dict[str, Any]:
    with ModelRegistry(registry.url) as fresh:
        return _state(fresh)


def _catalog(models: list[dict[str, Any]]) -> dict[str, Any]:
    return {"models": models}


def test_an_import_is_applied_without_reads_and_equals_a_fresh_load(
    registry: ModelRegistry, raw_engine: sa.Engine
) -> None:
    later = datetime.now(UTC) + timedelta(days=30)
    registry.set_price("llama3.1:8b", "0.5", "0.75", effective_from=later)  # scheduled
    registry.set_alias("small", "llama3.2:3b")
    registry.register_model(ModelConfig.model_validate(config()))
    registry.remove_model("gpt-4-turbo")  # priced, then re-created by the import
    events: list[CatalogEvent] = []
    registry.subscribe(events.append)
    kept = registry.get_model_or_raise("llama3.2:3b")
    repriced = registry.get_model_or_raise("llama3.1:8b")
    new = [
        config(
            model_id=f"acme/model-{number:03d}",
            provider="acme" if number % 2 else "other",
            cost_per_1m_input_tokens=number / 8,
            cost_per_1m_output_tokens=number / 4,
            capabilities={"supports_streaming": number % 3 == 0, "supports_vision": True},
        )
        for number in range(40)
    ]
    first = [
        *new,
        config(),  # gpt-4-turbo again, at the costs its last price has
        {**repriced.model_dump(mode="json"), "cost_per_1m_input_tokens": 0.3},
        {**kept.model_dump(mode="json"), "context_window": kept.context_window + 1},
    ]
    before = _snapshot(registry).revision
    with _reads_after_commit() as reads:
        result = registry.import_catalog(_catalog(first))
    assert len(result.added) == 41
    assert sorted(result.changed) == ["llama3.1:8b", "llama3.2:3b"]
    assert reads == []  # applied from memory: nothing read back
    assert _state(registry) == _as_loaded(registry)
    # The new price sits between the one it replaced and the one scheduled.
    timeline = registry.get_price_history("llama3.1:8b")
    assert [p.input_per_1m for p in timeline[-2:]] == [Decimal("0.3"), Decimal("0.5")]
    assert timeline[-1].effective_from == later
    assert registry.get_model_or_raise("llama3.1:8b").cost_per_1m_input_tokens == 0.3
    assert [(a.alias, a.model_id) for a in registry.list_aliases()] == [("small", "llama3.2:3b")]

    # A second import: costs changed again, capabilities dropped, and a prune.
    second = [
        {
            **model,
            "cost_per_1m_output_tokens": 9,
            "capabilities": {"supports_streaming": True},
        }
        for model in new[:20]
    ]
    with _reads_after_commit() as reads:
        result = registry.import_catalog(_catalog(second), prune=True)
    assert len(result.changed) == 20
    assert "llama3.1:8b" in result.removed
    assert reads == []
    assert _state(registry) == _as_loaded(registry)

    assert registry._parts.cache is not None  # noqa: SLF001 - its subscribers
    assert registry._parts.cache.snapshots.delivered(timeout=30)  # noqa: SLF001
    with raw_engine.connect() as connection:
        logged = connection.execute(
            sa.text(
                "SELECT id, model_id, version FROM model_revisions WHERE id > :before ORDER BY id"
            ),
            {"before": before},
        ).all()
    assert [(e.revision, e.model_id, e.version) for e in events] == [tuple(row) for row in logged]
