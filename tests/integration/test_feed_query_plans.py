"""PostgreSQL reads the revisions after an anchor through the primary key, not the whole log.

The change feed's read and the JetStream outbox's run as prepared statements (psycopg
prepares a statement at its fifth execution). A prepared statement's generic plan cannot see
its parameter: for ``id >= $1`` PostgreSQL guesses a third of the table and scans all of it,
so each change a reader applied cost a pass over every revision (about 10 ms at 100,000
revisions, and 1 ms of a 1,000-model reader's 1.8 ms refresh where the log's statistics
were never gathered). Each statement is taken as the registry sent it, prepared, and planned
the generic way (``plan_cache_mode = force_generic_plan``) on an analysed log of a few thousand
revisions: its scan of the log must be planned for a small share of it, and be no sequential
scan.
"""

from __future__ import annotations

import json
import re
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
import sqlalchemy as sa
from psycopg import sql
from sqlalchemy import event
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from bench_data import generated_catalog

if TYPE_CHECKING:
    from collections.abc import Iterator

PLACEHOLDER = re.compile(r"%\((\w+)\)s")
IMPORTED = 3000
"""Models imported: a log of about as many revisions, analysed (the import runs ANALYZE)."""


def _captured(run: Any) -> list[tuple[str, dict[str, Any]]]:
    """The statements (with their parameters) this thread sent that read model_revisions."""
    thread = threading.get_ident()
    found: list[tuple[str, dict[str, Any]]] = []

    def before(_c: Any, _cu: Any, statement: str, parameters: Any, _x: Any, _m: Any) -> None:
        if threading.get_ident() == thread and "FROM model_revisions" in statement:
            found.append((statement, dict(parameters or {})))

    event.listen(sa.engine.Engine, "before_cursor_execute", before)
    try:
        run()
    finally:
        event.remove(sa.engine.Engine, "before_cursor_execute", before)
    return found


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", ()):
        yield from _nodes(child)


def _generic_plan(url: str, statement: str, parameters: dict[str, Any]) -> list[dict[str, Any]]:
    """The plan nodes of ``statement`` prepared and planned without its parameters' values."""
    names: list[str] = []

    def numbered(match: re.Match[str]) -> str:
        names.append(match.group(1))
        return f"${len(names)}"

    text = PLACEHOLDER.sub(numbered, statement)
    libpq = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq, autocommit=True) as connection:
        connection.execute("SET plan_cache_mode = force_generic_plan")
        connection.execute(sql.SQL("PREPARE feed_read AS {}").format(sql.SQL(text)))
        values = sql.SQL(", ").join(sql.Literal(parameters[name]) for name in names)
        explain = sql.SQL("EXPLAIN (FORMAT JSON) EXECUTE feed_read({})").format(values)
        found = connection.execute(explain).fetchone()
    assert found is not None
    plan = found[0]
    document = plan if isinstance(plan, list) else json.loads(plan)
    return list(_nodes(document[0]["Plan"]))


def _log_scans(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The plan's scans of model_revisions that filter on the revision number (not max(id))."""
    return [
        node
        for node in nodes
        if node.get("Relation Name") == "model_revisions"
        and ">="
        in (node.get("Filter", "") + node.get("Index Cond", "") + node.get("Recheck Cond", ""))
    ]


def test_the_change_feeds_read_and_the_outbox_use_the_revisions_index(
    postgres_schema_url: str,
) -> None:
    from modelregistry import ModelRegistry  # noqa: PLC0415 - the class under test
    from modelregistry.db.outbox import read_outbox  # noqa: PLC0415 - the outbox's read

    with (
        ModelRegistry(postgres_schema_url, poll_interval=3600) as reader,
        ModelRegistry(postgres_schema_url, cache=False) as writer,
    ):
        writer.import_catalog({"models": generated_catalog(IMPORTED)})  # (and ANALYZE)
        reader.refresh()
        cache = reader._parts.cache  # noqa: SLF001 - its refreshes held back, then run here
        assert cache is not None
        with cache.snapshots.holding_refreshes():
            writer.update_model_status("llama3.1:8b", "deprecated")
            feed_reads = _captured(reader.refresh)
        newest = writer.get_model_history("llama3.1:8b")[-1]
        assert reader.get_model_or_raise("llama3.1:8b").version == newest.version
        database = reader._parts.database  # noqa: SLF001 - the outbox's own read
        outbox_reads = _captured(lambda: database.read(lambda repo: read_outbox(repo, IMPORTED)))
    assert feed_reads, "the refresh read no revision"
    assert outbox_reads, "the outbox read no revision"
    for statement, parameters in [*feed_reads, *outbox_reads]:
        scans = _log_scans(_generic_plan(postgres_schema_url, statement, parameters))
        assert scans, statement
        for scan in scans:
            # The guess that sends the planner to a pass over the log: a third of it.
            assert scan["Plan Rows"] <= IMPORTED * 0.05, (statement, scan)
            assert scan["Node Type"] != "Seq Scan", (statement, scan)
