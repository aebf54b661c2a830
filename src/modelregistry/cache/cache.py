"""The cache: the current snapshot, refreshed one change set at a time, and its subscribers.

:class:`SnapshotCache` holds the current :class:`~modelregistry.cache.snapshot.Snapshot`,
applies what the database says changed (or reloads it whole when the database is not the one
it knew), tracks staleness and tells subscribers, in revision order, once the snapshot holds
a change.

Reads never wait for the database: a refresh queries without holding the lock that readers
(and rolling a due price) take, and swaps its new snapshot in under it. Refreshes take turns
(one in flight). Subscribers run on a dispatcher thread of their own, outside every lock, so
one may block, or write (whose own refresh then goes ahead), from any thread.
"""

from __future__ import annotations

import contextvars
import logging
import queue
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, overload

from modelregistry.cache.snapshot import Snapshot, bulk_building
from modelregistry.domain import clock
from modelregistry.domain.history import ChangeKind, fingerprint, same_change

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

    from modelregistry.cache.contract import Delta, FullLoad
    from modelregistry.db.repository import Anchor
    from modelregistry.domain.history import ModelRevision
    from modelregistry.domain.models import ModelConfig
    from modelregistry.domain.pricing import Price

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CatalogEvent:
    """A change of the catalog, delivered to subscribers once their cache holds it.

    Attributes:
        model_id: The model that changed.
        change: What happened to it.
        version: The model's version after the change.
        revision: The catalog revision (change sequence number) of the change.
    """

    model_id: str
    change: ChangeKind
    version: int
    revision: int


