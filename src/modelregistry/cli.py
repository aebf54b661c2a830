"""The ``modelregistry`` command line: parse, call the registry, print (a table or ``--json``).

Errors print one line on stderr (``error: E4001: model not found: 'x'``) and exit 1; usage
errors exit 2. Values are printed as they are stored: never read as markup or emoji codes.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from rich import box
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from modelregistry import __version__, migrate
from modelregistry.catalog_file import format_of, parse_catalog, parse_text
from modelregistry.domain import ModelStatus
from modelregistry.errors import InvalidCatalogFileError, ModelRegistryError
from modelregistry.history import diff_configs
from modelregistry.registry import ModelRegistry
from modelregistry.settings import ACTOR_VARIABLE, DATABASE_URL_VARIABLE

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sqlalchemy.engine import Engine

    from modelregistry.catalog_file import Format, ImportResult
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

_out = Console(highlight=False, markup=False, emoji=False, soft_wrap=False)
_err = Console(stderr=True, highlight=False, markup=False, emoji=False, soft_wrap=True)

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


def _instant(value: str | None) -> datetime | None:
    """Parse ``--as-of``: ISO 8601, UTC when no offset is given."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        msg = f"{value!r} is not an ISO 8601 time (e.g. 2026-01-01T00:00:00Z)"
        raise typer.BadParameter(msg, param_hint="'--as-of'") from exc
    parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed
    try:
        return parsed.astimezone(UTC)
    except OverflowError as exc:
        msg = f"{value!r} is outside the years 1-9999 in UTC"
        raise typer.BadParameter(msg, param_hint="'--as-of'") from exc


AsOfOption = typer.Option(
    None,
    "--as-of",
    help="Read the catalog as it was at this ISO 8601 time (UTC when no offset is given).",
)


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
    _report(exc)
    raise typer.Exit(1) from exc


def _report(exc: ModelRegistryError) -> None:
    """One line; a catalog file with several problems gets one more line per problem."""
    violations = getattr(exc, "violations", [])
    if isinstance(exc, InvalidCatalogFileError) and len(violations) > 1:
        source = exc.context.get("source")
        _err.print(f"error: {exc.code}: invalid catalog {source}: {len(violations)} problems")
        for violation in violations:
            _err.print(f"  {violation}".replace("\n", " "))
        return
    _err.print(f"error: {exc}".replace("\n", " "))


@contextmanager
def _catalog(ctx: typer.Context) -> Iterator[ModelRegistry]:
    # One-shot commands read the database directly: loading the whole catalog into a cache
    # (and starting its change feed) would cost more than the one query they make.
    options: _Options = ctx.obj
    try:
        with ModelRegistry(options.database_url, cache=False) as registry:
            yield registry
    except ModelRegistryError as exc:
        _fail(exc)


@contextmanager
def _schema(ctx: typer.Context) -> Iterator[Engine]:
    options: _Options = ctx.obj
    try:
        with migrate.database(options.database_url) as engine:
            yield engine
    except ModelRegistryError as exc:
        _fail(exc)


def _print_json(data: object) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


def _table(*columns: str) -> Table:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def _fields_table(rows: dict[str, object]) -> Table:
    table = Table(box=box.SIMPLE, show_header=False, pad_edge=False)
    table.add_column("FIELD", style="bold")
    table.add_column("VALUE", overflow="fold")
    for field, value in rows.items():
        table.add_row(field, "-" if value is None else str(value))
    return table


def _model_json(model: ModelConfig) -> dict[str, object]:
    return {**model.model_dump(mode="json"), "version": model.version}


