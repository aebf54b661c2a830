"""The change feed: a background thread that keeps a registry's cache current.

On PostgreSQL it listens for the NOTIFY writers send at commit (the fast path) and also polls
the catalog revision every ``poll_interval`` seconds, in case a notification is missed while
reconnecting. On SQLite, which has no notifications, it polls. While the database cannot be
reached it keeps retrying; the cache keeps answering from its last snapshot and resynchronises
by itself once the database is back.

Notifications are coalesced: anyone allowed to connect can send ``NOTIFY`` on the channel, and
a storm of them must not become a storm of queries. The feed runs one refresh at a time, and
a notification less than ``min_gap`` after the previous refresh began waits out the rest of
the gap (leading edge: after a quiet spell a change is fetched at once; only bursts wait).
Notifications already arrived when a refresh starts are read first, since that refresh covers
them; one that arrives during a refresh brings the next.

A process's own writes notify its own feed too. A write its cache applied from memory is
announced to the feed (:meth:`ChangeFeed.expect_own`: the server process that sent the
notification), under the cache's refresh lock, before the feed can take that lock to act on
the notification; a notification from that server process is then known to bring nothing new,
and when every notification heard is such a one, the refresh (a query) is skipped. Any other
writer's notification, a reconnection or a poll refreshes as before, and uses up the
expectations of the notifications it heard (it reads past them). An expectation is taken only
for a write committed while the LISTEN it is expected on was up (:meth:`ChangeFeed.listening`,
asked before the commit): a notification sent before the first LISTEN or to a connection
that broke never comes. One not met within :data:`OWN_NOTICE_LIFETIME` is dropped, and a new
LISTEN forgets them all. A skipped refresh leaves the poll's schedule as it was: the poll is
what catches a notification lost on the way, so own writes must not keep postponing it.
"""

from __future__ import annotations

import functools
import itertools
import logging
import select
import socket
import threading
import time
from collections import Counter
from typing import TYPE_CHECKING, Any, Final, Protocol

from modelregistry.db.notify import Listener
from modelregistry.errors import ModelRegistryError

if TYPE_CHECKING:
    from collections.abc import Callable

    from modelregistry.db.database import Database
    from modelregistry.metrics.telemetry import Trigger

    class Refresh(Protocol):
        """What the feed calls to bring the cache up to date."""

        def __call__(self, trigger: Trigger, *, unless: Callable[[], bool] | None = None) -> object:
            """Refresh, unless ``unless()``, asked under the cache's refresh lock, is True."""


logger = logging.getLogger(__name__)

OWN_NOTICE_LIFETIME: Final = 5.0
"""Seconds an own write's notification is expected for (it comes at once, on a live LISTEN)."""
_LONGEST_WAIT: Final = 5.0
"""Longest single wait for a notification before checking whether to poll (seconds)."""
MIN_REFRESH_GAP: Final = 0.01
"""Default least time between the starts of two refreshes a notification asks for (s)."""


