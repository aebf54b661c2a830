"""``modelregistry import``, ``export`` and ``watch``: catalog files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.progress import Progress

from modelregistry.cli.common import (
    ActorOption,
    JsonOption,
    ReasonOption,
    app,
    catalog,
    out,
    print_json,
    report,
)
from modelregistry.domain.documents import format_of, parse_catalog, parse_text
from modelregistry.errors import InvalidCatalogFileError, ModelRegistryError

if TYPE_CHECKING:
    from modelregistry.domain.documents import Format, ImportResult
    from modelregistry.registry import ModelRegistry


def _print_import(result: ImportResult, *, as_json: bool) -> None:
    if as_json:
        print_json(result.to_dict())
        return
    typer.echo(result.summary())
    for label, ids in (("added", result.added), ("changed", result.changed)):
        for model_id in ids:
            typer.echo(f"  {label}: {model_id}")
            for field, (old, new) in result.changes.get(model_id, {}).items():  # issue 16
                typer.echo(f"    {field}: {old!r} -> {new!r}")
    for model_id in result.removed:
        typer.echo(f"  removed: {model_id}")
    for entry in result.invalid:  # --skip-invalid
        typer.echo(f"  skipped: {entry['model_id']}: {entry['reason']}")


def _import(
    registry: ModelRegistry,
    file: Path,
    *,
    prune: bool,
    dry_run: bool,
    note: tuple[Any, Any],
    skip_invalid: bool = False,
) -> ImportResult:
    actor, reason = note
    if not out.is_terminal:
        return registry.import_catalog(
            file,
            prune=prune,
            dry_run=dry_run,
            actor=actor,
            reason=reason,
            skip_invalid=skip_invalid,
        )
    with Progress(transient=True, console=out) as bar:
        task = bar.add_task(f"importing {file.name}", total=None)
        return registry.import_catalog(
            file,
            prune=prune,
            dry_run=dry_run,
            actor=actor,
            reason=reason,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
            skip_invalid=skip_invalid,
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
    skip_invalid: bool = typer.Option(
        False, "--skip-invalid", help="Leave invalid entries out (listed) instead of refusing all."
    ),
) -> None:
    """Apply a catalog file, all or nothing: every entry is validated first.

    Example: modelregistry import catalog.yaml --dry-run
    """
    with catalog(ctx) as registry:
        result = _import(
            registry,
            file,
            prune=prune,
            dry_run=dry_run,
            note=(actor, reason),
            skip_invalid=skip_invalid,
        )
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
    as_json: bool = typer.Option(False, "--json", help="The same as --format json."),
) -> None:
    """Write the catalog as a catalog file (to stdout without -o).

    Example: modelregistry export --format json -o catalog.json
    """
    if file_format not in {None, "yaml", "json"}:
        msg = f"{file_format!r} is not yaml or json"
        raise typer.BadParameter(msg, param_hint="'--format'")
    if as_json:
        if file_format == "yaml":
            msg = "--json and --format yaml disagree: give one"
            raise typer.BadParameter(msg, param_hint="'--format'")
        file_format = "json"
    kind: Format | None = "json" if file_format == "json" else "yaml" if file_format else None
    with catalog(ctx) as registry:
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

    with catalog(ctx) as registry:

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
                report(exc)
                typer.echo(f"{file}: rejected; the catalog is unchanged", err=True)
            except ModelRegistryError as exc:  # the database: try again on the next tick
                report(exc)
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
