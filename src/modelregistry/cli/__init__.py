"""The ``modelregistry`` command line: parse, call the registry, print (a table or ``--json``).

Rule: thin; catalog work goes through :class:`~modelregistry.ModelRegistry` (the ``db``
commands and ``info`` through :mod:`modelregistry.db.migrate`), never the operations or the cache.

Errors print one line on stderr (``error: E4001: model not found: 'x'``) and exit 1; usage
errors exit 2 (one ``error:`` line too). Values are printed as they are stored: never read as
markup or emoji codes.

Start-up: the command modules import only typer, rich and :mod:`modelregistry.cli.common` at
the top; SQLAlchemy, pydantic and Alembic are imported inside the commands that run, so
``--help`` never loads them, and ``--version`` is answered before typer is imported.
"""

from __future__ import annotations

import gc
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import typer

    from modelregistry.cli.common import app as app

__all__ = ["app", "main"]


def __getattr__(name: str) -> object:
    """``app``: the Typer application, with every command module registered (on first use)."""
    if name != "app":
        msg = f"module 'modelregistry.cli' has no attribute {name!r}"
        raise AttributeError(msg)
    return _application()


def _application() -> typer.Typer:
    from modelregistry.cli.common import app, register  # noqa: PLC0415 - see the docstring

    register()
    return app


def main() -> None:
    """Run the ``modelregistry`` command line."""
    if sys.argv[1:] == ["--version"]:
        from modelregistry import __version__  # noqa: PLC0415 - the package's __init__ is light

        sys.stdout.write(f"modelregistry {__version__}\n")
        return
    from modelregistry.cli.common import run  # noqa: PLC0415 - see the docstring

    try:
        run(_application())
    finally:
        _before_the_process_ends()


def _before_the_process_ends() -> None:
    """Let the interpreter's shutdown skip walking every object the command built.

    The process ends when :func:`main` returns. ``gc.freeze()`` moves every tracked object
    to the collector's permanent generation, so the shutdown's collections no longer walk
    (and free, cycle by cycle) the object graphs of SQLAlchemy, pydantic, Alembic and the
    catalog just read: the memory goes back to the system whole. That was a tenth of an
    import's CPU time and more of a short command's. Nothing is left open by it: a command
    closes its registry before returning, atexit handlers still run and the interpreter
    still flushes the standard streams.
    """
    gc.freeze()
