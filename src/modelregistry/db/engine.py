"""Engine creation: URL normalisation, SQLite pragmas and transaction modes.

``postgresql://`` and ``postgres://`` URLs use psycopg 3. SQLite connections run with foreign
keys on, WAL journaling for files and a generous busy timeout; SQLAlchemy, not the sqlite3
module, starts their transactions, so a write transaction takes the write lock up front
(``BEGIN IMMEDIATE``) and concurrent writers queue instead of failing.
"""

from __future__ import annotations

import json
import weakref
from typing import TYPE_CHECKING, Any, Final

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import QueuePool

from modelregistry.db.deadline import armed
from modelregistry.db.deadline import install as install_watchdog
from modelregistry.db.idle import release_when_idle

if TYPE_CHECKING:
    from collections.abc import (
        Callable,
        Collection,
        Iterable,
        Iterator,
        MutableMapping,
        Sequence,
    )

    from sqlalchemy.engine import Connection

    # Re-exported: the layers above db/ name the type through this module, never SQLAlchemy.
    from sqlalchemy.engine import Engine as Engine  # noqa: PLC0414 - an explicit re-export
    from sqlalchemy.ext.asyncio import AsyncEngine
    from sqlalchemy.orm import QueryableAttribute

SQLITE_BUSY_TIMEOUT_SECONDS: Final = 60.0
"""How long a SQLite connection waits for another process's lock before giving up, unless
the URL says otherwise (``sqlite:///catalog.db?timeout=5``)."""
CALL_TIMEOUT_SECONDS: Final = 30.0
"""PostgreSQL: longest wait for one database call (a statement, a commit) before the
connection is dropped and the call fails with E4020, unless the URL says otherwise
(``?call_timeout=5``). Enforced on the client (a frozen server enforces nothing) and, as
``statement_timeout``, by the server; a transaction left idle this long is ended by the
server (``idle_in_transaction_session_timeout``: a paused writer frees the lock)."""
LOCK_TIMEOUT_SECONDS: Final = 20.0
"""PostgreSQL: longest wait for the catalog's write lock (another writer's transaction),
unless the URL says otherwise (``?lock_timeout=5``); below the call timeout, so a writer
blocked by a paused one hears why."""
KEEPALIVES: Final = {
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
    "tcp_user_timeout": 30_000,
}
"""libpq's TCP settings: a peer that vanished (packets dropped) is noticed within ~30 s,
even on an idle LISTEN connection."""
TIMEOUT_KEYS: Final = ("call_timeout", "lock_timeout")
"""modelregistry's own URL parameters (seconds), taken out before the driver sees the URL."""

COPY_FROM_ROWS: Final = 100
"""From this many rows, :func:`insert_many` uses COPY on PostgreSQL."""

_CONNECT_ARGS: weakref.WeakKeyDictionary[Engine, dict[str, Any]] = weakref.WeakKeyDictionary()
SUPPORTED_BACKENDS: Final = frozenset({"sqlite", "postgresql", "postgres"})
"""The database engines modelregistry runs on."""
_BACKEND_NAMES: Final = {
    "mysql": "MySQL",
    "mariadb": "MariaDB",
    "mssql": "Microsoft SQL Server",
    "oracle": "Oracle",
}

_WRITE_OPTION: Final = "modelregistry_write"
# pg_advisory_xact_lock(classid, objid): "mr" and the catalog's schema, hashed. Other
# applications' locks don't collide, and catalogs in other schemas of the same database don't
# wait for each other's writes (they did with one key for the whole database).
_PG_LOCK_CLASS: Final = 0x6D72


_SECRET_KEYS: Final = ("pass", "secret", "token")
"""A URL query parameter whose name holds one of these is masked (``sslpassword``, ...)."""
_UNENCODED_AT: Final = (
    "the database URL's password holds an unencoded '@' (everything before the last '@' is "
    "taken as the credentials): percent-encode it, '@' as %40 (urllib.parse.quote(password, "
    "safe=''))"
)


