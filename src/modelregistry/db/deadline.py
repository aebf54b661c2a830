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
import logging
import socket
import threading
import time
import weakref
from typing import TYPE_CHECKING

from sqlalchemy import event

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sqlalchemy.engine import Connection, Dialect, Engine

logger = logging.getLogger(__name__)

_WATCHDOGS: weakref.WeakKeyDictionary[Dialect, Watchdog] = weakref.WeakKeyDictionary()
"""By the engine's dialect: an engine made by ``execution_options`` (the writer, the readers)
shares its parent's dialect (and its events), but is another object; disposing an engine keeps
its dialect."""
_IDLE_EXIT = 5.0
"""Seconds with no call running after which the watchdog's thread ends."""


class Watchdog:
    """Shuts down the socket of any call on ``engine`` that outlives ``timeout`` seconds.

    Args:
        timeout: Seconds a single call (statement, commit, rollback, COPY) may take.
    """

    def __init__(self, timeout: float) -> None:
        """Nothing runs until the first call is armed."""
        self.timeout = timeout
        # The thread looks this often (a deadline is kept to within a tick).
        self._tick = min(0.25, timeout / 4)
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        # id(dbapi connection) -> (deadline, dbapi connection, ident of the calling thread):
        # the calls running now, at most one per pooled connection.
        self._armed: dict[int, tuple[float, object, int]] = {}
        self._fired: set[int] = set()
        self._thread: threading.Thread | None = None

    def arm(self, dbapi_connection: object) -> None:
        """A call starts on ``dbapi_connection``: it must end within the timeout."""
        deadline = time.monotonic() + self.timeout
        with self._lock:
            self._armed[id(dbapi_connection)] = (
                deadline,
                dbapi_connection,
                threading.get_ident(),
            )
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="modelregistry-deadline", daemon=True
                )
                self._thread.start()

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
        self._armed, self._fired, self._thread = {}, set(), None

    def _run(self) -> None:
        idle_since: float | None = None
        with self._lock:
            while True:
                now = time.monotonic()
                for key in [k for k, (deadline, _, _) in self._armed.items() if deadline <= now]:
                    _, connection, ident = self._armed.pop(key)
                    self._fired.add(ident)
                    _shut_down(connection)
                if self._armed:
                    idle_since = None
                elif idle_since is None:
                    idle_since = now
                elif now - idle_since > _IDLE_EXIT:
                    self._thread = None  # the next call starts another
                    return
                self._wake.wait(self._tick)


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
    _WATCHDOGS[engine.dialect] = watchdog

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
    """The watchdog of ``engine`` (None: SQLite, or made elsewhere).

    An engine derived with ``execution_options`` (the writer, the readers) has its parent's.
    """
    return _WATCHDOGS.get(engine.dialect)


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
