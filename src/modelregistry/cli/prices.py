"""``modelregistry prices``, ``modelregistry cost`` and ``modelregistry aliases``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import typer

from modelregistry.cli.common import (
    ActorOption,
    AtOption,
    ExpectedVersionOption,
    JsonOption,
    ReasonOption,
    aliases_app,
    app,
    catalog,
    deprecated,
    either,
    invoke_alone,
    parse_instant,
    prices_app,
    print_json,
    printable,
    usage_error,
)
from modelregistry.cli.tables import (
    Column,
    Fit,
    fields_table,
    fitted_table,
    print_table,
    simple_table,
)

if TYPE_CHECKING:
    from modelregistry.domain.pricing import Price

# modelregistry.domain.pricing is imported inside the commands: see modelregistry.cli.common.


def price_json(price: Price) -> dict[str, object]:
    """A price's JSON form: money as decimal text (exact), instants in ISO 8601."""
    from modelregistry.domain.pricing import decimal_text  # noqa: PLC0415 - see above
    from modelregistry.domain.rates import rate_json  # noqa: PLC0415 - see above

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
        "rates": [rate_json(rate) for rate in price.rates],
    }


def _print_prices(prices: list[Price], *, as_json: bool) -> None:
    from modelregistry.domain.pricing import decimal_text  # noqa: PLC0415 - see above

    if as_json:
        print_json([price_json(price) for price in prices])
        return
    rows = [
        (
            _instant(price.effective_from),
            "-" if price.effective_until is None else _instant(price.effective_until),
            decimal_text(price.input_per_1m),
            decimal_text(price.output_per_1m),
            "-" if price.cached_input_per_1m is None else decimal_text(price.cached_input_per_1m),
            price.actor,
            printable(price.reason or ""),
        )
        for price in prices
    ]
    columns = (
        Column("FROM", Fit.WHOLE),
        Column("UNTIL", Fit.WHOLE),
        Column("IN $/1M", Fit.WHOLE, right=True),
        Column("OUT $/1M", Fit.WHOLE, right=True),
        Column("CACHED IN", Fit.WHOLE, right=True),
        Column("BY"),
        Column("REASON"),
    )
    # Instants and amounts are one word each: never cut (their headers wrap instead); the
    # actor and the reason wrap at their spaces.
    table = fitted_table(columns, rows)
    if table is None:  # narrower than two instants and their amounts: one block per period
        for number, row in enumerate(rows):
            if number:
                typer.echo()
            print_table(fields_table(dict(zip((c.header for c in columns), row, strict=True))))
    else:
        print_table(table)
    rates = [
        (_instant(price.effective_from), rate.service_tier, str(rate.above_tokens),
         rate.component, decimal_text(rate.amount))
        for price in prices
        for rate in price.rates
    ]  # fmt: skip
    if rates:  # the rates beyond the standard base, by price
        rate_columns = (
            Column("FROM", Fit.WHOLE),
            Column("SERVICE TIER", Fit.WHOLE),
            Column("ABOVE TOKENS", Fit.WHOLE, right=True),
            Column("COMPONENT", Fit.WHOLE),
            Column("USD", Fit.WHOLE, right=True),
        )
        rate_table = fitted_table(rate_columns, rates)
        if rate_table is None:  # too narrow: one block per rate
            for rate_row in rates:
                typer.echo()
                headers = (c.header for c in rate_columns)
                print_table(fields_table(dict(zip(headers, rate_row, strict=True))))
        else:
            print_table(rate_table)


_RATE_FORMAT = "[TIER:]COMPONENT[@TOKENS]=USD, e.g. cache_write_5m=3.75 or batch:input@200000=2.5"


def _parse_rates(given: list[str], ctx: typer.Context) -> list[dict[str, object]]:
    """``--rate`` values as rates; their values are checked by the registry (E4003)."""
    rates: list[dict[str, object]] = []
    for text in given:
        key, equals, amount = text.partition("=")
        tier, colon, rest = key.rpartition(":")
        component, above, tokens = rest.partition("@")
        if not equals or not component or (colon and not tier) or (above and not tokens.isdigit()):
            usage_error(f"--rate {text!r}: expected {_RATE_FORMAT}", ctx)
        rate: dict[str, object] = {"component": component.strip(), "amount": amount.strip()}
        if colon:
            rate["service_tier"] = tier.strip()
        if above:
            rate["above_tokens"] = int(tokens)
        rates.append(rate)
    return rates


