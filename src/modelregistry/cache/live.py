"""LiveCache: the cache kept current, with its data source and its change feed.

What a registry with ``cache=True`` holds: a :class:`~modelregistry.cache.cache.
SnapshotCache` loaded from the database, a :class:`~modelregistry.cache.feed.ChangeFeed`
that refreshes it when another process writes (none for a private in-memory catalog, which no
other process can change), and the catch-up that makes a process's own write visible to it
before the write returns.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any, Final

from modelregistry.cache.cache import SnapshotCache
from modelregistry.cache.feed import MIN_REFRESH_GAP, ChangeFeed
from modelregistry.cache.source import DatabaseSource
from modelregistry.errors import ModelRegistryError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from modelregistry.cache.cache import CatalogEvent
    from modelregistry.cache.jetstream import StreamFeed
    from modelregistry.cache.snapshot import Snapshot
    from modelregistry.cache.wire import FeedAddress
    from modelregistry.db.database import Database
    from modelregistry.db.repository import Anchor
    from modelregistry.domain.history import ModelRevision
    from modelregistry.domain.models import ModelConfig
    from modelregistry.domain.pricing import Price
    from modelregistry.metrics.telemetry import Trigger

logger = logging.getLogger(__name__)

_CATCH_UP_ATTEMPTS: Final = 3
STALE_AFTER_POLLS: Final = 3
"""The cache is ``stale`` once the database has not confirmed it for this many polls..."""
STALE_AFTER_AT_LEAST: Final = 2.0
"""... and for at least this many seconds (a loaded machine's slow poll is not an outage)."""


class LiveCache:
    """A snapshot cache of the catalog in ``database``, kept current.

    Args:
        database: Read from the change feed's thread (and, in AsyncModelRegistry, from worker
            threads): its engine must be usable from any thread.
        poll_interval: Seconds between the change feed's checks of the catalog revision.
        feed: Follow this JetStream feed instead of LISTEN (:mod:`modelregistry.cache.jetstream`).
        on_refresh: Told of each successful refresh, by what asked for it (``reload`` for a
            full load).
        refresh_gap: Least seconds between refreshes that notifications ask for (bursts of
            NOTIFY are coalesced; see :mod:`modelregistry.cache.feed`).

    Raises:
        ModelRegistryError: the first load failed (nothing is left running).
    """

    def __init__(
        self,
        database: Database,
        *,
        poll_interval: float,
        on_refresh: Callable[[Trigger], object],
        refresh_gap: float = MIN_REFRESH_GAP,
        feed: FeedAddress | None = None,
    ) -> None:
        """Load the whole catalog, then start following changes."""
        self._database = database
        self._poll_interval = poll_interval
        self._refresh_gap = refresh_gap
        self._on_refresh = on_refresh
        source = DatabaseSource(
            database,
            on_load=lambda: on_refresh("reload"),
            current=self._snapshot,
        )
        # The JetStream seam: the stream answers changes_since, StreamFeed replaces ChangeFeed
        # (its modules load only for a cache that has a feed).
        self._stream = None
        if feed is not None:
            from modelregistry.cache.jetstream import StreamSource  # noqa: PLC0415 - see above

            self._stream = (feed, StreamSource(source, database.schema_revision()))
        changes_since = (
            source.changes_since if self._stream is None else self._stream[1].changes_since
        )
        self.snapshots = SnapshotCache(
            source.load,
            changes_since,
            stale_after=max(STALE_AFTER_POLLS * poll_interval, STALE_AFTER_AT_LEAST),
        )
        """The snapshots themselves (the read hot path takes ``snapshots.snapshot``)."""
        self._feed: ChangeFeed | StreamFeed | None = None
        self._start_feed()

    def _snapshot(self) -> Snapshot | None:
        """The snapshot a delta applies to (None while the first load is under way)."""
        cache: SnapshotCache | None = self.__dict__.get("snapshots")
        return None if cache is None else cache.snapshot

    def _start_feed(self) -> None:
        if self._stream is not None:
            from modelregistry.cache.jetstream import StreamFeed  # noqa: PLC0415 - see __init__

            self._feed = StreamFeed(
                *self._stream,
                self.refresh,
                self.snapshots.mark_failed,
                self._poll_interval,
                refresh_if_free=self.refresh_if_free,
            )
        elif not self._database.is_memory:
            self._feed = ChangeFeed(
                self._database,
                self.refresh,
                self.snapshots.mark_failed,
                self._poll_interval,
                self._refresh_gap,
            )

    def current(self) -> Snapshot:
        """The current snapshot, showing the prices in effect now."""
        return self.snapshots.current()

    def refresh(
        self,
        trigger: Trigger,
        known: Mapping[tuple[str, int], ModelConfig] | None = None,
        *,
        unless: Callable[[], bool] | None = None,
    ) -> None:
        """Bring the snapshot up to date now (``known``: configs this process just wrote).

        ``unless``: see :meth:`SnapshotCache.refresh` (nothing read, nothing counted).

        ``manual`` (``registry.refresh()``) reads the database even on a JetStream feed: it
        promises the catalog as committed now, not as far as the stream has brought it (a
        change its writer has not published yet, and the relay not yet either).

        Raises:
            ModelRegistryError: the database could not be read (the snapshot stays).
        """
        if trigger == "manual" and self._stream is not None:
            with self._stream[1].from_database():
                self.snapshots.refresh(known)
        elif self.snapshots.refresh(known, unless=unless) is None:
            return  # (nothing to read: not a refresh)
        self._on_refresh(trigger)

    def refresh_if_free(self, trigger: Trigger) -> bool:
        """:meth:`refresh` unless another refresh is under way; whether it ran.

        Raises:
            ModelRegistryError: the database could not be read (the snapshot stays).
        """
        if self.snapshots.try_refresh() is None:
            return False
        self._on_refresh(trigger)
        return True

    def listening(self) -> int | None:
        """The change feed's LISTEN connection that is up (None: none, or no LISTEN feed).

        Asked before a write commits, for :meth:`catch_up`'s ``notifier``.
        """
        return self._feed.listening() if isinstance(self._feed, ChangeFeed) else None

    def catch_up(
        self,
        known: Mapping[tuple[str, int], ModelConfig] | None = None,
        own: tuple[Anchor, list[tuple[int, ModelRevision]], Mapping[str, tuple[Price, ...]]]
        | None = None,
        *,
        notifier: tuple[int, int] | None = None,
    ) -> None:
        """After a write: make the cache hold it, trying a few times (it has committed).

        ``own``: the revision the write found under its lock, the revisions it recorded
        (numbered) and the price timelines it changed, when it knows them all and changed no
        alias: applied without reading anything if the snapshot is at that revision
        (:meth:`SnapshotCache.apply_own`). If the database
        cannot be read back, the cache is marked stale and the change feed catches up later.
        ``notifier``: the server process that notified the write and :meth:`listening` before
        it committed, when this thread holds the cache's refresh lock
        (:meth:`SnapshotCache.holding_refreshes`): once applied, the LISTEN feed is told its
        notification brings nothing new (if that LISTEN is still the one up).
        """
        if own is not None and self.snapshots.apply_own(*own):
            if notifier is not None and isinstance(self._feed, ChangeFeed):
                self._feed.expect_own(*notifier)
            self._on_refresh("write")
            return
        for attempt in range(_CATCH_UP_ATTEMPTS):
            try:
                self.refresh("write", known)
            except ModelRegistryError as exc:
                self.snapshots.mark_failed(exc)
                time.sleep(0.05 * (attempt + 1))
            else:
                return
        logger.warning("modelregistry: a committed write is not yet in this process's cache")

    def subscribe(self, callback: Callable[[CatalogEvent], object]) -> Callable[[], None]:
        """Call ``callback(event)`` for every change once the cache holds it; returns a cancel.

        Callbacks run on the cache's dispatcher thread, in revision order.
        """
        return self.snapshots.subscribe(callback)

    def state(self) -> dict[str, Any]:
        """Revision, staleness and health (``get_stats()["cache"]``); the feed's transport."""
        state = self.snapshots.state()
        if self._stream is not None:  # (then the feed is a StreamFeed, its module loaded)
            from modelregistry.cache.jetstream import StreamFeed  # noqa: PLC0415

            if isinstance(self._feed, StreamFeed):
                state["feed"] = self._feed.state()
        return state

    def after_fork(self) -> None:
        """In a forked child: a change feed of its own (threads do not survive a fork)."""
        self.snapshots.after_fork()
        if self._feed is not None:
            self._feed.abandon()
            self._start_feed()

    def close(self) -> None:
        """Stop the change feed and the subscribers' thread (again: nothing)."""
        if self._feed is not None:
            self._feed.close()
        self.snapshots.close()
