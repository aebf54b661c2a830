"""The lookup of one model by id on SQLite, sent to the driver as SQLAlchemy last compiled it.

``get_model(cache=False)`` is one statement. Through SQLAlchemy's execution (its statement
cache key, parameter processing, the ``BEGIN``/``ROLLBACK`` around it, the result's
processors) it costs ten times what the statement itself costs in sqlite3. :class:`Lookup`
asks SQLAlchemy once, on the first lookup, for the statement's text and parameters (with a
sentinel id and instant, so each parameter's place is known, not guessed); every later lookup
sends that text with the parameters put in place on a pooled connection, and converts the two
kind of column whose driver value the model does not take as it is (``open_weights`` is
stored as 0/1). The row is then validated like every other (:func:`model_from_row`), so a row
written by someone else that breaks the model's rules is refused as before; a row read again
with every value the same (its version, its prices in effect, its timestamps) gives the model
validated from it the first time (models are immutable; up to 1,024 rows are remembered). Anything
unexpected while learning the statement leaves the lookup on SQLAlchemy's path.

A SQLite file's lookups run on a connection kept by each thread (taken from the pool once and
detached from it, so it was set up as every pooled one is): a checkout and return cost half as
much as the statement. The connection is in autocommit mode and only reads, so it holds no
transaction between lookups; :meth:`Lookup.close` closes every thread's, a thread's own goes
with the thread, and a forked child (:meth:`Lookup.forget`, or another process id) never
uses its parent's. An in-memory database keeps its one pooled connection.
"""

from __future__ import annotations

import os
import threading
import weakref
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

import sqlalchemy as sa

from modelregistry.db.engine import is_memory_sqlite
from modelregistry.db.errors import driver_error
from modelregistry.db.mapping import model_from_row
from modelregistry.db.repository import model_at, model_row
from modelregistry.db.tables import UTCDateTime

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy.engine import Engine

    from modelregistry.domain.models import ModelConfig

_SENTINEL_ID: Final = "\x00modelregistry-lookup-sentinel\x00"
_SENTINEL_AT: Final = datetime(1999, 12, 31, 23, 59, 58, 123456, tzinfo=UTC)
_ID: Final = object()
_AT: Final = object()
_BOOLEANS: Final = frozenset({"open_weights"})
_KNOWN_AT_MOST: Final = 1024


def _as_it_is(value: object) -> object:
    return value


class _Learned:
    """The statement's text, each parameter's place, and how ``at`` is written."""

    __slots__ = ("at", "names", "places", "text")

    def __init__(
        self, text: str, places: tuple[object, ...], at: Callable[[Any], Any], names: list[str]
    ) -> None:
        self.text = text
        self.places = places
        self.at = at
        self.names = names


class _Held:
    """One thread's connection (detached from the pool) and the process that opened it.

    The connection is closed when its holder goes (its thread ended): sqlite3's connections
    are in a reference cycle (their statement cache), which only the garbage collector frees.
    """

    __slots__ = ("__weakref__", "closing", "connection", "pid")

    def __init__(self, connection: Any, pid: int) -> None:  # noqa: ANN401 - the DB-API's
        self.connection = connection
        self.pid = pid
        self.closing = weakref.finalize(self, connection.close)