class SnapshotCache:
    """The current snapshot, refreshed one change set at a time, with subscribers.

    Args:
        load: Reads the whole catalog (:class:`FullLoad`).
        changes_since: Reads what changed after an anchor and an alias cursor
            (:class:`Delta`), given the configs this process just wrote, by
            ``(model_id, version)``, to reuse; None when the database is not the one the
            anchor came from (replaced or restored), which forces a full load.
    """

    def __init__(
        self,
        load: Callable[[], FullLoad],
        changes_since: Callable[
            [Anchor, int, Mapping[tuple[str, int], ModelConfig] | None], Delta | None
        ],
        *,
        stale_after: float = 60.0,
    ) -> None:
        """Load the catalog once; later refreshes read only what changed.

        ``stale_after``: seconds without the database confirming the snapshot after which
        :meth:`state` says ``stale`` even though no refresh has failed yet (one is stuck).
        """
        self._load = load
        self._changes_since = changes_since
        self._stale_after = stale_after
        # Refreshes take turns on this one (it is held during their queries); re-entrant
        # for a subscriber called synchronously by older code paths.
        self._refreshing = threading.RLock()
        # Held only to swap snapshots and state in (never during a query): readers and the
        # rolling of a due price take it.
        self._lock = threading.Lock()
        self._subscribers: list[Callable[[CatalogEvent], object]] = []
        self._dispatcher: _Dispatcher | None = None
        self._anchor, self._alias_cursor, self.snapshot = self._full_load()
        self._synced_at = time.monotonic()
        self._synced_wall = time.time()  # (a datetime only when asked, in state())
        self._error: str | None = None

    def _full_load(self) -> tuple[Anchor, int, Snapshot]:
        with bulk_building():
            loaded = self._load()
            snapshot = Snapshot(
                loaded.anchor[0], loaded.models, loaded.prices, loaded.at, loaded.aliases
            )
        return loaded.anchor, loaded.alias_cursor, snapshot

    def current(self) -> Snapshot:
        """The current snapshot, showing the prices in effect now.

        When a scheduled price has taken effect since the snapshot was made, its successor
        (same revision, new prices) replaces it first.
        """
        snapshot = self.snapshot
        if snapshot.expires_at is not None and clock.timestamp() >= snapshot.expires_at:
            with self._lock:
                # From memory (never the database), whatever a refresh is waiting for.
                snapshot = self.snapshot = self.snapshot.rolled(clock.now())
        return snapshot

    @overload
    def refresh(
        self, known: Mapping[tuple[str, int], ModelConfig] | None = None, *, unless: None = None
    ) -> list[CatalogEvent]: ...

    @overload
    def refresh(
        self,
        known: Mapping[tuple[str, int], ModelConfig] | None = None,
        *,
        unless: Callable[[], bool] | None,
    ) -> list[CatalogEvent] | None: ...

    def refresh(
        self,
        known: Mapping[tuple[str, int], ModelConfig] | None = None,
        *,
        unless: Callable[[], bool] | None = None,
    ) -> list[CatalogEvent] | None:
        """Bring the snapshot up to date with the database; return what changed.

        ``known``: configs this process just wrote, by ``(model_id, version)`` (a writer
        catching up on its own changes need not validate them again). ``unless``: asked
        once the refresh lock is held; True means there is nothing new to read (the change
        feed hearing only this process's own writes, already applied): nothing is done,
        and None is returned.

        Subscribers are told, in revision order and one refresh at a time, after the new
        snapshot is in place.

        Raises:
            ModelRegistryError: the database could not be read (the snapshot stays).
        """
        with self._refreshing:
            if unless is not None and unless():
                return None
            current = self.snapshot
            try:
                with bulk_building():
                    delta = self._changes_since(self._anchor, self._alias_cursor, known)
                cursor = self._alias_cursor
                if delta is None:
                    anchor, cursor, loaded = self._full_load()
                    events = _differences(current, loaded)
                    with self._lock:
                        self.snapshot, self._anchor = loaded, anchor
                elif delta.changes or delta.aliases is not None:
                    anchor, events = self._anchor, []
                    if delta.changes:
                        number, last = delta.changes[-1]
                        anchor = (number, fingerprint(last.model_id, last.version, last.changed_at))
                        events = [
                            CatalogEvent(c.model_id, c.change, c.version, n)
                            for n, c in delta.changes
                        ]
                    if delta.changes:
                        clock.saw(delta.changes[-1][1].changed_at)
                    with self._lock:
                        # (Readers may have rolled it meanwhile: start from the newest.)
                        now = clock.now()
                        self.snapshot = self.snapshot.rolled(now).apply(
                            anchor[0],
                            (change for _, change in delta.changes),
                            delta.prices,
                            delta.aliases,
                            at=now,
                        )
                        self._anchor = anchor  # (with its snapshot: see known_at)
                    cursor = delta.alias_cursor
                else:
                    anchor, events = self._anchor, []
            except Exception as exc:
                self._error = str(exc)
                raise
            with self._lock:
                self._anchor = anchor
                self._alias_cursor = cursor
                self._synced_at = time.monotonic()
                self._synced_wall = time.time()
                self._error = None
            self._publish(events)  # queued under the refresh lock: in revision order
        return events

    def try_refresh(self) -> list[CatalogEvent] | None:
        """:meth:`refresh`, unless another refresh is under way (then None: nothing was done).

        For a caller that must not wait on another's database read (the NATS loop).

        Raises:
            ModelRegistryError: the database could not be read (the snapshot stays).
        """
        if not self._refreshing.acquire(blocking=False):
            return None
        try:
            return self.refresh()
        finally:
            self._refreshing.release()

    def known_at(self, anchor: Anchor, now: datetime) -> Snapshot | None:
        """The snapshot, if it is the catalog at ``anchor`` showing the prices of ``now``.

        For a writer holding the write lock, whose ``anchor`` is the newest revision it found
        under the lock: the snapshot then holds every model exactly as stored, so the write
        may take its current model from memory instead of reading its row. None when the
        snapshot is at another revision (behind, or of another timeline), or when a price may
        take effect between the snapshot's instant and ``now`` (or ``now`` is before it: the
        database's clock behind this machine's), where the row's prices could differ.
        """
        with self._lock:  # (a refresh swaps snapshot and anchor in together)
            snapshot, held = self.snapshot, self._anchor
        if not same_change(held, anchor) or snapshot.priced_at > now:
            return None
        if snapshot.expires_at is not None and now.timestamp() >= snapshot.expires_at:
            return None
        return snapshot

    @contextmanager
    def holding_refreshes(self) -> Iterator[bool]:
        """Keep other refreshes waiting while this thread commits and applies its own write.

        Taken before a commit (which tells the change feed at once) so that the feed does not
        read the write back while its writer applies it from memory (:meth:`apply_own`):
        the feed's refresh waits, then finds nothing new. Only if no refresh is under way
        (never waits: a refresh holding it may be waiting for a connection this thread's
        transaction holds). Yields whether it holds them.
        """
        if not self._refreshing.acquire(blocking=False):
            yield False
            return
        try:
            yield True
        finally:
            self._refreshing.release()

    def apply_own(
        self,
        before: Anchor,
        changes: list[tuple[int, ModelRevision]],
        prices: Mapping[str, tuple[Price, ...]] | None = None,
    ) -> bool:
        """Apply this process's own committed ``changes`` without reading them back.

        Only when the snapshot is at ``before``, the revision its writer found when it took
        the write lock (nothing else was written in between), and the writer knows every
        price timeline the changes changed (``prices``, whole, by model id) and changed no
        alias (see ``service.writer.Writer.recorded``). Subscribers are told as after a
        refresh.

        Returns:
            Whether the changes were applied (False: nothing was done; refresh instead).
        """
        if not changes:
            return False
        number, last = changes[-1]
        anchor = (number, fingerprint(last.model_id, last.version, last.changed_at))
        with self._refreshing:
            if same_change(self._anchor, anchor):
                # The change feed heard our NOTIFY first and read the change: nothing to do.
                return True
            if not same_change(self._anchor, before):
                return False
            events = [CatalogEvent(c.model_id, c.change, c.version, n) for n, c in changes]
            clock.saw(last.changed_at)
            with self._lock:
                now = clock.now()
                self.snapshot = self.snapshot.rolled(now).apply(
                    number, (change for _, change in changes), prices, at=now
                )
                self._anchor = anchor
                self._synced_at = time.monotonic()
                self._synced_wall = time.time()
                self._error = None
            self._publish(events)
        return True

    def mark_failed(self, exc: BaseException) -> None:
        """Record that the database could not be read (reported by :meth:`state`)."""
        self._error = str(exc)

    def subscribe(self, callback: Callable[[CatalogEvent], object]) -> Callable[[], None]:
        """Call ``callback(event)`` for every change, after the snapshot holds it.

        Callbacks run one at a time, in revision order, on a dispatcher thread of the cache's
        own (started by the first subscription), never under a lock of the cache: one may
        block, or write.

        Returns:
            A function that cancels the subscription.
        """
        with self._lock:
            self._subscribers.append(callback)
            if self._dispatcher is None:
                self._dispatcher = _Dispatcher(self._deliver)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def _publish(self, events: list[CatalogEvent]) -> None:
        # Called under the refresh lock (in revision order, one caller at a time). With no
        # subscriber left, the dispatcher is not woken for nobody.
        dispatcher = self._dispatcher
        if dispatcher is not None and events and self._subscribers:
            dispatcher.put(events)

    def _deliver(self, event: CatalogEvent) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for callback in subscribers:
            try:
                # In a context of its own: its calls are operations of their own
                # (modelregistry.metrics.telemetry), whichever write caused the event.
                contextvars.Context().run(callback, event)
            except Exception:
                logger.exception("a modelregistry subscriber failed on %s", event)

    def delivered(self, timeout: float | None = None) -> bool:
        """Wait until subscribers have been told of every change so far; whether they were."""
        dispatcher = self._dispatcher
        return True if dispatcher is None else dispatcher.drained(timeout)

    def close(self) -> None:
        """Stop the dispatcher thread after it has delivered what is queued (again: nothing)."""
        dispatcher, self._dispatcher = self._dispatcher, None
        if dispatcher is not None:
            dispatcher.close()

    def after_fork(self) -> None:
        """In a forked child: a dispatcher of its own (threads do not survive a fork)."""
        self._lock = threading.Lock()
        self._refreshing = threading.RLock()
        if self._dispatcher is not None:
            self._dispatcher = _Dispatcher(self._deliver)

    def state(self) -> dict[str, Any]:
        """Revision, staleness (seconds since the database last confirmed it) and health.

        ``stale`` when the last refresh failed, or when the database has not confirmed the
        snapshot for longer than ``stale_after`` (a refresh stuck on a frozen database).
        """
        staleness = time.monotonic() - self._synced_at
        error = self._error
        if error is None and staleness > self._stale_after:
            error = (
                f"the database has not confirmed the cache for {staleness:.1f} s "
                f"(more than {self._stale_after:g} s): a refresh is failing or stuck"
            )
        return {
            "enabled": True,
            "revision": self.snapshot.revision,
            "models": len(self.snapshot),
            "staleness_seconds": round(staleness, 6),
            "synced_at": datetime.fromtimestamp(self._synced_wall, UTC).isoformat(),
            "state": "live" if error is None else "stale",
            "error": error,
        }


