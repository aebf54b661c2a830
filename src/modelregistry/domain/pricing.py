"""Prices with the period they apply to, and exact cost estimates.

A model's prices form a timeline: each :class:`Price` applies from its ``effective_from``
until the next price of the same model takes effect. Money is :class:`~decimal.Decimal`
throughout, and estimates are computed without rounding.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass, replace
from decimal import Context, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Final

from modelregistry.domain.rules import (
    MAX_COST_DECIMAL_PLACES,
    MAX_COST_PER_1M,
    MAX_INTEGER,
    exact_decimal,
    too_many_places,
)
from modelregistry.errors import InvalidArgumentError, InvalidModelConfigError

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from modelregistry.domain.models import ModelConfig
    from modelregistry.domain.rates import Rate

__all__ = [
    "CURRENCY",
    "Price",
    "estimate",
    "exact_decimal",
    "in_effect",
    "money",
    "next_change",
    "restated",
    "with_periods",
]

CURRENCY: Final = "USD"
"""The currency of every price."""

# Enough digits that no estimate is ever rounded: tokens (<= 19 digits) times a price
# (<= 15 significant digits), summed three times.
_EXACT: Final = Context(prec=60)


@dataclass(frozen=True, slots=True)
class Price:
    """A model's price over a period: USD per 1M tokens.

    Attributes:
        model_id: The model priced.
        input_per_1m: Input (prompt) tokens.
        output_per_1m: Output (completion) tokens.
        cached_input_per_1m: Input tokens read from the provider's prompt cache (None: such
            tokens cost the input price).
        effective_from: The instant the price takes effect.
        effective_until: The instant the next price takes effect (None: no later price yet).
        recorded_at: When the price was recorded.
        actor: Who recorded it.
        reason: Why.
        currency: Always ``USD``.
        rates: Every other rate, in canonical order (:mod:`modelregistry.domain.rates`):
            cache writes, reasoning, per request, and the context and service tiers.
    """

    model_id: str
    input_per_1m: Decimal
    output_per_1m: Decimal
    cached_input_per_1m: Decimal | None
    effective_from: datetime
    recorded_at: datetime
    actor: str
    reason: str | None = None
    effective_until: datetime | None = None
    currency: str = CURRENCY
    rates: tuple[Rate, ...] = ()


def money(value: object, field: str) -> Decimal:
    """Check a price given as a Decimal, int, float or decimal text; return its Decimal.

    Rules: a finite number, >= 0, at most 10,000 (USD per 1M tokens), at most 10 decimal
    places. A float means the decimal it prints as (``0.1`` is 0.1, exactly).

    Raises:
        InvalidModelConfigError: E4003 naming ``field`` and the broken rule.
    """
    if isinstance(value, bool) or not isinstance(value, Decimal | int | float | str):
        raise InvalidModelConfigError.single(field, "must be a number", value)
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidModelConfigError.single(field, "must be a finite number", value)
    try:
        amount = exact_decimal(value) if isinstance(value, float) else Decimal(value)
    except InvalidOperation as exc:
        raise InvalidModelConfigError.single(field, "must be a number", value) from exc
    if not amount.is_finite():
        raise InvalidModelConfigError.single(field, "must be a finite number", value)
    if amount < 0 or amount > MAX_COST_PER_1M:
        rule = f"must be >= 0 and <= {MAX_COST_PER_1M}"
        raise InvalidModelConfigError.single(field, rule, value)
    if too_many_places(amount):
        rule = f"must have at most {MAX_COST_DECIMAL_PLACES} decimal places"
        raise InvalidModelConfigError.single(field, rule, value)
    return plain(amount)


def tokens(value: object, field: str) -> int:
    """Check a token count of an estimate: an integer >= 0.

    Raises:
        InvalidArgumentError: E4007 naming ``field`` (a count is an argument, never stored).
    """
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_INTEGER:
        rule = f"must be an integer >= 0 and <= {MAX_INTEGER}"
        raise InvalidArgumentError.single(field, rule, value)
    return value


def plain(amount: Decimal) -> Decimal:
    """``amount`` without trailing zeros (``15``, not ``1.5E+1``; ``0.015``, not ``0.0150``)."""
    # In the exact context: the default one (28 digits) would round an estimate.
    if amount == amount.to_integral_value(context=_EXACT):
        return amount.quantize(Decimal(1), context=_EXACT)
    return amount.normalize(_EXACT)


def decimal_text(amount: Decimal) -> str:
    """``amount`` as plain decimal text, never in exponent form: ``0.0000000001``, ``15``."""
    text = format(plain(amount), "f")
    return "0" if text in {"-0", "0"} else text


def estimate(
    price: Price, input_tokens: int, output_tokens: int, cached_input_tokens: int = 0
) -> Decimal:
    """The exact cost in USD of a request at ``price``, never rounded.

    ``input_tokens`` are the input tokens billed at the input price; ``cached_input_tokens``
    are those read from the provider's prompt cache, billed at the cached-input price (the
    input price if the model has none). Count each token once.
    """
    cached_rate = (
        price.input_per_1m if price.cached_input_per_1m is None else price.cached_input_per_1m
    )
    total = _EXACT.add(
        _EXACT.add(
            _EXACT.multiply(Decimal(input_tokens), price.input_per_1m),
            _EXACT.multiply(Decimal(cached_input_tokens), cached_rate),
        ),
        _EXACT.multiply(Decimal(output_tokens), price.output_per_1m),
    )
    return plain(total.scaleb(-6, _EXACT))


def in_effect(timeline: Sequence[Price], at: datetime) -> Price | None:
    """The price of ``timeline`` in effect at ``at`` (None: the first comes later).

    ``timeline`` is ordered by ``effective_from``, then by recording; of two prices taking
    effect at the same instant, the one recorded later wins.
    """
    index = bisect_right(timeline, at, key=lambda price: price.effective_from)
    return timeline[index - 1] if index else None


def next_change(timeline: Sequence[Price], after: datetime) -> datetime | None:
    """The first instant after ``after`` at which a price of ``timeline`` takes effect."""
    index = bisect_right(timeline, after, key=lambda price: price.effective_from)
    return timeline[index].effective_from if index < len(timeline) else None


def with_periods(timeline: Sequence[Price]) -> list[Price]:
    """``timeline`` with each price's ``effective_until`` set to the next one's start.

    A price superseded at its own instant (another recorded later for the same instant) gets
    ``effective_until == effective_from``: it never applied.
    """
    periods = []
    for index, price in enumerate(timeline):
        until = timeline[index + 1].effective_from if index + 1 < len(timeline) else None
        periods.append(replace(price, effective_until=until))
    return periods


def restated(
    prices: Sequence[tuple[int, Price]],
    restatements: Sequence[tuple[int, datetime]],
    as_of: datetime | None = None,
) -> list[Price]:
    """The prices of one model's timeline that count at ``as_of`` (None: now, the newest).

    ``prices`` are ``(row id, price)`` in effect order; ``restatements`` are the model's
    restatements ``(after_price_id, restated_at)`` in the order recorded. A restatement
    replaces the whole timeline: from its ``restated_at`` on, only prices with a higher id
    count; before it, the prices it replaced still do (and not those recorded with it).
    """
    low, high = 0, None
    for after, restated_at in restatements:
        if as_of is None or restated_at <= as_of:
            low = max(low, after)
        elif high is None or after < high:
            high = after
    return [price for row_id, price in prices if row_id > low and (high is None or row_id <= high)]


def priced(config: ModelConfig, timeline: Sequence[Price], at: datetime) -> ModelConfig:
    """``config`` showing the prices of ``timeline`` in effect at ``at`` (as is if none)."""
    price = in_effect(timeline, at)
    if price is None:
        return config
    costs = (float(price.input_per_1m), float(price.output_per_1m))
    if costs == (config.cost_per_1m_input_tokens, config.cost_per_1m_output_tokens):
        return config
    return config.model_copy(
        update={"cost_per_1m_input_tokens": costs[0], "cost_per_1m_output_tokens": costs[1]}
    )
