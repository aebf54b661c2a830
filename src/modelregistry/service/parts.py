"""Parts: what a registry is built from, and the units of work its operations use.

A :class:`Parts` holds one catalog's :class:`~modelregistry.db.database.Database`, its
optional :class:`~modelregistry.cache.live.LiveCache` and its
:class:`~modelregistry.metrics.telemetry.Telemetry`. :class:`~modelregistry.ModelRegistry`
assembles them with :func:`open_parts`; :class:`~modelregistry.AsyncModelRegistry` assembles
the same parts over an asyncio engine (constructor arguments, no subclass). Operations read
through :meth:`Parts.read` (the cache, else the database) and write through
:meth:`Parts.write` (one transaction, then the cache catches up).
"""

from __future__ import annotations

import os
import threading
import weakref
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING, TypeVar

from modelregistry.cache.live import LiveCache
from modelregistry.db.database import Database
from modelregistry.db.engine import with_timeouts
from modelregistry.db.notify import announce, notifier
from modelregistry.domain import clock
from modelregistry.domain.arguments import poll_seconds, timeout_seconds
from modelregistry.domain.history import ChangeNote
from modelregistry.metrics.telemetry import Telemetry
from modelregistry.service.writer import Writer
from modelregistry.settings import default_actor, resolve_database_url, resolve_feed_url

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from datetime import date, datetime

    from prometheus_client import CollectorRegistry

    from modelregistry.cache.contract import CatalogReader
    from modelregistry.cache.publisher import Publisher
    from modelregistry.db.repository import Repository
    from modelregistry.domain.counts import CatalogCounts
    from modelregistry.domain.models import ModelConfig
    from modelregistry.metrics.prometheus import RegistryMetrics

T = TypeVar("T")

_OPEN: weakref.WeakSet[Parts] = weakref.WeakSet()


class Parts:
    """One opened catalog: its database, its cache (or None) and its telemetry.

    Args:
        database: The database every operation goes through.
        cache: The cache kept current, or None (every read queries the database).
        telemetry: Counts of what the registry did.
        background: A database usable from any thread, for metrics scrapes (default:
            ``database``; AsyncModelRegistry's calls run in the asyncio bridge, its scrapes
            on other threads).
        catch_up_writes: Whether a write catches the cache up before it returns (False for
            AsyncModelRegistry, which does it off the event loop).
        publisher: Publishes each committed write to the JetStream feed (None: no feed).
    """

    def __init__(  # noqa: PLR0913 - keyword-only parts
        self,
        database: Database,
        *,
        cache: LiveCache | None,
        telemetry: Telemetry,
        background: Database | None = None,
        catch_up_writes: bool = True,
        publisher: Publisher | None = None,
    ) -> None:
        """Hold the parts; they are already open."""
        self.publisher = publisher
        self.database = database
        self.cache = cache
        self.telemetry = telemetry
        self.background = database if background is None else background
        self.catch_up_writes = catch_up_writes
        self._metrics: RegistryMetrics | None = None
        self._metrics_lock = threading.Lock()
        _OPEN.add(self)

    # -- units of work ---------------------------------------------------------------------

    def read(self, query: Callable[[CatalogReader], T], *, snapshot: bool = False) -> T:
        """Answer a catalog query from the cache, or from the database without one."""
        cache = self.cache
        if cache is not None:
            return query(cache.current())
        return self.database.read(query, snapshot=snapshot)

    def get(self, model_id: str) -> ModelConfig | None:
        """The model with this id or alias, now: from the cache, or in one statement without one.

        Without a cache, a model id costs one statement on a connection of its own (no
        session); an alias, or no such model, a second read that resolves the name.
        """
        cache = self.cache
        if cache is not None:
            catalog = cache.current()
            return catalog.get(model_id) or catalog.get(catalog.resolve(model_id))
        model = self.database.get_model(model_id)
        if model is not None:
            return model
        return self.database.read(lambda catalog: catalog.get(catalog.resolve(model_id)))

    def query(self, query: Callable[[Repository], T], *, snapshot: bool = False) -> T:
        """Answer a query only the database can (history, the past, aliases' records)."""
        return self.database.read(query, snapshot=snapshot)

    @contextmanager
    def write(
        self, actor: str | None, reason: str | None, *, from_cache: bool = False
    ) -> Iterator[Writer]:
        """One write transaction; once committed, other processes hear of it and our cache has it.

        ``from_cache``: until its first change, the write takes the models it reads from the
        cache instead of their rows, when the cache holds the catalog exactly as the write
        found it under the lock (the same newest revision, no price due in between; see
        ``SnapshotCache.known_at``). For the single-model writes, whose one read is the model
        they change (a round trip and a third of their work).

        Raises:
            InvalidModelConfigError: E4003, ``actor`` or ``reason`` breaks its rules.
        """
        note = ChangeNote(actor=default_actor() if actor is None else actor, reason=reason)
        notifying: tuple[int, int] | None = None
        with ExitStack() as holding:
            with self.database.write() as repository:
                if from_cache:
                    self._known_from_cache(repository)
                writer = Writer(
                    repository,
                    now=repository.read_at,
                    note=note,
                    keep_records=self.cache is not None and self.catch_up_writes,
                )
                yield writer
                if writer.changed and not writer.announced:
                    announce(repository.session)
                if (
                    self.cache is not None
                    and self.catch_up_writes
                    and writer.changed
                    and writer.recorded is not None
                    and not writer.aliases_changed
                    # Through the commit and our own catch-up: the change feed, told at
                    # commit, waits instead of reading the whole write back meanwhile.
                    and holding.enter_context(self.cache.snapshots.holding_refreshes())
                ):
                    listening, sender = self.cache.listening(), notifier(repository.session)
                    if listening is not None and sender is not None:
                        notifying = (sender, listening)
            if writer.changed:
                clock.saw(repository.read_at)  # our reads never come before our own write
                if self.publisher is not None:
                    last = writer.last_revision
                    span = None if last is None else (last - len(writer.kinds), last)
                    self.publisher.publish(span, aliases=writer.aliases_changed)
            self.telemetry.changed(writer.kinds)
            if self.cache is not None and self.catch_up_writes:
                before, recorded = repository.anchor_before, writer.recorded
                own = (
                    None
                    if before is None or recorded is None or writer.aliases_changed
                    else (before, recorded, writer.timelines)
                )
                self.cache.catch_up(writer.written, own, notifier=notifying)

    def _known_from_cache(self, repository: Repository) -> None:
        anchor, cache = repository.anchor_before, self.cache
        if cache is None or not self.catch_up_writes or anchor is None:
            return
        snapshot = cache.snapshots.known_at(anchor, repository.read_at)
        if snapshot is not None:
            repository.known = snapshot.lookup

    # -- metrics -----------------------------------------------------------------------------

    def metrics(self, registry: CollectorRegistry | None = None) -> RegistryMetrics:
        """The registry's Prometheus metrics, made on first use (on ``registry`` if given)."""
        with self._metrics_lock:
            if self._metrics is None:
                from modelregistry.metrics.prometheus import RegistryMetrics  # noqa: PLC0415 - loads prometheus_client

                if registry is None:
                    from prometheus_client import CollectorRegistry  # noqa: PLC0415 - on first use

                    registry = CollectorRegistry(auto_describe=True)
                self._metrics = RegistryMetrics(
                    self.telemetry,
                    catalog=self._catalog_counts,
                    cache=lambda: None if self.cache is None else self.cache.state(),
                    schema_revision=self.background.schema_revision,
                    registry=registry,
                    synced=self._synced_counts,
                )
            return self._metrics

    def _catalog_counts(self, retiring_by: date) -> CatalogCounts:
        # From any thread: the cache's snapshot, else the views through the background database.
        if self.cache is not None:
            from modelregistry.domain.counts import count_models  # noqa: PLC0415 - metrics only

            return count_models(self.cache.current().list_models(), retiring_by)
        from modelregistry.db.reports import count_in_views  # noqa: PLC0415 - metrics only

        return self.background.read_session(
            lambda session: count_in_views(session, retiring_by), snapshot=True
        )

    def _synced_counts(self) -> dict[str, tuple[int, datetime | None]]:
        # The provenance of the upstream sync (not in the cache): one small query per scrape.
        from modelregistry.db.sync_store import sync_summary  # noqa: PLC0415 - metrics only

        return self.background.read_session(sync_summary, snapshot=True)

    # -- lifecycle ---------------------------------------------------------------------------

    def after_fork(self) -> None:
        """In a forked child: new connections and a new change feed (threads don't fork).

        The child is a process of its own: its telemetry starts from zero (and its locks are
        new: another thread of the parent may have held one at the fork).
        """
        self.telemetry.restart()
        self._metrics_lock = threading.Lock()
        self.database.forget_connections()
        if self.background is not self.database:
            self.background.forget_connections()
        if self.cache is not None:
            self.cache.after_fork()
        if self.publisher is not None:
            self.publisher.after_fork()

    def close(self) -> None:
        """Stop the change feed and release every database connection; drop the metrics."""
        _OPEN.discard(self)
        if self._metrics is not None:
            self._metrics.unregister()
        if self.cache is not None:
            self.cache.close()
        if self.publisher is not None:
            self.publisher.close()
        self.database.dispose()
        if self.background is not self.database:
            self.background.dispose()


