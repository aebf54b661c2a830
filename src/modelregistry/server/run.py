"""Running the server: the socket, uvicorn's limits, a deadline for request heads, signals.

uvicorn is asyncio: a connection costs no thread. Its ``limit_concurrency`` answers 503 past
the connection limit and its keep-alive timeout closes idle connections between requests; a
client that opens a connection and never finishes sending its request head would still hold
it for ever, so each connection here gets :data:`HEAD_TIMEOUT` seconds for each request head
(:class:`GuardedProtocol`).

SIGINT and SIGTERM stop the server cleanly (exit 0), even when the process was started with
SIGINT ignored (as ``nohup`` and many supervisors do): the handlers are set, not inherited.
"""

from __future__ import annotations

import contextlib
import resource
import signal
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import uvicorn

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Callable, Iterator
    from types import FrameType

    from starlette.applications import Starlette

try:  # httptools (uvicorn[standard]) when installed: faster; h11 otherwise
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as _Base
except ImportError:  # pragma: no cover - depends on the installed extras
    from uvicorn.protocols.http.h11_impl import H11Protocol as _Base  # type: ignore[assignment]

HEAD_TIMEOUT: Final = 10.0
"""Seconds a connection has to send each request's head (line and headers)."""


@dataclass(frozen=True, slots=True)
class Limits:
    """How long and how much the server waits for clients.

    Attributes:
        head_timeout: Seconds for each request's head.
        keep_alive: Seconds an idle connection is kept open between requests.
        max_connections: Connections (and requests in progress) at once; past it, 503.
        shutdown_timeout: Seconds to let requests (event streams) finish when stopping.
    """

    head_timeout: float = HEAD_TIMEOUT
    keep_alive: int = 5
    max_connections: int = 1000
    shutdown_timeout: int = 3


class GuardedProtocol(_Base):
    """uvicorn's HTTP protocol with a deadline for each request head."""

    head_timeout: float = HEAD_TIMEOUT
    _deadline: asyncio.TimerHandle | None
    _waiting_for: object

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Start the connection and the deadline of its first request head."""
        super().connection_made(transport)
        self._arm()

    def _arm(self) -> None:
        self._waiting_for = self.cycle
        self._deadline = self.loop.call_later(self.head_timeout, self._expire)

    def _expire(self) -> None:
        if not self.transport.is_closing():
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        """Read; once a new request's head is whole, its deadline is off."""
        super().data_received(data)
        deadline = getattr(self, "_deadline", None)
        if deadline is not None and self.cycle is not self._waiting_for:
            deadline.cancel()
            self._deadline = None

    def on_response_complete(self) -> None:
        """A response went out: the next request head has a deadline of its own."""
        super().on_response_complete()
        if not self.transport.is_closing():
            deadline = getattr(self, "_deadline", None)
            if deadline is not None:
                deadline.cancel()
            self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        """Drop the deadline with the connection."""
        deadline = getattr(self, "_deadline", None)
        if deadline is not None:
            deadline.cancel()
        super().connection_lost(exc)


def listen(host: str, port: int) -> socket.socket:
    """A socket listening on ``host`` and ``port`` (0: any free port).

    Raises:
        OSError: the address is taken, or not one of this machine's.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def _raise_file_limit() -> None:
    """Let the process hold as many connections as the hard limit allows."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class _Server(uvicorn.Server):
    """uvicorn's server without its own signal handling (:func:`serve` sets the handlers)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def serve(
    app: Starlette,
    sock: socket.socket,
    limits: Limits,
    *,
    on_stop: Callable[[], None] = lambda: None,
    on_ready: Callable[[], None] = lambda: None,
) -> None:
    """Serve ``app`` on ``sock`` until SIGINT or SIGTERM; ``on_stop`` runs when one arrives.

    ``on_ready`` runs once the handlers are set: a signal sent after it (a supervisor that
    waits for the "serving" line) always stops the server, even one started with SIGINT
    ignored.
    """
    _raise_file_limit()
    GuardedProtocol.head_timeout = limits.head_timeout
    config = uvicorn.Config(
        app,
        http=GuardedProtocol,
        lifespan="off",
        log_level="warning",
        access_log=False,
        timeout_keep_alive=limits.keep_alive,
        limit_concurrency=limits.max_connections,
        timeout_graceful_shutdown=limits.shutdown_timeout,
        server_header=False,
    )
    server = _Server(config)

    def stop(_number: int, _frame: FrameType | None) -> None:
        on_stop()
        server.should_exit = True

    previous: dict[int, Any] = {
        number: signal.signal(number, stop) for number in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        on_ready()
        server.run(sockets=[sock])
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
