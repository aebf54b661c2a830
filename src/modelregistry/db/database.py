"""Database: one catalog database, its engine and its units of work.

The one place where transactions begin and end. A *read* is one statement (autocommit on
PostgreSQL) or, asked for, a *snapshot* of several statements that see one state of the
catalog; a *write* is one transaction that holds the catalog's write lock and commits or rolls
back as a whole. Every unit hands its block a :class:`~modelregistry.db.repository.Repository`
and translates database errors into modelregistry's own. A read whose pooled connection the
server had dropped (a restart) is retried once on a fresh one.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeVar

import sqlalchemy as sa

from modelregistry.db import migrate
from modelregistry.db.deadline import deadline_fired, watchdog_of
from modelregistry.db.engine import (
    is_memory_sqlite,
    make_engine,
    reader,
    safe_url,
    snapshot_reader,
    was_disconnected,
    writer,
)
from modelregistry.db.errors import translate, translating
from modelregistry.db.lookup import Lookup
from modelregistry.db.repository import Repository, model_at
from modelregistry.domain import clock
from modelregistry.errors import DatabaseReplacedError, DatabaseUnavailableError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from sqlalchemy.engine import Connection, Engine

    from modelregistry.domain.models import ModelConfig

T = TypeVar("T")


class Database:
    """A catalog database: reads, snapshots and locked write transactions over one engine.

    Args:
        engine: The engine every unit goes through (for AsyncModelRegistry, the synchronous
            facade of an asyncio engine, used inside SQLAlchemy's asyncio bridge).
        url: The database URL with its password masked, named in errors.
    """

    def __init__(self, engine: Engine, *, url: str) -> None:
        """Wrap ``engine``; nothing is executed."""
        self.engine = engine
        self.url = url
        # Core connections only (every statement is Core): ``sqlalchemy.orm``, ~50 ms to
        # import, is never loaded by the catalog's units.
        self._reader = reader(engine)
        self._snapshots = snapshot_reader(engine)
        self._writer = writer(engine)
        self._file = _sqlite_file(engine)
        # SQLite only, and never under a deadline watchdog (it arms on SQLAlchemy's events).
        sqlite = engine.dialect.name == "sqlite" and watchdog_of(engine) is None
        self._lookup = Lookup(engine) if sqlite else None
        self._identity = _identity(self._file)

    @classmethod
    def open(
        cls,
        url: str,
        *,
        auto_migrate: bool = False,
        engine: Engine | None = None,
        keep_idle: bool = True,
    ) -> Database:
        """Open the catalog at ``url``, checking (and for an empty database, creating) its schema.

        Args:
            url: The database URL (with its password: it is masked in everything shown).
            auto_migrate: Upgrade a database at an older schema revision instead of refusing it.
            engine: The engine to use (default: :func:`~modelregistry.db.engine.make_engine`).
            keep_idle: Keep idle connections pooled (False: close each after its unit).

        Raises:
            SchemaOutdatedError: E4010, the database is older and ``auto_migrate`` is False.
            SchemaUnknownError: E4011, the database was migrated by a newer modelregistry.
            DatabaseUnavailableError: E4020, the database cannot be reached.
            DatabaseError: E4021, the URL is not usable.
        """
        masked = safe_url(url)
        with translating(database=masked):
            made = make_engine(url, keep_idle=keep_idle) if engine is None else engine
            try:
                migrate.ensure_schema(made, auto_migrate=auto_migrate)
            except BaseException:
                made.dispose()
                raise
        return cls(made, url=masked)

    @property
    def is_memory(self) -> bool:
        """Whether this is a private in-memory SQLite catalog (no other process sees it)."""
        return is_memory_sqlite(self.engine.url)

    @property
    def is_sqlite(self) -> bool:
        """Whether the database is SQLite (no notifications: other processes poll)."""
        return self.engine.dialect.name == "sqlite"

    def read(self, query: Callable[[Repository], T], *, snapshot: bool = False) -> T:
        """Answer ``query`` in one read (``snapshot``: several statements, one state)."""
        return self.read_session(
            lambda connection: query(Repository(connection)), snapshot=snapshot
        )

    def get_model(self, model_id: str) -> ModelConfig | None:
        """The model ``model_id`` (exact, not an alias) with the prices in effect now, or None.

        One statement without a session (on a SQLite file, on the calling thread's own
        connection: see :mod:`modelregistry.db.lookup`): the read of ``get_model(cache=False)``,
        which a session's set-up and close would double.
        """
        self._check_file()
        lookup = self._lookup
        if lookup is None:
            return _once_more_if_dropped(lambda: self._get_model(model_id))
        # SQLite, never under a deadline (which _bounded would report): the layers of
        # _get_model without their context managers, the hot path of get_model(cache=False).
        try:
            try:
                return lookup.get(model_id, clock.now())
            except (sa.exc.SQLAlchemyError, ImportError) as exc:
                raise translate(exc, database=self.url) from exc
        except DatabaseUnavailableError as exc:
            if not was_disconnected(exc):
                raise
        return self._get_model(model_id)

    def _get_model(self, model_id: str) -> ModelConfig | None:
        with self._bounded(), translating(database=self.url):
            if self._lookup is not None:
                return self._lookup.get(model_id, clock.now())
            with self._reader.connect() as connection:
                return model_at(connection, model_id, clock.now())

    def read_session(self, query: Callable[[Connection], T], *, snapshot: bool = False) -> T:
        """Answer ``query`` with a connection of its own (as :meth:`read`)."""
        engine = self._snapshots if snapshot else self._reader
        self._check_file()

        def answer() -> T:
            with self._bounded(), translating(database=self.url), engine.connect() as connection:
                return query(connection)

        return _once_more_if_dropped(answer)

    @contextmanager
    def write(self) -> Iterator[Repository]:
        """One write transaction holding the catalog's write lock; commits at the end of the block.

        The repository's clock (``read_at``) is the write's time, read after the lock.
        """
        self._check_file()
        with self._bounded(), translating(database=self.url), self._writer.begin() as connection:
            repository = Repository(connection)
            repository.lock_for_write()
            self._check_file()  # (replaced while this writer waited for the lock)
            yield repository

    def _check_file(self) -> None:
        """Refuse to go on when the SQLite file is no longer the one this process opened.

        A file deleted or replaced (a backup renamed over it) under a running process leaves
        its connections on the old inode: a write there would be acknowledged and lost.

        Raises:
            DatabaseReplacedError: E4022, the path now holds another file, or none.
        """
        if self._identity is None or self._file is None:
            return
        now = _identity(self._file)
        if now != self._identity:
            what = "deleted" if now is None else "replaced by another file"
            msg = (
                f"the SQLite file {self._file} was {what} since this process opened it: "
                "writes are refused (they would go into the old file, which nobody else "
                "opens); reopen the registry to use the file now at the path (restore "
                "backups with VACUUM INTO or the backup API, never a rename over a live file)"
            )
            raise DatabaseReplacedError(msg, database=self.url)

    @contextmanager
    def _bounded(self) -> Iterator[None]:
        """Say so when the client-side deadline ended a call (see modelregistry.db.deadline)."""
        watchdog = watchdog_of(self.engine)
        if watchdog is None:
            yield
            return
        watchdog.fired()  # forget an earlier unit's
        try:
            yield
        except DatabaseUnavailableError as exc:
            if not deadline_fired(self.engine):
                raise
            message = (
                f"database unavailable ({self.url}): no answer within {watchdog.timeout:g} s "
                "(call_timeout); the connection was dropped"
            )
            raise DatabaseUnavailableError(message, database=self.url) from exc

    def refresh_statistics(self) -> None:
        """Update the planner's statistics of the catalog tables (after a bulk import)."""
        with translating(database=self.url), self._writer.begin() as connection:
            Repository(connection).refresh_statistics()

    def schema_revision(self) -> str | None:
        """The database's schema revision (None: never migrated)."""
        with translating(database=self.url):
            return migrate.current(self.engine)

    def is_current(self) -> bool:
        """Whether the schema is at the newest revision this version knows."""
        with translating(database=self.url):
            return migrate.is_current(self.engine)

    def forget_connections(self) -> None:
        """In a forked child: drop the parent's pooled connections without closing them."""
        self.engine.dispose(close=False)
        if self._lookup is not None:
            self._lookup.forget()
        watchdog = watchdog_of(self.engine)
        if watchdog is not None:
            watchdog.after_fork()

    def dispose(self) -> None:
        """Close every pooled connection (and the lookup's, one per thread)."""
        if self._lookup is not None:
            self._lookup.close()
        self.engine.dispose()


def _sqlite_file(engine: Engine) -> str | None:
    """The absolute path of a SQLite file database (None: PostgreSQL, or in memory)."""
    url = engine.url
    if url.get_backend_name() != "sqlite" or is_memory_sqlite(url) or not url.database:
        return None
    path = url.database
    if path.startswith("file:"):  # a URI filename (?uri=true): its path part
        path = path.removeprefix("file:").split("?", 1)[0]
        path = path.removeprefix("//")
    return os.path.abspath(path)  # noqa: PTH100 - a str path, kept as the engine gives it


def _identity(path: str | None) -> tuple[int, int] | None:
    """The device and inode of ``path`` (None: no such file)."""
    if path is None:
        return None
    try:
        found = os.stat(path)  # noqa: PTH116 - one stat call on the hot path of a write
    except OSError:
        return None
    return found.st_dev, found.st_ino


def _once_more_if_dropped(read: Callable[[], T]) -> T:
    """``read()``, tried once more when the pool held a connection the server had dropped.

    (A server restart leaves the pool's connections dead; the fresh try gets a new one.)
    """
    try:
        return read()
    except DatabaseUnavailableError as exc:
        if not was_disconnected(exc):
            raise
    return read()
