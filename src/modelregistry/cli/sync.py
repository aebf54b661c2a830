"""``modelregistry sync`` and ``overrides``: upstream catalogs, and the local edits they keep."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer
from rich.progress import Progress

from modelregistry.cli.common import (
    ActorOption,
    JsonOption,
    ReasonOption,
    app,
    catalog,
    fail,
    out,
    overrides_app,
    print_json,
    printable,
)
from modelregistry.cli.tables import print_table, simple_table
from modelregistry.errors import ModelRegistryError

if TYPE_CHECKING:
    from modelregistry import SyncPlan, SyncResult
    from modelregistry.registry import ModelRegistry

DEFAULT_SYNC_TIMEOUT = 30.0
"""The registry's default (``modelregistry.registry.DEFAULT_SYNC_TIMEOUT``; a test holds them
equal): importing the registry here would load SQLAlchemy and pydantic for ``--help``."""

# The kinds, for --help (the registry checks the argument: E4007 for an unknown one).
_KINDS = "litellm, models.dev or openrouter"


def _sync_with_bar(
    registry: ModelRegistry, kind: str, location: str | None, options: dict[str, Any]
) -> SyncResult:
    if not out.is_terminal:
        return registry.sync(kind, location, **options)
    with Progress(transient=True, console=out) as bar:
        fetching = bar.add_task(f"fetching {kind}", total=None)
        applying = bar.add_task("applying", total=None, visible=False)

        def progress(phase: str, done: int, total: int | None) -> None:
            task = fetching if phase == "fetch" else applying
            bar.update(task, completed=done, total=total, visible=True)

        return registry.sync(kind, location, progress=progress, **options)


@app.command("sync")
def sync(
    ctx: typer.Context,
    kind: str = typer.Argument(..., help=f"The upstream: {_KINDS}."),
    location: str | None = typer.Argument(
        None, help="A file or an http(s) URL (default: the upstream's published URL)."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the plan; write nothing."),
    as_json: bool = JsonOption,
    quiet: bool = typer.Option(False, "--quiet", help="Print the totals only."),
    force: bool = typer.Option(
        False, "--force", help="Sync even when a guard refuses (too few valid models)."
    ),
    accept_held: bool = typer.Option(
        False, "--accept-held", help="Apply the changes held as suspicious too."
    ),
    adopt: bool = typer.Option(
        False, "--adopt", help="Take upstream's values for models never synced from it."
    ),
    restore_removed: bool = typer.Option(
        False, "--restore-removed", help="Bring back models an admin removed."
    ),
    on_removed: str = typer.Option(
        "keep",
        "--on-removed",
        metavar="keep|deprecate|remove",
        help="Models gone upstream: keep, deprecate or remove.",
    ),
    timeout: float = typer.Option(
        DEFAULT_SYNC_TIMEOUT,
        "--timeout",
        min=0.1,
        metavar="SECONDS",
        help="Seconds per phase of the HTTP request.",
    ),
    actor: str | None = ActorOption,
) -> None:
    """Sync the catalog from an upstream catalog: compute the plan, then apply it at once.

    Local edits survive (a three-way merge with what was last synced); suspicious changes are
    held; a source yielding too few models is refused (E4040).

    Example: modelregistry sync litellm --dry-run
    """
    with catalog(ctx) as registry:
        try:
            options = {
                "dry_run": dry_run,
                "force": force,
                "accept_held": accept_held,
                "adopt": adopt,
                "restore_removed": restore_removed,
                "on_removed": on_removed,
                "actor": actor,
                "timeout": timeout,
            }
            result = _sync_with_bar(registry, kind, location, options)
        except ModelRegistryError as exc:
            fail(exc)
    if as_json:
        print_json(result.to_dict())
        return
    _print_plan(result, quiet=quiet)


def _print_plan(result: SyncResult, *, quiet: bool) -> None:
    origin = result.provenance
    where = printable(origin.location)
    if result.not_modified:
        typer.echo(f"{origin.kind} at {where}: not modified since the last sync")
        return
    verb = "would sync" if result.dry_run else "synced"
    typer.echo(f"{verb} {origin.kind} {origin.content_sha256[:12]} from {where}")
    totals = result.plan.totals()
    typer.echo(", ".join(f"{count} {name.replace('_', ' ')}" for name, count in totals.items()))
    if quiet:
        return
    plan = result.plan
    lists = (
        ("added", plan.added),
        ("removed upstream", plan.removed_upstream),
        ("skipped (removed locally)", plan.skipped_removed_locally),
    )
    for label, ids in lists:
        for model_id in ids:
            typer.echo(f"  {label}: {printable(model_id)}")
    for headers, rows in _sections(plan):
        if rows:
            table = simple_table(*headers)
            for row in rows:
                table.add_row(*(str(value) for value in row))
            print_table(table)


def _shown(name: str, old: object, new: object) -> tuple[object, object]:
    """A field's two values for a table: of the rates, only those that differ.

    (The rates are one text, ``tier/above/component=amount; ...``; ``--json`` has it whole.)
    """
    if name != "rates":
        return old, new
    before = str(old or "").split("; ") if old else []
    after = str(new or "").split("; ") if new else []
    gone = [item for item in before if item not in after]
    came = [item for item in after if item not in before]
    return "\n".join(gone) or "-", "\n".join(came) or "-"


def _sections(plan: SyncPlan) -> list[tuple[tuple[str, ...], list[tuple[object, ...]]]]:
    return [
        (
            ("UPDATED", "FIELD", "OLD", "NEW"),
            [
                (item.model_id, name, *_shown(name, old, new))
                for item in plan.updated
                for name, (old, new) in item.fields.items()
            ],
        ),
        (
            ("PROTECTED", "FIELD", "LOCAL", "UPSTREAM"),
            [(p.model_id, p.field, p.local, p.upstream) for p in plan.protected],
        ),
        (
            ("HELD", "FIELD", "OLD", "NEW", "RULE"),
            [(h.model_id, h.field, h.old, h.new, h.rule) for h in plan.held],
        ),
        (
            ("INVALID", "REASON"),
            [(e.model_id, e.reason) for e in [*plan.invalid, *plan.dropped]],
        ),
    ]


@overrides_app.command("list")
def overrides_list(
    ctx: typer.Context,
    model_id: str | None = typer.Argument(None, help="Only this model."),
    as_json: bool = JsonOption,
) -> None:
    """Show every locally edited field of the synced models beside its upstream value.

    Example: modelregistry overrides list gpt-4o --json
    """
    with catalog(ctx) as registry:
        try:
            found = registry.list_overrides(model_id)
        except ModelRegistryError as exc:
            fail(exc)
    if as_json:
        print_json([item.to_dict() for item in found])
        return
    table = simple_table("MODEL", "FIELD", "LOCAL", "UPSTREAM")
    for item in found:
        local, upstream = _shown(item.field, item.local, item.upstream)
        table.add_row(item.model_id, item.field, str(local), str(upstream))
    print_table(table)


@overrides_app.command("reset")
def overrides_reset(
    ctx: typer.Context,
    model_id: str = typer.Argument(..., help="The model."),
    field: str | None = typer.Argument(None, help="Only this field (default: every one)."),
    actor: str | None = ActorOption,
    reason: str | None = ReasonOption,
) -> None:
    """Return a model's locally edited field (or every one) to its upstream value.

    Example: modelregistry overrides reset gpt-4o cost_per_1m_input_tokens
    """
    with catalog(ctx) as registry:
        try:
            reset = registry.reset_override(model_id, field, actor=actor, reason=reason)
        except ModelRegistryError as exc:
            fail(exc)
    for item in reset:
        typer.echo(f"{item.model_id} {item.field}: {item.local} -> {item.upstream}")