class Lookup:
    """``get_model``'s statement for one SQLite engine, learned once and sent to the driver."""

    def __init__(self, engine: Engine) -> None:
        """Nothing is executed until the first :meth:`get`."""
        self._engine = engine
        self._learned: _Learned | None = None
        self._failed = False
        self._lock = threading.Lock()
        # Models validated from rows, by the row's every value (its version, its prices in
        # effect): a row read again exactly as it was is the model it was, not validated again.
        self._known: dict[tuple[Any, ...], ModelConfig] = {}
        # A file's connection per thread; every one held, for close() (a thread's own goes
        # when the thread ends and its holder with it). sqlite3's own connections only:
        # aiosqlite's run on a thread of their own.
        self._per_thread = engine.dialect.driver == "pysqlite" and not is_memory_sqlite(engine.url)
        self._local = threading.local()
        self._held: weakref.WeakSet[_Held] = weakref.WeakSet()
        self._forgotten: list[Any] = []

    def get(self, model_id: str, at: datetime) -> ModelConfig | None:
        """The model ``model_id`` with its prices at ``at``, or None.

        Raises:
            sqlalchemy.exc.DBAPIError: the driver's error, wrapped as SQLAlchemy would
                (the caller translates it).
            InvalidModelConfigError: E4003, the stored row breaks the model's rules.
        """
        learned = self._learned
        if learned is None:
            if not self._failed:
                with self._lock:
                    self._learn()
            return self._through_sqlalchemy(model_id, at)
        stamp = learned.at(at)
        parameters = tuple(
            model_id if place is _ID else stamp if place is _AT else place
            for place in learned.places
        )
        found = (
            self._on_own_connection(learned.text, parameters)
            if self._per_thread
            else self._on_pooled_connection(learned.text, parameters)
        )
        if found is None:
            return None
        if type(found) is not tuple:
            found = tuple(found)
        known = self._known
        model = known.get(found)
        if model is None:
            model = self._validated(found, learned.names)
            if len(known) >= _KNOWN_AT_MOST:
                known.clear()
            known[found] = model
        return model

    def close(self) -> None:
        """Close every thread's connection (the next lookup of a thread opens another)."""
        held, self._held = list(self._held), weakref.WeakSet()
        self._local = threading.local()
        for one in held:
            one.closing()

    def forget(self) -> None:
        """In a forked child: never use, nor close, the parent's connections.

        (Kept open, unused: closing a copy of the parent's SQLite connection could act on
        the parent's files, e.g. checkpoint its WAL.)
        """
        for one in self._held:
            one.closing.detach()
            self._forgotten.append(one.connection)
        self._held = weakref.WeakSet()
        self._local = threading.local()

    def _on_own_connection(self, text: str, parameters: tuple[Any, ...]) -> Any:  # noqa: ANN401
        local = self._local
        held: _Held | None = getattr(local, "held", None)
        if held is None or held.pid != os.getpid():
            pooled = self._engine.raw_connection()
            pooled.detach()
            held = local.held = _Held(pooled.dbapi_connection, os.getpid())
            self._held.add(held)
        connection = held.connection
        try:
            return connection.execute(text, parameters).fetchone()
        except self._engine.dialect.loaded_dbapi.Error as exc:
            dialect = self._engine.dialect
            dropped = dialect.is_disconnect(exc, connection, None)
            if dropped:
                local.held = None
                self._held.discard(held)
                held.closing()
            raise driver_error(dialect, text, parameters, exc, dropped=dropped) from exc

    def _on_pooled_connection(self, text: str, parameters: tuple[Any, ...]) -> Any:  # noqa: ANN401
        dialect = self._engine.dialect
        connection = self._engine.raw_connection()
        try:
            cursor = connection.cursor()
            try:
                cursor.execute(text, parameters)
                return cursor.fetchone()
            finally:
                cursor.close()
        except dialect.loaded_dbapi.Error as exc:
            dropped = dialect.is_disconnect(exc, connection.dbapi_connection, None)
            if dropped:
                connection.invalidate(exc)
            raise driver_error(dialect, text, parameters, exc, dropped=dropped) from exc
        finally:
            connection.close()

    @staticmethod
    def _validated(found: tuple[Any, ...], names: list[str]) -> ModelConfig:
        row = dict(zip(names, found, strict=True))
        for name in _BOOLEANS:
            value = row[name]
            row[name] = None if value is None else bool(value)
        return model_from_row(row)

    def _through_sqlalchemy(self, model_id: str, at: datetime) -> ModelConfig | None:
        with self._engine.connect() as connection:
            return model_at(connection, model_id, at)

    def _learn(self) -> None:
        """Execute the statement once through SQLAlchemy with sentinels, noting what it sent."""
        if self._learned is not None or self._failed:
            return
        seen: dict[str, Any] = {}

        def note(
            _connection: Any,  # noqa: ANN401 - the event's signature
            cursor: Any,  # noqa: ANN401
            statement: str,
            parameters: Any,  # noqa: ANN401
            _context: Any,  # noqa: ANN401
            _executemany: bool,
        ) -> None:
            if _SENTINEL_ID not in parameters:
                return  # the BEGIN before it
            seen["text"], seen["parameters"] = statement, parameters
            seen["names"] = [column[0] for column in cursor.description or ()]

        dialect = self._engine.dialect
        at = UTCDateTime().dialect_impl(dialect).bind_processor(dialect) or _as_it_is
        stamp = at(_SENTINEL_AT)
        sa.event.listen(self._engine, "after_cursor_execute", note)
        try:
            with self._engine.connect() as connection:
                model_row(connection, _SENTINEL_ID, _SENTINEL_AT)
        finally:
            sa.event.remove(self._engine, "after_cursor_execute", note)
        parameters, names = seen.get("parameters"), seen.get("names", [])
        if not isinstance(parameters, tuple | list) or stamp == _SENTINEL_AT:
            self._failed = True  # not positional, or ``at`` not written as text: stay on SA
            return
        places = tuple(
            _ID if value == _SENTINEL_ID else _AT if value == stamp else value
            for value in parameters
        )
        if places.count(_ID) != 1 or _AT not in places or not _BOOLEANS.issubset(names):
            self._failed = True
            return
        self._learned = _Learned(str(seen["text"]), places, at, names)
