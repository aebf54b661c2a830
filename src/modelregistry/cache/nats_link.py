"""A NATS connection for synchronous code: an asyncio loop on a daemon thread of its own.

nats-py is asyncio; a :class:`~modelregistry.ModelRegistry` is not. A :class:`NatsLink` runs
the client's loop on a thread, connects (and reconnects) in the background, and lets other
threads run coroutines on it with a bounded wait. It also makes sure the catalog's stream
exists (file storage, a two-minute duplicate window).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from typing import TYPE_CHECKING, Any, Final, TypeVar

from modelregistry.db.bridge import wait_for_future
from modelregistry.errors import FeedConfigurationError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Coroutine

    from nats.aio.client import Client
    from nats.js import JetStreamContext

    from modelregistry.cache.wire import FeedAddress

logger = logging.getLogger(__name__)
T = TypeVar("T")

DUPLICATE_WINDOW_SECONDS: Final = 120.0
"""How long JetStream remembers a message id to drop its duplicates."""
MAX_AGE_SECONDS: Final = 24 * 3600.0
"""How long the stream keeps a message (readers further behind reload from the database)."""
_RETRY_SECONDS: Final = 0.5


def require_nats() -> None:
    """Check that nats-py is installed.

    Raises:
        FeedConfigurationError: E4060, the ``nats`` extra is not installed.
    """
    try:
        import nats  # noqa: F401, PLC0415 - only checking that it is there
    except ImportError as exc:
        msg = "the change feed needs nats-py: pip install 'modelregistry[nats]'"
        raise FeedConfigurationError(msg, field="feed") from exc


class NatsLink:
    """A NATS connection kept open from a daemon thread.

    Args:
        address: The servers and the stream.
        on_connected: Awaited on the loop after each (re)connection, with the JetStream
            context (the stream exists by then).
        on_disconnected: Called on the loop when the connection is lost.
    """

    def __init__(
        self,
        address: FeedAddress,
        *,
        on_connected: Callable[[JetStreamContext], Awaitable[object]] | None = None,
        on_disconnected: Callable[[], object] | None = None,
    ) -> None:
        """Start the loop's thread and begin connecting."""
        require_nats()
        self.address = address
        self._on_connected = on_connected
        self._on_disconnected = on_disconnected
        self.client: Client | None = None
        self.js: JetStreamContext | None = None
        self.connected = threading.Event()
        """Set while the connection is up and the stream exists."""
        self.ever_connected = False
        """Whether it has been connected once (a new process waits for the first time)."""
        self._closing = False
        self._setting_up: asyncio.Task[None] | None = None
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="modelregistry-nats", daemon=True)
        self._thread.start()
        self._connecting = asyncio.run_coroutine_threadsafe(self._connect(), self.loop)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    async def _connect(self) -> None:
        import nats  # noqa: PLC0415 - the optional extra, checked in __init__

        while not self._closing:
            try:
                self.client = await nats.connect(
                    servers=list(self.address.servers),
                    name="modelregistry",
                    connect_timeout=2,
                    reconnect_time_wait=0.25,
                    max_reconnect_attempts=-1,
                    allow_reconnect=True,
                    disconnected_cb=self._disconnected,
                    reconnected_cb=self._reconnected,
                    error_cb=self._error,
                )
            except Exception as exc:  # noqa: BLE001 - not up yet: try again
                logger.debug("modelregistry feed: connecting to NATS failed: %s", exc)
                await asyncio.sleep(_RETRY_SECONDS)
                continue
            self.js = self.client.jetstream()
            await self._ready()
            return

    async def _ready(self) -> None:
        """The stream exists and whoever asked is told (retried until both are done)."""
        while not self._closing and self.client is not None and self.client.is_connected:
            try:
                await ensure_stream(self.js_context(), self.address)
                if self._on_connected is not None:
                    await self._on_connected(self.js_context())
            except Exception as exc:  # noqa: BLE001 - the server is going away; retry
                logger.debug("modelregistry feed: setting up the stream failed: %s", exc)
                await asyncio.sleep(_RETRY_SECONDS)
                continue
            self.ever_connected = True
            self.connected.set()
            return

    def js_context(self) -> JetStreamContext:
        """The JetStream context (only once connected).

        Raises:
            ConnectionError: not connected yet.
        """
        if self.js is None:
            msg = "NATS is not connected"
            raise ConnectionError(msg)
        return self.js

    async def _disconnected(self) -> None:
        self.connected.clear()
        if self._on_disconnected is not None:
            self._on_disconnected()

    async def _reconnected(self) -> None:
        # Not inline: the client awaits this callback inside its reconnecting task.
        self._setting_up = asyncio.get_running_loop().create_task(self._ready())

    async def _error(self, exc: Exception) -> None:
        logger.debug("modelregistry feed: NATS: %s", exc)

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float) -> T:
        """Run ``coroutine`` on the loop; wait at most ``timeout`` seconds.

        Called from AsyncModelRegistry's bridge (an async write's publish), the wait is
        awaited: the caller's event loop runs on meanwhile.

        Raises:
            TimeoutError: it did not finish in time (it is cancelled).
            Exception: whatever the coroutine raised.
        """
        return wait_for_future(asyncio.run_coroutine_threadsafe(coroutine, self.loop), timeout)

    def close(self) -> None:
        """Close the connection and stop the thread (again: nothing)."""
        if self._closing:
            return
        self._closing = True
        self.connected.clear()

        async def shut() -> None:
            # Not cancelled mid-handshake (its socket would leak): it ends at ``_closing``.
            connecting = asyncio.wrap_future(self._connecting)
            with contextlib.suppress(Exception):
                await asyncio.wait({connecting}, timeout=3)
            if self.client is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self.client.close(), 2)
            others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in others:
                task.cancel()
            await asyncio.gather(*others, return_exceptions=True)

        with contextlib.suppress(Exception):
            self.run(shut(), timeout=5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)
        if not self._thread.is_alive():
            self.loop.close()

    def abandon(self) -> None:
        """In a forked child: forget the parent's loop and socket, untouched."""
        self._closing = True
        self.connected.clear()


async def ensure_stream(js: JetStreamContext, address: FeedAddress) -> None:
    """Create the catalog's stream unless it exists (several processes may race: all fine)."""
    from nats.js.api import StorageType, StreamConfig  # noqa: PLC0415 - the optional extra
    from nats.js.errors import NotFoundError  # noqa: PLC0415 - the optional extra

    try:
        await js.stream_info(address.stream)
    except NotFoundError:
        config = StreamConfig(
            name=address.stream,
            subjects=[address.subject],
            storage=StorageType.FILE,
            duplicate_window=DUPLICATE_WINDOW_SECONDS,
            max_age=MAX_AGE_SECONDS,
        )
        with contextlib.suppress(Exception):  # another process made it first
            await js.add_stream(config)
        await js.stream_info(address.stream)
