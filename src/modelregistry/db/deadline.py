"""Client-side deadlines: no PostgreSQL call waits longer than its bound, whatever the server does.

A frozen server (SIGSTOP, a paused VM) keeps its kernel acknowledging TCP, so neither
keepalives nor the server's own ``statement_timeout`` ever end a call waiting on it. A
:class:`Watchdog` (one thread per engine, started on first use) does: every statement,
commit, rollback and COPY arms a deadline on its connection, and a call still running when
its deadline passes has its socket shut down. The blocked driver call then fails at once
(an ``OperationalError``, which modelregistry reports as E4020, retryable) and SQLAlchemy
discards the connection. :func:`deadline_fired` tells the unit of work it was the deadline.
"""

from __future__ import annotations

import contextlib
import heapq
import logging
import socket
import threading
import time
import weakref
from typing import TYPE_CHECKING

from sqlalchemy import event

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sqlalchemy.engine import Connection, Engine

logger = logging.getLogger(__name__)

_WATCHDOGS: weakref.WeakKeyDictionary[Engine, Watchdog] = weakref.WeakKeyDictionary()


class Watchdog:
    """Shuts down the socket of any call on ``engine`` that outlives ``timeout`` seconds.

    Args:
        timeout: Seconds a single call (statement, commit, rollback, COPY) may take.
    """

    def __init__(self, timeout: float) -> None:
        """Nothing runs until the first call is armed."""
        self.timeout = timeout
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        # id(dbapi connection) -> (deadline, dbapi connection, thread ident); and a heap of
        # (deadline, id) whose stale entries are skipped.
        self._armed: dict[int, tuple[float, object, int]] = {}
        self._heap: list[tuple[float, int]] = []
        self._fired: set[int] = set()
        self._thread: threading.Thread | None = None

    def arm(self, dbapi_connection: object) -> None:
        """A call starts on ``dbapi_connection``: it must end within the timeout."""
        deadline = time.monotonic() + self.timeout
        key = id(dbapi_connection)
        with self._lock:
            self._armed[key] = (deadline, dbapi_connection, threading.get_ident())
            heapq.heappush(self._heap, (deadline, key))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="modelregistry-deadline", daemon=True
                )
                self._thread.start()
            elif len(self._heap) == 1:
                self._wake.notify()

    def disarm(self, dbapi_connection: object) -> None:
        """The call on ``dbapi_connection`` ended (or the connection went back to the pool)."""
        with self._lock:
            self._armed.pop(id(dbapi_connection), None)

    def fired(self) -> bool:
        """Whether a deadline ended a call of this thread since last asked (and forget it)."""
        ident = threading.get_ident()
        with self._lock:
            if ident in self._fired:
                self._fired.discard(ident)
                return True
            return False

    def after_fork(self) -> None:
        """In a forked child: no thread, nothing armed (the parent's calls are not ours)."""
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._armed, self._heap, self._fired, self._thread = {}, [], set(), None

    def _run(self) -> None:
        with self._lock:
            while True:
                now = time.monotonic()
                while self._heap and (
                    self._heap[0][1] not in self._armed
                    or self._armed[self._heap[0][1]][0] != self._heap[0][0]
                ):
                    heapq.heappop(self._heap)  # disarmed, or re-armed later
                if not self._heap:
                    self._wake.wait(timeout=5.0)
                    if not self._heap:
                        self._thread = None
                        return
                    continue
                deadline, key = self._heap[0]
                if deadline > now:
                    self._wake.wait(timeout=deadline - now)
                    continue
                heapq.heappop(self._heap)
                _, connection, ident = self._armed.pop(key)
                self._fired.add(ident)
                _shut_down(connection)


def _shut_down(dbapi_connection: object) -> None:
    """Shut the connection's socket down (its fd stays open: the driver closes it)."""
    driver = getattr(dbapi_connection, "driver_connection", dbapi_connection)
    try:
        fileno = int(driver.pgconn.socket)  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - already closed: nothing is waiting on it
        return
    with contextlib.suppress(OSError):
        # A duplicate of the descriptor: shutting it down shuts the shared socket down.
        duplicate = socket.socket(fileno=socket.dup(fileno))
        try:
            duplicate.shutdown(socket.SHUT_RDWR)
        finally:
            duplicate.close()
    logger.warning("modelregistry: a database call outlived its deadline; connection dropped")


def install(engine: Engine, timeout: float) -> Watchdog:
    """Give ``engine`` a watchdog bounding each of its calls to ``timeout`` seconds."""
    watchdog = Watchdog(timeout)
    _WATCHDOGS[engine] = watchdog

    def arm(connection: Connection, *_args: object) -> None:
        if not connection.invalidated:  # (asking an invalidated one reconnects)
            watchdog.arm(connection.connection.dbapi_connection)

    def disarm(connection: Connection, *_args: object) -> None:
        if not connection.invalidated:
            watchdog.disarm(connection.connection.dbapi_connection)

    event.listen(engine, "before_cursor_execute", arm)
    event.listen(engine, "after_cursor_execute", disarm)
    # Commits and rollbacks have no "after" event: the connection's return to the pool (or
    # its invalidation) disarms them.
    event.listen(engine, "commit", arm)
    event.listen(engine, "rollback", arm)

    def returned(dbapi_connection: object, *_args: object) -> None:
        watchdog.disarm(dbapi_connection)

    event.listen(engine, "checkin", returned)
    event.listen(engine, "invalidate", returned)
    return watchdog


def watchdog_of(engine: Engine) -> Watchdog | None:
    """The watchdog of ``engine`` (None: SQLite, or made elsewhere)."""
    return _WATCHDOGS.get(engine)


@contextlib.contextmanager
def armed(connection: Connection) -> Iterator[None]:
    """Bound a call the cursor events do not see (COPY) by the engine's watchdog."""
    watchdog = watchdog_of(connection.engine)
    if watchdog is None:
        yield
        return
    dbapi_connection = connection.connection.dbapi_connection
    watchdog.arm(dbapi_connection)
    try:
        yield
    finally:
        watchdog.disarm(dbapi_connection)


def deadline_fired(engine: Engine) -> bool:
    """Whether ``engine``'s watchdog ended a call of this thread (and forget it)."""
    watchdog = watchdog_of(engine)
    return watchdog is not None and watchdog.fired()
