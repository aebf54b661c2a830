"""PostgreSQL: a write's ``BEGIN``, the catalog's write lock and its first read in one round trip.

A write transaction starts with three statements that need nothing from one another's
answers: psycopg's ``BEGIN``, the advisory lock (:func:`~modelregistry.db.engine.
lock_for_writes`) and the read that follows the lock (the clock and the newest revision).
:func:`lock_then_read` sends them together in psycopg's pipeline mode and waits once. The
server still runs them in order, each under its own snapshot (``READ COMMITTED``): the read
starts only once the lock is granted, so it sees every writer that committed while this one
waited, as it does when the three are sent one at a time. (One statement that took the lock
and read would not: its snapshot would be taken before the lock was granted.)

The statements go to the driver as SQLAlchemy compiles them, with their values inlined, so
SQLAlchemy's cursor events do not see them: the engine's deadline watchdog is armed by hand,
and a driver error is wrapped as SQLAlchemy would have (the connection invalidated if the
server dropped it) for the one translation in :mod:`modelregistry.db.errors`. On an asyncio
engine (:class:`~modelregistry.AsyncModelRegistry`), whose adapted connection has no
pipeline, the statements go one at a time through SQLAlchemy as before.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from modelregistry.db.deadline import armed
from modelregistry.db.engine import PG_WRITE_LOCK, lock_for_writes
from modelregistry.db.errors import driver_error

if TYPE_CHECKING:
    import sqlalchemy as sa
    from sqlalchemy import Connection, Dialect


def lock_then_read(connection: Connection, read: sa.Select[Any]) -> tuple[Any, ...]:
    """Take the catalog's write lock, then run ``read``: one round trip; its one row.

    ``connection`` is a PostgreSQL write transaction's that has sent nothing yet (psycopg
    begins the transaction in the same pipeline). ``read`` must have no parameters left
    once its literal values are inlined, and return exactly one row; its values come as the
    driver gives them (no SQLAlchemy result processing).
    """
    if connection.dialect.is_async:
        # (AsyncModelRegistry's psycopg connection, behind SQLAlchemy's adapter, offers no
        # pipeline: the lock and the read go one after the other.)
        lock_for_writes(connection)
        return tuple(connection.execute(read).one())
    lock_text, read_text = _texts(connection.dialect, read)
    fairy = connection.connection
    driver = fairy.driver_connection
    dialect = connection.dialect
    with armed(connection):
        try:
            begin = _begin(driver)
            # psycopg would send its own BEGIN first and wait for its answer (it syncs the
            # pipeline after it): the transaction is begun here instead, in the same
            # pipeline, with the connection in autocommit mode so that psycopg sends no
            # BEGIN of its own. The rest of the transaction runs in this block; SQLAlchemy's
            # commit or rollback ends it as before (psycopg sends COMMIT or ROLLBACK whenever
            # the server is in a transaction), and the pool's return resets autocommit.
            driver.autocommit = True  # type: ignore[union-attr]
            with driver.pipeline():  # type: ignore[union-attr]
                driver.execute(begin)  # type: ignore[union-attr]
                driver.execute(lock_text)  # type: ignore[union-attr]
                cursor = driver.execute(read_text)  # type: ignore[union-attr]
            # (Prepared as psycopg decides, at the fifth execution by default: a URL that
            # turns preparing off for a transaction-pooling PgBouncer is obeyed.)
            row = cursor.fetchone()
        except dialect.loaded_dbapi.Error as exc:
            dropped = dialect.is_disconnect(exc, fairy.dbapi_connection, None)
            if dropped:
                connection.invalidate(exc)
            raise driver_error(dialect, read_text, (), exc, dropped=dropped) from exc
    if row is None:  # pragma: no cover - the read is one row by construction
        msg = "the read after the write lock returned no row"
        raise RuntimeError(msg)
    return tuple(row)


def _begin(driver: Any) -> str:  # noqa: ANN401 - a psycopg connection
    """The ``BEGIN`` psycopg would send for ``driver``'s transaction characteristics."""
    parts = ["BEGIN"]
    if driver.isolation_level is not None:
        parts.append("ISOLATION LEVEL " + driver.isolation_level.name.replace("_", " "))
    if driver.read_only is not None:
        parts.append("READ ONLY" if driver.read_only else "READ WRITE")
    if driver.deferrable is not None:
        parts.append("DEFERRABLE" if driver.deferrable else "NOT DEFERRABLE")
    return " ".join(parts)


@functools.cache
def _texts(dialect: Dialect, read: sa.Select[Any]) -> tuple[str, str]:
    """The lock's and ``read``'s SQL for ``dialect``, values inlined (compiled once each)."""
    inline = {"literal_binds": True}
    lock = str(PG_WRITE_LOCK.compile(dialect=dialect, compile_kwargs=inline))
    return lock, str(read.compile(dialect=dialect, compile_kwargs=inline))
