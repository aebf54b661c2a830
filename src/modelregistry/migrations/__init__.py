"""Alembic environment and revisions of the catalog schema (shipped inside the package)."""