@prices_app.command("set")
def prices_set(
    ctx: typer.Context,
    model_id: str = typer.Argument(..., metavar="ID", help="The model's id (or an alias)."),
    input_per_1m: str | None = typer.Option(
        None, "--input-price", metavar="USD", help="USD per 1M input tokens (required)."
    ),
    output_per_1m: str | None = typer.Option(
        None, "--output-price", metavar="USD", help="USD per 1M output tokens (required)."
    ),
    cached_input_per_1m: str | None = typer.Option(
        None,
        "--cached-input-price",
        metavar="USD",
        help="USD per 1M input tokens read from the prompt cache.",
    ),
    old_input: str | None = typer.Option(
        None, "--input", hidden=True, callback=deprecated("--input", "--input-price")
    ),
    old_output: str | None = typer.Option(
        None, "--output", hidden=True, callback=deprecated("--output", "--output-price")
    ),
    old_cached: str | None = typer.Option(
        None,
        "--cached-input",
        hidden=True,
        callback=deprecated("--cached-input", "--cached-input-price"),
    ),
    rate: list[str] | None = typer.Option(
        None,
        "--rate",
        metavar="RATE",
        help=(
            "Another rate of the price, repeatable: [TIER:]COMPONENT[@TOKENS]=USD. Components: "
            "input, output, cached_input, cache_write_5m, cache_write_1h, cache_write_12h, "
            "reasoning (per 1M tokens), request (per request); tiers: standard (default), batch, "
            "flex, priority, ultrafast, balanced, decisions; @TOKENS: the context tier above that "
            "many prompt tokens."
        ),
    ),
    effective_from: str | None = typer.Option(
        None,
        "--from",
        metavar="TIME",
        help="When it takes effect: ISO 8601, now or later (default: now).",
    ),
    expected_version: int | None = ExpectedVersionOption,
    actor: str | None = ActorOption,
    reason: str | None = ReasonOption,
    as_json: bool = JsonOption,
) -> None:
    """Set a model's price from now, or schedule it for later (with all its rates).

    Example: modelregistry prices set m1 --input-price 2 --output-price 8 --rate batch:input=1
    """
    from modelregistry.domain.pricing import decimal_text  # noqa: PLC0415 - see above

    input_per_1m = _required(
        either(input_per_1m, old_input, ("--input-price", "--input")), "--input-price"
    )
    output_per_1m = _required(
        either(output_per_1m, old_output, ("--output-price", "--output")), "--output-price"
    )
    cached_input_per_1m = either(
        cached_input_per_1m, old_cached, ("--cached-input-price", "--cached-input")
    )
    start = parse_instant(effective_from, "--from")
    rates = _parse_rates(rate or [], ctx)
    with catalog(ctx) as registry:
        price = registry.set_price(
            model_id,
            input_per_1m,
            output_per_1m,
            cached_input_per_1m=cached_input_per_1m,
            rates=rates,
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
        + (f" (and {len(price.rates)} more rates)" if price.rates else "")
    )


def _instant(value: datetime) -> str:
    """An instant in UTC to the second, as one word: ``2026-06-01T00:00:00Z``."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _required(value: str | None, option: str) -> str:
    if value is None:
        msg = f"missing option '{option}'"
        raise typer.BadParameter(msg, param_hint=f"'{option}'")
    return value


@prices_app.command("show")
def prices_show(
    ctx: typer.Context,
    model_id: str = typer.Argument(..., metavar="ID", help="The model's id (or an alias)."),
    at: str | None = AtOption,
    as_json: bool = JsonOption,
) -> None:
    """Show the price in effect now (or at --at).

    Example: modelregistry prices show llama3.1:8b --at 2026-06-01T00:00:00Z
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
    model_id: str = typer.Argument(..., metavar="ID", help="The model's id (or an alias)."),
    as_json: bool = JsonOption,
) -> None:
    """Show every price of a model with the period it applies to, oldest first.

    Example: modelregistry prices history llama3.1:8b --json
    """
    with catalog(ctx) as registry:
        prices = registry.get_price_history(model_id)
    _print_prices(prices, as_json=as_json)


