"""The ``modelregistry`` command line: parse, call the registry, print (a table or ``--json``).

Errors print one line on stderr (``error: E4001: model not found: 'x'``) and exit 1; usage
errors exit 2.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, NoReturn

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from modelregistry import __version__, migrate
from modelregistry.db.engine import make_engine, safe_url
from modelregistry.db.errors import translating
from modelregistry.domain import ModelStatus
from modelregistry.errors import ModelRegistryError
from modelregistry.registry import ModelRegistry
from modelregistry.settings import DATABASE_URL_VARIABLE, resolve_database_url

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sqlalchemy.engine import Engine

    from modelregistry.domain import ModelConfig

app = typer.Typer(
    name="modelregistry",
    help="Manage the LLM catalog: models, their capabilities, limits, prices and status.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Schema migrations of the catalog database.", no_args_is_help=True)
models_app = typer.Typer(help="List, show and change models.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(models_app, name="models")

_out = Console(highlight=False, soft_wrap=False)
_err = Console(stderr=True, highlight=False, soft_wrap=True)

JsonOption = typer.Option(False, "--json", help="Print JSON instead of a table.")


@dataclass(frozen=True, slots=True)
class _Options:
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
    ctx.obj = _Options(database_url=database_url)


def _fail(exc: ModelRegistryError) -> NoReturn:
    _err.print(f"error: {exc}".replace("\n", " "), markup=False)
    raise typer.Exit(1) from exc


@contextmanager
def _catalog(ctx: typer.Context) -> Iterator[ModelRegistry]:
    options: _Options = ctx.obj
    try:
        with ModelRegistry(options.database_url) as registry:
            yield registry
    except ModelRegistryError as exc:
        _fail(exc)


@contextmanager
def _engine(ctx: typer.Context) -> Iterator[Engine]:
    options: _Options = ctx.obj
    url = resolve_database_url(options.database_url)
    try:
        with translating(database=safe_url(url)):
            engine = make_engine(url)
        try:
            with translating(database=safe_url(url)):
                yield engine
        finally:
            engine.dispose()
    except ModelRegistryError as exc:
        _fail(exc)


def _print_json(data: object) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


def _money(value: float) -> str:
    return f"{value:g}"


def _models_table(models: list[ModelConfig]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    table.add_column("MODEL", overflow="fold", min_width=12)
    table.add_column("PROVIDER", overflow="fold")
    table.add_column("STATUS", no_wrap=True)
    table.add_column("CONTEXT", justify="right", no_wrap=True)
    table.add_column("$/1M IN/OUT", justify="right", no_wrap=True)
    table.add_column("CAPABILITIES", overflow="fold")
    for model in models:
        table.add_row(
            model.model_id,
            model.provider,
            model.status.value,
            f"{model.context_window:,}",
            f"{_money(model.cost_per_1m_input_tokens)}/{_money(model.cost_per_1m_output_tokens)}",
            " ".join(sorted(model.capabilities.names())),
        )
    return table


# -- db ------------------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade(
    ctx: typer.Context,
    revision: str = typer.Argument("head", help="Target revision (default: the newest)."),
) -> None:
    """Upgrade the database schema (creating it if empty).

    Example: modelregistry db upgrade
    """
    with _engine(ctx) as engine:
        migrate.upgrade(engine, revision)
        typer.echo(f"database at revision {migrate.current(engine)}")


@db_app.command("downgrade")
def db_downgrade(
    ctx: typer.Context,
    revision: str = typer.Argument(..., help="Target revision; 'base' removes every table."),
) -> None:
    """Downgrade the database schema to an older revision.

    Example: modelregistry db downgrade 0001
    """
    with _engine(ctx) as engine:
        migrate.downgrade(engine, revision)
        typer.echo(f"database at revision {migrate.current(engine) or 'base'}")


@db_app.command("current")
def db_current(ctx: typer.Context, as_json: bool = JsonOption) -> None:
    """Show the database's schema revision and the newest one this version knows.

    Example: modelregistry db current --json
    """
    with _engine(ctx) as engine:
        current = migrate.current(engine)
    head = migrate.head_revision()
    if as_json:
        _print_json({"current": current, "head": head, "up_to_date": current == head})
        return
    state = "up to date" if current == head else "run `modelregistry db upgrade`"
    typer.echo(f"current: {current or 'none (empty database)'}  head: {head}  ({state})")


# -- models --------------------------------------------------------------------------------


@models_app.command("list")
def models_list(
    ctx: typer.Context,
    provider: str | None = typer.Option(None, "--provider", "-p", help="Only this provider."),
    status: str | None = typer.Option(
        None, "--status", "-s", help="Only this status (active, deprecated, ...)."
    ),
    capability: list[str] | None = typer.Option(
        None, "--capability", "-c", help="Only models with this capability (repeatable)."
    ),
    as_json: bool = JsonOption,
) -> None:
    """List models, ordered by id.

    Example: modelregistry models list --capability vision --status active
    """
    with _catalog(ctx) as registry:
        models = registry.list_models(provider, status, capabilities=capability or ())
    if as_json:
        _print_json([model.model_dump(mode="json") for model in models])
    elif models:
        _out.print(_models_table(models))
    else:
        typer.echo("no models match")


@models_app.command("show")
def models_show(
    ctx: typer.Context,
    model_id: str = typer.Argument(..., help="The model's id (case-sensitive)."),
    as_json: bool = JsonOption,
) -> None:
    """Show every field of one model.

    Example: modelregistry models show llama3.1:8b
    """
    with _catalog(ctx) as registry:
        model = registry.get_model_or_raise(model_id)
    data = model.model_dump(mode="json")
    if as_json:
        _print_json(data)
        return
    table = Table(box=box.SIMPLE, show_header=False, pad_edge=False)
    table.add_column("FIELD", style="bold")
    table.add_column("VALUE", overflow="fold")
    data["capabilities"] = ", ".join(sorted(model.capabilities.names())) or "-"
    data["quality_scores"] = ", ".join(f"{k}={v}" for k, v in data["quality_scores"].items())
    for field, value in data.items():
        table.add_row(field, str(value))
    _out.print(table)


@models_app.command("set-status")
def models_set_status(
    ctx: typer.Context,
    model_id: str = typer.Argument(..., help="The model's id."),
    status: str = typer.Argument(
        ..., help=f"New status: {', '.join(s.value for s in ModelStatus)} (any case)."
    ),
) -> None:
    """Change the status of a model.

    Example: modelregistry models set-status llama3.2:3b deprecated
    """
    with _catalog(ctx) as registry:
        model = registry.update_model_status(model_id, status)
    typer.echo(f"{model.model_id}: status {model.status.value}")


# -- stats ---------------------------------------------------------------------------------


@app.command("stats")
def stats(ctx: typer.Context, as_json: bool = JsonOption) -> None:
    """Show counts of the catalog by status, provider and capability.

    Example: modelregistry stats --json
    """
    with _catalog(ctx) as registry:
        data = registry.get_stats()
        url = registry.url
    if as_json:
        _print_json(data)
        return
    table = Table(box=box.SIMPLE, show_header=False, pad_edge=False)
    table.add_column("KEY", style="bold")
    table.add_column("VALUE", overflow="fold")
    table.add_row("database", url)
    table.add_row("models", f"{data['total_models']} ({data['active_models']} active)")
    table.add_row("by status", ", ".join(f"{k}={v}" for k, v in data["by_status"].items()))
    table.add_row("providers", ", ".join(f"{k}={v}" for k, v in data["by_provider"].items()))
    table.add_row("capabilities", ", ".join(data["capabilities"]) or "-")
    _out.print(table)


def main() -> None:
    """Run the ``modelregistry`` command line."""
    app()
