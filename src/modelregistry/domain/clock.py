"""The one clock for "now": this machine's, never behind the newest change this process saw.

On PostgreSQL a change is dated by the server's clock, and "now" for a read by this
machine's. Were this machine's clock behind the server's, a price registered a moment ago
would not be in effect yet for its own writer (E4006, or an old price, until the clocks
meet). So every read of the present asks :func:`now`, which is the wall clock, or the time of
the newest change this process has written or its cache has taken in (:func:`saw`), whichever
is later. Process-wide, for every registry in it. ``_wall`` is the one thing tests may fake.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

_wall = time.time
_floor = 0.0
_lock = threading.Lock()


def timestamp() -> float:
    """Now, as a POSIX timestamp (never before the newest change seen)."""
    wall = _wall()
    return max(wall, _floor)


def now() -> datetime:
    """Now, in UTC (never before the newest change seen)."""
    return datetime.fromtimestamp(timestamp(), UTC)


def saw(changed_at: datetime) -> None:
    """A change dated ``changed_at`` was written, or taken in by a cache: never read before it."""
    global _floor  # noqa: PLW0603 - the process's one floor
    instant = changed_at.timestamp()
    if instant > _floor:
        with _lock:
            _floor = max(_floor, instant)
