"""Catalog snapshots: the whole catalog at one revision, immutable, with prebuilt indexes.

A :class:`Snapshot` answers every query of :class:`~modelregistry.cache.contract.
CatalogReader` from memory. It is never mutated: the next one is built from the changes
recorded since (copying only the index lists they touch), so a reader always sees one whole
revision of the catalog.
"""

from __future__ import annotations

import gc
from bisect import bisect_left, insort
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

from modelregistry.domain.history import ChangeKind
from modelregistry.domain.pricing import next_change, priced

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Iterable, Mapping
    from contextlib import AbstractContextManager
    from datetime import date

    from modelregistry.domain.history import ModelRevision
    from modelregistry.domain.models import ModelConfig, ModelStatus
    from modelregistry.domain.pricing import Price
    from modelregistry.domain.query import ModelQuery

_PRICE_KEEPING: Final = frozenset(
    {ChangeKind.UPDATED, ChangeKind.STATUS_CHANGED, ChangeKind.RESTORED, ChangeKind.REMOVED}
)
"""Changes that write no price unless the costs change (see :meth:`Snapshot.prices_kept`)."""
_MEMO_AT_MOST: Final = 4096
"""Answers a snapshot remembers before it forgets them all."""


def bulk_building() -> AbstractContextManager[None]:
    """Pause Python's cyclic garbage collector while many long-lived objects are built.

    Loading a catalog builds a few objects per model, all kept: each automatic collection
    would walk every one built so far, which doubles the time to load 100,000 models. What is
    built is kept or freed by reference counting; anything cyclic waits for the next
    collection after the block. The collector is switched back on at exit if it was on
    (a thread that enters meanwhile finds it off and leaves it to the first one).
    """
    return _BulkBuilding()


class _BulkBuilding:
    """:func:`bulk_building`'s block (a class: every refresh enters one, a generator costs more)."""

    __slots__ = ("_enabled",)

    def __enter__(self) -> None:
        self._enabled = gc.isenabled()
        if self._enabled:
            gc.disable()

    def __exit__(self, *_: object) -> None:
        if self._enabled:
            gc.enable()