@app.command("cost")
def cost(
    ctx: typer.Context,
    model_id: str = typer.Argument(..., metavar="ID", help="The model's id (or an alias)."),
    input_tokens: int | None = typer.Option(
        None, "--input-tokens", min=0, metavar="INTEGER", help="Input tokens (required)."
    ),
    output_tokens: int | None = typer.Option(
        None, "--output-tokens", min=0, metavar="INTEGER", help="Output tokens (required)."
    ),
    cached_input_tokens: int | None = typer.Option(
        None,
        "--cached-input-tokens",
        min=0,
        metavar="INTEGER",
        help="Input tokens read from the prompt cache (default: 0).",
    ),
    cache_write_tokens: int = typer.Option(
        0,
        "--cache-write-tokens",
        min=0,
        metavar="INTEGER",
        help="Input tokens written to the prompt cache (default: 0).",
    ),
    cache_write_ttl: str = typer.Option(
        "5m", "--cache-write-ttl", metavar="TTL", help="Their cache lifetime: 5m, 1h or 12h."
    ),
    reasoning_tokens: int = typer.Option(
        0,
        "--reasoning-tokens",
        min=0,
        metavar="INTEGER",
        help="Reasoning tokens, apart from --output-tokens (default: 0).",
    ),
    service_tier: str = typer.Option(
        "standard",
        "--service-tier",
        metavar="TIER",
        help="The tier that served it: standard, batch, flex, priority, ultrafast, balanced, "
        "decisions.",
    ),
    breakdown: bool = typer.Option(
        False,
        "--breakdown",
        help="Show each component, its rate and any fallback (in --json: a breakdown key).",
    ),
    old_input: int | None = typer.Option(
        None, "--input", min=0, hidden=True, callback=deprecated("--input", "--input-tokens")
    ),
    old_output: int | None = typer.Option(
        None, "--output", min=0, hidden=True, callback=deprecated("--output", "--output-tokens")
    ),
    old_cached: int | None = typer.Option(
        None,
        "--cached-input",
        min=0,
        hidden=True,
        callback=deprecated("--cached-input", "--cached-input-tokens"),
    ),
    at: str | None = AtOption,
    as_json: bool = JsonOption,
) -> None:
    """Estimate the exact cost in USD of a request, at the price in effect then.

    --breakdown shows each component (with --json: a breakdown key).

    Example: modelregistry cost llama3.1:8b --input-tokens 1200 --output-tokens 300 --breakdown
    """
    from modelregistry.domain.pricing import decimal_text  # noqa: PLC0415 - see above
    from modelregistry.domain.rates import breakdown_json  # noqa: PLC0415 - see above

    inputs = either(input_tokens, old_input, ("--input-tokens", "--input"))
    outputs = either(output_tokens, old_output, ("--output-tokens", "--output"))
    cached = either(cached_input_tokens, old_cached, ("--cached-input-tokens", "--cached-input"))
    for value, option in ((inputs, "--input-tokens"), (outputs, "--output-tokens")):
        if value is None:
            msg = f"missing option '{option}'"
            raise typer.BadParameter(msg, param_hint=f"'{option}'")
    when = parse_instant(at, "--at")
    with catalog(ctx) as registry:
        found = registry.cost_breakdown(
            model_id,
            inputs or 0,
            outputs or 0,
            cached_input_tokens=cached or 0,
            cache_write_tokens=cache_write_tokens,
            cache_write_ttl=cache_write_ttl,
            reasoning_tokens=reasoning_tokens,
            service_tier=service_tier,
            at=when,
        )
    if as_json:
        cost = {"model_id": model_id, "currency": "USD", "cost": decimal_text(found.total)}
        print_json({**cost, "breakdown": breakdown_json(found)} if breakdown else cost)
        return
    typer.echo(f"{decimal_text(found.total)} USD")
    if breakdown:
        context = "base" if not found.context_tier else f"above {found.context_tier} tokens"
        typer.echo(f"service tier {found.service_tier}, context tier: {context}")
        table = simple_table("COMPONENT", "TOKENS", "RATE", "USD", "RATE FROM")
        for part in found.components:
            source = "base" if not part.rate_above_tokens else f">{part.rate_above_tokens}"
            if part.fallback is not None:
                source += f" ({part.fallback} rate: no {part.component} rate)"
            table.add_row(
                part.component,
                str(part.tokens),
                decimal_text(part.rate),
                decimal_text(part.amount),
                source,
            )
        print_table(table)


@aliases_app.callback()
def _aliases(ctx: typer.Context) -> None:
    """Other names of models; alone, ``modelregistry aliases`` lists them."""
    invoke_alone(ctx, "list")


@aliases_app.command("set")
def aliases_set(
    ctx: typer.Context,
    alias: str = typer.Argument(..., metavar="ALIAS", help="The other name."),
    model_id: str = typer.Argument(..., metavar="ID", help="The model it names."),
    actor: str | None = ActorOption,
    reason: str | None = ReasonOption,
) -> None:
    """Make ALIAS another name of MODEL_ID (or repoint it).

    Example: modelregistry aliases set llama3 llama3.1:8b
    """
    with catalog(ctx) as registry:
        state = registry.set_alias(alias, model_id, actor=actor, reason=reason)
    typer.echo(f"{state.alias} -> {state.model_id}")


@aliases_app.command("remove")
def aliases_remove(
    ctx: typer.Context,
    alias: str = typer.Argument(..., metavar="ALIAS", help="The alias."),
    actor: str | None = ActorOption,
    reason: str | None = ReasonOption,
) -> None:
    """Remove an alias.

    Example: modelregistry aliases remove llama3 --reason "ambiguous"
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
    print_table(table)
