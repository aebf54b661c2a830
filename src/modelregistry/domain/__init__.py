"""The catalog's domain: models, history, prices, aliases, queries, catalog documents.

Rule: no I/O and no SQLAlchemy here; everything is plain Python and pydantic.
"""
