"""Snapshots answer exactly what a rebuilt index answers, however they got there."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cases import config
from modelregistry.cache.cache import CatalogEvent, SnapshotCache
from modelregistry.cache.contract import Delta, FullLoad
from modelregistry.cache.snapshot import Snapshot
from modelregistry.domain.history import ChangeKind, ModelRevision, fingerprint
from modelregistry.domain.models import ModelConfig, ModelStatus

if TYPE_CHECKING:
    from modelregistry.db.repository import Anchor

IDS = ["a", "B", "c:1", "d/2", "é"]
PROVIDERS = ["openai", "anthropic", "ollama"]
CAPABILITIES = ["streaming", "vision", "tool_use", "reasoning"]

models = st.builds(
    lambda model_id, provider, status, caps, retires: ModelConfig(
        **config(
            model_id=model_id,
            provider=provider,
            status=status,
            capabilities={f"supports_{c}": True for c in caps},
            retirement_date=retires,
        )
    ),
    st.sampled_from(IDS),
    st.sampled_from(PROVIDERS),
    st.sampled_from(list(ModelStatus)),
    st.sets(st.sampled_from(CAPABILITIES)),
    st.none() | st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 1, 1)),
)
changes = st.lists(st.one_of(models, st.sampled_from(IDS)), max_size=25)


def revision(item: ModelConfig | str, version: int) -> ModelRevision:
    removed = isinstance(item, str)
    model = ModelConfig(**config(model_id=item)) if isinstance(item, str) else item
    return ModelRevision(
        model_id=model.model_id,
        version=version,
        config=model,
        change=ChangeKind.REMOVED if removed else ChangeKind.UPDATED,
        changed_at=datetime.now(UTC),
        actor="test",
        reason=None,
    )


def answers(snapshot: Snapshot) -> list[object]:
    found: list[object] = [
        snapshot.list_models(),
        snapshot.providers_in_use(),
        snapshot.capabilities_in_use(),
        snapshot.count_by_status(),
        snapshot.count_by_provider(),
        snapshot.retiring(date(2026, 7, 1)),
        [snapshot.get(model_id) for model_id in IDS],
    ]
    found.extend(
        snapshot.list_models(provider=provider, status=status, capabilities=caps)
        for provider in [None, *PROVIDERS]
        for status in [None, *ModelStatus]
        for caps in [(), ("vision",), ("streaming", "tool_use")]
    )
    return found


@settings(max_examples=300, deadline=None)
@given(start=st.lists(models, max_size=6), steps=st.lists(changes, max_size=4))
def test_applied_changes_equal_a_rebuild(
    start: list[ModelConfig], steps: list[list[ModelConfig | str]]
) -> None:
    state = {model.model_id: model for model in start}
    snapshot = Snapshot(0, state)
    before = answers(snapshot)
    number = 0
    for step in steps:
        revisions = []
        for item in step:
            number += 1
            revisions.append(revision(item, number))
            if isinstance(item, str):
                state.pop(item, None)
            else:
                state[item.model_id] = item
        previous = snapshot
        snapshot = snapshot.apply(number, revisions)
        assert snapshot.revision == number
        assert answers(snapshot) == answers(Snapshot(number, state))
        assert previous is not snapshot
    # The first snapshot was never touched.
    assert answers(Snapshot(0, {m.model_id: m for m in start})) == before


def test_lists_are_fresh_lists_every_time() -> None:
    snapshot = Snapshot(1, {"a": ModelConfig(**config(model_id="a"))})
    first = snapshot.list_models()
    first.clear()
    assert [m.model_id for m in snapshot.list_models()] == ["a"]


def test_a_status_change_copies_only_the_two_status_lists() -> None:
    # Issue 19: a reader applies every change of the feed; the provider's and capabilities'
    # lists (10,000s of ids in a big catalog) stay shared with the snapshot before.
    def model(model_id: str, status: ModelStatus = ModelStatus.ACTIVE) -> ModelConfig:
        flags = {"supports_vision": True}
        return ModelConfig(**config(model_id=model_id, status=status, capabilities=flags))

    snapshot = Snapshot(1, {model_id: model(model_id) for model_id in ("a", "b")})
    moved = model("a", ModelStatus.MAINTENANCE)
    successor = snapshot.apply(2, [revision(moved, 2)])
    assert successor.list_models(status=ModelStatus.MAINTENANCE) == [moved]
    assert [m.model_id for m in successor.list_models(status=ModelStatus.ACTIVE)] == ["b"]
    assert [m.model_id for m in snapshot.list_models(status=ModelStatus.ACTIVE)] == ["a", "b"]
    provider = moved.provider
    assert successor._by_provider[provider] is snapshot._by_provider[provider]  # noqa: SLF001
    assert successor._by_capability["vision"] is snapshot._by_capability["vision"]  # noqa: SLF001
    assert successor._names is snapshot._names  # noqa: SLF001


Log = list[tuple[int, ModelRevision]]


def fake_database(log: Log) -> tuple[Any, Any]:
    """load and changes_since over an in-memory change log, as the repository answers them."""
    loads: list[int] = []

    def load() -> FullLoad:
        loads.append(1)
        models: dict[str, ModelConfig] = {}
        for _, change in log:
            if change.change is ChangeKind.REMOVED:
                models.pop(change.model_id, None)
            else:
                models[change.model_id] = change.config
        anchor: Anchor = (0, None)
        if log:
            number, last = log[-1]
            anchor = (number, fingerprint(last.model_id, last.version, last.changed_at))
        return FullLoad(anchor, models, {}, {}, 0, datetime.now(UTC))

    def since(anchor: Anchor, alias_cursor: int, known: object = None) -> Delta | None:
        del known  # a writer's own configs: the fake log holds them already
        revision, change = anchor
        rows = [(n, r) for n, r in log if n >= revision]
        if revision:
            if not rows or rows[0][0] != revision:
                return None
            first = rows[0][1]
            if fingerprint(first.model_id, first.version, first.changed_at) != change:
                return None
            rows = rows[1:]
        return Delta(rows, {}, None, alias_cursor)

    load.calls = loads  # type: ignore[attr-defined]
    return load, since


def test_cache_refresh_applies_the_log_and_tells_subscribers() -> None:
    log: Log = []
    load, since = fake_database(log)
    cache = SnapshotCache(load, since)
    seen: list[CatalogEvent] = []
    unsubscribe = cache.subscribe(seen.append)
    log.append((1, revision(ModelConfig(**config(model_id="a")), 1)))
    log.append((2, revision(ModelConfig(**config(model_id="b")), 1)))
    assert [e.model_id for e in cache.refresh()] == ["a", "b"]
    assert cache.delivered(timeout=30)  # on the dispatcher thread
    assert [(e.model_id, e.change, e.version, e.revision) for e in seen] == [
        ("a", ChangeKind.UPDATED, 1, 1),
        ("b", ChangeKind.UPDATED, 1, 2),
    ]
    assert cache.snapshot.revision == 2
    assert cache.refresh() == []
    unsubscribe()
    log.append((3, revision("a", 2)))
    cache.refresh()
    assert cache.delivered(timeout=30)
    assert len(seen) == 2
    assert cache.snapshot.get("a") is None
    assert cache.state()["state"] == "live"


@pytest.mark.parametrize("longer", [False, True])
def test_a_replaced_database_is_reloaded_and_reported(longer: bool) -> None:
    log: Log = [(1, revision(ModelConfig(**config(model_id="old")), 1))]
    load, since = fake_database(log)
    cache = SnapshotCache(load, since)
    seen: list[CatalogEvent] = []
    cache.subscribe(seen.append)
    # Another database behind the same URL: its own history, shorter or longer.
    log[:] = [(1, revision(ModelConfig(**config(model_id="new")), 1))]
    if longer:
        log.extend((n, revision(ModelConfig(**config(model_id=f"new-{n}")), 1)) for n in (2, 3))
    cache.refresh()
    assert cache.delivered(timeout=30)
    expected = ["new", "new-2", "new-3"] if longer else ["new"]
    assert [m.model_id for m in cache.snapshot.list_models()] == expected
    assert sorted((e.model_id, e.change.value) for e in seen) == sorted(
        [("old", "removed"), *((model_id, "created") for model_id in expected)]
    )
    assert len(load.calls) == 2


def test_a_failing_subscriber_does_not_stop_the_others() -> None:
    log: Log = []
    load, since = fake_database(log)
    cache = SnapshotCache(load, since)
    log.append((1, revision(ModelConfig(**config(model_id="a")), 1)))
    seen: list[str] = []

    def broken(_event: CatalogEvent) -> None:
        raise RuntimeError

    cache.subscribe(broken)
    cache.subscribe(lambda event: seen.append(event.model_id))
    cache.refresh()
    assert cache.delivered(timeout=30)
    assert seen == ["a"]
