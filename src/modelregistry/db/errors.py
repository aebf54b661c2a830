"""The one boundary where SQLAlchemy and driver exceptions become modelregistry's own."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from modelregistry.errors import DatabaseError, DatabaseUnavailableError, ModelRegistryError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sqlalchemy.engine import Dialect

_UNAVAILABLE: Final = (
    sa.exc.OperationalError,
    sa.exc.InterfaceError,
    sa.exc.DisconnectionError,
    sa.exc.TimeoutError,
)
_INSUFFICIENT_PRIVILEGE: Final = "42501"
"""PostgreSQL's SQLSTATE for a privilege the role lacks (a read-only role writing)."""
# SQLite reports missing tables and the like as OperationalError too; only these mean that
# the database could not be used right now. A read-only file ("attempt to write a readonly
# database") is not among them: retrying never helps, as with a SELECT-only role.
_SQLITE_UNAVAILABLE: Final = ("locked", "busy", "unable to open", "disk i/o")
_SQLITE_READONLY: Final = "readonly database"


def translate(exc: Exception, *, database: str) -> ModelRegistryError:  # noqa: PLR0911 - one return per kind of failure
    """Return the modelregistry error for a database exception.

    Args:
        exc: The exception SQLAlchemy or the driver raised.
        database: The database URL with its password masked, named in the message.
    """
    if isinstance(exc, ModelRegistryError):
        return exc
    detail = _first_line(exc)
    if isinstance(exc, ImportError):
        return DatabaseError(
            f"the database driver is not installed ({database}): {detail}", database=database
        )
    if isinstance(exc, sa.exc.ArgumentError):  # the URL itself: its message says what to write
        return DatabaseError(detail, database=database)
    missing = _missing_directory(exc, database)
    if missing is not None:
        return DatabaseError(
            f"cannot open the SQLite file {database}: its directory {missing} does not exist "
            "(create it, or give another path)",
            database=database,
            directory=missing,
        )
    if _is_unavailable(exc, detail):
        return DatabaseUnavailableError(
            f"database unavailable ({database}): {detail}", database=database
        )
    if _SQLITE_READONLY in detail.lower():
        return DatabaseError(
            f"permission denied ({database}): the SQLite file (or its directory, where the "
            f"-wal and -shm files live) is read-only to this process ({detail}); it can be "
            "read but not changed",
            database=database,
        )
    if _sqlstate(exc) == _INSUFFICIENT_PRIVILEGE:
        return DatabaseError(
            f"permission denied ({database}): the database role {_role(database)} may not do "
            f"this ({detail}); a role granted only SELECT can read the catalog but not change "
            "it or its schema",
            database=database,
            sqlstate=_INSUFFICIENT_PRIVILEGE,
        )
    return DatabaseError(f"database error ({database}): {detail}", database=database)


@contextmanager
def translating(*, database: str) -> Iterator[None]:
    """Run the block, re-raising database and driver errors as modelregistry errors (chained).

    ``ImportError`` is included: SQLAlchemy imports a URL's driver when the engine is made.
    """
    try:
        yield
    except (sa.exc.SQLAlchemyError, ImportError) as exc:
        raise translate(exc, database=database) from exc


def _missing_directory(exc: Exception, database: str) -> str | None:
    """The directory of a SQLite file URL that does not exist, when that is why it failed.

    Not retryable: it is no passing lock, and a retry would fail the same way.
    """
    if not isinstance(exc, sa.exc.OperationalError) or "unable to open" not in str(exc):
        return None
    try:
        url = make_url(database)
    except sa.exc.ArgumentError:
        return None
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    directory = Path(url.database).expanduser().absolute().parent
    return None if directory.is_dir() else str(directory)


def _is_unavailable(exc: Exception, detail: str) -> bool:
    if not isinstance(exc, _UNAVAILABLE):
        return False
    original = getattr(exc, "orig", None)
    if original is not None and type(original).__module__.startswith("sqlite3"):
        return any(marker in detail.lower() for marker in _SQLITE_UNAVAILABLE)
    return True


def _sqlstate(exc: Exception) -> str | None:
    sqlstate = getattr(getattr(exc, "orig", None), "sqlstate", None)
    return sqlstate if isinstance(sqlstate, str) else None


def _role(database: str) -> str:
    try:
        user = make_url(database).username
    except sa.exc.ArgumentError:
        user = None
    return repr(user) if user else "of this connection"


def _first_line(exc: Exception) -> str:
    original = getattr(exc, "orig", None) or exc
    text = str(original).strip().splitlines()
    return text[0] if text else type(original).__name__


def driver_error(
    dialect: Dialect, text: str, parameters: tuple[Any, ...], exc: Exception, *, dropped: bool
) -> sa.exc.StatementError:
    """The driver's ``exc`` as SQLAlchemy would have wrapped it, for :func:`translate`.

    For statements sent to the driver directly (the SQLite lookup, the PostgreSQL write's
    pipeline): ``dropped`` says the connection was found dead and invalidated.
    """
    return sa.exc.DBAPIError.instance(
        text,
        parameters,
        exc,
        dialect.loaded_dbapi.Error,
        connection_invalidated=dropped,
        dialect=dialect,
    )
