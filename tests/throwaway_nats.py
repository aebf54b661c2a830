"""NATS JetStream for the change feed's tests: the shared server, or a throwaway one.

The shared server (127.0.0.1:4222) is never stopped: a test that restarts NATS runs its own
``nats-server`` on a free port with its own store directory (``-sd``), stopped afterwards.
Every test uses a stream of its own (a unique name), deleted when it ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

SHARED_NATS = "nats://127.0.0.1:4222"
NATS_SERVER = shutil.which("nats-server") or "/usr/sbin/nats-server"


def answers(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex((host, port)) == 0


def unique_stream() -> str:
    return f"mrtest_{uuid.uuid4().hex[:12]}"


def delete_stream(servers: str, stream: str) -> None:
    """Remove ``stream`` (nothing if the server or the stream is gone)."""

    async def delete() -> None:
        import nats  # noqa: PLC0415 - the nats extra, present with the test extra

        client = await nats.connect(servers, connect_timeout=2, max_reconnect_attempts=0)
        try:
            await client.jetstream().delete_stream(stream)
        finally:
            await client.close()

    with contextlib.suppress(Exception):
        asyncio.run(delete())


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class ThrowawayNats:
    """A private nats-server with JetStream: ``url``, ``start()``, ``stop()``, ``kill()``."""

    port: int
    store: Path
    process: subprocess.Popen[bytes] | None = field(default=None)

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [NATS_SERVER, "-a", "127.0.0.1", "-p", str(self.port), "-js", "-sd", str(self.store)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while not answers("127.0.0.1", self.port):
            if time.monotonic() > deadline or self.process.poll() is not None:
                msg = "the throwaway nats-server did not start"
                raise RuntimeError(msg)
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=30)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)


@contextlib.contextmanager
def throwaway_nats() -> Iterator[ThrowawayNats | None]:
    """A running private server, or None when nats-server is not installed."""
    if not Path(NATS_SERVER).exists():
        yield None
        return
    store = Path(tempfile.mkdtemp(prefix="mr-nats-"))
    server = ThrowawayNats(_free_port(), store)
    try:
        server.start()
        yield server
    finally:
        server.kill()
        shutil.rmtree(store, ignore_errors=True)
