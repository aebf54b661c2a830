"""Database plumbing: tables, engine creation, row mapping and error translation."""
