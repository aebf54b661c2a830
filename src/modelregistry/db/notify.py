"""Change notifications between processes: PostgreSQL ``NOTIFY`` at commit, ``LISTEN`` to hear it.

A writer announces each committed change on :data:`CHANGES_CHANNEL` with its schema as the
payload (delivered only if its transaction commits); the change feed of every other process
listens on a connection of its own and refreshes its cache when its own schema is named.
SQLite has no notifications: there, other processes poll.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Final, cast

import sqlalchemy as sa

from modelregistry.db.engine import connect_arguments, safe_url
from modelregistry.errors import DatabaseUnavailableError

if TYPE_CHECKING:
    import psycopg
    from sqlalchemy.engine import Connection, Engine

logger = logging.getLogger(__name__)

CHANGES_CHANNEL: Final = "modelregistry_changes"
"""PostgreSQL NOTIFY channel on which writers announce new catalog revisions."""


def announce(session: Connection) -> None:
    """Tell listening processes, at commit, that the catalog changed (SQLite: nothing).

    The payload names the schema: listeners of other catalogs in the same database (other
    schemas) ignore it.
    """
    if session.dialect.name != "sqlite":
        session.execute(sa.select(announcement()))


def notifier(connection: Connection) -> int | None:
    """The server process whose notifications the transaction of ``connection`` sends.

    A listener is told it with each notification: a process that knows its own change is in
    its cache can tell its own notification from another writer's. None on SQLite.
    """
    if connection.dialect.name == "sqlite":
        return None
    driver = connection.connection.driver_connection
    return int(driver.info.backend_pid)  # type: ignore[union-attr]


def announcement() -> sa.ColumnElement[Any]:
    """The ``pg_notify`` call that :func:`announce` runs (PostgreSQL), to put in a statement."""
    return sa.func.pg_notify(CHANGES_CHANNEL, sa.func.current_schema())


class Listener:
    """A PostgreSQL connection of its own, listening on :data:`CHANGES_CHANNEL`.

    Args:
        engine: The catalog's engine (its URL and driver settings are reused).

    Raises:
        DatabaseUnavailableError: E4020, the server cannot be reached.
    """

    def __init__(self, engine: Engine) -> None:
        """Connect and LISTEN (autocommit), and learn which schema is ours."""
        dialect = engine.dialect
        self._database = safe_url(engine.url)
        args, kwargs = connect_arguments(engine)  # with the keepalives and timeouts
        try:
            connection = cast("psycopg.Connection[Any]", dialect.connect(*args, **kwargs))
        except Exception as exc:
            raise self._unavailable(exc) from exc
        try:
            connection.autocommit = True
            connection.execute(f"LISTEN {CHANGES_CHANNEL}")
            row = connection.execute("SELECT current_schema()").fetchone()
        except Exception as exc:
            connection.close()
            raise self._unavailable(exc) from exc
        self._connection = connection
        self.schema = str(row[0]) if row else ""
        """The schema whose changes concern this listener."""

    def fileno(self) -> int:
        """The connection's socket, to wait on with ``select``."""
        return self._connection.fileno()

    def heard(self) -> list[int]:
        """Read the notifications that arrived; the notifying backends of those naming our schema.

        Empty: none named it. A backend's process id comes once per notification (see
        :func:`notifier`).

        Raises:
            DatabaseUnavailableError: E4020, the connection broke (drop it and listen again).
        """
        try:
            notes = list(self._connection.notifies(timeout=0))
        except Exception as exc:
            raise self._unavailable(exc) from exc
        return [note.pid for note in notes if note.payload == self.schema]

    def _unavailable(self, exc: Exception) -> DatabaseUnavailableError:
        # The driver's own exception, raised outside SQLAlchemy: ours names the code (E4020),
        # as the cache's state and /healthz report it.
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return DatabaseUnavailableError(
            f"database unavailable ({self._database}): LISTEN failed: {detail}",
            database=self._database,
        )

    def close(self) -> None:
        """Close the connection (a broken one too)."""
        try:
            self._connection.close()
        except Exception:  # noqa: BLE001 - already broken
            logger.debug("modelregistry: closing the LISTEN connection failed")
