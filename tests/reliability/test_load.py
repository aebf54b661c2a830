"""Load: readers in several processes run while a writer applies 1,000 changes and an import.

Three reader processes (two answering from their caches, one from the database on every
call) read continuously. Meanwhile one writer applies 500 changes (creations, updates,
status changes, removals, restores of 50 models and a "pulse" model whose context window
only grows), one large import (2,000 entries: 1,000 models changed, 1,000 added, in one
transaction), and 500 more changes. Every observation a reader makes is one snapshot: the
import is wholly there or wholly absent, and the pulse never goes backwards. At the end the
catalog equals what the sequence of writes implies, model for model and version for
version, and every reader's cache holds exactly that.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import random
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

import pytest

from cases import config
from modelregistry import ModelConfig, ModelRegistry, ModelStatus
from modelregistry.db.engine import make_engine
from modelregistry.domain.documents import dump_catalog

if TYPE_CHECKING:
    from collections.abc import Callable
    from multiprocessing.queues import Queue
    from multiprocessing.sharedctypes import Synchronized, SynchronizedArray
    from multiprocessing.synchronize import Event
    from pathlib import Path

pytestmark = [pytest.mark.reliability, pytest.mark.slow, pytest.mark.stress]

DEADLINE = 120.0
"""Generous bound on each phase: only a broken system takes this long."""
CHANGES = 1000
BULK = 1000
"""Models the import changes; it adds as many again."""
POOL = 50
"""Models the changes churn through (plus the pulse)."""
READERS = (True, True, False)
"""Per reader process: answers from its cache (True) or from the database (False)."""


class Observed(NamedTuple):
    reader: int
    cached: bool
    observations: int
    before: int  # observations of the catalog before the import
    after: int  # ... and after it
    revisions: int  # distinct catalog revisions seen (cached readers)
    errors: list[str]
    final: tuple[int, str]  # the reader's catalog at the end: count and digest


def _digest(models: list[ModelConfig]) -> tuple[int, str]:
    text = "\n".join(f"{m.version} {m.model_dump_json()}" for m in models)
    return len(models), hashlib.sha256(text.encode()).hexdigest()


def _generation(models: list[ModelConfig]) -> str | None:
    """Which side of the import a snapshot of the bulk models is on; None if torn."""
    limits = {model.rate_limit_rpm for model in models}
    if len(models) == BULK and limits == {1}:
        return "before"
    if len(models) == 2 * BULK and limits == {2}:
        return "after"
    return None


@dataclass
class Shared:
    """What the test shares with its reader processes."""

    stop: Event
    target: Synchronized[int]  # the catalog revision caches must reach at the end
    counts: SynchronizedArray[int]  # observations so far, per reader
    results: Queue[Observed]


@dataclass
class Observer:
    """One reader's checks, observation after observation."""

    registry: ModelRegistry
    cached: bool
    observations: int = 0
    before: int = 0
    after: int = 0
    pulse: int = 0
    revisions: set[int] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)

    def observe(self) -> None:
        bulk = self.registry.list_models(provider="bulk")  # one snapshot, or one statement
        side = _generation(bulk)
        if side is None:
            limits = sorted({m.rate_limit_rpm for m in bulk})
            self.errors.append(f"torn import: {len(bulk)} bulk models, limits {limits}")
        self.before += side == "before"
        self.after += side == "after"
        model = self.registry.get_model("pulse")
        window = 0 if model is None else model.context_window
        if window < self.pulse:
            self.errors.append(f"the pulse went back from {self.pulse} to {window}")
        self.pulse = window
        if self.cached:
            revision = self.registry.get_stats()["cache"]["revision"]
            if self.revisions and revision < max(self.revisions):
                self.errors.append(f"the cache went back to revision {revision}")
            self.revisions.add(revision)
        self.observations += 1

    def catch_up(self, target: int) -> None:
        started = time.monotonic()
        while self.cached and self.registry.get_stats()["cache"]["revision"] < target:
            if time.monotonic() - started > DEADLINE:
                self.errors.append("the cache never caught up")
                return
            time.sleep(0.02)


def _observe(url: str, reader: int, cached: bool, shared: Shared) -> None:
    """Observe until told to stop, catch up with the last write, observe once more."""
    try:
        with ModelRegistry(url, cache=cached, poll_interval=0.05) as registry:
            observer = Observer(registry, cached)
            while not shared.stop.is_set():
                try:
                    observer.observe()
                except Exception as exc:  # noqa: BLE001 - reported: must not happen
                    observer.errors.append(repr(exc))
                shared.counts[reader] = observer.observations
                # Continuous, yet leaving the writer and the server room on two cores.
                time.sleep(0.01 if cached else 0.05)
            observer.catch_up(shared.target.value)
            observer.observe()
            final = _digest(registry.list_models())
    except Exception as exc:  # noqa: BLE001 - the parent reports whatever happened
        shared.results.put(Observed(reader, cached, 0, 0, 0, 0, [f"failed: {exc!r}"], (0, "")))
        return
    shared.results.put(
        Observed(
            reader,
            cached,
            observer.observations,
            observer.before,
            observer.after,
            len(observer.revisions),
            observer.errors,
            final,
        )
    )


