"""Prices over time: record one, read the one in effect, the history, an exact estimate."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelregistry.domain import clock
from modelregistry.domain.arguments import is_findable_id
from modelregistry.domain.pricing import in_effect, with_periods
from modelregistry.domain.rates import breakdown
from modelregistry.errors import ModelNotFoundError, PriceNotFoundError

if TYPE_CHECKING:
    from datetime import datetime
    from decimal import Decimal

    from modelregistry.domain.pricing import Price
    from modelregistry.domain.rates import CostBreakdown, Rate, Usage
    from modelregistry.service.parts import Parts


def set_price(  # noqa: PLR0913 - the price's parts, then the write's usual keywords
    parts: Parts,
    model_id: str,
    amounts: tuple[Decimal, Decimal, Decimal | None],
    *,
    rates: tuple[Rate, ...] = (),
    effective_from: datetime | None,
    expected_version: int | None,
    actor: str | None,
    reason: str | None,
) -> Price:
    """Record the model's price (input, output, cached input, its rates) from ``effective_from``."""
    with parts.write(actor, reason) as writer:
        return writer.set_price(
            writer.resolve(model_id),
            input_per_1m=amounts[0],
            output_per_1m=amounts[1],
            cached_input_per_1m=amounts[2],
            rates=rates,
            effective_from=effective_from,
            expected_version=expected_version,
        )


def timeline(parts: Parts, model_id: str) -> tuple[Price, ...]:
    """The model's prices in effect order.

    Raises:
        ModelNotFoundError: E4001, it has none.
    """
    if not is_findable_id(model_id):
        raise ModelNotFoundError(model_id)
    found = parts.read(lambda catalog: catalog.timeline(catalog.resolve(model_id)))
    if not found:
        raise ModelNotFoundError(model_id)
    return found


def price_at(parts: Parts, model_id: str, when: datetime | None) -> Price:
    """The price in effect at ``when`` (default: now), with its period.

    Raises:
        ModelNotFoundError: E4001, the model never had a price.
        PriceNotFoundError: E4006, ``when`` is before its first price.
    """
    at = when or clock.now()
    prices = timeline(parts, model_id)
    price = in_effect(with_periods(prices), at)
    if price is None:
        raise PriceNotFoundError(model_id, at.isoformat(), prices[0].effective_from.isoformat())
    return price


def history(parts: Parts, model_id: str) -> list[Price]:
    """Every price of the model, oldest first, each with its period."""
    return with_periods(timeline(parts, model_id))


def cost(parts: Parts, model_id: str, asked: Usage, when: datetime | None) -> CostBreakdown:
    """The exact cost of the request ``asked``, component by component, at the price of ``when``.

    Raises:
        PriceComponentNotFoundError: E4090, a rate it needs is missing (no fallback applies).
    """
    return breakdown(price_at(parts, model_id, when), asked)
