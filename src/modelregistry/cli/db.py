"""``modelregistry db``: schema migrations."""

from __future__ import annotations

import sys

import typer

from modelregistry.cli.common import (
    JsonOption,
    Options,
    YesOption,
    db_app,
    fail,
    print_json,
    resolved_url,
    schema,
    usage_error,
)
from modelregistry.errors import ModelRegistryError

# modelregistry.db.migrate (SQLAlchemy) is imported inside the commands: see cli.common.

_RELATIVE = {"ignore_unknown_options": True}
"""``db downgrade -1``: Alembic's relative revisions start with a minus, not an option."""


@db_app.command("upgrade")
def db_upgrade(
    ctx: typer.Context,
    revision: str = typer.Argument(
        "head", metavar="REVISION", help="Target: a revision, head (the default) or +N."
    ),
    sql: bool = typer.Option(
        False,
        "--sql",
        help="Print the SQL instead of running it (offline: nothing connects to the database; "
        "its URL picks the dialect).",
    ),
    start: str | None = typer.Option(
        None,
        "--from",
        metavar="REVISION",
        help="With --sql: the revision the database is at (default: an empty database).",
    ),
) -> None:
    """Upgrade the database schema (creating it if empty).

    Example: modelregistry db upgrade +1
    """
    from modelregistry.db import migrate  # noqa: PLC0415 - see cli.common

    if sql:
        options: Options = ctx.obj
        try:
            text = migrate.offline_sql(resolved_url(options.database_url), revision, start)
        except ModelRegistryError as exc:
            fail(exc)
        typer.echo(text, nl=False)
        return
    if start is not None:
        msg = "--from goes with --sql (a live upgrade starts where the database is)"
        raise typer.BadParameter(msg, param_hint="'--from'")
    with schema(ctx) as engine:
        migrate.upgrade(engine, revision)
        typer.echo(f"database at revision {migrate.current(engine)}")


@db_app.command("downgrade", context_settings=_RELATIVE)
def db_downgrade(
    ctx: typer.Context,
    revision: str = typer.Argument(
        ..., metavar="REVISION", help="Target: a revision, -N, or base (removes every table)."
    ),
    yes: bool = YesOption,
) -> None:
    """Downgrade the database schema to an older revision, deleting what later ones added.

    Below 0005 the reporting views go (they hold no data); below 0004 the prices and
    aliases; below 0003 every model's history, versions and lifecycle dates; 'base' deletes
    the whole catalog. Asks first at a terminal; elsewhere it needs --yes.

    Example: modelregistry db downgrade -1 --yes
    """
    from modelregistry.db import migrate  # noqa: PLC0415 - see cli.common

    if revision.startswith("-") and not revision[1:].isdigit():
        usage_error(f"no such option: {revision}", ctx)
    if not yes:
        question = f"Downgrade to {revision}? The data of the revisions undone is deleted"
        if not sys.stdin.isatty():
            usage_error(
                "downgrading deletes the data of the revisions undone: pass --yes to confirm", ctx
            )
        if not typer.confirm(question, default=False, err=True):
            typer.echo("not downgraded", err=True)
            raise typer.Exit(1)
    with schema(ctx) as engine:
        migrate.downgrade(engine, revision)
        typer.echo(f"database at revision {migrate.current(engine) or 'base'}")


@db_app.command("stamp")
def db_stamp(
    ctx: typer.Context,
    revision: str = typer.Argument(..., metavar="REVISION", help="The revision to record."),
) -> None:
    """Record a revision as the schema's without migrating (after applying --sql by hand).

    Example: modelregistry db stamp head
    """
    from modelregistry.db import migrate  # noqa: PLC0415 - see cli.common

    with schema(ctx) as engine:
        migrate.stamp(engine, revision)
        typer.echo(f"database stamped at revision {migrate.current(engine) or 'base'}")


@db_app.command("history")
def db_history(ctx: typer.Context, as_json: bool = JsonOption) -> None:
    """List the revisions this version knows, oldest first, marking the database's.

    Example: modelregistry db history
    """
    from modelregistry.db import migrate  # noqa: PLC0415 - see cli.common

    with schema(ctx) as engine:
        current = migrate.current(engine)
    revisions = migrate.history()
    if as_json:
        print_json(
            [
                {"revision": revision, "description": doc, "current": revision == current}
                for revision, doc in revisions
            ]
        )
        return
    for revision, doc in revisions:
        mark = "  (current)" if revision == current else ""
        typer.echo(f"{revision}  {doc.splitlines()[0] if doc else ''}{mark}".rstrip())


@db_app.command("current")
def db_current(ctx: typer.Context, as_json: bool = JsonOption) -> None:
    """Show the database's schema revision and the newest one this version knows.

    Example: modelregistry db current --json
    """
    from modelregistry.db import migrate  # noqa: PLC0415 - see cli.common

    with schema(ctx) as engine:
        current = migrate.current(engine)
    head = migrate.head_revision()
    if as_json:
        print_json({"current": current, "head": head, "up_to_date": current == head})
        return
    if current == head:
        state = "up to date"
    elif current is not None and current not in migrate.known_revisions():
        state = "unknown to this version of modelregistry: upgrade modelregistry"
    else:
        state = "run `modelregistry db upgrade`"
    typer.echo(f"current: {current or 'none (empty database)'}  head: {head}  ({state})")
