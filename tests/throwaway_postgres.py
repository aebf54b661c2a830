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
from urllib.parse import quote

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
    """A private PostgreSQL server: ``url``, and ``stop()``/``start()``/``kill()``.

    With a ``password``, TCP connections must give it (scram-sha-256) and ``url`` carries it.
    """

    bin_dir: Path
    data_dir: Path
    port: int
    password: str | None = None

    @property
    def url(self) -> str:
        user = "postgres" if self.password is None else f"postgres:{quote(self.password, safe='')}"
        return f"postgresql+psycopg://{user}@127.0.0.1:{self.port}/postgres?connect_timeout=5"

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

    def kill(self) -> None:
        """Stop at once, as a crash would: no checkpoint, recovery from the WAL at restart."""
        self.run("pg_ctl", "-D", str(self.data_dir), "-w", "-t", "60", "-m", "immediate", "stop")


@contextlib.contextmanager
def throwaway_postgres(password: str | None = None) -> Iterator[ThrowawayPostgres | None]:
    """Yield a running private server, or None when no PostgreSQL binaries are installed.

    With ``password``, the ``postgres`` role has it and TCP connections must give it.
    """
    bin_dir = _binaries()
    if bin_dir is None:
        yield None
        return
    root = Path(tempfile.mkdtemp(prefix="mr-pg-"))
    data_dir = root / "data"
    data_dir.mkdir()
    # As root, the server runs as postgres: it must own what it reads.
    owner = pwd.getpwnam("postgres") if os.geteuid() == 0 else None
    if owner is not None:
        for path in (root, data_dir):
            os.chown(path, owner.pw_uid, owner.pw_gid)
    server = ThrowawayPostgres(bin_dir, data_dir, _free_port(), password)
    auth = ["-A", "trust"]
    if password is not None:
        password_file = root / "password"
        password_file.write_text(password)
        if owner is not None:
            os.chown(password_file, owner.pw_uid, owner.pw_gid)
        auth = ["--auth-local=trust", "--auth-host=scram-sha-256", f"--pwfile={password_file}"]
    try:
        server.run("initdb", "-D", str(data_dir), "-U", "postgres", *auth, "--no-sync")
        server.start()
        yield server
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            server.stop()
        shutil.rmtree(root, ignore_errors=True)