class _Dispatcher:
    """A daemon thread telling subscribers of events, one at a time, in the order queued."""

    def __init__(self, deliver: Callable[[CatalogEvent], None]) -> None:
        self._deliver = deliver
        self._queue: queue.SimpleQueue[list[CatalogEvent] | None] = queue.SimpleQueue()
        # Batches queued (counted by put's callers, one at a time: the cache's refresh lock)
        # and delivered (by the dispatcher thread, under ``_idle``): a put takes no lock.
        self._queued = 0
        self._delivered = 0
        self._idle = threading.Condition()
        self._thread = threading.Thread(
            target=self._run, name="modelregistry-subscribers", daemon=True
        )
        self._thread.start()

    def put(self, events: list[CatalogEvent]) -> None:
        self._queued += 1
        self._queue.put(events)

    def drained(self, timeout: float | None) -> bool:
        queued = self._queued
        with self._idle:
            return self._idle.wait_for(lambda: self._delivered >= queued, timeout)

    def close(self) -> None:
        self._queue.put(None)
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while (events := self._queue.get()) is not None:
            try:
                for event in events:
                    self._deliver(event)
            finally:
                with self._idle:
                    self._delivered += 1
                    self._idle.notify_all()


def _differences(old: Snapshot, new: Snapshot) -> list[CatalogEvent]:
    """Events for what a full reload changed (the log could not tell): by model id."""
    events = []
    for model_id in sorted(old.model_ids() | new.model_ids()):
        before, after = old.get(model_id), new.get(model_id)
        if after is None and before is not None:
            events.append(
                CatalogEvent(model_id, ChangeKind.REMOVED, before.version or 0, new.revision)
            )
        elif after is not None and before != after:
            kind = ChangeKind.CREATED if before is None else ChangeKind.UPDATED
            events.append(CatalogEvent(model_id, kind, after.version or 0, new.revision))
    return events
