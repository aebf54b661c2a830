"""``modelregistry info``: what this installation talks to, and in what state."""

from __future__ import annotations

import platform
from datetime import datetime
from typing import Any

import typer

from modelregistry import __version__
from modelregistry.cli.common import (
    JsonOption,
    Options,
    app,
    print_json,
    report,
)
from modelregistry.cli.tables import fields_table, print_table
from modelregistry.errors import ModelRegistryError
from modelregistry.settings import resolve_database_url

# The database modules are imported inside the command: see cli.common.


@app.command("info")
def info(ctx: typer.Context, as_json: bool = JsonOption) -> None:
    """Show the version, the database (password masked), its schema, models and cache.

    Reads only: an empty database is reported as such, not created. Exits 1, after what it
    could read, when the database cannot be reached or its schema is not this version's.

    Example: modelregistry --db postgresql://admin:secret@db/catalog info --json
    """
    from modelregistry.db.engine import safe_url  # noqa: PLC0415 - see above

    options: Options = ctx.obj
    data: dict[str, Any] = {"version": __version__, "python": platform.python_version()}
    problem: ModelRegistryError | None = None
    try:
        url = resolve_database_url(options.database_url)
        data["database"] = safe_url(url)
        _describe(url, data)
    except ModelRegistryError as exc:
        problem = exc
        data["error"] = exc.to_dict()
    if as_json:
        print_json(data)
    else:
        print_table(fields_table(_lines(data)))
    if problem is not None:
        report(problem)
        raise typer.Exit(1)


def _describe(url: str, data: dict[str, Any]) -> None:
    """Fill ``data`` with the schema, the catalog's counts and the cache's state."""
    from modelregistry.db import migrate  # noqa: PLC0415 - see above
    from modelregistry.db.engine import is_memory_sqlite  # noqa: PLC0415
    from modelregistry.registry import DEFAULT_POLL_INTERVAL, ModelRegistry  # noqa: PLC0415

    with migrate.database(url) as engine:
        current = migrate.current(engine)
        memory, sqlite = is_memory_sqlite(engine.url), engine.dialect.name == "sqlite"
    head = migrate.head_revision()
    data["schema"] = {"current": current, "head": head, "up_to_date": current == head}
    if current is None and not memory:
        return  # an empty database: the first command that uses it creates the schema
    # Opened with its cache and change feed, as a long-running process would: the state
    # shown is a real one (the catalog loaded, the feed started).
    with ModelRegistry(url) as registry:
        stats = registry.get_stats()
    data["models"] = {"total": stats["total_models"], "active": stats["active_models"]}
    data["cache"] = stats["cache"]
    if memory:
        data["change_feed"] = {"mode": "none (a private in-memory catalog)"}
    else:
        mode = "polling" if sqlite else "LISTEN/NOTIFY, and polling"
        data["change_feed"] = {"mode": mode, "poll_interval_seconds": DEFAULT_POLL_INTERVAL}


def _lines(data: dict[str, Any]) -> dict[str, object]:
    lines: dict[str, object] = {
        "version": f"modelregistry {data['version']} (Python {data['python']})",
        "database": data.get("database", "-"),
    }
    schema = data.get("schema")
    if schema is not None:
        current, head = schema["current"], schema["head"]
        if current is None:
            lines["schema"] = f"none: an empty database (created at first use; newest {head})"
        elif schema["up_to_date"]:
            lines["schema"] = f"{current} (up to date)"
        else:
            lines["schema"] = f"{current}, newest {head}"
    models = data.get("models")
    if models is not None:
        lines["models"] = f"{models['total']} ({models['active']} active)"
    cache = data.get("cache")
    if cache is not None:
        synced = datetime.fromisoformat(cache["synced_at"]).strftime("%Y-%m-%d %H:%M:%S")
        lines["cache"] = (
            f"{cache['state']}: revision {cache['revision']}, {cache['models']} models, "
            f"synced {synced} UTC"
        )
    feed = data.get("change_feed")
    if feed is not None:
        every = feed.get("poll_interval_seconds")
        lines["change feed"] = feed["mode"] + (f" every {every:g} s" if every else "")
    return lines
