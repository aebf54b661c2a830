"""The ``modelregistry`` command line: parse, call the registry, print (a table or ``--json``).

Rule: thin; catalog work goes through :class:`~modelregistry.ModelRegistry` (the ``db``
commands and ``info`` through :mod:`modelregistry.db.migrate`), never the operations or the cache.

Errors print one line on stderr (``error: E4001: model not found: 'x'``) and exit 1; usage
errors exit 2. Values are printed as they are stored: never read as markup or emoji codes.
"""

from __future__ import annotations

from modelregistry.cli import db, files, info, metrics, models, prices, relay, stats
from modelregistry.cli.common import app

__all__ = ["app", "main"]

# The command modules register their commands on the apps when imported.
_COMMANDS = (db, files, info, metrics, models, prices, relay, stats)


def main() -> None:
    """Run the ``modelregistry`` command line."""
    app()
