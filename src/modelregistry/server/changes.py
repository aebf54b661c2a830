"""The change stream: the catalog's recent changes, replayed after a revision, and waited for.

The log follows the registry's subscription: each change arrives after the cache holds it,
in revision order. It holds the last ``size`` changes; a client asking for the changes after
an older revision (or one from a timeline the database no longer has, after a restore) is told
to reload (:class:`~modelregistry.errors.RevisionGoneError`, HTTP 410).
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from modelregistry.errors import RevisionGoneError

if TYPE_CHECKING:
    from collections.abc import Callable

    from modelregistry.cache.cache import CatalogEvent
    from modelregistry.registry import ModelRegistry


@dataclass(frozen=True, slots=True)
class Change:
    """One change of the catalog, as the stream sends it."""

    revision: int
    model_id: str
    change: str
    version: int

    def to_dict(self) -> dict[str, Any]:
        """``{"revision", "model_id", "change", "version"}``."""
        return {
            "revision": self.revision,
            "model_id": self.model_id,
            "change": self.change,
            "version": self.version,
        }


class ChangeLog:
    """The last changes of the catalog, for long-polls and event streams.

    Args:
        size: How many changes can be replayed.
    """

    def __init__(self, size: int) -> None:
        """An empty log; :meth:`follow` starts it."""
        self._size = size
        self._changes: deque[Change] = deque()
        self._lock = threading.Lock()
        self._floor = -1  # every change after this revision is held
        self._newest = -1
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._unsubscribe: Callable[[], None] | None = None
        self.closed = False
        self.resets = 0
        """How many times the history was replaced (an open stream must then reload)."""

    def follow(self, registry: ModelRegistry, revision: int) -> None:
        """Hear every change of ``registry`` after ``revision`` (its cache's revision now)."""
        self._unsubscribe = registry.subscribe(self._heard)
        with self._lock:
            self._floor = max(self._floor, revision)
            self._newest = max(self._newest, revision)

    @property
    def newest(self) -> int:
        """The newest revision the log has heard of."""
        return self._newest

    def _heard(self, event: CatalogEvent) -> None:
        change = Change(event.revision, event.model_id, event.change.value, event.version)
        with self._lock:
            if change.revision <= self._floor and not self._changes:
                if change.revision < self._floor:
                    self._reset(change.revision)
                return  # the log started after it (heard while it was starting)
            if self._changes and change.revision <= self._changes[-1].revision:
                # A revision heard again, or an older one: the database's history was replaced
                # (restored): nothing before it can be replayed truthfully.
                self._reset(change.revision)
                return
            self._changes.append(change)
            self._newest = change.revision
            if len(self._changes) > self._size:
                self._floor = self._changes.popleft().revision
        self._wake()

    def _reset(self, revision: int) -> None:
        self.resets += 1
        self._changes.clear()
        self._floor = self._newest = revision
        self._wake()

    def _wake(self) -> None:
        for loop, event in list(self._waiters):
            loop.call_soon_threadsafe(event.set)

    def since(self, revision: int, resets: int | None = None) -> list[Change]:
        """The changes after ``revision``, oldest first (none yet if it is the newest or later).

        ``resets``: the count of :attr:`resets` the caller followed from (a stream); a reset
        since then means it may have missed part of the replaced history.

        Raises:
            RevisionGoneError: E4052, the changes after ``revision`` cannot all be replayed.
        """
        with self._lock:
            if revision < self._floor or (resets is not None and resets != self.resets):
                raise RevisionGoneError(
                    f"the changes after revision {revision} can no longer be replayed (the "
                    f"oldest is after {self._floor}): reload /api/models and follow from its "
                    "revision",
                    revision=revision,
                    oldest=self._floor,
                )
            return [change for change in self._changes if change.revision > revision]

    async def wait(
        self,
        revision: int,
        timeout: float,  # noqa: ASYNC109 - a long-poll's own bound, asked for by the client
        resets: int | None = None,
    ) -> list[Change]:
        """The changes after ``revision``, waiting up to ``timeout`` seconds for one.

        Raises:
            RevisionGoneError: E4052, as :meth:`since`.
        """
        found = self.since(revision, resets)
        if found or timeout <= 0 or self.closed:
            return found
        event = asyncio.Event()
        waiter = (asyncio.get_running_loop(), event)
        self._waiters.add(waiter)
        try:
            found = self.since(revision, resets)  # a change may have come in meanwhile
            if found:
                return found
            try:
                await asyncio.wait_for(event.wait(), timeout)
            except TimeoutError:
                return []
            return self.since(revision, resets)
        finally:
            self._waiters.discard(waiter)

    def close(self) -> None:
        """Stop following; wake every waiter (streams end)."""
        self.closed = True
        if self._unsubscribe is not None:
            self._unsubscribe()
        self._wake()
