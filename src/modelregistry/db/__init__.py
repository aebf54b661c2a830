"""The database: engines and units of work, tables, mapping, queries, notifications, migrations.

Rule: the only package that imports SQLAlchemy or psycopg; it returns domain objects and
raises modelregistry's errors (translated once, in :mod:`modelregistry.db.errors`).
"""
