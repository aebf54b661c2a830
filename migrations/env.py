"""Alembic environment: runs on the caller's connection when one is given.

This folder sits at the repository root beside ``alembic.ini`` and is copied into the wheel as
``modelregistry/migrations`` (``modelregistry.db.migrate.MIGRATIONS_DIR`` finds either).
``modelregistry.db.migrate`` passes its connection (already in a locked transaction) through
``config.attributes["connection"]``. Run from the ``alembic`` command line, the database URL
comes from ``-x url=...``, then ``sqlalchemy.url`` in alembic.ini, then the
``MODELREGISTRY_DATABASE_URL`` environment variable, then the embedded default; the migration
takes the catalog's write lock like the library does.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from modelregistry.db.engine import lock_for_writes, make_engine, use_wal, writer
from modelregistry.db.migrate import VERSION_TABLE
from modelregistry.db.tables import Base
from modelregistry.settings import resolve_database_url

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    explicit = context.get_x_argument(as_dictionary=True).get("url")
    return resolve_database_url(explicit or config.get_main_option("sqlalchemy.url"))


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        version_table=VERSION_TABLE,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        version_table=VERSION_TABLE,
    )
    with context.begin_transaction():
        context.run_migrations()
elif isinstance(shared := config.attributes.get("connection"), Connection):
    _run(shared)
else:
    engine = make_engine(_url())
    try:
        use_wal(engine)
        with writer(engine).begin() as connection:
            lock_for_writes(connection)
            _run(connection)
    finally:
        engine.dispose()