def open_parts(  # noqa: PLR0913 - ModelRegistry's keyword-only options
    url: str | None,
    *,
    auto_migrate: bool,
    cache: bool,
    poll_interval: float,
    metrics: CollectorRegistry | None,
    call_timeout: float | None = None,
    lock_timeout: float | None = None,
    feed: str | None = None,
) -> Parts:
    """Open the catalog at ``url`` (see :class:`~modelregistry.ModelRegistry`)."""
    interval = poll_seconds(poll_interval)
    feed_url = resolve_feed_url(feed)
    address = None
    if feed_url is not None:
        # The JetStream feed's modules (and nats-py) load only for a registry that has one.
        from modelregistry.cache.nats_link import require_nats  # noqa: PLC0415
        from modelregistry.cache.wire import FeedAddress  # noqa: PLC0415

        address = FeedAddress.parse(feed_url)
        require_nats()
    target = with_timeouts(
        resolve_database_url(url),
        call_timeout=timeout_seconds(call_timeout, "call_timeout"),
        lock_timeout=timeout_seconds(lock_timeout, "lock_timeout"),
    )
    # A feed's readers hold no idle connection: the pool lets each one go.
    database = Database.open(target, auto_migrate=auto_migrate, keep_idle=address is None)
    telemetry = Telemetry()
    live: LiveCache | None = None
    publisher: Publisher | None = None
    try:
        live = (
            LiveCache(
                database, poll_interval=interval, on_refresh=telemetry.refreshed, feed=address
            )
            if cache
            else None
        )
        if address is not None:
            from modelregistry.cache.publisher import Publisher  # noqa: PLC0415 - see above

            publisher = Publisher(database, address)
    except BaseException:
        if live is not None:
            live.close()
        database.dispose()
        raise
    parts = Parts(database, cache=live, telemetry=telemetry, publisher=publisher)
    if metrics is not None:
        try:
            parts.metrics(metrics)
        except BaseException:
            parts.close()
            raise
    return parts


def _after_fork_in_child() -> None:
    for parts in list(_OPEN):
        parts.after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
