"""CatalogStore: the engine, the transactions, the read cache and its change feed.

The base of :class:`~modelregistry.registry.ModelRegistry`, which adds the public API. It
owns every transaction: a read is one snapshot (from the cache when there is one), a write is
one transaction that commits or rolls back as a whole and holds the catalog's write lock, and
after it commits this process's cache is brought up to date. It writes no SQL itself (see
:mod:`modelregistry.db.repository`). It also keeps the registry's telemetry (what it did, see
:mod:`modelregistry.metrics.telemetry`) and, once asked for, its Prometheus metrics.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from contextlib import contextmanager
from typing import TYPE_CHECKING, Final, Self, TypeVar

from sqlalchemy.orm import sessionmaker

from modelregistry.cache.cache import CatalogCache, CatalogDelta, CatalogLoad
from modelregistry.cache.feed import ChangeFeed
from modelregistry.db import migrate
from modelregistry.db.engine import (
    is_memory_sqlite,
    make_engine,
    reader,
    safe_url,
    snapshot_reader,
    was_disconnected,
    writer,
)
from modelregistry.db.errors import translating
from modelregistry.db.repository import CatalogRepository
from modelregistry.domain.arguments import poll_seconds
from modelregistry.domain.history import ChangeNote
from modelregistry.errors import (
    DatabaseUnavailableError,
    ModelRegistryError,
)
from modelregistry.metrics.telemetry import Telemetry, operation
from modelregistry.service.writer import CatalogChanges
from modelregistry.settings import default_actor, resolve_database_url

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping
    from datetime import date
    from types import TracebackType

    from prometheus_client import CollectorRegistry
    from sqlalchemy.engine import Engine
    from sqlalchemy.orm import Session

    from modelregistry.cache.cache import CatalogEvent, CatalogReader
    from modelregistry.db.repository import Anchor
    from modelregistry.domain.counts import CatalogCounts
    from modelregistry.domain.models import ModelConfig
    from modelregistry.metrics.prometheus import RegistryMetrics
    from modelregistry.metrics.telemetry import Trigger

T = TypeVar("T")

logger = logging.getLogger(__name__)
_OPEN: weakref.WeakSet[CatalogStore] = weakref.WeakSet()

_CATCH_UP_ATTEMPTS: Final = 3

DEFAULT_POLL_INTERVAL: Final = 1.0
"""Seconds between checks of the catalog revision by the change feed."""


class CatalogStore:
    """A catalog database, opened and checked, with an optional cache kept current.

    See :class:`~modelregistry.registry.ModelRegistry` for the arguments.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        auto_migrate: bool = False,
        cache: bool = True,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        metrics: CollectorRegistry | None = None,
    ) -> None:
        """Open (and if empty, initialise) the catalog at ``url``."""
        poll_interval = poll_seconds(poll_interval)
        self._telemetry = Telemetry()
        self._metrics: RegistryMetrics | None = None
        self._metrics_lock = threading.Lock()
        resolved = resolve_database_url(url)
        self._url = safe_url(resolved)
        with translating(database=self._url):
            self._engine = self._create_engine(resolved)
            try:
                migrate.ensure_schema(self._engine, auto_migrate=auto_migrate)
            except BaseException:
                self._engine.dispose()
                raise
        self._read_session: sessionmaker[Session] = sessionmaker(reader(self._engine))
        self._snapshot_session: sessionmaker[Session] = sessionmaker(snapshot_reader(self._engine))
        self._write_session: sessionmaker[Session] = sessionmaker(writer(self._engine))
        # The cache and its change feed may read through another engine (see AsyncModelRegistry).
        self._cache_engine = self._engine
        self._cache_read_session = self._read_session
        self._cache_snapshot_session = self._snapshot_session
        self._cache: CatalogCache | None = None
        self._feed: ChangeFeed | None = None
        self._poll_interval = poll_interval
        if cache:
            self._open_cache()
        if metrics is not None:
            try:
                self._metrics = self._new_metrics(metrics)
            except BaseException:
                self.close()
                raise
        _OPEN.add(self)

    def _create_engine(self, url: str) -> Engine:
        """The engine every call of the public API goes through."""
        return make_engine(url)

    def _use_cache_engine(self, engine: Engine) -> None:
        """Make the cache and the change feed read through ``engine`` (a thread-safe one)."""
        self._cache_engine = engine
        self._cache_read_session = sessionmaker(reader(engine))
        self._cache_snapshot_session = sessionmaker(snapshot_reader(engine))

    def _open_cache(self) -> None:
        """Load the cache and start following changes."""
        try:
            self._cache = CatalogCache(self._load_catalog, self._changes_since)
        except BaseException:
            self._dispose_engines()
            raise
        self._start_feed()

    def _start_feed(self) -> None:
        if self._cache is not None and not is_memory_sqlite(self._engine.url):
            # A private in-memory catalog has no other writer to follow.
            self._feed = ChangeFeed(
                self._cache_engine,
                self._refresh_cache,
                self._cache.mark_failed,
                self._poll_interval,
            )

    def _after_fork(self) -> None:
        """In a forked child: new connections and a new change feed (threads don't fork).

        The child is a process of its own: its telemetry starts from zero (and its locks are
        new: another thread of the parent may have held one at the fork).
        """
        self._telemetry.restart()
        self._metrics_lock = threading.Lock()
        self._engine.dispose(close=False)
        if self._cache_engine is not self._engine:
            self._cache_engine.dispose(close=False)
        if self._feed is not None:
            self._feed.abandon()
            self._start_feed()

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The catalog's database URL, password masked."""
        return self._url

    def close(self) -> None:
        """Stop the change feed and release every database connection held by the registry.

        Its metrics leave the CollectorRegistry they were on.
        """
        _OPEN.discard(self)
        if self._metrics is not None:
            self._metrics.unregister()
        if self._feed is not None:
            self._feed.close()
        self._dispose_engines()

    def _dispose_engines(self) -> None:
        self._engine.dispose()
        if self._cache_engine is not self._engine:
            self._cache_engine.dispose()

    def subscribe(self, callback: Callable[[CatalogEvent], object]) -> Callable[[], None]:
        """Call ``callback(event)`` for every change of the catalog, from any process.

        Each :class:`~modelregistry.cache.cache.CatalogEvent` (``model_id``, ``change``,
        ``version``, ``revision``) arrives after this registry's cache holds the change, so the
        callback reads the new state (a router can rebuild its routing table). Callbacks run
        on the change feed's thread (or, for this process's own writes, the writer's thread);
        an exception in one is logged and does not stop the others.

        Returns:
            A function that cancels the subscription.

        Raises:
            RuntimeError: the registry was opened with ``cache=False``.
        """
        if self._cache is None:
            msg = "subscribe() needs the cache: open the registry with cache=True"
            raise RuntimeError(msg)
        return self._cache.subscribe(callback)

    @operation
    def refresh(self) -> None:
        """Bring the cache up to date now, without waiting for the change feed.

        Raises:
            DatabaseUnavailableError: E4020, the database cannot be reached (the cache keeps
                its last snapshot).
        """
        if self._cache is not None:
            self._refresh_cache("manual")

    @property
    def metrics(self) -> RegistryMetrics:
        """The registry's Prometheus metrics (see :class:`~modelregistry.metrics.prometheus.RegistryMetrics`).

        On the ``CollectorRegistry`` given as ``metrics=`` when the registry was opened, else
        on a registry of their own, made on first use (``registry.metrics.registry``), which a
        host process can serve or collect from in its own exporter.
        """
        with self._metrics_lock:
            if self._metrics is None:
                from prometheus_client import CollectorRegistry  # noqa: PLC0415 - on first use

                self._metrics = self._new_metrics(CollectorRegistry(auto_describe=True))
            return self._metrics

    def _new_metrics(self, registry: CollectorRegistry) -> RegistryMetrics:
        from modelregistry.metrics.prometheus import RegistryMetrics  # noqa: PLC0415 - loads prometheus_client

        return RegistryMetrics(
            self._telemetry,
            catalog=self._catalog_counts,
            cache=lambda: None if self._cache is None else self._cache.state(),
            schema_revision=self._schema_revision,
            registry=registry,
        )

    def __enter__(self) -> Self:
        """Return the registry itself."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Close the registry."""
        self.close()

    def __repr__(self) -> str:
        """Show the database URL with its password masked."""
        return f"ModelRegistry({self._url!r})"

    # -- transactions ----------------------------------------------------------------------

    def _read(self, query: Callable[[CatalogReader], T], *, snapshot: bool = False) -> T:
        """Answer a catalog query from the cache, or from the database without one."""
        if self._cache is not None:
            return query(self._cache.current())
        return self._query_db(query, snapshot=snapshot)

    def _resolve(self, name: str) -> str:
        """The model id an alias names; any other name as it is."""
        return self._read(lambda catalog: catalog.resolve(name))

    def _query_db(
        self,
        query: Callable[[CatalogRepository], T],
        *,
        snapshot: bool = False,
        for_cache: bool = False,
    ) -> T:
        return self._query_session(
            lambda session: query(CatalogRepository(session)),
            snapshot=snapshot,
            for_cache=for_cache,
        )

    def _query_session(
        self, query: Callable[[Session], T], *, snapshot: bool = False, for_cache: bool = False
    ) -> T:
        if for_cache:
            sessions = self._cache_snapshot_session if snapshot else self._cache_read_session
        else:
            sessions = self._snapshot_session if snapshot else self._read_session
        try:
            with translating(database=self._url), sessions() as session:
                return query(session)
        except DatabaseUnavailableError as exc:
            if not was_disconnected(exc):
                raise
        # The pool held a connection the server had dropped (a restart): one fresh try.
        with translating(database=self._url), sessions() as session:
            return query(session)

    def _refresh_cache(
        self, trigger: Trigger, known: Mapping[tuple[str, int], ModelConfig] | None = None
    ) -> None:
        """Bring the cache up to date (``trigger``: what asked), and count it.

        ``known``: configs this process just wrote, which the cache reuses.
        """
        if self._cache is not None:
            self._cache.refresh(known)
            self._telemetry.refreshed(trigger)

    # -- what the metrics read (from any thread: the cache's engine is thread-safe) --------

    def _catalog_counts(self, retiring_by: date) -> CatalogCounts:
        from modelregistry.db.reports import count_in_views  # noqa: PLC0415 - metrics only
        from modelregistry.domain.counts import count_models  # noqa: PLC0415 - metrics only

        if self._cache is not None:
            return count_models(self._cache.current().list_models(), retiring_by)
        return self._query_session(
            lambda session: count_in_views(session, retiring_by), snapshot=True, for_cache=True
        )

    def _schema_revision(self) -> str | None:
        with translating(database=self._url):
            return migrate.current(self._cache_engine)

    def _load_catalog(self) -> CatalogLoad:
        def load(repository: CatalogRepository) -> CatalogLoad:
            models = repository.list_models()
            return CatalogLoad(
                anchor=repository.catalog_anchor(),
                models={model.model_id: model for model in models},
                prices=repository.price_timelines(),
                aliases=repository.aliases(),
                alias_cursor=repository.alias_cursor(),
                at=repository.read_at,
            )

        loaded = self._query_db(load, snapshot=True, for_cache=True)
        self._telemetry.refreshed("reload")
        return loaded

    def _changes_since(
        self,
        anchor: Anchor,
        alias_cursor: int,
        known: Mapping[tuple[str, int], ModelConfig] | None = None,
    ) -> CatalogDelta | None:
        def read(repository: CatalogRepository) -> CatalogDelta | None:
            found = repository.changes_since(anchor, known)
            if found is None:
                return None
            changes, cursor = found
            # Separate statements, only when there is something to read: prices only grow,
            # and an alias map newer than its cursor is read again at the next refresh.
            aliases = None if cursor == alias_cursor else repository.aliases()
            ids = sorted({change.model_id for _, change in changes})
            prices = repository.price_timelines(ids) if ids else {}
            return CatalogDelta(
                changes=changes,
                prices=dict.fromkeys(ids, ()) | prices,
                aliases=aliases,
                alias_cursor=cursor,
            )

        return self._query_db(read, for_cache=True)

    def _catch_up(self, known: Mapping[tuple[str, int], ModelConfig] | None = None) -> None:
        """After a write: make this process's cache hold it before the write returns.

        The write has committed whatever happens here; if the database cannot be read back
        after a few tries, the cache is marked stale and the change feed catches up later.
        """
        if self._cache is None:
            return
        for attempt in range(_CATCH_UP_ATTEMPTS):
            try:
                self._refresh_cache("write", known)
            except ModelRegistryError as exc:
                self._cache.mark_failed(exc)
                time.sleep(0.05 * (attempt + 1))
            else:
                return
        logger.warning("modelregistry: a committed write is not yet in this process's cache")

    @contextmanager
    def _changes(self, actor: str | None, reason: str | None) -> Iterator[CatalogChanges]:
        note = ChangeNote(actor=default_actor() if actor is None else actor, reason=reason)
        with translating(database=self._url), self._write_session.begin() as session:
            repository = CatalogRepository(session)
            now = repository.lock_for_write()
            changes = CatalogChanges(repository, now=now, note=note)
            yield changes
            if changes.changed:
                repository.announce()
        self._telemetry.changed(changes.kinds)
        self._after_commit(changes.written)

    def _after_commit(self, written: Mapping[tuple[str, int], ModelConfig]) -> None:
        """Run after each write transaction commits: by default, catch the cache up.

        ``written``: the configs the write stored, which the cache reuses.
        """
        self._catch_up(written)


def _after_fork_in_child() -> None:
    for registry in list(_OPEN):
        registry._after_fork()  # noqa: SLF001 - the module's own fork hook


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
