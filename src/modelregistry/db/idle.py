"""Letting pooled connections go when a process stops using them.

A reader of the JetStream feed touches the database only to load its snapshot and when the
stream cannot give it a change; a writer writes in bursts. Both keep SQLAlchemy's pool (a
connection costs ~10 ms to open), but :func:`release_when_idle` closes every pooled
connection once none has been checked out for :data:`IDLE_SECONDS`: an idle process holds
none (``pg_stat_activity`` shows it).
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Final

from sqlalchemy import event

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

IDLE_SECONDS: Final = 1.0
"""How long a pooled connection may sit unused before it is closed."""


class _IdleRelease:
    def __init__(self, engine: Engine, idle_seconds: float) -> None:
        self._engine = engine
        self._idle = idle_seconds
        self._lock = threading.Lock()
        self._out = 0
        self._last = time.monotonic()
        self._thread: threading.Thread | None = None
        event.listen(engine, "checkout", self._checkout)
        event.listen(engine, "checkin", self._checkin)

    def _checkout(self, *_: object) -> None:
        with self._lock:
            self._out += 1

    def _checkin(self, *_: object) -> None:
        with self._lock:
            self._out = max(0, self._out - 1)
            self._last = time.monotonic()
            if self._thread is None or not self._thread.is_alive():  # first use, or forked
                self._thread = threading.Thread(
                    target=self._watch, name="modelregistry-idle", daemon=True
                )
                self._thread.start()

    def _watch(self) -> None:
        """Until the pool is let go: the thread ends with it, and the next checkin starts one."""
        while True:
            time.sleep(self._idle / 2)
            with self._lock:
                if self._out or time.monotonic() - self._last < self._idle:
                    continue
                self._held = False
                self._thread = None
            # Closes the connections checked in; one checked out meanwhile is closed when it
            # comes back (the old pool is gone).
            self._engine.dispose(close=True)
            return


def release_when_idle(engine: Engine, idle_seconds: float = IDLE_SECONDS) -> None:
    """Close ``engine``'s pooled connections after ``idle_seconds`` without a checkout."""
    _IdleRelease(engine, idle_seconds)
