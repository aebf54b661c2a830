"""When an import refreshes PostgreSQL's planner statistics (``ANALYZE``), seen on the wire.

An import that adds, changes or removes 1,000 models or more runs ``ANALYZE`` on the catalog
tables in the same call (so the change feed's query is planned on the new row counts before
autovacuum gets to it); a smaller one, such as a re-import that changes a few entries, does
not pay for it. Statements are seen with SQLAlchemy's engine events on a real PostgreSQL.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import event

from modelregistry import ModelRegistry

if TYPE_CHECKING:
    from collections.abc import Iterator


def _models(count: int, *, start: int = 0, context_window: int = 8192) -> list[dict[str, Any]]:
    return [
        {
            "model_id": f"bulk/model-{number:05d}",
            "provider": "bulk",
            "context_window": context_window,
            "max_output_tokens": 1024,
            "cost_per_1m_input_tokens": 1.0,
            "cost_per_1m_output_tokens": 2.0,
        }
        for number in range(start, start + count)
    ]


@contextmanager
def _analyzes() -> Iterator[list[str]]:
    seen: list[str] = []

    def before(*args: Any) -> None:
        statement: str = args[2]
        if statement.lstrip().upper().startswith("ANALYZE"):
            seen.append(" ".join(statement.split()))

    event.listen(sa.engine.Engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(sa.engine.Engine, "before_cursor_execute", before)


def test_a_large_import_analyzes_and_a_small_one_does_not(postgres_schema_url: str) -> None:
    with ModelRegistry(postgres_schema_url, cache=False) as registry:
        with _analyzes() as seen:
            registry.import_catalog({"models": _models(999)})
        assert seen == [], "999 added models: below the threshold, no ANALYZE"

        with _analyzes() as seen:
            registry.import_catalog({"models": _models(1000, start=999)})
        revisions = "model_revisions (id, model_id, version, change, changed_at, actor, reason)"
        assert seen == [f"ANALYZE models, model_capabilities, {revisions}, providers"]
        with registry._parts.database.engine.connect() as connection:  # noqa: SLF001 - its engine
            counted = connection.execute(
                sa.text("SELECT reltuples FROM pg_class WHERE oid = 'model_revisions'::regclass")
            ).scalar_one()
        assert counted == 1999 + 3  # the planner sees the rows (and the three seeded models)

        with _analyzes() as seen:  # the same 1,999 again, 10 of them changed: no work to plan
            entries = _models(1989, start=10) + _models(10, context_window=4096)
            result = registry.import_catalog({"models": entries})
        assert len(result.changed) == 10
        assert seen == []

        with _analyzes() as seen:  # every model changed: the statistics are refreshed again
            registry.import_catalog({"models": _models(1999, context_window=16384)})
        assert len(seen) == 1
