"""SQLAlchemy's asyncio bridge: synchronous database code run over an asyncio engine.

:class:`~modelregistry.AsyncModelRegistry` runs ModelRegistry's own code through
:func:`in_bridge` (``greenlet_spawn``, on which ``AsyncSession.run_sync`` is built): each
statement goes through the asyncio driver (psycopg 3's async connection, aiosqlite) and the
event loop never waits on the database.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.util import greenlet_spawn
from sqlalchemy.util.concurrency import await_only, in_greenlet

from modelregistry.db.engine import make_async_engine

if TYPE_CHECKING:
    from collections.abc import Callable
    from concurrent.futures import Future

    from sqlalchemy.engine import Engine

T = TypeVar("T")


def blocking(function: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:  # noqa: ANN401 - the function's own arguments
    """Call blocking ``function`` (network I/O); inside the bridge, in a thread.

    Code run :func:`in_bridge` runs on the event loop: a blocking call there (an HTTP request
    of a sync) would stop the loop, so it waits on a worker thread instead.
    """
    if not in_greenlet():
        return function(*args, **kwargs)
    import asyncio  # noqa: PLC0415 - only inside the bridge

    result: T = await_only(asyncio.to_thread(function, *args, **kwargs))
    return result


def wait_for_future(future: Future[T], timeout: float) -> T:
    """Wait at most ``timeout`` seconds for ``future``, completed by another thread.

    Inside the bridge (on the event loop) it is awaited, so the loop goes on running other
    tasks meanwhile; elsewhere the thread waits. On a timeout the future is cancelled.

    Raises:
        TimeoutError: not done in time.
        Exception: whatever the future raised.
    """
    if not in_greenlet():
        try:
            return future.result(timeout)
        except TimeoutError:
            future.cancel()
            raise
    import asyncio  # noqa: PLC0415 - only inside the bridge

    async def awaited() -> T:
        # (wait_for cancels the wrapper on a timeout, and the wrapper cancels ``future``.)
        return await asyncio.wait_for(asyncio.wrap_future(future), timeout)

    result: T = await_only(awaited())
    return result


async def in_bridge(function: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:  # noqa: ANN401 - the function's own arguments
    """Run ``function`` (synchronous database code) in the bridge, on the event loop."""
    result: T = await greenlet_spawn(function, *args, **kwargs)
    return result


class BridgedEngine:
    """An asyncio engine, and the synchronous facade that code run :func:`in_bridge` uses.

    Args:
        url: The database URL (the same URL opens a ModelRegistry).

    Raises:
        sqlalchemy.exc.ArgumentError: ``url`` is not a database URL.
        ImportError: the asyncio driver (or greenlet) is not installed.
    """

    def __init__(self, url: str) -> None:
        """Create the engine; nothing is connected."""
        self._engine = make_async_engine(url)

    @property
    def sync_engine(self) -> Engine:
        """The synchronous facade: usable only inside :func:`in_bridge`."""
        return self._engine.sync_engine

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self._engine.dispose()