class Snapshot:
    """The whole catalog at one revision, indexed by provider, capability and status."""

    __slots__ = (
        "_aliases",
        "_by_capability",
        "_by_provider",
        "_by_status",
        "_ids",
        "_memo",
        "_models",
        "_names",
        "_prices",
        "expires_at",
        "lookup",
        "priced_at",
        "revision",
    )

    def __init__(
        self,
        revision: int,
        models: Mapping[str, ModelConfig],
        prices: Mapping[str, tuple[Price, ...]] | None = None,
        priced_at: datetime | None = None,
        aliases: Mapping[str, str] | None = None,
    ) -> None:
        """Index ``models`` (the catalog at ``revision``, showing the prices at ``priced_at``).

        ``prices`` holds every model's price timeline; the snapshot is good until the next
        instant at which one of them takes effect (``expires_at``, a POSIX timestamp).
        """
        self.revision = revision
        self.priced_at = datetime.now(UTC) if priced_at is None else priced_at
        self._prices: dict[str, tuple[Price, ...]] = dict(prices or {})
        self._aliases: dict[str, str] = dict(aliases or {})
        self.expires_at = _next_instant(self._prices.values(), self.priced_at)
        self._models: dict[str, ModelConfig] = dict(models)
        self.lookup: Callable[[str], ModelConfig | None] = self._models.get
        """The model with this id, or None: the dict's own ``get`` (the fastest path)."""
        self._ids: list[str] = sorted(self._models)
        self._by_provider: dict[str, list[str]] = {}
        self._by_capability: dict[str, list[str]] = {}
        self._by_status: dict[str, list[str]] = {}
        self._names: dict[str, frozenset[str]] = {}
        """Each model's capability names, by model id (computed once per model, not per query)."""
        for model_id in self._ids:  # in order, so every index list is sorted
            self._names[model_id] = self._models[model_id].capabilities.names()
            for index, key in self._keys(self._models[model_id]):
                index.setdefault(key, []).append(model_id)
        self._memo: dict[object, tuple[ModelConfig, ...]] = {}
        """Answers of list_models (keyed by a tuple) and find (keyed by the ModelQuery)."""

    def _keys(self, model: ModelConfig) -> Iterable[tuple[dict[str, list[str]], str]]:
        yield self._by_provider, model.provider
        yield self._by_status, model.status.value
        for name in self._names[model.model_id]:
            yield self._by_capability, name

    def apply(
        self,
        revision: int,
        changes: Iterable[ModelRevision],
        prices: Mapping[str, tuple[Price, ...]] | None = None,
        aliases: Mapping[str, str] | None = None,
        *,
        at: datetime | None = None,
    ) -> Snapshot:
        """Return the snapshot at ``revision``: this one with ``changes`` applied in order.

        ``aliases``, when given, replace the alias map. ``at`` (default: this snapshot's
        ``priced_at``) is the instant whose prices the successor shows; no price may take
        effect between ``priced_at`` and ``at`` (see :meth:`rolled`, which ensures it).

        ``prices`` are the new price timelines of the changed models; their configs show the
        prices in effect at this snapshot's ``priced_at``. Only the index lists the changes
        touch are copied; this snapshot stays as it was.
        """
        builder = _Successor(self, revision)
        if at is not None:
            builder.snapshot.priced_at = at
        successor = builder.apply(changes, prices or {})
        if aliases is not None:
            successor._aliases = dict(aliases)
        return successor

    def prices_kept(self, changes: Iterable[ModelRevision]) -> set[str]:
        """The models of ``changes`` whose price timelines the changes cannot have changed.

        A price is written only with a ``created`` or ``repriced`` revision, or with another
        one of a model stored before whose costs differ from the price in effect then (see
        ``service.writer``); a restatement is always ``repriced``. So a model stored here,
        with no price scheduled after this snapshot's instant, keeps its timeline through
        the other changes as long as they show the costs it shows here: a status change need
        not read prices back. Any other change of a model reads its timeline.
        """
        kept: set[str] = set()
        spoiled: set[str] = set()
        for change in changes:
            model_id = change.model_id
            model = self._models.get(model_id)
            if (
                change.change not in _PRICE_KEEPING
                or model is None
                or _costs(change.config) != _costs(model)
                or next_change(self._prices.get(model_id, ()), self.priced_at) is not None
            ):
                spoiled.add(model_id)
            else:
                kept.add(model_id)
        return kept - spoiled

    def rolled(self, now: datetime) -> Snapshot:
        """This snapshot, or once a scheduled price took effect by ``now``, its successor.

        The successor shows the prices in effect at ``now`` (same revision, same indexes:
        prices are not indexed).
        """
        if self.expires_at is None or now.timestamp() < self.expires_at:
            return self
        successor = _Successor(self, self.revision).snapshot
        successor.priced_at = now
        models = successor._models
        for model_id, timeline in self._prices.items():
            model = models.get(model_id)
            if model is not None and next_change(timeline, self.priced_at) is not None:
                models[model_id] = priced(model, timeline, now)
        successor.expires_at = _next_instant(self._prices.values(), now)
        return successor

    def timeline(self, model_id: str) -> tuple[Price, ...]:
        """Every price of the model, in effect order (empty: never priced)."""
        return self._prices.get(model_id, ())

    def resolve(self, name: str) -> str:
        """The model id an alias names; any other name as it is."""
        return self._aliases.get(name, name)

    def aliases(self) -> dict[str, str]:
        """Every alias and the model id it names, by alias."""
        return dict(sorted(self._aliases.items()))

    # -- the repository's read methods, answered from memory -------------------------------

    def get(self, model_id: str) -> ModelConfig | None:
        """Return the model ``model_id``, or None."""
        return self._models.get(model_id)

    def list_models(
        self,
        *,
        provider: str | None = None,
        status: ModelStatus | None = None,
        capabilities: Collection[str] = (),
    ) -> list[ModelConfig]:
        """Return the models matching every filter, ordered by model id (memoised)."""
        key = (provider, status, frozenset(capabilities))
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = tuple(self._select(provider, status, key[2]))
        return list(found)

    def _select(
        self, provider: str | None, status: ModelStatus | None, capabilities: frozenset[str]
    ) -> Iterable[ModelConfig]:
        candidates: list[list[str]] = [self._ids]
        if provider is not None:
            candidates.append(self._by_provider.get(provider, []))
        if status is not None:
            candidates.append(self._by_status.get(status.value, []))
        candidates.extend(self._by_capability.get(name, []) for name in capabilities)
        smallest = min(candidates, key=len)
        models = self._models
        names = self._names
        for model_id in smallest:  # sorted, so the result is too
            model = models[model_id]
            if (
                (provider is None or model.provider == provider)
                and (status is None or model.status is status)
                and capabilities <= names[model_id]
            ):
                yield model

    def providers_in_use(self) -> list[str]:
        """Names of providers that have at least one model, sorted."""
        return sorted(self._by_provider)

    def capabilities_in_use(self) -> list[str]:
        """Names of capabilities at least one model has, sorted."""
        return sorted(self._by_capability)

    def count_by_status(self) -> dict[str, int]:
        """Number of models per status value (statuses without models are absent)."""
        return {status: len(ids) for status, ids in self._by_status.items()}

    def count_by_provider(self) -> dict[str, int]:
        """Number of models per provider name, ordered by name."""
        return {name: len(self._by_provider[name]) for name in sorted(self._by_provider)}

    def find(self, query: ModelQuery) -> list[ModelConfig]:
        """Answer the selection query from memory, as the repository does in SQL (memoised).

        A repeated query is one dict lookup; a new one filters the candidates the indexes
        give (the models having every required capability, in the smallest status or
        provider list when the query names one).
        """
        memo = self._memo
        found = memo.get(query)
        if found is None:
            found = () if query.impossible else tuple(self._find(query))
            if len(memo) >= _MEMO_AT_MOST:  # queries of ever-changing bounds: start again
                memo.clear()
            memo[query] = found
        return list(found)

    def _find(self, query: ModelQuery) -> list[ModelConfig]:
        candidates: list[list[str]] = [self._ids]
        if query.statuses is not None and len(query.statuses) == 1:
            candidates.append(self._by_status.get(next(iter(query.statuses)).value, []))
        if query.providers is not None and len(query.providers) == 1:
            candidates.append(self._by_provider.get(next(iter(query.providers)), []))
        candidates.extend(self._by_capability.get(name, []) for name in query.capabilities)
        models = self._models
        candidates_in_order = [models[model_id] for model_id in min(candidates, key=len)]
        return query.order(query.select(candidates_in_order, self._names))

    def retiring(self, until: date) -> list[ModelConfig]:
        """Models whose retirement date is on or before ``until``, soonest first."""
        due = [
            model
            for model in self._models.values()
            if model.retirement_date is not None and model.retirement_date <= until
        ]
        return sorted(due, key=lambda model: (model.retirement_date, model.model_id))

    def model_ids(self) -> set[str]:
        """The ids of every model in the snapshot."""
        return set(self._models)

    def __len__(self) -> int:
        """The number of models."""
        return len(self._models)


