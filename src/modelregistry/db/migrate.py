"""Schema migrations: upgrade, downgrade, current revision and the check made on open.

Used by the registry (:func:`ensure_schema`), the CLI (``modelregistry db ...``, through
:func:`database`) and the tests. Alembic is imported only when a migration actually runs, so
opening an up-to-date catalog costs one query. Every migration runs in one transaction that
holds the catalog's write lock (an advisory lock on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite),
so processes that open the same empty database at once create one schema and seed it once.

The revision is kept in the table ``modelregistry_alembic_version``, not Alembic's default
name, so the catalog can share a PostgreSQL database with another Alembic-managed application.

The migrations live in ``migrations/`` at the repository root, beside ``alembic.ini``; the
wheel carries a copy as ``modelregistry/migrations`` (:data:`MIGRATIONS_DIR` finds either).
"""

from __future__ import annotations

from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Final

import sqlalchemy as sa

from modelregistry.db.engine import (
    is_memory_sqlite,
    is_sqlite,
    lock_for_writes,
    make_engine,
    safe_url,
    use_wal,
    writer,
)
from modelregistry.db.errors import translating
from modelregistry.errors import MigrationError, SchemaOutdatedError, SchemaUnknownError
from modelregistry.settings import resolve_database_url

if TYPE_CHECKING:
    from collections.abc import Iterator

    from alembic.config import Config
    from sqlalchemy.engine import Connection, Engine


def locate_migrations(module: Path = Path(__file__)) -> Path:
    """Alembic's script location for this copy of modelregistry, given where ``migrate.py`` is.

    Installed from a wheel, the migrations are inside the package (``modelregistry/migrations``,
    force-included by the build); in a checkout or an editable install they are the repository's
    ``migrations/`` (``src/modelregistry/db/migrate.py`` -> ``../../../migrations``). A folder
    counts only if it holds ``env.py``: a checkout that had the old in-package location keeps an
    untracked ``__pycache__`` there, which must not shadow the real migrations.

    Raises:
        MigrationError: E4012, neither place holds the migrations (a broken installation).
    """
    package = module.parent.parent  # .../modelregistry
    packaged = package / "migrations"
    checkout = package.parent.parent / "migrations"  # src/modelregistry -> the repository root
    for candidate in (packaged, checkout):
        if (candidate / "env.py").is_file():
            return candidate
    msg = (
        f"the Alembic migrations are missing: neither {packaged} (a wheel install) nor "
        f"{checkout} (a checkout) holds env.py; reinstall modelregistry"
    )
    raise MigrationError(msg, searched=[str(packaged), str(checkout)])


MIGRATIONS_DIR: Final = locate_migrations()
"""Alembic's script location: the package's copy, else the checkout's."""
VERSION_TABLE: Final = "modelregistry_alembic_version"
"""Where the database records its schema revision."""


@cache
def known_revisions() -> tuple[str, ...]:
    """Every revision id this version knows, oldest first (``0001``, ``0002``, ...).

    Read from the file names (``versions/NNNN_slug.py``) without loading Alembic; a test checks
    that Alembic's own revision graph agrees.
    """
    names = (path.name for path in (MIGRATIONS_DIR / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))
    return tuple(sorted(name.split("_", 1)[0] for name in names))


def head_revision() -> str:
    """The newest revision this version of modelregistry knows."""
    return known_revisions()[-1]


def current_revision(connection: Connection) -> str | None:
    """The database's schema revision, or None when it has never been migrated."""
    if not sa.inspect(connection).has_table(VERSION_TABLE):
        return None
    version = sa.table(VERSION_TABLE, sa.column("version_num", sa.String))
    return connection.execute(sa.select(version.c.version_num)).scalar_one_or_none()


@contextmanager
def database(url: str | None = None) -> Iterator[Engine]:
    """Open an engine on the catalog at ``url``, resolved like the registry's.

    For the ``db`` commands; database errors inside the block become modelregistry errors.

    Raises:
        DatabaseError: E4021, the URL is unusable or its driver is not installed.
    """
    resolved = resolve_database_url(url)
    with translating(database=safe_url(resolved)):
        engine = make_engine(resolved)
        try:
            yield engine
        finally:
            engine.dispose()


def current(engine: Engine) -> str | None:
    """The schema revision of the database behind ``engine`` (None: never migrated).

    A SQLite file that does not exist is not created by asking.
    """
    file = engine.url.database
    if is_sqlite(engine) and not is_memory_sqlite(engine.url) and file and not Path(file).exists():
        return None
    with translating(database=safe_url(engine.url)), engine.connect() as connection:
        return current_revision(connection)


def is_current(engine: Engine) -> bool:
    """Tell whether the database is at the newest known revision."""
    return current(engine) == head_revision()


