"""``modelregistry prices``, ``modelregistry cost`` and ``modelregistry aliases``."""

from __future__ import annotations

import typer

from modelregistry.cli.common import (
    ActorOption,
    ExpectedVersionOption,
    JsonOption,
    ReasonOption,
    aliases_app,
    app,
    catalog,
    invoke_alone,
    out,
    parse_instant,
    prices_app,
    print_json,
    simple_table,
)
from modelregistry.domain.pricing import Price, decimal_text


def price_json(price: Price) -> dict[str, object]:
    """A price's JSON form: money as decimal text (exact), instants in ISO 8601."""
    return {
        "model_id": price.model_id,
        "currency": price.currency,
        "input_per_1m": decimal_text(price.input_per_1m),
        "output_per_1m": decimal_text(price.output_per_1m),
        "cached_input_per_1m": None
        if price.cached_input_per_1m is None
        else decimal_text(price.cached_input_per_1m),
        "effective_from": price.effective_from.isoformat(),
        "effective_until": None
        if price.effective_until is None
        else price.effective_until.isoformat(),
        "recorded_at": price.recorded_at.isoformat(),
        "actor": price.actor,
        "reason": price.reason,
    }


def _print_prices(prices: list[Price], *, as_json: bool) -> None:
    if as_json:
        print_json([price_json(price) for price in prices])
        return
    table = simple_table("FROM", "UNTIL", "IN $/1M", "OUT $/1M", "CACHED IN", "BY", "REASON")
    for price in prices:
        table.add_row(
            price.effective_from.isoformat(timespec="seconds"),
            "-"
            if price.effective_until is None
            else price.effective_until.isoformat(timespec="seconds"),
            decimal_text(price.input_per_1m),
            decimal_text(price.output_per_1m),
            "-" if price.cached_input_per_1m is None else decimal_text(price.cached_input_per_1m),
            price.actor,
            price.reason or "",
        )
    out.print(table)


@prices_app.command("set")
def prices_set(
    ctx: typer.Context,
    model_id: str = typer.Argument(..., help="The model's id (or an alias)."),
    input_per_1m: str = typer.Option(..., "--input", help="USD per 1M input tokens."),
    output_per_1m: str = typer.Option(..., "--output", help="USD per 1M output tokens."),
    cached_input_per_1m: str | None = typer.Option(
        None, "--cached-input", help="USD per 1M input tokens read from the prompt cache."
    ),
    effective_from: str | None = typer.Option(
        None, "--from", help="When it takes effect: ISO 8601, now or later (default: now)."
    ),
    expected_version: int | None = ExpectedVersionOption,
    actor: str | None = ActorOption,
    reason: str | None = ReasonOption,
    as_json: bool = JsonOption,
) -> None:
    """Set a model's price from now, or schedule it for later.

    Example: modelregistry prices set gpt-4o --input 2.5 --output 10 --from 2027-01-01
    """
    start = parse_instant(effective_from, "--from")
    with catalog(ctx) as registry:
        price = registry.set_price(
            model_id,
            input_per_1m,
            output_per_1m,
            cached_input_per_1m=cached_input_per_1m,
            effective_from=start,
            expected_version=expected_version,
            actor=actor,
            reason=reason,
        )
    if as_json:
        print_json(price_json(price))
        return
    typer.echo(
        f"{price.model_id}: {decimal_text(price.input_per_1m)}/"
        f"{decimal_text(price.output_per_1m)} USD per 1M tokens "
        f"from {price.effective_from.isoformat()}"
    )


@prices_app.command("show")
def prices_show(
    ctx: typer.Context,
    model_id: str = typer.Argument(..., help="The model's id (or an alias)."),
    at: str | None = typer.Option(None, "--at", help="At this ISO 8601 time (default: now)."),
    as_json: bool = JsonOption,
) -> None:
    """Show the price in effect now (or at --at).

    Example: modelregistry prices show gpt-4o --at 2026-06-01T00:00:00Z
    """
    when = parse_instant(at, "--at")
    with catalog(ctx) as registry:
        price = registry.get_price(model_id, when)
    if as_json:
        print_json(price_json(price))
    else:
        _print_prices([price], as_json=False)