def _print_models(models: list[ModelConfig], *, as_json: bool) -> None:
    if as_json:
        _print_json([_model_json(model) for model in models])
    elif models:
        _out.print(_models_table(models))
    else:
        typer.echo("no models match")


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
    with _schema(ctx) as engine:
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

    Below 0003 that is every model's history, versions and lifecycle dates; 'base' deletes
    the whole catalog. Refused without --yes.

    Example: modelregistry db downgrade 0002 --yes
    """
    if not yes:
        msg = "downgrading deletes the data of the revisions undone; pass --yes to confirm"
        raise typer.BadParameter(msg, param_hint="'--yes'")
    with _schema(ctx) as engine:
        migrate.downgrade(engine, revision)
        typer.echo(f"database at revision {migrate.current(engine) or 'base'}")


@db_app.command("current")
def db_current(ctx: typer.Context, as_json: bool = JsonOption) -> None:
    """Show the database's schema revision and the newest one this version knows.

    Example: modelregistry db current --json
    """
    with _schema(ctx) as engine:
        current = migrate.current(engine)
    head = migrate.head_revision()
    if as_json:
        _print_json({"current": current, "head": head, "up_to_date": current == head})
        return
    if current == head:
        state = "up to date"
    elif current is not None and current not in migrate.known_revisions():
        state = "unknown to this version of modelregistry: upgrade modelregistry"
    else:
        state = "run `modelregistry db upgrade`"
    typer.echo(f"current: {current or 'none (empty database)'}  head: {head}  ({state})")


# -- models: reads -------------------------------------------------------------------------


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
    as_of: str | None = AsOfOption,
    as_json: bool = JsonOption,
) -> None:
    """List models, ordered by id.

    Example: modelregistry models list --capability vision --status active
    """
    when = _instant(as_of)
    with _catalog(ctx) as registry:
        models = registry.list_models(provider, status, capabilities=capability or (), as_of=when)
    _print_models(models, as_json=as_json)


@models_app.command("find")
def models_find(
    ctx: typer.Context,
    capability: list[str] | None = typer.Option(
        None, "--capability", "-c", help="Must have this capability (repeatable: all of them)."
    ),
    any_capability: list[str] | None = typer.Option(
        None, "--any-capability", help="Must have at least one of these (repeatable)."
    ),
    provider: list[str] | None = typer.Option(
        None, "--provider", "-p", help="Only these providers (repeatable)."
    ),
    status: list[str] | None = typer.Option(
        None, "--status", "-s", help="Allowed statuses (repeatable; default: active)."
    ),
    any_status: bool = typer.Option(False, "--any-status", help="Every status."),
    min_context: int | None = typer.Option(None, "--min-context", min=0),
    min_output: int | None = typer.Option(None, "--min-output", min=0),
    max_input_cost: float | None = typer.Option(None, "--max-input-cost", min=0),
    max_output_cost: float | None = typer.Option(None, "--max-output-cost", min=0),
    min_quality: list[str] | None = typer.Option(
        None, "--min-quality", help="DIMENSION=SCORE, e.g. coding=0.8 (repeatable)."
    ),
    max_latency: int | None = typer.Option(None, "--max-latency", min=0, help="p50, in ms."),
    order_by: str | None = typer.Option(
        None, "--order-by", "-o", help="cost, latency_p50_ms, quality.coding, ... (- reverses)."
    ),
    limit: int | None = typer.Option(None, "--limit", "-n", min=0),
    as_json: bool = JsonOption,
) -> None:
    """Select models for a request, the way a router would.

    Example: modelregistry models find -c vision -c tool_use --min-context 100000 -o cost -n 5
    """
    quality: dict[str, float] = {}
    for item in min_quality or ():
        dimension, _, score = item.partition("=")
        try:
            quality[dimension.strip()] = float(score)
        except ValueError as exc:
            msg = f"{item!r} is not DIMENSION=SCORE (e.g. coding=0.8)"
            raise typer.BadParameter(msg, param_hint="'--min-quality'") from exc
    statuses: list[str] | None = None if any_status else (status or ["active"])
    with _catalog(ctx) as registry:
        models = registry.find_models(
            capabilities=capability or (),
            any_capabilities=any_capability or (),
            providers=provider,
            statuses=statuses,
            min_context_window=min_context,
            min_max_output_tokens=min_output,
            max_cost_per_1m_input=max_input_cost,
            max_cost_per_1m_output=max_output_cost,
            min_quality=quality or None,
            max_latency_p50_ms=max_latency,
            order_by=order_by,
            limit=limit,
        )
    _print_models(models, as_json=as_json)


@models_app.command("show")
def models_show(
    ctx: typer.Context,
    model_id: str = typer.Argument(..., help="The model's id (case-sensitive)."),
    as_of: str | None = AsOfOption,
    as_json: bool = JsonOption,
) -> None:
    """Show every field of one model (now, or as it was at --as-of).

    Example: modelregistry models show llama3.1:8b --as-of 2026-01-01T00:00:00Z
    """
    when = _instant(as_of)
    with _catalog(ctx) as registry:
        model = registry.get_model_or_raise(model_id, as_of=when)
    data = _model_json(model)
    if as_json:
        _print_json(data)
        return
    data["capabilities"] = ", ".join(sorted(model.capabilities.names())) or "-"
    scores = model.quality_scores.model_dump()
    data["quality_scores"] = ", ".join(f"{k}={v}" for k, v in scores.items())
    _out.print(_fields_table(data))


@models_app.command("history")
def models_history(
    ctx: typer.Context,
    model_id: str = typer.Argument(..., help="The model's id (removed models too)."),
    as_json: bool = JsonOption,
) -> None:
    """Show every version of a model: when, who, why and what changed.

    Example: modelregistry models history llama3.1:8b
    """
    with _catalog(ctx) as registry:
        history = registry.get_model_history(model_id)
    if as_json:
        _print_json([revision.to_dict() for revision in history])
        return
    previous = None
    for revision in history:
        stamp = revision.changed_at.strftime("%Y-%m-%d %H:%M:%S.%f")
        why = f": {revision.reason}" if revision.reason else ""
        typer.echo(
            f"v{revision.version}  {stamp} UTC  {revision.change.value}  by {revision.actor}{why}"
        )
        if previous is not None:
            for change in diff_configs(previous, revision.config):
                typer.echo(f"    {change.field}: {change.old} -> {change.new}")
        previous = revision.config


@models_app.command("diff")
def models_diff(
    ctx: typer.Context,
    model_id: str = typer.Argument(..., help="The model's id."),
    a: int = typer.Argument(..., min=1, help="The older version."),
    b: int = typer.Argument(..., min=1, help="The newer version."),
    as_json: bool = JsonOption,
) -> None:
    """Show the fields that differ between two versions of a model.

    Example: modelregistry models diff llama3.1:8b 1 3
    """
    with _catalog(ctx) as registry:
        changes = registry.diff_versions(model_id, a, b)
    if as_json:
        _print_json([change.to_dict() for change in changes])
        return
    if not changes:
        typer.echo(f"versions {a} and {b} are identical")
        return
    table = _table("FIELD", f"VERSION {a}", f"VERSION {b}")
    for change in changes:
        table.add_row(change.field, str(change.old), str(change.new))
    _out.print(table)


@models_app.command("lifecycle")
def models_lifecycle(
    ctx: typer.Context,
    within_days: int = typer.Option(
        30, "--within-days", "-d", min=0, help="Retiring within this many days (or past)."
    ),
    as_json: bool = JsonOption,
) -> None:
    """List models whose retirement is near or past, with their successors.

    Example: modelregistry models lifecycle --within-days 90
    """
    with _catalog(ctx) as registry:
        models = registry.get_models_retiring(within_days)
    if as_json:
        _print_json([_model_json(model) for model in models])
        return
    if not models:
        typer.echo(f"no model retires within {within_days} days")
        return
    today = datetime.now(UTC).date()
    table = _table("MODEL", "STATUS", "DEPRECATED", "RETIRES", "DAYS LEFT", "SUCCESSOR")
    for model in models:
        retires = model.retirement_date
        table.add_row(
            model.model_id,
            model.status.value,
            str(model.deprecation_date or "-"),
            str(retires),
            str((retires - today).days) if retires else "-",
            model.successor_model_id or "-",
        )
    _out.print(table)


# -- models: writes ------------------------------------------------------------------------


@models_app.command("set-status")
def models_set_status(
    ctx: typer.Context,
    model_id: str = typer.Argument(..., help="The model's id."),
    status: str = typer.Argument(
        ..., help=f"New status: {', '.join(s.value for s in ModelStatus)} (any case)."
    ),
    expected_version: int | None = ExpectedVersionOption,
    actor: str | None = ActorOption,
    reason: str | None = ReasonOption,
) -> None:
    """Change the status of a model.

    Example: modelregistry models set-status llama3.2:3b deprecated --reason "superseded"
    """
    with _catalog(ctx) as registry:
        model = registry.update_model_status(
            model_id, status, expected_version=expected_version, actor=actor, reason=reason
        )
    typer.echo(f"{model.model_id}: status {model.status.value} (version {model.version})")


@models_app.command("remove")
def models_remove(
    ctx: typer.Context,
    model_id: str = typer.Argument(..., help="The model's id."),
    expected_version: int | None = ExpectedVersionOption,
    actor: str | None = ActorOption,
    reason: str | None = ReasonOption,
) -> None:
    """Remove a model from the catalog (its history stays; `restore` brings it back).

    Example: modelregistry models remove old-model-v1 --reason "retired upstream"
    """
    with _catalog(ctx) as registry:
        removal = registry.remove_model(
            model_id, expected_version=expected_version, actor=actor, reason=reason
        )
    typer.echo(f"{removal.model_id}: removed (version {removal.version})")


@models_app.command("restore")
def models_restore(
    ctx: typer.Context,
    model_id: str = typer.Argument(..., help="The model's id."),
    version: int = typer.Argument(..., min=1, help="The version whose config to restore."),
    expected_version: int | None = ExpectedVersionOption,
    actor: str | None = ActorOption,
    reason: str | None = ReasonOption,
) -> None:
    """Write the config of an older version as the model's next version.

    Example: modelregistry models restore llama3.1:8b 2 --reason "undo the price change"
    """
    with _catalog(ctx) as registry:
        model = registry.restore_model(
            model_id, version, expected_version=expected_version, actor=actor, reason=reason
        )
    typer.echo(f"{model.model_id}: at version {model.version}, the config of version {version}")


# -- catalog files -------------------------------------------------------------------------


def _print_import(result: ImportResult, *, as_json: bool) -> None:
    if as_json:
        _print_json(result.to_dict())
        return
    typer.echo(result.summary())
    for label, ids in (("added", result.added), ("changed", result.changed)):
        for model_id in ids:
            typer.echo(f"  {label}: {model_id}")
    for model_id in result.removed:
        typer.echo(f"  removed: {model_id}")


def _import(
    registry: ModelRegistry, file: Path, *, prune: bool, dry_run: bool, note: tuple[Any, Any]
) -> ImportResult:
    actor, reason = note
    if not _out.is_terminal:
        return registry.import_catalog(
            file, prune=prune, dry_run=dry_run, actor=actor, reason=reason
        )
    with Progress(transient=True, console=_out) as bar:
        task = bar.add_task(f"importing {file.name}", total=None)
        return registry.import_catalog(
            file,
            prune=prune,
            dry_run=dry_run,
            actor=actor,
            reason=reason,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )


@app.command("import")
def import_file(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="A catalog file: .yaml, .yml or .json."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Only report what would change."),
    prune: bool = typer.Option(False, "--prune", help="Remove models the file does not list."),
    actor: str | None = ActorOption,
    reason: str | None = ReasonOption,
    as_json: bool = JsonOption,
) -> None:
    """Apply a catalog file, all or nothing: every entry is validated first.

    Example: modelregistry import catalog.yaml --dry-run
    """
    with _catalog(ctx) as registry:
        result = _import(registry, file, prune=prune, dry_run=dry_run, note=(actor, reason))
    _print_import(result, as_json=as_json)


@app.command("export")
def export_file(
    ctx: typer.Context,
    output: Path | None = typer.Option(None, "--output", "-o", help="Write to this file."),
    file_format: str | None = typer.Option(
        None, "--format", "-f", help="yaml or json (default: from -o, else yaml)."
    ),
    provider: str | None = typer.Option(None, "--provider", "-p", help="Only this provider."),
    status: str | None = typer.Option(None, "--status", "-s", help="Only this status."),
) -> None:
    """Write the catalog as a catalog file (to stdout without -o).

    Example: modelregistry export --format json -o catalog.json
    """
    if file_format not in {None, "yaml", "json"}:
        msg = f"{file_format!r} is not yaml or json"
        raise typer.BadParameter(msg, param_hint="'--format'")
    kind: Format | None = "json" if file_format == "json" else "yaml" if file_format else None
    with _catalog(ctx) as registry:
        text = registry.export_catalog(output, format=kind, provider=provider, status=status)
    if output is None:
        typer.echo(text, nl=False)
    else:
        typer.echo(f"wrote {output}", err=True)


@app.command("watch")
def watch_file(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="The catalog file to apply whenever it changes."),
    prune: bool = typer.Option(False, "--prune", help="Remove models the file does not list."),
    actor: str | None = ActorOption,
    reason: str | None = ReasonOption,
) -> None:
    """Apply a catalog file now and whenever it changes (hot reload); Ctrl-C stops.

    An invalid edit is rejected with its errors and the catalog stays as it was.

    Example: modelregistry watch catalog.yaml --prune
    """
    from watchfiles import watch  # noqa: PLC0415 - loaded only for this command

    target = file.resolve()
    applied: list[bytes | None] = [None]  # the content last applied (or rejected)

    with _catalog(ctx) as registry:

        def apply() -> None:
            try:
                content = target.read_bytes()
            except OSError:
                return  # an editor replacing the file: the next event brings it back
            if content == applied[0]:
                return
            try:
                # The bytes compared are the bytes applied, whatever the editor does next.
                text = content.decode("utf-8")
                data = parse_text(text, format_of(target), str(file))
                if not isinstance(data, dict):
                    parse_catalog(data, source=str(file))  # raises: says what is wrong
                    return
                result = registry.import_catalog(data, prune=prune, actor=actor, reason=reason)
            except UnicodeDecodeError:
                applied[0] = content
                typer.echo(f"{file}: not UTF-8; rejected, the catalog is unchanged", err=True)
            except InvalidCatalogFileError as exc:
                applied[0] = content  # the same content would fail the same way
                _report(exc)
                typer.echo(f"{file}: rejected; the catalog is unchanged", err=True)
            except ModelRegistryError as exc:  # the database: try again on the next tick
                _report(exc)
                typer.echo(f"{file}: not applied yet; retrying", err=True)
            else:
                applied[0] = content
                typer.echo(f"{file}: {result.summary()}")

        apply()
        # Events wake it at once; the timeouts re-read the file too, so an edit made before
        # the watch started (or a missed event) is still applied within a second.
        for _ in watch(
            target.parent,
            watch_filter=lambda _change, path: Path(path) == target,
            debounce=200,
            rust_timeout=1000,
            yield_on_timeout=True,
            raise_interrupt=False,
        ):
            apply()


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
    _out.print(
        _fields_table(
            {
                "database": url,
                "models": f"{data['total_models']} ({data['active_models']} active)",
                "by status": ", ".join(f"{k}={v}" for k, v in data["by_status"].items()),
                "providers": ", ".join(f"{k}={v}" for k, v in data["by_provider"].items()),
                "capabilities": ", ".join(data["capabilities"]) or "-",
            }
        )
    )


def main() -> None:
    """Run the ``modelregistry`` command line."""
    app()
