"""A TCP proxy in front of PostgreSQL that counts round trips: what a client waits for.

Every connection the client opens through :class:`RoundTripProxy` is forwarded to the real
server, byte for byte, by one thread. A *round trip* is a flight of client bytes sent after
the server said it was ready for the next query (its ``ReadyForQuery`` message, which ends
the answer to a simple query and to each ``Sync`` of the extended protocol), or the first
flight of a connection. A client that waits for each answer costs one per statement;
statements sent in one pipeline (psycopg's pipeline mode: no ``Sync`` until its end) cost
one, even when the driver flushes them in several writes. Counted on the wire, so it sees
what SQLAlchemy's events cannot (statements sent to the driver directly, psycopg's own
``BEGIN``), and nothing else. The proxy's URL disables TLS and GSS encryption, so that the
server's messages can be read.
"""

from __future__ import annotations

import selectors
import socket
import threading
from typing import TYPE_CHECKING, Self

from sqlalchemy.engine import make_url

if TYPE_CHECKING:
    from types import TracebackType


class _Link:
    """One proxied connection: its two sockets and what the server said since the client's
    last flight."""

    def __init__(self, client: socket.socket, server: socket.socket) -> None:
        self.client = client
        self.server = server
        self.trips = 0
        self.ready = True  # (the first flight counts)
        self.unparsed = b""

    def from_client(self, data: bytes) -> None:
        if self.ready:
            self.trips += 1
        self.ready = False
        self.server.sendall(data)

    def from_server(self, data: bytes) -> None:
        self.unparsed, said_ready = _messages(self.unparsed + data)
        self.ready = self.ready or said_ready
        self.client.sendall(data)


class RoundTripProxy:
    """Forward connections to the server of ``url``; count each connection's round trips.

    Use as a context manager; :attr:`url` is ``url`` pointed at the proxy.
    """

    def __init__(self, url: str) -> None:
        """Listen on a free port of 127.0.0.1 (nothing is forwarded until started)."""
        parsed = make_url(url)
        self._target = (parsed.host or "127.0.0.1", parsed.port or 5432)
        self._listener = socket.create_server(("127.0.0.1", 0))
        port = self._listener.getsockname()[1]
        proxied = parsed.set(host="127.0.0.1", port=port).update_query_dict(
            {"sslmode": "disable", "gssencmode": "disable"}
        )
        self.url = proxied.render_as_string(hide_password=False)
        self._lock = threading.Lock()
        self._links: list[_Link] = []
        self._stop = threading.Event()
        self._selector = selectors.DefaultSelector()
        self._thread = threading.Thread(target=self._run, name="round-trip-proxy", daemon=True)

    def __enter__(self) -> Self:
        """Start forwarding."""
        self._thread.start()
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        """Stop forwarding and close every socket."""
        self._stop.set()
        self._thread.join(timeout=30)
        self._listener.close()

    def round_trips(self) -> int:
        """Round trips of every connection so far."""
        with self._lock:
            return sum(link.trips for link in self._links)

    def _run(self) -> None:
        self._listener.setblocking(False)
        self._selector.register(self._listener, selectors.EVENT_READ, None)
        while not self._stop.is_set():
            for key, _ in self._selector.select(timeout=0.05):
                if key.data is None:
                    self._accept()
                else:
                    self._forward(key.fileobj, key.data)
        for link in self._links:
            link.client.close()
            link.server.close()
        self._selector.close()

    def _accept(self) -> None:
        client, _ = self._listener.accept()
        server = socket.create_connection(self._target)
        for side in (client, server):
            side.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        link = _Link(client, server)
        with self._lock:
            self._links.append(link)
        self._selector.register(client, selectors.EVENT_READ, link)
        self._selector.register(server, selectors.EVENT_READ, link)

    def _forward(self, source: object, link: _Link) -> None:
        assert isinstance(source, socket.socket)
        try:
            data = source.recv(65536)
        except OSError:
            data = b""
        if not data:  # one side closed: close both
            for side in (link.client, link.server):
                if side.fileno() >= 0:
                    self._selector.unregister(side)
                    side.close()
            return
        with self._lock:
            if source is link.client:
                link.from_client(data)
            else:
                link.from_server(data)


def _messages(data: bytes) -> tuple[bytes, bool]:
    """Split the server's ``data`` into whole messages: what is left, and whether one was
    ``ReadyForQuery`` (type ``Z``). Each message is a type byte and a 4-byte length."""
    said_ready = False
    start = 0
    while len(data) - start >= 5:
        length = int.from_bytes(data[start + 1 : start + 5], "big")
        if len(data) - start < 1 + length:
            break
        said_ready = said_ready or data[start : start + 1] == b"Z"
        start += 1 + length
    return data[start:], said_ready