class ChangeFeed:
    """Calls ``refresh`` whenever the catalog may have changed, from a daemon thread.

    Args:
        database: The catalog's database (its engine opens the LISTEN connection).
        refresh: Brings the cache up to date, told what asked (``notify`` or ``poll``);
            raises ModelRegistryError when it cannot.
        on_failure: Told about each failed refresh (the cache records it).
        poll_interval: Seconds between polls of the catalog revision.
        min_gap: Least seconds between the starts of refreshes that notifications ask for.
    """

    def __init__(
        self,
        database: Database,
        refresh: Refresh,
        on_failure: Callable[[BaseException], None],
        poll_interval: float,
        min_gap: float = MIN_REFRESH_GAP,
    ) -> None:
        """Start the feed thread."""
        self._min_gap = min_gap
        self._database = database
        self._refresh = refresh
        self._on_failure = on_failure
        self._poll_interval = poll_interval
        self._stop = threading.Event()
        # close() writes to this socket pair to wake the thread from its wait at once.
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._listener: Listener | None = None
        # Notifying server processes heard since the last refresh; own writes' (see the
        # module's docstring): server process -> deadlines, one per write expected.
        self._heard: list[int] = []
        self._own_lock = threading.Lock()
        self._own: dict[int, list[float]] = {}
        # The LISTEN connection that is up (a number per connection; None: none), under
        # _own_lock: an expectation is for the connection that was up when its write committed.
        self._listening: int | None = None
        self._connections = itertools.count(1)
        self.own_notices = 0
        """Notifications of this process's own writes that needed no refresh."""
        self._thread = threading.Thread(target=self._run, name="modelregistry-feed", daemon=True)
        self._thread.start()

    def listening(self) -> int | None:
        """The LISTEN connection that is up (a number for :meth:`expect_own`), or None."""
        with self._own_lock:
            return self._listening

    def expect_own(self, server_process: int, listening: int) -> None:
        """A write of this process, sent by ``server_process``, is in the cache already.

        ``listening``: :meth:`listening` before the write committed; when that LISTEN is no
        longer up, the notification went to it (or nowhere) and is not expected. Called under
        the cache's refresh lock, after the commit and before releasing it.
        """
        with self._own_lock:
            if listening != self._listening:
                return
            self._own.setdefault(server_process, []).append(time.monotonic() + OWN_NOTICE_LIFETIME)

    def _only_own(self, heard: list[int]) -> bool:
        """Whether every notification ``heard`` is an expected own one (counted if so).

        Either way the expectations of the notifications heard are used up: when they are not
        all own, the refresh that follows reads past every one of them.
        """
        now = time.monotonic()
        with self._own_lock:
            for server_process in list(self._own):
                live = [due for due in self._own[server_process] if due > now]
                if live:
                    self._own[server_process] = live
                else:
                    del self._own[server_process]
            wanted = Counter(heard)
            only_own = bool(heard) and all(
                len(self._own.get(process, ())) >= count for process, count in wanted.items()
            )
            for process, count in wanted.items():
                expected = self._own.get(process)
                if expected is not None:
                    del expected[:count]
                    if not expected:
                        del self._own[process]
            if only_own:
                self.own_notices += len(heard)
            return only_own

    def abandon(self) -> None:
        """In a forked child: forget the parent's thread, sockets and connection, untouched.

        Closing them here would close the parent's LISTEN session on the server.
        """
        self._listener = None
        with self._own_lock:
            self._listening = None
        self._stop.set()

    def close(self) -> None:
        """Stop the thread and close its connection (again: nothing)."""
        if self._stop.is_set():
            return
        self._stop.set()
        self._wake_writer.send(b"x")
        self._thread.join(timeout=10)
        self._wake_reader.close()
        self._wake_writer.close()

    def _run(self) -> None:
        next_poll = time.monotonic() + self._poll_interval
        last_refresh = float("-inf")
        while not self._stop.is_set():
            now = time.monotonic()
            trigger = self._wait(min(_LONGEST_WAIT, max(0.0, next_poll - now)))
            if self._stop.is_set():
                break
            if trigger is None and time.monotonic() < next_poll:
                continue
            if trigger == "notify":
                rest = last_refresh + self._min_gap - time.monotonic()
                if rest > 0 and self._stop.wait(rest):
                    break
                self._drain()  # what arrived until now, this refresh covers
            started = time.monotonic()
            heard, self._heard = self._heard, []
            own_before = self.own_notices  # (only this thread adds to it)
            try:
                if trigger == "notify":
                    self._refresh("notify", unless=functools.partial(self._only_own, heard))
                else:
                    self._refresh(trigger or "poll")
            except ModelRegistryError as exc:
                self._on_failure(exc)
            except Exception as exc:  # never let the thread die: the cache would freeze
                logger.exception("modelregistry change feed: refresh failed")
                self._on_failure(exc)
            if self.own_notices == own_before:  # (skipped: nothing read, the poll stays due)
                last_refresh = started
                next_poll = started + self._poll_interval
        self._drop_listener()

    def _wait(self, timeout: float) -> Trigger | None:
        """Wait up to ``timeout`` seconds for a notification.

        Returns ``notify`` if one came, ``poll`` when a new LISTEN asks to catch up at once,
        else None.
        """
        watched: list[Any] = [self._wake_reader]
        listener = None
        if not self._database.is_sqlite:
            try:
                if self._listener is None:
                    self._listener = Listener(self._database.engine)
                    with self._own_lock:  # (its LISTEN is up: writes from now on notify it)
                        self._listening = next(self._connections)
                    return "poll"  # a new LISTEN: catch up on what happened while it was down
                listener = self._listener
                watched.append(listener.fileno())
            except Exception as exc:  # noqa: BLE001 - the database is away
                logger.debug("modelregistry change feed: LISTEN failed: %s", exc)
                self._drop_listener()
                self._on_failure(exc)
        ready, _, _ = select.select(watched, [], [], timeout)
        if listener is None or not any(item is not self._wake_reader for item in ready):
            return None
        try:
            # Writers in every schema of the database notify the channel; ours name our schema.
            heard = listener.heard()
        except Exception as exc:  # noqa: BLE001 - the connection broke; reconnect next time
            logger.debug("modelregistry change feed: reading notifications failed: %s", exc)
            self._drop_listener()
            self._on_failure(exc)
            return None
        self._heard += heard
        return "notify" if heard else None

    def _drain(self) -> None:
        listener = self._listener
        if listener is None:
            return
        try:
            self._heard += listener.heard()
        except Exception as exc:  # noqa: BLE001 - the connection broke; reconnect next time
            logger.debug("modelregistry change feed: reading notifications failed: %s", exc)
            self._drop_listener()

    def _drop_listener(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        # (Notifications sent meanwhile are lost: the next LISTEN polls, and expects none.)
        with self._own_lock:
            self._listening = None
            self._own.clear()
        self._heard = []
