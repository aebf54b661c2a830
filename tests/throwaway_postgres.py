"""A throwaway PostgreSQL server for tests that stop and restart the database.

Never the shared server: ``initdb`` into a temporary directory, a free port on 127.0.0.1,
stopped and removed afterwards. As root (CI), the server runs as the ``postgres`` user.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator


def _binaries() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class ThrowawayPostgres:
    """A private PostgreSQL server: ``url``, and ``stop()``/``start()`` to cut it off."""

    bin_dir: Path
    data_dir: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres?connect_timeout=5"

    def run(self, *args: str) -> None:
        """Run one of the server's programs (as ``postgres`` when we are root)."""
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        self.run(
            "pg_ctl", "-D", str(self.data_dir), "-w", "-t", "60", "-l",
            str(self.data_dir / "server.log"), "-o",
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data_dir} -c fsync=off",
            "start",
        )  # fmt: skip

    def stop(self) -> None:
        self.run("pg_ctl", "-D", str(self.data_dir), "-w", "-t", "60", "-m", "fast", "stop")


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[ThrowawayPostgres | None]:
    """Yield a running private server, or None when no PostgreSQL binaries are installed."""
    bin_dir = _binaries()
    if bin_dir is None:
        yield None
        return
    root = Path(tempfile.mkdtemp(prefix="mr-pg-"))
    data_dir = root / "data"
    data_dir.mkdir()
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        for path in (root, data_dir):
            os.chown(path, user.pw_uid, user.pw_gid)
    server = ThrowawayPostgres(bin_dir, data_dir, _free_port())
    try:
        server.run("initdb", "-D", str(data_dir), "-U", "postgres", "-A", "trust", "--no-sync")
        server.start()
        yield server
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            server.stop()
        shutil.rmtree(root, ignore_errors=True)
