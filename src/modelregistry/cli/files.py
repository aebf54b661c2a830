"""``modelregistry import``, ``export`` and ``watch``: catalog files."""

from __future__ import annotations

import signal
import threading
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from modelregistry.cli.common import (
    ActorOption,
    JsonOption,
    ReasonOption,
    app,
    catalog,
    err,
    out,
    print_json,
    report,
)
from modelregistry.errors import InvalidCatalogFileError, ModelRegistryError

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import FrameType

    from modelregistry.domain.documents import Format, ImportResult
    from modelregistry.registry import ModelRegistry


def _print_import(result: ImportResult, *, as_json: bool) -> None:
    if as_json:
        print_json(result.to_dict())
        return
    lines = [result.summary()]  # written at once: one echo per line was 5,000 writes
    for label, ids in (("added", result.added), ("changed", result.changed)):
        for model_id in ids:
            lines.append(f"  {label}: {model_id}")
            for field, (old, new) in result.changes.get(model_id, {}).items():  # issue 16
                lines.append(f"    {field}: {old!r} -> {new!r}")
    lines.extend(f"  removed: {model_id}" for model_id in result.removed)
    lines.extend(  # --skip-invalid
        f"  skipped: {entry['model_id']}: {entry['reason']}" for entry in result.invalid
    )
    typer.echo("\n".join(lines))


def _import(
    registry: ModelRegistry,
    file: Path,
    *,
    prune: bool,
    dry_run: bool,
    note: tuple[Any, Any],
    skip_invalid: bool = False,
) -> ImportResult:
    from rich.progress import Progress  # noqa: PLC0415 - only for an import at a terminal

    actor, reason = note

    def run(progress: Callable[[int, int], None] | None = None) -> ImportResult:
        return registry.import_catalog(
            file,
            prune=prune,
            dry_run=dry_run,
            actor=actor,
            reason=reason,
            progress=progress,
            skip_invalid=skip_invalid,
        )

    if not out.is_terminal:
        return run()
    with Progress(transient=True, console=out) as bar:
        task = bar.add_task(f"importing {file.name}", total=None)
        return run(lambda done, total: bar.update(task, completed=done, total=total))


@app.command("import")
def import_file(
    ctx: typer.Context,
    file: Path = typer.Argument(..., metavar="FILE", help="A catalog file: .yaml, .yml or .json."),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Only report what would change; write nothing."
    ),
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


class FileFormat(StrEnum):
    """The forms of a catalog file (``export --format``)."""

    JSON = "json"
    YAML = "yaml"


@app.command("export")
def export_file(
    ctx: typer.Context,
    output: Path | None = typer.Option(
        None, "--output", "-o", metavar="FILE", help="Write to this file (default: stdout)."
    ),
    file_format: FileFormat | None = typer.Option(
        None,
        "--format",
        "-f",
        case_sensitive=False,
        metavar="FORMAT",
        help="json or yaml (default: from the -o file's extension, else yaml).",
    ),
    provider: str | None = typer.Option(
        None, "--provider", "-p", metavar="TEXT", help="Only this provider."
    ),
    status: str | None = typer.Option(
        None, "--status", "-s", metavar="STATUS", help="Only this status."
    ),
    as_json: bool = typer.Option(False, "--json", help="The same as --format json."),
) -> None:
    """Write the catalog as a catalog file (to stdout without -o).

    Example: modelregistry export --format json -o catalog.json
    """
    if as_json:
        if file_format == "yaml":
            msg = "--json and --format yaml disagree: give one"
            raise typer.BadParameter(msg, param_hint="'--format'")
        file_format = FileFormat.JSON
    kind: Format | None = "json" if file_format == "json" else "yaml" if file_format else None
    with catalog(ctx) as registry:
        text = registry.export_catalog(output, format=kind, provider=provider, status=status)
    if output is None:
        typer.echo(text, nl=False)
    else:
        typer.echo(f"wrote {output}", err=True)


