"""The metrics server (``metrics serve``, the same server as ``serve``) under half-sent requests.

1,000 connections that send half a request head and then nothing: the server holds no thread
per connection, still answers at once (503 past its connection limit, never a hang), closes
each of them once the head deadline passes, and serves normally afterwards. A 404 body
escapes the control characters of the path it names.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from modelregistry import ModelRegistry
from served import DEADLINE, Served, wait_for

pytestmark = [pytest.mark.reliability, pytest.mark.slow]

HALF_SENT = 1000
HEAD_TIMEOUT = 10.0  # modelregistry.server.run.HEAD_TIMEOUT


def threads_of(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    pytest.fail("no thread count in /proc")


def test_half_sent_requests_neither_make_threads_nor_hang_the_server(
    database_url: str,
) -> None:
    ModelRegistry(database_url).close()
    served = Served(database_url, "metrics", "serve")
    try:
        port = int(served.base.rsplit(":", 1)[1])
        before = threads_of(served.process.pid)
        stuck: list[socket.socket] = []
        try:
            for _ in range(HALF_SENT):
                connection = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)
                connection.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")  # never finished
                stuck.append(connection)
            opened = time.monotonic()
            # No thread per connection (the wsgiref server made 1,002).
            assert threads_of(served.process.pid) <= before + 5
            # It answers at once, whatever the flood: 503 past the limit, never a hang.
            status, _, _ = served.get("/healthz", timeout=DEADLINE)
            assert status in {200, 503}
            # Every half-sent connection is closed by the server once its deadline passes.
            for connection in stuck:
                connection.settimeout(max(1.0, DEADLINE - (time.monotonic() - opened)))
                assert connection.recv(1) == b""
            assert time.monotonic() - opened < HEAD_TIMEOUT + DEADLINE
        finally:
            for connection in stuck:
                connection.close()
        wait_for(lambda: served.get("/healthz")[0] == 200, "the server to serve normally again")
        assert served.get("/metrics")[0] == 200
    finally:
        served.close()


def test_a_404_body_escapes_control_characters(database_url: str) -> None:
    ModelRegistry(database_url).close()
    served = Served(database_url, "metrics", "serve")
    try:
        status, headers, body = served.get("/%1b[2J%0d%0aSet-Cookie:x")
        assert status == 404
        assert headers["content-type"] == "application/json"
        assert b"\x1b" not in body
        assert b"\r" not in body
        assert b"\n" not in body
        assert b"E4050" in body
    finally:
        served.close()
