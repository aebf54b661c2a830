"""The one boundary where SQLAlchemy and driver exceptions become modelregistry's own."""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING

import sqlalchemy as sa

from modelregistry.errors import DatabaseError, DatabaseUnavailableError, ModelRegistryError

if TYPE_CHECKING:
    from collections.abc import Iterator

_UNAVAILABLE = (
    sa.exc.OperationalError,
    sa.exc.InterfaceError,
    sa.exc.DisconnectionError,
    sa.exc.TimeoutError,
)


def translate(exc: Exception, *, database: str) -> ModelRegistryError:
    """Return the modelregistry error for a database exception.

    Args:
        exc: The exception SQLAlchemy or the driver raised.
        database: The database URL with its password masked, named in the message.
    """
    if isinstance(exc, ModelRegistryError):
        return exc
    detail = _first_line(exc)
    if isinstance(exc, _UNAVAILABLE):
        return DatabaseUnavailableError(
            f"database unavailable ({database}): {detail}", database=database
        )
    return DatabaseError(f"database error ({database}): {detail}", database=database)


@contextmanager
def translating(*, database: str) -> Iterator[None]:
    """Run the block, re-raising SQLAlchemy errors as modelregistry errors (chained)."""
    try:
        yield
    except sa.exc.SQLAlchemyError as exc:
        raise translate(exc, database=database) from exc


def _first_line(exc: Exception) -> str:
    original = getattr(exc, "orig", None) or exc
    text = str(original).strip().splitlines()
    return text[0] if text else type(original).__name__
