"""The in-process read cache: snapshots, the cache that holds them, the change feed.

Rule: reads the database only through :mod:`modelregistry.db` (the contract in
:mod:`modelregistry.cache.contract`); never imports the registry or the CLI.
"""