class Catalog:
    """The writer's model of the catalog: what the writes so far should have produced."""

    def __init__(self, registry: ModelRegistry) -> None:
        self.registry = registry
        self.models = {model.model_id: model for model in registry.list_models()}
        self.versions = dict.fromkeys(self.models, 1)
        self.first: dict[str, ModelConfig] = {}

    def register(self, model: ModelConfig) -> None:
        self.registry.register_model(model)
        self.models[model.model_id] = model
        self._bump(model.model_id)
        self.first.setdefault(model.model_id, model)

    def _bump(self, model_id: str) -> None:
        self.versions[model_id] = self.versions.get(model_id, 0) + 1

    def change(self, rng: random.Random, step: int) -> None:
        """One real change (every call writes a new version of some model)."""
        if step % 10 == 0:
            pulse = ModelConfig(**config(model_id="pulse", provider="pulse"))
            self.register(pulse.model_copy(update={"context_window": step + 1}))
            return
        model_id = f"churn-{rng.randrange(POOL)}"
        current = self.models.get(model_id)
        if current is None:
            if model_id in self.first and rng.random() < 0.5:
                self.registry.restore_model(model_id, 1)
                self.models[model_id] = self.first[model_id]
                self._bump(model_id)
                return
            window = rng.randrange(1, 10**6)
            self.register(ModelConfig(**config(model_id=model_id, context_window=window)))
            return
        action = rng.choice(["update", "status", "remove"])
        if action == "update":
            window = current.context_window % 10**6 + 1
            self.register(current.model_copy(update={"context_window": window}))
        elif action == "status":
            status = rng.choice([s for s in ModelStatus if s is not current.status])
            self.registry.update_model_status(model_id, status)
            self.models[model_id] = current.model_copy(update={"status": status})
            self._bump(model_id)
        else:
            self.registry.remove_model(model_id)
            del self.models[model_id]
            self._bump(model_id)

    def bulk_import(self, tmp_path: Path, generation: int) -> None:
        """Generation 1: BULK models; generation 2 changes them all and adds BULK more."""
        models = [
            ModelConfig(
                **config(
                    model_id=f"bulk-{n:04d}",
                    provider="bulk",
                    display_name=f"bulk {n} generation {generation}",
                    rate_limit_rpm=generation,
                )
            )
            for n in range(BULK * generation)
        ]
        path = tmp_path / f"bulk-{generation}.yaml"
        path.write_text(dump_catalog(models, "yaml"))
        result = self.registry.import_catalog(path)
        assert (len(result.added), len(result.changed)) == (BULK, BULK * (generation - 1))
        for model in models:
            if self.models.get(model.model_id) != model:
                self.models[model.model_id] = model
                self._bump(model.model_id)


def test_readers_see_whole_snapshots_while_a_writer_changes_and_imports(
    database_url: str, tmp_path: Path
) -> None:
    with ModelRegistry(database_url, cache=False) as registry:
        catalog = Catalog(registry)
        catalog.bulk_import(tmp_path, 1)

        context = multiprocessing.get_context("spawn")
        shared = Shared(
            stop=context.Event(),
            target=context.Value("q", 0),
            counts=context.Array("i", len(READERS)),
            results=context.Queue(),
        )
        processes = [
            context.Process(target=_observe, args=(database_url, n, cached, shared))
            for n, cached in enumerate(READERS)
        ]
        for process in processes:
            process.start()
        try:
            _wait(lambda: min(shared.counts[:]) >= 5, "every reader to observe the catalog")
            rng = random.Random(9)  # noqa: S311 - a reproducible sequence, not a secret
            started = time.monotonic()
            for step in range(CHANGES // 2):
                catalog.change(rng, step)
            import_started = time.monotonic()
            catalog.bulk_import(tmp_path, 2)
            import_took = time.monotonic() - import_started
            for step in range(CHANGES // 2, CHANGES):
                catalog.change(rng, step)
            writes_took = time.monotonic() - started
            shared.target.value = _revision(database_url)
            shared.stop.set()
            observed = sorted(shared.results.get(timeout=DEADLINE) for _ in processes)
        finally:
            shared.stop.set()
            for process in processes:
                process.join(timeout=DEADLINE)
                if process.is_alive():
                    process.kill()

        stored = registry.list_models()
        assert {m.model_id: m for m in stored} == catalog.models
        assert {m.model_id: m.version for m in stored} == {
            model_id: catalog.versions[model_id] for model_id in catalog.models
        }
        for model_id in catalog.versions.keys() - catalog.models.keys():  # the removed ones
            last = registry.get_model_history(model_id)[-1]
            assert (last.version, last.change.value) == (catalog.versions[model_id], "removed")
        final = _digest(stored)

    for reader in observed:
        assert reader.errors == [], f"reader {reader.reader}: {reader.errors[:5]}"
        assert reader.before > 0, f"reader {reader.reader} never saw the catalog before"
        assert reader.after > 0, f"reader {reader.reader} never saw the catalog after"
        if reader.cached:
            assert reader.final == final, f"reader {reader.reader}'s cache is not the catalog"
    print(  # noqa: T201 - the figures docs/reliability.md quotes
        f"\nload ({database_url.split(':', maxsplit=1)[0]}): {CHANGES} changes and an import of "
        f"{2 * BULK} entries in {writes_took:.1f} s (the import {import_took:.1f} s); "
        f"observations per reader {[r.observations for r in observed]} "
        f"(before/after the import {[(r.before, r.after) for r in observed]}), cached readers "
        f"saw {[r.revisions for r in observed if r.cached]} revisions; none torn, no error"
    )


def _revision(url: str) -> int:
    """The catalog's revision: the number of its last change."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            query = "SELECT max(id) FROM model_revisions"
            return int(connection.exec_driver_sql(query).scalar_one())
    finally:
        engine.dispose()


def _wait(predicate: Callable[[], bool], what: str) -> None:
    limit = time.monotonic() + DEADLINE
    while not predicate():
        if time.monotonic() > limit:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)
