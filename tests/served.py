"""A real ``modelregistry serve`` (or ``metrics serve``) process on a free port, for tests."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Callable

CONSOLE_SCRIPT = Path(sys.executable).parent / "modelregistry"
DEADLINE = 60.0  # generous: the machine is shared; only a broken server takes this long


class Served:
    """A running server process: its base URL, its output, and a way to stop it."""

    def __init__(
        self,
        url: str,
        *args: str,
        env: dict[str, str] | None = None,
        ignore_sigint: bool = False,
        ready_headers: dict[str, str] | None = None,
        wait_ready: bool = True,
    ) -> None:
        command = [str(CONSOLE_SCRIPT), "--db", url, *(args or ("serve",)), "--port", "0"]
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
            preexec_fn=(lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))  # noqa: PLW1509 - a signal disposition only
            if ignore_sigint
            else None,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        self.readers = [
            threading.Thread(target=self._read, args=(stream,), daemon=True)
            for stream in (self.process.stdout, self.process.stderr)
        ]
        for reader in self.readers:
            reader.start()
        first = self.next_line()
        while first.startswith("modelregistry serve: cannot open the catalog yet"):
            first = self.next_line()
        assert first.startswith("serving http://127.0.0.1:"), first
        address = first.split()[1]
        self.base = address[: address.index("/", len("http://"))]
        if wait_ready:
            self.wait_ready(ready_headers or {})

    def _read(self, stream: IO[str] | None) -> None:
        assert stream is not None
        with stream:
            for line in stream:
                self.output.append(line)
                self.lines.put(line.rstrip("\n"))

    def next_line(self) -> str:
        try:
            return self.lines.get(timeout=DEADLINE)
        except queue.Empty:
            self.process.kill()
            pytest.fail(f"the server said nothing: {''.join(self.output)}")

    def wait_ready(self, headers: dict[str, str]) -> None:
        wait_for(lambda: self.get("/readyz", headers)[0] == 200, "the server to be ready")

    def get(
        self, path: str, headers: dict[str, str] | None = None, timeout: float = DEADLINE
    ) -> tuple[int, dict[str, str], bytes]:
        request = urllib.request.Request(self.base + path, headers=headers or {})  # noqa: S310 - our own http URL
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 - ditto
                return answer.status, dict(answer.headers), answer.read()
        except urllib.error.HTTPError as refused:
            return refused.code, dict(refused.headers), refused.read()

    def json(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        status, _, body = self.get(path, headers)
        return status, json.loads(body) if body else None

    def stop(self, number: int = signal.SIGTERM) -> int:
        self.process.send_signal(number)
        try:
            code = self.process.wait(timeout=DEADLINE)
        except subprocess.TimeoutExpired:
            self.close()
            pytest.fail(f"the server did not stop on signal {number}: {''.join(self.output)}")
        self.close()
        return code

    def close(self) -> None:
        """Kill the process if it still runs, and read its output to the end."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=DEADLINE)
        for reader in self.readers:
            reader.join(timeout=DEADLINE)


def wait_for(predicate: Callable[[], bool], what: str, deadline: float = DEADLINE) -> None:
    limit = time.monotonic() + deadline
    while not predicate():
        if time.monotonic() > limit:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def write_elsewhere(url: str, code: str) -> None:
    """Run ``code`` with ``registry`` open on ``url`` in another process."""
    program = f"from modelregistry import ModelRegistry\nwith ModelRegistry({url!r}) as registry:\n"
    program += "".join(f"    {line}\n" for line in code.splitlines())
    subprocess.run([sys.executable, "-c", program], check=True, timeout=DEADLINE)
