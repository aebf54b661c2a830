"""Run ``modelregistry`` as a user does: a real process, at a pseudo-terminal of N columns."""

from __future__ import annotations

import fcntl
import os
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

SCRIPT = Path(sys.executable).parent / "modelregistry"
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


def environment(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a user whose home (and data directories) is ``home``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("MODELREGISTRY_") and key not in {"COLUMNS", "LINES"}
    }
    env.update(
        HOME=str(home),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_CACHE_HOME=str(home / ".cache"),
        TERM="xterm-256color",
    )
    env.update(extra)
    return env


def run(
    *args: str, env: Mapping[str, str], stdin: str | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``modelregistry ARGS`` with pipes for stdin, stdout and stderr."""
    return subprocess.run(
        [str(SCRIPT), *args],
        env=dict(env),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_at_terminal(
    *args: str, env: Mapping[str, str], columns: int = 80, answer: bytes | None = None
) -> tuple[int, str]:
    """``modelregistry ARGS`` at a pseudo-terminal ``columns`` wide: (exit code, what it showed).

    Escape sequences are removed and line ends are ``\\n``. ``answer`` is typed once the
    command is running (a reply to a question).
    """
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    process = subprocess.Popen(
        [str(SCRIPT), *args], stdin=slave, stdout=slave, stderr=slave, env=dict(env)
    )
    os.close(slave)
    if answer is not None:
        os.write(master, answer)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: every end of the terminal is closed, the process is done
            break
        if not data:
            break
        chunks.append(data)
    code = process.wait(timeout=120)
    os.close(master)
    text = b"".join(chunks).decode("utf-8", errors="replace").replace("\r\n", "\n")
    return code, _ANSI.sub("", text)