@prices_app.command("history")
def prices_history(
    ctx: typer.Context,
    model_id: str = typer.Argument(..., help="The model's id (or an alias)."),
    as_json: bool = JsonOption,
) -> None:
    """Show every price of a model with the period it applies to, oldest first.

    Example: modelregistry prices history gpt-4o --json
    """
    with catalog(ctx) as registry:
        prices = registry.get_price_history(model_id)
    _print_prices(prices, as_json=as_json)


@app.command("cost")
def cost(
    ctx: typer.Context,
    model_id: str = typer.Argument(..., help="The model's id (or an alias)."),
    input_tokens: int = typer.Option(..., "--input", min=0, help="Input tokens."),
    output_tokens: int = typer.Option(..., "--output", min=0, help="Output tokens."),
    cached_input_tokens: int = typer.Option(
        0, "--cached-input", min=0, help="Input tokens read from the prompt cache."
    ),
    at: str | None = typer.Option(None, "--at", help="Price at this ISO 8601 time."),
    as_json: bool = JsonOption,
) -> None:
    """Estimate the exact cost in USD of a request, at the price in effect then.

    Example: modelregistry cost gpt-4o --input 1200 --output 300 --at 2026-06-01
    """
    when = parse_instant(at, "--at")
    with catalog(ctx) as registry:
        amount = registry.estimate_cost(
            model_id, input_tokens, output_tokens, cached_input_tokens=cached_input_tokens, at=when
        )
    if as_json:
        print_json({"model_id": model_id, "currency": "USD", "cost": decimal_text(amount)})
    else:
        typer.echo(f"{decimal_text(amount)} USD")


@aliases_app.callback()
def _aliases(ctx: typer.Context) -> None:
    """Other names of models; alone, ``modelregistry aliases`` lists them."""
    invoke_alone(ctx, "list")


@aliases_app.command("set")
def aliases_set(
    ctx: typer.Context,
    alias: str = typer.Argument(..., help="The other name."),
    model_id: str = typer.Argument(..., help="The model it names."),
    actor: str | None = ActorOption,
    reason: str | None = ReasonOption,
) -> None:
    """Make ALIAS another name of MODEL_ID (or repoint it).

    Example: modelregistry aliases set claude-3-opus claude-3-opus-20240229
    """
    with catalog(ctx) as registry:
        state = registry.set_alias(alias, model_id, actor=actor, reason=reason)
    typer.echo(f"{state.alias} -> {state.model_id}")


@aliases_app.command("remove")
def aliases_remove(
    ctx: typer.Context,
    alias: str = typer.Argument(..., help="The alias."),
    actor: str | None = ActorOption,
    reason: str | None = ReasonOption,
) -> None:
    """Remove an alias.

    Example: modelregistry aliases remove claude-3-opus --reason "ambiguous"
    """
    with catalog(ctx) as registry:
        target = registry.remove_alias(alias, actor=actor, reason=reason)
    typer.echo(f"{alias}: removed (it named {target})")


@aliases_app.command("list")
def aliases_list(ctx: typer.Context, as_json: bool = JsonOption) -> None:
    """List every alias with the model it names, who set it and when.

    Example: modelregistry aliases list --json
    """
    with catalog(ctx) as registry:
        states = registry.list_aliases()
    if as_json:
        print_json(
            [
                {
                    "alias": state.alias,
                    "model_id": state.model_id,
                    "changed_at": state.changed_at.isoformat(),
                    "actor": state.actor,
                    "reason": state.reason,
                }
                for state in states
            ]
        )
        return
    if not states:
        typer.echo("no aliases")
        return
    table = simple_table("ALIAS", "MODEL", "SINCE", "BY")
    for state in states:
        table.add_row(
            state.alias, state.model_id, state.changed_at.isoformat(timespec="seconds"), state.actor
        )
    out.print(table)
