"""``modelregistry models``: list, find, show, history and changes."""

from __future__ import annotations

from datetime import UTC, datetime

import typer

from modelregistry.cli.common import (
    ActorOption,
    AsOfOption,
    ExpectedVersionOption,
    JsonOption,
    ReasonOption,
    catalog,
    fields_table,
    models_app,
    out,
    parse_instant,
    print_json,
    printable,
    simple_table,
)
from modelregistry.cli.render import (
    ColumnsOption,
    FormatOption,
    OutputFormat,
    chosen_columns,
    chosen_format,
    print_models,
)
from modelregistry.domain.history import diff_configs
from modelregistry.domain.models import ModelStatus

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
    columns: list[str] | None = ColumnsOption,
    file_format: OutputFormat | None = FormatOption,
    as_json: bool = JsonOption,
) -> None:
    """List models, ordered by id: a table, CSV (--format csv) or JSON.

    Example: modelregistry models list --capability vision --columns model_id,price --format csv
    """
    when = parse_instant(as_of)
    fields = chosen_columns(columns)
    form = chosen_format(file_format, as_json=as_json)
    with catalog(ctx) as registry:
        models = registry.list_models(provider, status, capabilities=capability or (), as_of=when)
    print_models(models, file_format=form, columns=fields)


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
    columns: list[str] | None = ColumnsOption,
    file_format: OutputFormat | None = FormatOption,
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
    fields = chosen_columns(columns)
    form = chosen_format(file_format, as_json=as_json)
    with catalog(ctx) as registry:
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
    print_models(models, file_format=form, columns=fields)


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
    when = parse_instant(as_of)
    with catalog(ctx) as registry:
        model = registry.get_model_or_raise(model_id, as_of=when)
        origin = registry.get_provenance(model.model_id)  # issue 16: where a sync got it
    data = model.to_dict()
    data["provenance"] = None if origin is None else origin.to_dict()
    if as_json:
        print_json(data)
        return
    if origin is not None:
        data["provenance"] = f"{origin.kind} {origin.location} sha256:{origin.content_sha256[:12]}"
        data["synced_at"] = origin.synced_at.isoformat()
    data["capabilities"] = ", ".join(sorted(model.capabilities.names())) or "-"
    scores = model.quality_scores.model_dump()
    data["quality_scores"] = ", ".join(f"{k}={v}" for k, v in scores.items())
    out.print(fields_table(data))


@models_app.command("history")
def models_history(
    ctx: typer.Context,
    model_id: str = typer.Argument(..., help="The model's id (removed models too)."),
    as_json: bool = JsonOption,
) -> None:
    """Show every version of a model: when, who, why and what changed.

    Example: modelregistry models history llama3.1:8b
    """
    with catalog(ctx) as registry:
        history = registry.get_model_history(model_id)
    if as_json:
        print_json([revision.to_dict() for revision in history])
        return
    previous = None
    for revision in history:
        stamp = revision.changed_at.strftime("%Y-%m-%d %H:%M:%S.%f")
        why = f": {printable(revision.reason)}" if revision.reason else ""
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
    with catalog(ctx) as registry:
        changes = registry.diff_versions(model_id, a, b)
    if as_json:
        print_json([change.to_dict() for change in changes])
        return
    if not changes:
        typer.echo(f"versions {a} and {b} are identical")
        return
    table = simple_table("FIELD", f"VERSION {a}", f"VERSION {b}")
    for change in changes:
        table.add_row(change.field, str(change.old), str(change.new))
    out.print(table)


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
    with catalog(ctx) as registry:
        models = registry.get_models_retiring(within_days)
    if as_json:
        print_json([model.to_dict() for model in models])
        return
    if not models:
        typer.echo(f"no model retires within {within_days} days")
        return
    today = datetime.now(UTC).date()
    table = simple_table("MODEL", "STATUS", "DEPRECATED", "RETIRES", "DAYS LEFT", "SUCCESSOR")
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
    out.print(table)


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
    with catalog(ctx) as registry:
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
    with catalog(ctx) as registry:
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
    with catalog(ctx) as registry:
        model = registry.restore_model(
            model_id, version, expected_version=expected_version, actor=actor, reason=reason
        )
    typer.echo(f"{model.model_id}: at version {model.version}, the config of version {version}")