def _unencoded_credentials(text: str) -> tuple[str, str, str] | None:
    """``(scheme, user, after)`` when the password in ``text`` holds an unencoded ``@``.

    Everything before the last ``@`` (ahead of the query) is the credentials; ``after`` is
    the rest of the URL, host onwards.
    """
    scheme, separator, rest = text.partition("://")
    head = rest.split("?", 1)[0]
    at = head.rfind("@")
    user, colon, password = head[:at].partition(":")
    if not separator or at < 0 or not colon or "@" not in password:
        return None
    return scheme, user, rest[at + 1 :]


def normalise_url(url: str | URL) -> URL:
    """Parse ``url`` and pick the psycopg 3 driver for PostgreSQL URLs without one.

    Raises:
        sqlalchemy.exc.ArgumentError: when ``url`` is not a database URL (a password with an
            unencoded ``@`` included: the message says to percent-encode it).
    """
    if isinstance(url, str) and _unencoded_credentials(url) is not None:
        raise sa.exc.ArgumentError(_UNENCODED_AT)
    if isinstance(url, str) and "://" not in url and not url.startswith("sqlite:"):
        msg = (
            f"{url!r} is not a database URL: for a SQLite file write sqlite:///{url} "
            "(four slashes before an absolute path), for PostgreSQL postgresql://USER@HOST/DB"
        )
        raise sa.exc.ArgumentError(msg)
    try:
        parsed = make_url(url)
    except ValueError as exc:  # a port that is not a number, an unclosed [IPv6 address
        msg = f"the database URL is not valid: {exc}"
        raise sa.exc.ArgumentError(msg) from exc
    backend = parsed.get_backend_name()
    if backend not in SUPPORTED_BACKENDS:
        name = _BACKEND_NAMES.get(backend, backend)
        msg = (
            f"{name} is not supported: modelregistry stores its catalog in SQLite "
            "(sqlite:///FILE) or PostgreSQL (postgresql://USER@HOST/DB)"
        )
        raise sa.exc.ArgumentError(msg)
    if parsed.drivername in {"postgresql", "postgres", "postgresql+psycopg_async"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif parsed.drivername == "sqlite+aiosqlite":
        parsed = parsed.set(drivername="sqlite")
    return parsed


def normalise_async_url(url: str | URL) -> URL:
    """Parse ``url`` and pick the asyncio driver: psycopg 3 (async) or aiosqlite.

    The same URL thus opens a :class:`~modelregistry.ModelRegistry` and an
    :class:`~modelregistry.AsyncModelRegistry`.

    Raises:
        sqlalchemy.exc.ArgumentError: when ``url`` is not a database URL.
    """
    parsed = normalise_url(url)
    if parsed.drivername in {"sqlite", "sqlite+pysqlite"}:
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    return parsed


def safe_url(url: str | URL) -> str:
    """Render ``url`` with its password masked, fit for logs, errors and ``repr``.

    libpq also takes secrets as query parameters (``?password=...``, ``sslpassword``): every
    parameter whose name holds ``pass``, ``secret`` or ``token`` is masked too. A password
    with an unencoded ``@`` is masked whole: everything before the last ``@`` is taken as the
    credentials.
    """
    if isinstance(url, str) and (split := _unencoded_credentials(url)) is not None:
        scheme, user, after = split
        url = f"{scheme}://{user}:***@{after}"
    try:
        parsed = normalise_url(url)
    except sa.exc.ArgumentError:
        return "<unparseable database URL>"
    hidden = {
        key: "***" for key in parsed.query if any(secret in key.lower() for secret in _SECRET_KEYS)
    }
    if hidden:
        parsed = parsed.update_query_dict(hidden)
    return parsed.render_as_string(hide_password=True)


def is_sqlite(engine: Engine | Connection) -> bool:
    """Tell whether ``engine`` talks to SQLite."""
    return engine.dialect.name == "sqlite"


def is_memory_sqlite(url: URL) -> bool:
    """Tell whether ``url`` is a private in-memory SQLite database."""
    return url.get_backend_name() == "sqlite" and url.database in {None, "", ":memory:"}


def make_engine(url: str | URL, *, keep_idle: bool = True) -> Engine:
    """Create an engine for ``url`` with the settings modelregistry relies on.

    ``sqlite://`` (in memory) keeps exactly one connection, lent to one thread at a time, so
    every session sees the same database for the registry's lifetime and threads queue for it.
    ``keep_idle=False`` (a reader of the JetStream feed): a server's connection is closed as
    soon as its unit of work ends, so an idle process holds none.

    Raises:
        sqlalchemy.exc.ArgumentError: ``url`` is not a database URL.
        ImportError: the URL's driver is not installed.
    """
    parsed = normalise_url(url)
    kwargs, timeout = _engine_arguments(parsed)
    if timeout is not None and is_memory_sqlite(parsed):
        kwargs["poolclass"] = QueuePool
    if timeout is not None:
        engine = sa.create_engine(parsed.difference_update_query(TIMEOUT_KEYS), **kwargs)
        _configure_sqlite(engine, timeout)
        return engine
    driver_url, connect_args, call = _server_arguments(parsed)
    engine = sa.create_engine(driver_url, **kwargs)
    _CONNECT_ARGS[engine] = connect_args
    install_watchdog(engine, call)
    if not keep_idle:
        release_when_idle(engine)
    return engine


def make_async_engine(url: str | URL) -> AsyncEngine:
    """Create an asyncio engine for ``url``, set up as :func:`make_engine` does.

    ``sqlite://`` (in memory) keeps one connection, which coroutines take turns on.

    Raises:
        sqlalchemy.exc.ArgumentError: ``url`` is not a database URL.
        ImportError: the asyncio driver (or greenlet) is not installed.
    """
    from sqlalchemy.ext.asyncio import create_async_engine  # noqa: PLC0415 - only for asyncio
    from sqlalchemy.pool import AsyncAdaptedQueuePool  # noqa: PLC0415 - only for asyncio

    parsed = normalise_async_url(url)
    kwargs, timeout = _engine_arguments(parsed)
    if timeout is not None and is_memory_sqlite(parsed):
        kwargs["poolclass"] = AsyncAdaptedQueuePool
    engine = create_async_engine(parsed.difference_update_query(TIMEOUT_KEYS), **kwargs)
    if timeout is not None:
        _configure_sqlite(engine.sync_engine, timeout)
    else:
        install_watchdog(engine.sync_engine, timeouts(parsed)[0])
    return engine


def with_timeouts(url: str, *, call_timeout: float | None, lock_timeout: float | None) -> str:
    """``url`` with these timeouts (seconds) in its query, replacing the URL's own.

    The constructors' ``call_timeout``/``lock_timeout``; None leaves the URL's (or the
    default). A URL that does not parse is returned as it is (opening it says why).
    """
    given = {
        key: str(value)
        for key, value in (("call_timeout", call_timeout), ("lock_timeout", lock_timeout))
        if value is not None
    }
    if not given:
        return url
    try:
        parsed = normalise_url(url)
    except sa.exc.ArgumentError:
        return url
    return parsed.update_query_dict(given).render_as_string(hide_password=False)


def timeouts(parsed: URL) -> tuple[float, float]:
    """The call and lock timeouts (seconds) ``parsed`` asks for, else the defaults.

    Raises:
        sqlalchemy.exc.ArgumentError: one is not a number of seconds > 0.
    """
    found = []
    for key, default in zip(
        TIMEOUT_KEYS, (CALL_TIMEOUT_SECONDS, LOCK_TIMEOUT_SECONDS), strict=True
    ):
        try:
            value = float(str(parsed.query.get(key, default)))
        except ValueError:
            value = -1.0
        if not value > 0 or value == float("inf"):
            msg = f"the URL's {key} must be a number of seconds > 0 (got {parsed.query[key]!r})"
            raise sa.exc.ArgumentError(msg)
        found.append(value)
    return found[0], found[1]


def _server_arguments(parsed: URL) -> tuple[URL, dict[str, Any], float]:
    """The URL the driver sees, the connection's arguments, and the call timeout."""
    call, lock = timeouts(parsed)
    driver_url = parsed.difference_update_query(TIMEOUT_KEYS)
    settings = {
        "statement_timeout": call,
        "lock_timeout": lock,
        "idle_in_transaction_session_timeout": call,
    }
    options = " ".join(f"-c {name}={int(seconds * 1000)}" for name, seconds in settings.items())
    given = parsed.query.get("options")
    if given:  # the URL's own options (a search_path, say) come first; ours are added
        options = f"{given if isinstance(given, str) else ' '.join(given)} {options}"
    connect_args: dict[str, Any] = {"options": options}
    connect_args.update((k, v) for k, v in KEEPALIVES.items() if k not in parsed.query)
    if "connect_timeout" not in parsed.query:
        connect_args["connect_timeout"] = 10
    return driver_url, connect_args, call


def connect_arguments(engine: Engine) -> tuple[Sequence[str], MutableMapping[str, Any]]:
    """The driver's connect arguments for a connection of ``engine``'s own (LISTEN)."""
    parsed = engine.url
    args, kwargs = engine.dialect.create_connect_args(parsed)
    kwargs.update(_CONNECT_ARGS.get(engine, {}))
    return args, kwargs


_HSTORE_DRIVERS: Final = frozenset({"psycopg", "psycopg_async", "psycopg2"})
"""The PostgreSQL drivers whose dialect looks up the hstore type unless told not to."""


def _engine_arguments(parsed: URL) -> tuple[dict[str, Any], float | None]:
    """``create_engine`` keywords for ``parsed``, and the SQLite busy timeout (None: server)."""
    if parsed.get_backend_name() != "sqlite":
        # No pre-ping: it costs a round trip per checkout. A connection found dead is
        # invalidated with the whole pool, and the registry retries a read once (see
        # ``was_disconnected``). Connecting gives up after 10 s unless the URL says otherwise.
        # No hstore: the schema has none, and looking its type up costs three round trips
        # (a savepoint and a catalog query) when the first connection opens.
        _, connect_args, _ = _server_arguments(parsed)
        kwargs: dict[str, Any] = {"connect_args": connect_args}
        if parsed.get_driver_name() in _HSTORE_DRIVERS:
            kwargs["use_native_hstore"] = False
        return kwargs, None
    try:
        timeout = float(str(parsed.query.get("timeout", SQLITE_BUSY_TIMEOUT_SECONDS)))
    except ValueError as exc:
        msg = f"the SQLite URL's timeout must be a number of seconds: {exc}"
        raise sa.exc.ArgumentError(msg) from exc
    kwargs = {"connect_args": {"timeout": timeout}}
    if is_memory_sqlite(parsed):
        # One connection is the whole database; a pool of one makes callers take turns.
        kwargs.update(pool_size=1, max_overflow=0, pool_timeout=3600)
        kwargs["connect_args"]["check_same_thread"] = False
    return kwargs, timeout


def use_wal(engine: Engine) -> None:
    """Switch a SQLite file to WAL journaling (readers never wait for the writer).

    Done when modelregistry creates or upgrades its schema, never on a database it refuses to
    open. A no-op for PostgreSQL and in-memory SQLite.
    """
    if not is_sqlite(engine) or is_memory_sqlite(engine.url):
        return
    statement = "PRAGMA journal_mode = WAL"
    dbapi_error = engine.dialect.loaded_dbapi.Error
    try:
        # A raw connection, outside any transaction: SQLite refuses to change the journal
        # mode inside one. The DB-API cursor, not the driver's connection (that one may be
        # aiosqlite's, with coroutines). Its errors are the driver's own, so they are wrapped
        # here as SQLAlchemy wraps the rest (a file that cannot be created is "unable to open").
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            try:
                cursor.execute(statement)
            finally:
                cursor.close()
        finally:
            raw.close()
    except dbapi_error as exc:
        raise sa.exc.DBAPIError.instance(statement, None, exc, dbapi_error) from exc


def writer(engine: Engine) -> Engine:
    """Return ``engine`` set up for write transactions.

    SQLite: ``BEGIN IMMEDIATE``. PostgreSQL: READ COMMITTED whatever the server's default, so
    that after taking the catalog's lock a writer reads what the previous writer committed.
    """
    if is_sqlite(engine):
        return engine.execution_options(**{_WRITE_OPTION: True})
    return engine.execution_options(isolation_level="READ COMMITTED", **{_WRITE_OPTION: True})


def reader(engine: Engine) -> Engine:
    """Return ``engine`` set up for reads made of one statement.

    On PostgreSQL they run in autocommit mode: a single statement sees one snapshot anyway, and
    no BEGIN/ROLLBACK round trips are spent. SQLite transactions cost no round trip.
    """
    if is_sqlite(engine):
        return engine
    return engine.execution_options(isolation_level="AUTOCOMMIT")


def snapshot_reader(engine: Engine) -> Engine:
    """Return ``engine`` set up for reads made of several statements, all in one snapshot.

    PostgreSQL runs them at REPEATABLE READ, so ``get_stats`` never mixes two states of the
    catalog; a SQLite transaction is a snapshot already.
    """
    if is_sqlite(engine):
        return engine
    return engine.execution_options(isolation_level="REPEATABLE READ")


def was_disconnected(exc: BaseException) -> bool:
    """Tell whether ``exc`` (or its cause) is a connection the pool found dead and dropped.

    Such a read can be retried at once on a fresh connection, as after a database restart.
    """
    cause = exc if isinstance(exc, sa.exc.DBAPIError) else exc.__cause__
    return isinstance(cause, sa.exc.DBAPIError) and cause.connection_invalidated


def lock_for_writes(connection: Connection) -> None:
    """Serialise the current transaction with every other writer and migration of the catalog.

    PostgreSQL: a transaction-scoped advisory lock on the catalog's schema (so catalogs in
    other schemas of the database are not held up), released at commit or rollback. SQLite:
    nothing to do, a write transaction holds the database's write lock from its ``BEGIN
    IMMEDIATE`` (see :func:`writer`).
    """
    if not is_sqlite(connection):
        connection.execute(PG_WRITE_LOCK)


PG_WRITE_LOCK: Final = sa.select(
    sa.func.pg_advisory_xact_lock(
        _PG_LOCK_CLASS, sa.func.hashtext(sa.func.coalesce(sa.func.current_schema(), ""))
    )
)
"""The catalog's write lock (built once: no statement construction per write)."""


def insert_many(
    connection: Connection,
    table: sa.Table,
    rows: list[dict[str, Any]],
    *,
    json_text: Collection[str] = (),
) -> None:
    """Insert ``rows`` (dicts with the same keys) into ``table``, in the transaction.

    PostgreSQL, from :data:`COPY_FROM_ROWS` rows: ``COPY ... FROM STDIN`` through psycopg,
    with each value passed through its column type's bind processor first, as an INSERT
    would. SQLite: one INSERT of ``?`` placeholders run by sqlite3's executemany on tuples
    processed the same way (SQLAlchemy's compiled executemany builds and processes a
    parameter dict per row, about three times sqlite3's own time). Elsewhere, or for fewer
    rows: an executemany. (An INSERT of 3,000 models takes psycopg about 4x as long as COPY:
    every row's parameters are adapted and sent one statement at a time.) Driver errors come
    out as SQLAlchemy's, like any statement's.

    ``json_text``: JSON columns whose values are given as JSON text already (pydantic's
    ``model_dump_json``, a quarter of the time of ``json.dumps`` of the dumped dict); COPY
    and SQLite take the text as it is, the executemany parses it back.
    """
    if not rows:
        return
    if is_sqlite(connection):
        _insert_sqlite(connection, table, rows, json_text)
        return
    if connection.dialect.is_async or len(rows) < COPY_FROM_ROWS:
        # (psycopg's async connection, under AsyncModelRegistry, has no blocking COPY.)
        if json_text:
            rows = [_parsed(row, json_text) for row in rows]
        connection.execute(sa.insert(table), rows)
        return
    import psycopg  # noqa: PLC0415 - PostgreSQL only, where the driver is already loaded

    dialect = connection.dialect
    names = list(rows[0])
    quote = dialect.identifier_preparer.quote
    statement = (
        f"COPY {dialect.identifier_preparer.format_table(table)} "
        f"({', '.join(quote(name) for name in names)}) FROM STDIN"
    )
    driver = connection.connection.driver_connection
    try:
        with armed(connection), driver.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
            for values in _processed(connection, table, names, rows, json_text):
                copy.write_row(values)
    except psycopg.Error as exc:
        raise sa.exc.DBAPIError.instance(
            statement, None, exc, psycopg.Error, dialect=dialect
        ) from exc


def among(
    dialect: sa.Dialect,
    column: sa.ColumnElement[str] | QueryableAttribute[str],
    values: Sequence[str],
) -> list[sa.ColumnElement[bool]]:
    """Conditions ``column IN values`` (strings), one per statement to run (none for none).

    PostgreSQL: one ``column = ANY(:values)`` with the whole list as one array parameter
    (one statement, one parameter to adapt, the same SQL for any length). SQLite limits the
    parameters of a statement: IN lists of 500.
    """
    if not values:
        return []
    if dialect.name == "sqlite":
        return [column.in_(values[start : start + 500]) for start in range(0, len(values), 500)]
    array = sa.bindparam(None, list(values), type_=sa.ARRAY(sa.String()))
    return [column == sa.any_(array)]


def _bind_processors(
    connection: Connection, table: sa.Table, names: Sequence[str]
) -> list[Callable[[Any], Any] | None]:
    """Each named column's bind processor (what an INSERT would apply to its value)."""
    dialect = connection.dialect
    return [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names]


def _parsed(row: dict[str, Any], json_text: Collection[str]) -> dict[str, Any]:
    """``row`` with the JSON text of its ``json_text`` columns parsed (an INSERT's values)."""
    return {name: json.loads(value) if name in json_text else value for name, value in row.items()}


def _insert_sqlite(
    connection: Connection,
    table: sa.Table,
    rows: list[dict[str, Any]],
    json_text: Collection[str] = (),
) -> None:
    """``rows`` into ``table`` on SQLite: one driver executemany of processed tuples.

    Only the columns the rows name are given (the others take their server defaults, as
    ``sa.insert`` would: no column of these tables has a Python-side default).
    """
    names = list(rows[0])
    preparer = connection.dialect.identifier_preparer
    # Identifiers from the table, quoted; every value is a parameter.
    columns_sql = ", ".join(preparer.quote(name) for name in names)
    statement = f"INSERT INTO {preparer.format_table(table)} ({columns_sql}) VALUES "  # noqa: S608 - see above
    statement += f"({', '.join('?' * len(names))})"
    connection.exec_driver_sql(
        statement, list(_processed(connection, table, names, rows, json_text))
    )


def _processed(
    connection: Connection,
    table: sa.Table,
    names: list[str],
    rows: list[dict[str, Any]],
    json_text: Collection[str] = (),
) -> Iterator[tuple[Any, ...]]:
    """Each row's values of ``names``, through their columns' bind processors, as tuples.

    The columns of ``json_text`` hold JSON text, the driver's form of a JSON value already.
    """
    processors = [
        None if name in json_text else process
        for name, process in zip(names, _bind_processors(connection, table, names), strict=True)
    ]
    # Column by column: a value list per column, mapped through its processor, zipped back
    # (a third of the time of a processor call per value of each row).
    columns: list[Iterable[Any]] = [[row[name] for row in rows] for name in names]
    for index, process in enumerate(processors):
        if process is None:
            continue
        if _is_instant(table.c[names[index]].type):
            # An import's instants are one "now" per row: each distinct one is processed
            # once. (Equal instants give equal UTC text; naive ones never equal aware ones.)
            processed = {value: process(value) for value in set(columns[index])}
            columns[index] = map(processed.__getitem__, columns[index])
        else:
            columns[index] = map(process, columns[index])
    return zip(*columns, strict=True)


def _is_instant(column_type: sa.types.TypeEngine[Any]) -> bool:
    """Whether the column holds instants (a DateTime, or a type decorating one)."""
    inner = getattr(column_type, "impl_instance", column_type)  # a TypeDecorator's impl
    return isinstance(inner, sa.DateTime)


def _configure_sqlite(engine: Engine, timeout: float) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below start transactions, not the sqlite3 module.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get(_WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
