"""Shared by the command groups: the Typer apps, consoles, options and printing."""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, NoReturn

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from modelregistry import __version__
from modelregistry.db import migrate
from modelregistry.errors import MAX_LISTED_PROBLEMS, InvalidCatalogFileError, ModelRegistryError
from modelregistry.registry import ModelRegistry
from modelregistry.settings import ACTOR_VARIABLE, DATABASE_URL_VARIABLE

if TYPE_CHECKING:
    from collections.abc import Iterator

    from modelregistry.db.engine import Engine

app = typer.Typer(
    name="modelregistry",
    help="Manage the LLM catalog: models, their capabilities, limits, prices and status.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Schema migrations of the catalog database.", no_args_is_help=True)
models_app = typer.Typer(help="List, show and change models.", no_args_is_help=True)
prices_app = typer.Typer(help="Prices of models over time.", no_args_is_help=True)
aliases_app = typer.Typer(help="Other names of models.", no_args_is_help=True)
metrics_app = typer.Typer(
    help="Prometheus metrics of the catalog. Example: modelregistry metrics serve --port 9464",
    no_args_is_help=True,
)
app.add_typer(db_app, name="db")
app.add_typer(models_app, name="models")
app.add_typer(prices_app, name="prices")
app.add_typer(aliases_app, name="aliases")
app.add_typer(metrics_app, name="metrics")
overrides_app = typer.Typer(help="Local edits of synced models.", no_args_is_help=True)  # sync.py
app.add_typer(overrides_app, name="overrides")
catalog_app = typer.Typer(help="The catalog file format.", no_args_is_help=True)  # catalog_doc.py
app.add_typer(catalog_app, name="catalog")

out = Console(highlight=False, markup=False, emoji=False, soft_wrap=False)
err = Console(stderr=True, highlight=False, markup=False, emoji=False, soft_wrap=True)

JsonOption = typer.Option(False, "--json", help="Print JSON instead of a table.")
ActorOption = typer.Option(
    None, "--actor", help=f"Who makes the change (default: ${ACTOR_VARIABLE}, else your user)."
)
ReasonOption = typer.Option(None, "--reason", help="Why; recorded in the model's history.")
ExpectedVersionOption = typer.Option(
    None,
    "--expected-version",
    min=0,
    help="Refuse (E4030) unless the model is at this version.",
)


def parse_instant(value: str | None, option: str = "--as-of") -> datetime | None:
    """Parse a time option: ISO 8601, UTC when no offset is given."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        msg = f"{value!r} is not an ISO 8601 time (e.g. 2026-01-01T00:00:00Z)"
        raise typer.BadParameter(msg, param_hint=f"'{option}'") from exc
    parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed
    try:
        return parsed.astimezone(UTC)
    except OverflowError as exc:
        msg = f"{value!r} is outside the years 1-9999 in UTC"
        raise typer.BadParameter(msg, param_hint=f"'{option}'") from exc


AsOfOption = typer.Option(
    None,
    "--as-of",
    help="Read the catalog as it was at this ISO 8601 time (UTC when no offset is given).",
)


@dataclass(frozen=True, slots=True)
class Options:
    """The options of the root command, for every command (``ctx.obj``)."""

    database_url: str | None


def _version(value: bool) -> None:
    if value:
        typer.echo(f"modelregistry {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    ctx: typer.Context,
    database_url: str | None = typer.Option(
        None,
        "--database-url",
        "--db",
        envvar=DATABASE_URL_VARIABLE,
        show_envvar=True,
        help="SQLAlchemy URL of the catalog (default: the embedded SQLite file).",
    ),
    _show_version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    ctx.obj = Options(database_url=database_url)


def fail(exc: ModelRegistryError) -> NoReturn:
    """Report ``exc`` on stderr and exit 1."""
    report(exc)
    raise typer.Exit(1) from exc


def report(exc: ModelRegistryError) -> None:
    """One line; a catalog file with several problems gets one more line per problem."""
    violations = getattr(exc, "violations", [])
    if isinstance(exc, InvalidCatalogFileError) and len(violations) > 1:
        source = exc.context.get("source")
        err.print(f"error: {exc.code}: invalid catalog {source}: {len(violations)} problems")
        for violation in violations[:MAX_LISTED_PROBLEMS]:
            err.print(f"  {violation}".replace("\n", " "))
        if len(violations) > MAX_LISTED_PROBLEMS:
            err.print(f"  ... and {len(violations) - MAX_LISTED_PROBLEMS} more")
        return
    err.print(f"error: {exc}".replace("\n", " "))


@contextmanager
def catalog(ctx: typer.Context) -> Iterator[ModelRegistry]:
    """Open the registry named by ``--database-url`` (errors: one line, exit 1)."""
    # One-shot commands read the database directly: loading the whole catalog into a cache
    # (and starting its change feed) would cost more than the one query they make.
    options: Options = ctx.obj
    try:
        with ModelRegistry(options.database_url, cache=False) as registry:
            yield registry
    except ModelRegistryError as exc:
        fail(exc)


@contextmanager
def schema(ctx: typer.Context) -> Iterator[Engine]:
    """Open an engine for the ``db`` commands (errors: one line, exit 1)."""
    options: Options = ctx.obj
    try:
        with migrate.database(options.database_url) as engine:
            yield engine
    except ModelRegistryError as exc:
        fail(exc)


def printable(text: str) -> str:
    """``text`` with its control characters escaped, as Python writes them.

    For free text such as a change's reason: what a writer typed must not drive the terminal
    of whoever reads the history (an escape sequence, a line break).
    """
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


def print_json(data: object) -> None:
    """Print ``data`` as indented JSON."""
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


def simple_table(*columns: str) -> Table:
    """A plain table with these column headers."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def fields_table(rows: dict[str, object]) -> Table:
    """A two-column FIELD/VALUE table."""
    table = Table(box=box.SIMPLE, show_header=False, pad_edge=False)
    table.add_column("FIELD", style="bold")
    table.add_column("VALUE", overflow="fold")
    for field, value in rows.items():
        table.add_row(field, "-" if value is None else str(value))
    return table
