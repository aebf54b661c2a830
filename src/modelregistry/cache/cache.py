"""The cache: the current snapshot, refreshed one change set at a time, and its subscribers.

:class:`SnapshotCache` holds the current :class:`~modelregistry.cache.snapshot.Snapshot`,
applies what the database says changed (or reloads it whole when the database is not the one
it knew), tracks staleness and tells subscribers, in revision order, once the snapshot holds
a change.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from modelregistry.cache.snapshot import Snapshot, bulk_building
from modelregistry.domain.history import ChangeKind

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from modelregistry.cache.contract import Delta, FullLoad
    from modelregistry.db.repository import Anchor
    from modelregistry.domain.models import ModelConfig

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
    ) -> None:
        """Load the catalog once; later refreshes read only what changed."""
        self._load = load
        self._changes_since = changes_since
        # Re-entrant: a subscriber may write, and a write catches its own cache up.
        self._lock = threading.RLock()
        self._subscribers: list[Callable[[CatalogEvent], object]] = []
        self._anchor, self._alias_cursor, self.snapshot = self._full_load()
        self._synced_at = time.monotonic()
        self._synced_wall = datetime.now(UTC)
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
        if snapshot.expires_at is not None and time.time() >= snapshot.expires_at:
            with self._lock:
                snapshot = self.snapshot = self.snapshot.rolled(datetime.now(UTC))
        return snapshot

    def refresh(
        self, known: Mapping[tuple[str, int], ModelConfig] | None = None
    ) -> list[CatalogEvent]:
        """Bring the snapshot up to date with the database; return what changed.

        ``known``: configs this process just wrote, by ``(model_id, version)`` (a writer
        catching up on its own changes need not validate them again).

        Subscribers are told, in revision order and one refresh at a time, after the new
        snapshot is in place.

        Raises:
            ModelRegistryError: the database could not be read (the snapshot stays).
        """
        with self._lock:
            current = self.snapshot
            try:
                with bulk_building():
                    delta = self._changes_since(self._anchor, self._alias_cursor, known)
                cursor = self._alias_cursor
                if delta is None:
                    anchor, cursor, self.snapshot = self._full_load()
                    events = _differences(current, self.snapshot)
                elif delta.changes or delta.aliases is not None:
                    anchor, events = self._anchor, []
                    if delta.changes:
                        number, last = delta.changes[-1]
                        anchor = (number, (last.model_id, last.version))
                        events = [
                            CatalogEvent(c.model_id, c.change, c.version, n)
                            for n, c in delta.changes
                        ]
                    now = datetime.now(UTC)
                    self.snapshot = current.rolled(now).apply(
                        anchor[0],
                        (change for _, change in delta.changes),
                        delta.prices,
                        delta.aliases,
                        at=now,
                    )
                    cursor = delta.alias_cursor
                else:
                    anchor, events = self._anchor, []
            except Exception as exc:
                self._error = str(exc)
                raise
            self._anchor = anchor
            self._alias_cursor = cursor
            self._synced_at = time.monotonic()
            self._synced_wall = datetime.now(UTC)
            self._error = None
            self._publish(events)
        return events

    def mark_failed(self, exc: BaseException) -> None:
        """Record that the database could not be read (reported by :meth:`state`)."""
        with self._lock:
            self._error = str(exc)

    def subscribe(self, callback: Callable[[CatalogEvent], object]) -> Callable[[], None]:
        """Call ``callback(event)`` for every change, after the snapshot holds it.

        Returns:
            A function that cancels the subscription.
        """
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

        return unsubscribe

    def _publish(self, events: list[CatalogEvent]) -> None:
        for event in events:
            for callback in list(self._subscribers):
                try:
                    # In a context of its own: a subscriber told of this process's own write
                    # runs inside that write's operation, and its calls are operations of
                    # their own, not part of the write (modelregistry.metrics.telemetry).
                    contextvars.Context().run(callback, event)
                except Exception:
                    logger.exception("a modelregistry subscriber failed on %s", event)

    def state(self) -> dict[str, Any]:
        """Revision, staleness (seconds since the database last confirmed it) and health."""
        return {
            "enabled": True,
            "revision": self.snapshot.revision,
            "models": len(self.snapshot),
            "staleness_seconds": round(time.monotonic() - self._synced_at, 6),
            "synced_at": self._synced_wall.isoformat(),
            "state": "live" if self._error is None else "stale",
            "error": self._error,
        }


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