def _read_watched(target: Path, file: Path) -> bytes | None:
    """The watched file's bytes; None when there is nothing to apply (said why if refused)."""
    from modelregistry.registry import read_catalog_bytes  # noqa: PLC0415 - see cli.common

    try:
        return read_catalog_bytes(target)
    except InvalidCatalogFileError as exc:  # a FIFO, a device, too large
        report(exc)
        err.print(f"{_stamp()} {file}: rejected; the catalog is unchanged")
        return None
    except OSError:
        return None  # an editor replacing the file: the next event brings it back


@app.command("watch")
def watch_file(
    ctx: typer.Context,
    file: Path = typer.Argument(
        ..., metavar="FILE", help="The catalog file to apply whenever it changes."
    ),
    prune: bool = typer.Option(False, "--prune", help="Remove models the file does not list."),
    actor: str | None = ActorOption,
    reason: str | None = ReasonOption,
) -> None:
    """Apply a catalog file now and whenever it changes (hot reload); Ctrl-C stops.

    An invalid edit is rejected with its errors and the catalog stays as it was. Each reload
    prints its time and the models it changed. SIGINT (Ctrl-C) and SIGTERM stop it, even when
    it was started with SIGINT ignored (nohup, a supervisor).

    Example: modelregistry watch catalog.yaml --prune
    """
    from watchfiles import watch  # noqa: PLC0415 - loaded only for this command

    target = file.resolve()
    applied: list[bytes | None] = [None]  # the content last applied (or rejected)
    stop = threading.Event()
    with catalog(ctx) as registry:

        def apply() -> None:
            _reload(registry, target, str(file), applied, prune=prune, note=(actor, reason))

        previous = _stop_on_signals(stop)
        try:
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
                stop_event=stop,
            ):
                if stop.is_set():
                    break
                apply()
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)
    typer.echo(f"{_stamp()} stopped")


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _reload(
    registry: ModelRegistry,
    target: Path,
    name: str,
    applied: list[bytes | None],
    *,
    prune: bool,
    note: tuple[Any, Any],
) -> None:
    """Apply the file ``target`` if its content differs from the last one (``applied[0]``)."""
    from modelregistry.domain.documents import (  # noqa: PLC0415 - see cli.common
        format_of,
        parse_catalog,
        parse_text,
    )

    content = _read_watched(target, Path(name))
    if content is None or content == applied[0]:
        return
    actor, reason = note
    try:
        # The bytes compared are the bytes applied, whatever the editor does next.
        data = parse_text(content.decode("utf-8"), format_of(target), name)
        parse_catalog(data, source=name)  # raises, naming the file
        assert isinstance(data, dict)  # noqa: S101 - parse_catalog accepted it
        result = registry.import_catalog(data, prune=prune, actor=actor, reason=reason)
    except UnicodeDecodeError:
        applied[0] = content
        err.print(f"{_stamp()} {name}: not UTF-8; rejected, the catalog is unchanged")
    except InvalidCatalogFileError as exc:
        applied[0] = content  # the same content would fail the same way
        report(exc)
        err.print(f"{_stamp()} {name}: rejected; the catalog is unchanged")
    except ModelRegistryError as exc:  # the database: try again on the next tick
        report(exc)
        err.print(f"{_stamp()} {name}: not applied yet; retrying")
    else:
        applied[0] = content
        changes = [
            *(f"added {model_id}" for model_id in result.added),
            *(f"changed {model_id}" for model_id in result.changed),
            *(f"removed {model_id}" for model_id in result.removed),
        ]
        detail = f": {', '.join(changes)}" if changes else ""
        typer.echo(f"{_stamp()} {name}: {result.summary()}{detail}")


def _stop_on_signals(stop: threading.Event) -> dict[int, Any]:
    """Make SIGINT and SIGTERM set ``stop`` (even if SIGINT was ignored); the old handlers."""

    def handler(_number: int, _frame: FrameType | None) -> None:
        stop.set()

    return {number: signal.signal(number, handler) for number in (signal.SIGINT, signal.SIGTERM)}