class _Successor:
    """Builds the snapshot that follows another, copying each index list it touches once."""

    def __init__(self, previous: Snapshot, revision: int) -> None:
        snapshot = object.__new__(Snapshot)
        snapshot.revision = revision
        # dict.copy(), not dict(): once a refresh has removed a key, dict() re-inserts every
        # entry one by one (9 ms for 100,000 models) where copy() clones the table (0.8 ms).
        snapshot._models = previous._models.copy()
        snapshot.lookup = snapshot._models.get
        snapshot._ids = previous._ids
        snapshot._by_provider = previous._by_provider.copy()
        snapshot._by_capability = previous._by_capability.copy()
        snapshot._by_status = previous._by_status.copy()
        snapshot._names = previous._names  # copied on its first change (_own_names)
        snapshot._memo = {}
        snapshot._prices = previous._prices
        snapshot._aliases = previous._aliases
        snapshot.priced_at = previous.priced_at
        snapshot.expires_at = previous.expires_at
        self._snapshot = snapshot
        self._copied: set[tuple[int, str]] = set()
        self._ids_copied = False
        self._names_copied = False
        self._indexes = {
            _PROVIDER: snapshot._by_provider,
            _STATUS: snapshot._by_status,
            _CAPABILITY: snapshot._by_capability,
        }

    @property
    def snapshot(self) -> Snapshot:
        """The snapshot being built."""
        return self._snapshot

    def apply(
        self, changes: Iterable[ModelRevision], prices: Mapping[str, tuple[Price, ...]]
    ) -> Snapshot:
        snapshot = self._snapshot
        held = snapshot._prices
        # (A timeline decoded once and held already is the same object: nothing to merge.)
        prices = {key: line for key, line in prices.items() if held.get(key) is not line}
        if prices:
            snapshot._prices = {**held, **prices}
            instants = [snapshot.expires_at, _next_instant(prices.values(), snapshot.priced_at)]
            known = [instant for instant in instants if instant is not None]
            snapshot.expires_at = min(known) if known else None
        at = snapshot.priced_at
        for change in changes:
            model_id = change.model_id
            old = snapshot._models.pop(model_id, None)
            before = () if old is None else _entries(old, snapshot._names[model_id])
            if change.change is ChangeKind.REMOVED:
                if old is not None:
                    self._own_ids().pop(bisect_left(snapshot._ids, model_id))
                    del self._own_names()[model_id]
                    self._unindex(model_id, before)
                continue
            # A revision shows the prices of its write: bring them to this snapshot's instant.
            config = priced(change.config, snapshot.timeline(model_id), at)
            snapshot._models[model_id] = config
            names = (
                snapshot._names[model_id]
                if old is not None and _same_flags(old, config)
                else config.capabilities.names()
            )
            if old is None:
                insort(self._own_ids(), model_id)
            if old is None or names != snapshot._names[model_id]:
                self._own_names()[model_id] = names
            # Only the index lists whose membership changes (a status change: two lists).
            after = _entries(config, names)
            self._unindex(model_id, [entry for entry in before if entry not in after])
            self._index(model_id, [entry for entry in after if entry not in before])
        return snapshot

    def _own_ids(self) -> list[str]:
        if not self._ids_copied:
            self._snapshot._ids = list(self._snapshot._ids)
            self._ids_copied = True
        return self._snapshot._ids

    def _own_names(self) -> dict[str, frozenset[str]]:
        if not self._names_copied:
            self._snapshot._names = self._snapshot._names.copy()
            self._names_copied = True
        return self._snapshot._names

    def _own(self, index: dict[str, list[str]], key: str) -> list[str]:
        # Copy a list before its first change here (or start one that the changes emptied).
        marker = (id(index), key)
        if marker not in self._copied or key not in index:
            index[key] = list(index.get(key, ()))
            self._copied.add(marker)
        return index[key]

    def _unindex(self, model_id: str, entries: Iterable[tuple[str, str]]) -> None:
        for kind, key in entries:
            index = self._indexes[kind]
            ids = self._own(index, key)
            del ids[bisect_left(ids, model_id)]
            if not ids:
                del index[key]

    def _index(self, model_id: str, entries: Iterable[tuple[str, str]]) -> None:
        for kind, key in entries:
            insort(self._own(self._indexes[kind], key), model_id)


_PROVIDER: Final = "provider"
_STATUS: Final = "status"
_CAPABILITY: Final = "capability"


def _entries(model: ModelConfig, names: frozenset[str]) -> tuple[tuple[str, str], ...]:
    """The index lists a model is in: its provider's, its status's, each capability's."""
    return (
        (_PROVIDER, model.provider),
        (_STATUS, model.status.value),
        *((_CAPABILITY, name) for name in names),
    )


def _same_flags(old: ModelConfig, new: ModelConfig) -> bool:
    """Whether two configs have the same capability flags (most changes keep them)."""
    before, after = old.capabilities, new.capabilities
    return before is after or (
        before.__dict__ == after.__dict__ and before.__pydantic_extra__ == after.__pydantic_extra__
    )


def _next_instant(timelines: Iterable[tuple[Price, ...]], after: datetime) -> float | None:
    """The first instant after ``after`` at which a price takes effect (POSIX time), or None."""
    instants = [
        instant
        for instant in (next_change(timeline, after) for timeline in timelines)
        if instant is not None
    ]
    return min(instants).timestamp() if instants else None


def _costs(config: ModelConfig) -> tuple[float, float]:
    return (config.cost_per_1m_input_tokens, config.cost_per_1m_output_tokens)
