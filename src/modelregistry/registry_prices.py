"""The price methods of the public API: effective-dated prices and exact cost estimates.

:class:`PriceMethods` is a part of :class:`~modelregistry.ModelRegistry` (its base); it checks
the arguments and goes through :class:`~modelregistry.store.CatalogStore` like every method.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from modelregistry.domain.arguments import existing_id, instant, is_findable_id, version_guard
from modelregistry.domain.pricing import estimate, in_effect, money, tokens, with_periods
from modelregistry.errors import ModelNotFoundError, PriceNotFoundError
from modelregistry.metrics.telemetry import operation, unrecorded
from modelregistry.store import CatalogStore

if TYPE_CHECKING:
    from decimal import Decimal

    from modelregistry.domain.pricing import Price


class PriceMethods(CatalogStore):
    """Prices with the period they apply to (see ModelRegistry)."""

    @operation
    def set_price(  # noqa: PLR0913 - the price, then the write's usual keywords
        self,
        model_id: str,
        input_per_1m: Decimal | float | str,
        output_per_1m: Decimal | float | str,
        *,
        cached_input_per_1m: Decimal | float | str | None = None,
        effective_from: datetime | None = None,
        expected_version: int | None = None,
        actor: str | None = None,
        reason: str | None = None,
    ) -> Price:
        """Record the model's price (USD per 1M tokens) from ``effective_from``.

        The price applies until the model's next price. One in effect now (the default)
        also shows at once in the model's ``cost_per_1m_*`` fields; a later one takes effect
        by itself at its time, in every process. Earlier prices never change, so estimates
        for past instants stay as they were. Each call is a new version of the model (change
        ``repriced``); setting now the very price in effect (with none scheduled) writes
        nothing.

        Args:
            model_id: The model (or an alias of it).
            input_per_1m: Price of input tokens: a Decimal, int, float or decimal text; finite,
                >= 0, at most 10,000, at most 10 decimal places.
            output_per_1m: Price of output tokens (same rules).
            cached_input_per_1m: Price of input tokens read from the provider's prompt cache
                (None: they cost the input price).
            effective_from: An aware datetime, now or later (default: now).
            expected_version: Write only if the model is at this version.
            actor: Who makes the change.
            reason: Why.

        Returns:
            The price recorded (or the one already in effect).

        Raises:
            ModelNotFoundError: E4001, no model has this id.
            InvalidModelConfigError: E4003 naming the argument (a price breaking a rule, a
                naive or past ``effective_from``); nothing is written.
            ConcurrentModificationError: E4030, the model is not at ``expected_version``.
        """
        model_id = existing_id(model_id)
        prices = (
            money(input_per_1m, "input_per_1m"),
            money(output_per_1m, "output_per_1m"),
            None
            if cached_input_per_1m is None
            else money(cached_input_per_1m, "cached_input_per_1m"),
        )
        start = instant(effective_from, "effective_from")
        guard = version_guard(expected_version)
        with self._changes(actor, reason) as changes:
            return changes.set_price(
                changes.resolve(model_id),
                input_per_1m=prices[0],
                output_per_1m=prices[1],
                cached_input_per_1m=prices[2],
                effective_from=start,
                expected_version=guard,
            )

    @operation
    def get_price(self, model_id: str, at: datetime | None = None) -> Price:
        """Return the model's price in effect at ``at`` (an aware datetime; default: now).

        Its ``effective_until`` is when the next price takes effect (None: none scheduled).
        Prices outlive a model's removal, like its history.

        Raises:
            ModelNotFoundError: E4001, the model never had a price (it never existed).
            PriceNotFoundError: E4006, ``at`` is before the model's first price.
            InvalidModelConfigError: E4003, ``at`` is not an aware datetime.
        """
        when = instant(at, "at") or datetime.now(UTC)
        timeline = self._timeline(model_id)
        price = in_effect(with_periods(timeline), when)
        if price is None:
            raise PriceNotFoundError(
                model_id, when.isoformat(), timeline[0].effective_from.isoformat()
            )
        return price

    @operation
    def get_price_history(self, model_id: str) -> list[Price]:
        """Return every price of the model, oldest first, each with its period.

        Two prices set for the same instant: the later one applies, and the earlier one's
        ``effective_until`` equals its ``effective_from`` (it never applied).

        Raises:
            ModelNotFoundError: E4001, the model never had a price.
        """
        return with_periods(self._timeline(model_id))

    @operation
    def estimate_cost(
        self,
        model_id: str,
        input_tokens: int,
        output_tokens: int,
        *,
        cached_input_tokens: int = 0,
        at: datetime | None = None,
    ) -> Decimal:
        """Return the exact cost in USD of a request, at the price in effect at ``at``.

        ``input_tokens`` are billed at the input price, ``cached_input_tokens`` (input tokens
        read from the provider's prompt cache, not counted in ``input_tokens``) at the
        cached-input price, or the input price if the model has none. The result is an exact
        Decimal, never rounded; a past ``at`` keeps the price of then.

        Raises:
            ModelNotFoundError: E4001, the model never had a price.
            PriceNotFoundError: E4006, ``at`` is before the model's first price.
            InvalidModelConfigError: E4003, a token count is not an integer >= 0, or ``at``
                is not an aware datetime.
        """
        counts = (
            tokens(input_tokens, "input_tokens"),
            tokens(output_tokens, "output_tokens"),
            tokens(cached_input_tokens, "cached_input_tokens"),
        )
        price = unrecorded(PriceMethods.get_price)(self, model_id, at)
        return estimate(price, *counts)

    def _timeline(self, model_id: str) -> tuple[Price, ...]:
        """The model's prices in effect order.

        Raises:
            ModelNotFoundError: E4001, it has none.
        """
        if not is_findable_id(model_id):
            raise ModelNotFoundError(model_id)
        timeline = self._read(lambda catalog: catalog.timeline(catalog.resolve(model_id)))
        if not timeline:
            raise ModelNotFoundError(model_id)
        return timeline
