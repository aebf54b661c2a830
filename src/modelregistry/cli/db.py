"""``modelregistry db``: schema migrations."""

from __future__ import annotations

import typer

from modelregistry.cli.common import (
    JsonOption,
    db_app,
    print_json,
    schema,
)
from modelregistry.db import migrate


@db_app.command("upgrade")
def db_upgrade(
    ctx: typer.Context,
    revision: str = typer.Argument("head", help="Target revision (default: the newest)."),
) -> None:
    """Upgrade the database schema (creating it if empty).

    Example: modelregistry db upgrade
    """
    with schema(ctx) as engine:
        migrate.upgrade(engine, revision)
        typer.echo(f"database at revision {migrate.current(engine)}")


@db_app.command("downgrade")
def db_downgrade(
    ctx: typer.Context,
    revision: str = typer.Argument(..., help="Target revision; 'base' removes every table."),
    yes: bool = typer.Option(
        False, "--yes", help="Confirm: the data of the revisions undone is deleted."
    ),
) -> None:
    """Downgrade the database schema to an older revision, deleting what later ones added.

    Below 0005 the reporting views go (they hold no data); below 0004 the prices and
    aliases; below 0003 every model's history, versions and lifecycle dates; 'base' deletes
    the whole catalog. Refused without --yes.

    Example: modelregistry db downgrade 0002 --yes
    """
    if not yes:
        msg = "downgrading deletes the data of the revisions undone; pass --yes to confirm"
        raise typer.BadParameter(msg, param_hint="'--yes'")
    with schema(ctx) as engine:
        migrate.downgrade(engine, revision)
        typer.echo(f"database at revision {migrate.current(engine) or 'base'}")


@db_app.command("current")
def db_current(ctx: typer.Context, as_json: bool = JsonOption) -> None:
    """Show the database's schema revision and the newest one this version knows.

    Example: modelregistry db current --json
    """
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