def ensure_schema(engine: Engine, *, auto_migrate: bool = False) -> None:
    """Make sure the database is usable by this version, as the registry does on open.

    An empty database is migrated to the newest revision. A database at an older revision is
    upgraded only when ``auto_migrate`` is True. A refused database is left untouched.

    Raises:
        SchemaOutdatedError: E4010, the database is older and ``auto_migrate`` is False.
        SchemaUnknownError: E4011, the database is at a revision this version does not know.
    """
    found = current(engine)
    if found == head_revision():
        return
    _check_known(found)
    if found is not None and not auto_migrate:
        raise SchemaOutdatedError(found, head_revision())
    upgrade(engine)


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Upgrade the database to ``revision`` (default: the newest) in one locked transaction.

    Raises:
        SchemaUnknownError: E4011, the database is at a revision this version does not know.
        MigrationError: E4012, ``revision`` is unknown or not ahead of the database.
    """
    _run(engine, "upgrade", revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Downgrade the database to ``revision`` (``base`` removes every table).

    Raises:
        SchemaUnknownError: E4011, the database is at a revision this version does not know.
        MigrationError: E4012, ``revision`` is unknown or not behind the database.
    """
    _run(engine, "downgrade", revision)


def stamp(engine: Engine, revision: str) -> None:
    """Record ``revision`` as the database's schema revision without running any migration.

    For a schema made by hand (the SQL of :func:`offline_sql` applied by a DBA).

    Raises:
        SchemaUnknownError: E4011, the database is at a revision this version does not know.
        MigrationError: E4012, ``revision`` is unknown.
    """
    _run(engine, "stamp", revision)


def history() -> list[tuple[str, str]]:
    """Every revision this version knows, oldest first, with its one-line description."""
    from alembic.script import ScriptDirectory  # noqa: PLC0415 - Alembic only when asked

    scripts = ScriptDirectory.from_config(alembic_config())
    revisions = [(rev.revision, (rev.doc or "").strip()) for rev in scripts.walk_revisions()]
    return revisions[::-1]


def offline_sql(url: str, revision: str = "head", start: str | None = None) -> str:
    """The SQL an upgrade to ``revision`` runs, from ``start`` (default: an empty database).

    Alembic's offline mode: nothing connects to ``url``; its dialect decides the SQL. For DBAs
    who apply migrations by hand (then :func:`stamp`, or the SQL's own version-table update).

    Raises:
        MigrationError: E4012, a revision is unknown.
    """
    import io  # noqa: PLC0415 - only for this function

    from alembic import command  # noqa: PLC0415 - Alembic is loaded only to migrate
    from alembic.util import CommandError  # noqa: PLC0415

    config = alembic_config()
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    buffer = io.StringIO()
    config.output_buffer = buffer
    target = f"{start}:{revision}" if start else revision
    try:
        command.upgrade(config, target, sql=True)
    except CommandError as exc:
        message = str(exc).strip().splitlines()[0]
        msg = f"cannot write the SQL of an upgrade to {target!r}: {message}"
        raise MigrationError(msg, revision=target) from exc
    except AttributeError as exc:  # Alembic's offline connection cannot answer a query
        running = [line for line in buffer.getvalue().splitlines() if "Running upgrade" in line]
        step = running[-1].split("Running upgrade", 1)[1].strip() if running else target
        msg = (
            f"the migration {step} reads the catalog while it runs (a data migration), so its "
            "SQL cannot be written offline: start after it with --from, or run "
            "`modelregistry db upgrade` on the database"
        )
        raise MigrationError(msg, revision=target) from exc
    return buffer.getvalue()


def _check_known(found: str | None) -> None:
    if found is not None and found not in known_revisions():
        raise SchemaUnknownError(found, head_revision())


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic ``Config`` for :data:`MIGRATIONS_DIR`, bound to ``connection`` if given."""
    from alembic.config import Config  # noqa: PLC0415 - Alembic is loaded only to migrate

    config = Config()
    # Options are interpolated by configparser: a "%" in the path must be doubled.
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _run(engine: Engine, command_name: str, revision: str) -> None:
    from alembic import command  # noqa: PLC0415 - Alembic is loaded only to migrate
    from alembic.util import CommandError  # noqa: PLC0415

    with translating(database=safe_url(engine.url)):
        use_wal(engine)
        with writer(engine).begin() as connection:
            lock_for_writes(connection)
            # Checked under the lock: another process may have migrated meanwhile.
            _check_known(current_revision(connection))
            try:
                getattr(command, command_name)(alembic_config(connection), revision)
            except CommandError as exc:
                message = str(exc).strip().splitlines()[0]
                msg = f"cannot {command_name} to {revision!r}: {message}"
                raise MigrationError(msg, revision=revision) from exc
