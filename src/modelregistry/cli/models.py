"""``modelregistry models``: list, find, show, history and changes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import typer

from modelregistry.cli.common import (
    ActorOption,
    AsOfOption,
    AtOption,
    ExpectedVersionOption,
    JsonOption,
    ReasonOption,
    catalog,
    deprecated,
    either,
    err,
    invoke_alone,
    models_app,
    parse_instant,
    print_json,
    printable,
)
from modelregistry.cli.descriptor_options import (
    InputModalityOption,
    ModeOption,
    OpenWeightsOption,
    OutputModalityOption,
    TagOption,
    descriptors,
)
from modelregistry.cli.listing import STATUS_NAMES, ColumnsOption, FormatOption, OutputFormat
from modelregistry.cli.tables import fields_table, print_table, simple_table
from modelregistry.errors import ModelNotFoundError

if TYPE_CHECKING:
    from modelregistry.registry import ModelRegistry

# The modules that import the domain (pydantic) are imported inside the commands: see
# modelregistry.cli.common.


@models_app.callback()
def _models(ctx: typer.Context) -> None:
    """List, show and change models; alone, ``modelregistry models`` lists them."""
    invoke_alone(ctx, "list")


# -- models: reads -------------------------------------------------------------------------


@models_app.command("list")
def models_list(
    ctx: typer.Context,
    query: str | None = typer.Option(
        None, "--query", "-q", metavar="TEXT", help="Only models whose id or name contains TEXT."
    ),
    provider: str | None = typer.Option(
        None, "--provider", "-p", metavar="TEXT", help="Only this provider."
    ),
    status: str | None = typer.Option(
        None,
        "--status",
        "-s",
        metavar="STATUS",
        help=f"Only this status: {', '.join(STATUS_NAMES)}.",
    ),
    capability: list[str] | None = typer.Option(
        None,
        "--capability",
        "-c",
        metavar="NAME",
        help="Only models with this capability (repeatable).",
    ),
    input_modality: list[str] | None = InputModalityOption,
    output_modality: list[str] | None = OutputModalityOption,
    mode: list[str] | None = ModeOption,
    open_weights: bool | None = OpenWeightsOption,
    tag: list[str] | None = TagOption,
    at: str | None = AtOption,
    as_of: str | None = AsOfOption,
    columns: list[str] | None = ColumnsOption,
    file_format: OutputFormat | None = FormatOption,
    as_json: bool = JsonOption,
) -> None:
    """List models, ordered by id: a table, CSV (--format csv) or JSON.

    Example: modelregistry models list --capability vision --columns model_id,price --format csv
    """
    from modelregistry.cli.render import chosen_columns, chosen_format, print_models  # noqa: PLC0415

    when = parse_instant(either(at, as_of, ("--at", "--as-of")))
    fields = chosen_columns(columns)
    form = chosen_format(file_format, as_json=as_json)
    wanted = descriptors(
        ctx,
        input_modalities=input_modality,
        output_modalities=output_modality,
        modes=mode,
        open_weights=open_weights,
        tags=tag,
    )
    with catalog(ctx) as registry:
        models = registry.list_models(provider, status, capabilities=capability or (), as_of=when)
        models = wanted.select(models)
    if query:
        needle = query.casefold()
        models = [m for m in models if needle in f"{m.model_id}\n{m.display_name}".casefold()]
    print_models(models, file_format=form, columns=fields)


@models_app.command("find")
def models_find(
    ctx: typer.Context,
    capability: list[str] | None = typer.Option(
        None,
        "--capability",
        "-c",
        metavar="NAME",
        help="Must have this capability (repeatable: all of them).",
    ),
    any_capability: list[str] | None = typer.Option(
        None,
        "--any-capability",
        metavar="NAME",
        help="Must have at least one of these (repeatable).",
    ),
    provider: list[str] | None = typer.Option(
        None, "--provider", "-p", metavar="TEXT", help="Only these providers (repeatable)."
    ),
    status: list[str] | None = typer.Option(
        None,
        "--status",
        "-s",
        metavar="STATUS",
        help=f"Allowed statuses (repeatable; default: active): {', '.join(STATUS_NAMES)}.",
    ),
    any_status: bool = typer.Option(False, "--any-status", help="Every status."),
    min_context: int | None = typer.Option(
        None, "--min-context", min=0, metavar="INTEGER", help="At least this context window."
    ),
    min_output: int | None = typer.Option(
        None, "--min-output", min=0, metavar="INTEGER", help="At least this max output tokens."
    ),
    max_input_cost: float | None = typer.Option(
        None, "--max-input-cost", min=0, metavar="USD", help="At most this per 1M input tokens."
    ),
    max_output_cost: float | None = typer.Option(
        None, "--max-output-cost", min=0, metavar="USD", help="At most this per 1M output tokens."
    ),
    min_quality: list[str] | None = typer.Option(
        None,
        "--min-quality",
        metavar="DIMENSION=SCORE",
        help="e.g. coding=0.8 (repeatable).",
    ),
    max_latency: int | None = typer.Option(
        None, "--max-latency", min=0, metavar="MS", help="At most this p50 latency, in ms."
    ),
    order_by: str | None = typer.Option(
        None,
        "--order-by",
        metavar="FIELD",
        help="cost, cost_per_1m_input_tokens, cost_per_1m_output_tokens, latency_p50_ms, "
        "context_window, quality.DIMENSION (a leading - reverses).",
    ),
    order_by_old: str | None = typer.Option(
        None, "-o", hidden=True, callback=deprecated("-o", "--order-by"), help="Old --order-by."
    ),
    limit: int | None = typer.Option(
        None, "--limit", "-n", min=0, metavar="INTEGER", help="At most this many models."
    ),
    input_modality: list[str] | None = InputModalityOption,
    output_modality: list[str] | None = OutputModalityOption,
    mode: list[str] | None = ModeOption,
    open_weights: bool | None = OpenWeightsOption,
    tag: list[str] | None = TagOption,
    columns: list[str] | None = ColumnsOption,
    file_format: OutputFormat | None = FormatOption,
    as_json: bool = JsonOption,
) -> None:
    """Select models for a request, the way a router would.

    Example: modelregistry models find -c vision --min-context 100000 --order-by cost -n 5
    """
    from modelregistry.cli.render import chosen_columns, chosen_format, print_models  # noqa: PLC0415

    order_by = either(order_by, order_by_old, ("--order-by", "-o"))
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
    wanted = descriptors(
        ctx,
        input_modalities=input_modality,
        output_modalities=output_modality,
        modes=mode,
        open_weights=open_weights,
        tags=tag,
    )
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
            **wanted.arguments(),
        )
    print_models(models, file_format=form, columns=fields)


@models_app.command("show")
def models_show(
    ctx: typer.Context,
    model_id: str = typer.Argument(..., metavar="ID", help="The model's id (case-sensitive)."),
    at: str | None = AtOption,
    as_of: str | None = AsOfOption,
    as_json: bool = JsonOption,
) -> None:
    """Show every field of one model (now, or as it was at --at).

    Example: modelregistry models show llama3.1:8b --at 2026-01-01T00:00:00Z
    """
    from modelregistry.cli.render import model_json, model_rows  # noqa: PLC0415

    text = either(at, as_of, ("--at", "--as-of"))
    when = parse_instant(text)
    with catalog(ctx) as registry:
        try:
            model = registry.get_model_or_raise(model_id, as_of=when)
        except ModelNotFoundError as exc:
            if when is not None:
                _not_yet(registry, model_id, text or "", exc)
            raise
        origin = registry.get_provenance(model.model_id)  # issue 16: where a sync got it
    if as_json:
        data = model_json(model)
        data["provenance"] = None if origin is None else origin.to_dict()
        print_json(data)
        return
    rows = model_rows(model)
    if origin is not None:
        rows["provenance"] = f"{origin.kind} {origin.location} sha256:{origin.content_sha256[:12]}"
        rows["synced_at"] = origin.synced_at.isoformat()
    print_table(fields_table(rows))


def _not_yet(registry: ModelRegistry, model_id: str, at: str, exc: ModelNotFoundError) -> None:
    """``model_id`` not found at ``at``: say so, and exit 1, if it has a history."""
    try:
        history = registry.get_model_history(model_id)
    except ModelNotFoundError:
        return  # it never existed: the usual E4001
    first = history[0].changed_at.isoformat(timespec="seconds")
    instant = parse_instant(at)
    if instant is not None and instant < history[0].changed_at:
        why = f"did not exist at {at} (its first version is from {first})"
    else:
        why = f"was removed at {at} (see `modelregistry models history {model_id}`)"
    err.print(f"error: {exc.code}: model {model_id!r} {why}")
    raise typer.Exit(1) from exc


@models_app.command("history")
def models_history(
    ctx: typer.Context,
    model_id: str = typer.Argument(..., metavar="ID", help="The model's id (removed models too)."),
    as_json: bool = JsonOption,
) -> None:
    """Show every version of a model: when, who, why and what changed.

    Example: modelregistry models history llama3.1:8b
    """
    with catalog(ctx) as registry:
        history = registry.get_model_history(model_id)
    from modelregistry.cli.render import revision_json  # noqa: PLC0415 - see the module docstring
    from modelregistry.domain.history import diff_configs  # noqa: PLC0415 - ditto

    if as_json:
        print_json([revision_json(revision) for revision in history])
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
    model_id: str = typer.Argument(..., metavar="ID", help="The model's id."),
    a: int = typer.Argument(..., min=1, metavar="A", help="The older version."),
    b: int = typer.Argument(..., min=1, metavar="B", help="The newer version."),
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
    print_table(table)


@models_app.command("lifecycle")
def models_lifecycle(
    ctx: typer.Context,
    within_days: int = typer.Option(
        30,
        "--within-days",
        "-d",
        min=0,
        metavar="INTEGER",
        help="Retiring within this many days (or past).",
    ),
    as_json: bool = JsonOption,
) -> None:
    """List models whose retirement is near or past, with their successors.

    Example: modelregistry models lifecycle --within-days 90
    """
    with catalog(ctx) as registry:
        models = registry.get_models_retiring(within_days)
    from modelregistry.cli.render import model_json  # noqa: PLC0415 - see the module docstring

    if as_json:
        print_json([model_json(model) for model in models])
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
    print_table(table)


# -- models: writes ------------------------------------------------------------------------


@models_app.command("set-status")
def models_set_status(
    ctx: typer.Context,
    model_id: str = typer.Argument(..., metavar="ID", help="The model's id."),
    status: str = typer.Argument(
        ..., metavar="STATUS", help=f"New status: {', '.join(STATUS_NAMES)} (any case)."
    ),
    expected_version: int | None = ExpectedVersionOption,
    actor: str | None = ActorOption,
    reason: str | None = ReasonOption,
) -> None:
    """Change the status of a model.

    Example: modelregistry models set-status llama3.2:3b deprecated --reason "superseded"
    """
    with catalog(ctx) as registry:
        before = registry.get_model_or_raise(model_id)
        model = registry.update_model_status(
            model_id, status, expected_version=expected_version, actor=actor, reason=reason
        )
    if model.version == before.version:
        # The same status writes nothing: no version, and the reason is not recorded.
        typer.echo(
            f"{model.model_id}: status {model.status.value} unchanged (version {model.version}; "
            "nothing recorded)"
        )
        return
    typer.echo(f"{model.model_id}: status {model.status.value} (version {model.version})")


@models_app.command("remove")
def models_remove(
    ctx: typer.Context,
    model_id: str = typer.Argument(..., metavar="ID", help="The model's id."),
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
    model_id: str = typer.Argument(..., metavar="ID", help="The model's id."),
    version: int = typer.Argument(
        ..., min=1, metavar="VERSION", help="The version whose config to restore."
    ),
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
