"""Price components beyond the base: cache writes, reasoning, per request, context/service tiers.

A :class:`~modelregistry.domain.pricing.Price` holds the standard service tier's base input,
output and cached-input rates in its own fields, and every other rate as a :class:`Rate`:
one component (``input``, ``output``, ``cached_input``, ``cache_write_5m``, ``cache_write_1h``,
``cache_write_12h``, ``reasoning``, ``request``) of one service tier (``standard``, ``batch``,
``flex``, ``priority``, ``ultrafast``, ``balanced``, ``decisions``) above one context threshold
(``above_tokens``: 0 for the tier's base rates).

How :func:`breakdown` prices a request (the rules of issue 17):

- The prompt is ``input + cached input + cache-write`` tokens. The context tier applied is the
  highest threshold of the model (over all its service tiers) the prompt is *strictly* above,
  and then every token of the request is priced at that tier's rates (a cliff, not a ladder).
- A component the context tier does not price keeps the base rate of the same service tier.
- Fallbacks, said in the breakdown: cached input -> the service tier's input rate; reasoning
  -> its output rate; a per-request price absent means no per-request fee.
- Anything else missing (the service tier, the context tier within it, a cache write of the
  lifetime asked, an output rate) is :class:`~modelregistry.errors.PriceComponentNotFoundError`,
  never another tier's rate and never a silent 0. A component with no tokens needs no rate.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Context, Decimal
from typing import TYPE_CHECKING, Any, Final

from modelregistry.domain.pricing import decimal_text, money, plain
from modelregistry.domain.rules import MAX_INTEGER
from modelregistry.errors import (
    InvalidArgumentError,
    InvalidModelConfigError,
    PriceComponentNotFoundError,
)

if TYPE_CHECKING:
    from datetime import datetime

    from modelregistry.domain.pricing import Price

__all__ = [
    "CACHE_TTLS",
    "COMPONENTS",
    "SERVICE_TIERS",
    "ComponentCost",
    "CostBreakdown",
    "Rate",
    "Usage",
    "breakdown",
    "breakdown_json",
    "check_rates",
    "ordered",
    "rate_json",
    "usage",
]

SERVICE_TIERS: Final = (
    "standard",
    "batch",
    "flex",
    "priority",
    "ultrafast",
    "balanced",
    "decisions",
)
"""The service tiers a price may have (``standard`` is the default and always priced)."""
CACHE_TTLS: Final = ("5m", "1h", "12h")
"""The cache lifetimes a cache write may be priced for."""
COMPONENTS: Final = (
    "input",
    "cached_input",
    "cache_write_5m",
    "cache_write_1h",
    "cache_write_12h",
    "output",
    "reasoning",
    "request",
)
"""The components of a price: USD per 1M tokens, except ``request`` (USD per request)."""
BASE_COMPONENTS: Final = ("input", "output", "cached_input")
"""The components the standard tier's base keeps in the Price's own fields."""

_EXACT: Final = Context(prec=60)
_FALLBACKS: Final = {"cached_input": "input", "reasoning": "output"}


@dataclass(frozen=True, slots=True)
class Rate:
    """One rate of a price beyond the standard base.

    Attributes:
        component: One of :data:`COMPONENTS`.
        amount: USD per 1M tokens (USD per request for ``request``), exact.
        service_tier: One of :data:`SERVICE_TIERS`.
        above_tokens: The context tier: the rate applies when the prompt is strictly above
            this many tokens (0: the service tier's base rate).
    """

    component: str
    amount: Decimal
    service_tier: str = "standard"
    above_tokens: int = 0

    @property
    def key(self) -> tuple[str, int, str]:
        """``(service_tier, above_tokens, component)``: at most one rate per key."""
        return (self.service_tier, self.above_tokens, self.component)


@dataclass(frozen=True, slots=True)
class Usage:
    """The tokens of one request and the service tier that served it (checked by :func:`usage`)."""

    input_tokens: int
    output_tokens: int
    cached_input_tokens: int = 0
    cache_write_tokens: int = 0
    cache_write_ttl: str = "5m"
    reasoning_tokens: int = 0
    service_tier: str = "standard"

    @property
    def prompt_tokens(self) -> int:
        """Input + cached input + cache-write tokens: what a context tier's threshold counts."""
        return self.input_tokens + self.cached_input_tokens + self.cache_write_tokens


@dataclass(frozen=True, slots=True)
class ComponentCost:
    """What one component of a request costs.

    Attributes:
        component: ``input``, ``cached_input``, ``cache_write_<ttl>``, ``output``,
            ``reasoning`` or ``request``.
        tokens: Its tokens (1 for ``request``).
        rate: The rate applied: USD per 1M tokens (per request for ``request``).
        amount: ``tokens * rate / 1M`` (the rate for ``request``), exact.
        rate_above_tokens: The context tier whose rate applied (0: the service tier's base,
            also when the context tier applied does not price this component).
        fallback: The component whose rate was used because this one has none (``input``
            for cached input, ``output`` for reasoning); None when its own rate applied.
    """

    component: str
    tokens: int
    rate: Decimal
    amount: Decimal
    rate_above_tokens: int
    fallback: str | None = None


@dataclass(frozen=True, slots=True)
class CostBreakdown:
    """The exact cost of a request, component by component.

    Attributes:
        model_id: The model priced.
        service_tier: The service tier priced (the one that served the request).
        context_tier: The threshold of the context tier applied (0: none, the base rates).
        prompt_tokens: Input + cached input + cache-write tokens.
        components: Each component with tokens (and ``request`` when priced).
        total: Their sum in USD, exact, never rounded.
        price_effective_from: When the price used took effect.
    """

    model_id: str
    service_tier: str
    context_tier: int
    prompt_tokens: int
    components: tuple[ComponentCost, ...]
    total: Decimal
    price_effective_from: datetime


def _choice(value: object, field: str, allowed: tuple[str, ...], error: type[Exception]) -> str:
    if not isinstance(value, str) or value not in allowed:
        rule = f"must be one of {', '.join(allowed)}"
        raise error.single(field, rule, value)  # type: ignore[attr-defined]
    return value


def usage(  # noqa: PLR0913 - one request's counts, each checked
    input_tokens: int,
    output_tokens: int,
    *,
    cached_input_tokens: int,
    cache_write_tokens: int,
    cache_write_ttl: str,
    reasoning_tokens: int,
    service_tier: str,
) -> Usage:
    """Check an estimate's arguments and return them as a :class:`Usage`.

    Raises:
        InvalidArgumentError: E4007 naming the argument: a count not an integer in 0..2^63-1,
            an unknown ``cache_write_ttl`` or ``service_tier`` (the message lists the valid ones).
    """
    counts = {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cached_input_tokens": cached_input_tokens,
        "cache_write_tokens": cache_write_tokens,
        "reasoning_tokens": reasoning_tokens,
    }
    for field, value in counts.items():
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_INTEGER:
            rule = f"must be an integer >= 0 and <= {MAX_INTEGER}"
            raise InvalidArgumentError.single(field, rule, value)
    return Usage(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cached_input_tokens=cached_input_tokens,
        cache_write_tokens=cache_write_tokens,
        cache_write_ttl=_choice(
            cache_write_ttl, "cache_write_ttl", CACHE_TTLS, InvalidArgumentError
        ),
        reasoning_tokens=reasoning_tokens,
        service_tier=_choice(service_tier, "service_tier", SERVICE_TIERS, InvalidArgumentError),
    )


def check_rates(
    rates: Iterable[Rate | Mapping[str, object]], field: str = "rates"
) -> tuple[Rate, ...]:
    """Check the rates of a price; return them in their canonical order.

    Each is a :class:`Rate` or a mapping with its fields. Rules: a known component and service
    tier, ``above_tokens`` an integer in 0..2^63-1, the amount a valid price (see
    :func:`~modelregistry.domain.pricing.money`), one rate per (service tier, threshold,
    component), and not the standard base's input, output or cached input (the Price's own
    fields).

    Raises:
        InvalidModelConfigError: E4003 naming ``rates[i].<field>`` and the rule.
    """
    checked: dict[tuple[str, int, str], Rate] = {}
    for index, given in enumerate(rates):
        where = f"{field}[{index}]"
        values = _fields(given, where)
        component = _choice(
            values.get("component"), f"{where}.component", COMPONENTS, InvalidModelConfigError
        )
        tier = _choice(
            values.get("service_tier", "standard"),
            f"{where}.service_tier",
            SERVICE_TIERS,
            InvalidModelConfigError,
        )
        above = values.get("above_tokens", 0)
        if isinstance(above, bool) or not isinstance(above, int) or not 0 <= above <= MAX_INTEGER:
            rule = f"must be an integer >= 0 and <= {MAX_INTEGER}"
            raise InvalidModelConfigError.single(f"{where}.above_tokens", rule, above)
        rate = Rate(component, money(values.get("amount"), f"{where}.amount"), tier, above)
        if tier == "standard" and above == 0 and component in BASE_COMPONENTS:
            rule = "is the standard base rate: give it as the price's own input/output/cached input"
            raise InvalidModelConfigError.single(f"{where}.component", rule, component)
        if rate.key in checked:
            rule = "must be the only rate of its service tier, context tier and component"
            raise InvalidModelConfigError.single(where, rule, list(rate.key))
        checked[rate.key] = rate
    return tuple(checked[key] for key in sorted(checked, key=_order))


def ordered(rates: Iterable[Rate]) -> tuple[Rate, ...]:
    """``rates`` (already checked) in their canonical order: service tier, threshold, component."""
    return tuple(sorted(rates, key=lambda rate: _order(rate.key)))


def _order(key: tuple[str, int, str]) -> tuple[int, int, int]:
    return (SERVICE_TIERS.index(key[0]), key[1], COMPONENTS.index(key[2]))


def _fields(given: object, where: str) -> Mapping[str, object]:
    if isinstance(given, Rate):
        return {
            "component": given.component,
            "amount": given.amount,
            "service_tier": given.service_tier,
            "above_tokens": given.above_tokens,
        }
    if isinstance(given, Mapping):
        unknown = sorted(
            set(map(str, given)) - {"component", "amount", "service_tier", "above_tokens"}
        )
        if unknown:
            raise InvalidModelConfigError.single(
                f"{where}.{unknown[0]}", "is not a field of a rate"
            )
        return given
    raise InvalidModelConfigError.single(where, "must be a Rate or a mapping of its fields", given)


def breakdown(price: Price, asked: Usage) -> CostBreakdown:
    """The exact cost of ``asked`` at ``price``, component by component (rules: module docstring).

    Raises:
        PriceComponentNotFoundError: E4090, a rate the request needs is missing and has no
            documented fallback.
    """
    rates = _Rates(price, asked)
    counts = (
        ("input", asked.input_tokens),
        ("cached_input", asked.cached_input_tokens),
        (f"cache_write_{asked.cache_write_ttl}", asked.cache_write_tokens),
        ("output", asked.output_tokens),
        ("reasoning", asked.reasoning_tokens),
    )
    parts = []
    for component, count in counts:
        found = rates.resolve(component) if count else None
        if found is not None:  # (no tokens, or no per-request price: nothing to bill)
            amount = _EXACT.multiply(Decimal(count), found[0]).scaleb(-6, _EXACT)
            parts.append(ComponentCost(component, count, found[0], plain(amount), *found[1:]))
    request = rates.resolve("request")
    if request is not None:
        parts.append(ComponentCost("request", 1, request[0], request[0], *request[1:]))
    total = Decimal(0)
    for part in parts:
        total = _EXACT.add(total, part.amount)
    return CostBreakdown(
        model_id=price.model_id,
        service_tier=asked.service_tier,
        context_tier=rates.context,
        prompt_tokens=asked.prompt_tokens,
        components=tuple(parts),
        total=plain(total),
        price_effective_from=price.effective_from,
    )


class _Rates:
    """The rates of one price for one request: its service tier, at its context tier."""

    def __init__(self, price: Price, asked: Usage) -> None:
        self._model_id = price.model_id
        self._table = _table(price)
        self._tier = asked.service_tier
        prompt = asked.prompt_tokens
        # The model's thresholds over every service tier: a tier lacking one is an error.
        thresholds = {above for (_, above, _) in self._table if above > 0}
        self.context = max((above for above in thresholds if prompt > above), default=0)
        priced = {above for (tier, above, _) in self._table if tier == self._tier}
        if not priced:
            raise PriceComponentNotFoundError(self._model_id, self._tier, 0, "*")
        if self.context and self.context not in priced:
            raise PriceComponentNotFoundError(self._model_id, self._tier, self.context, "*")

    def resolve(self, component: str) -> tuple[Decimal, int, str | None] | None:
        """``(rate, threshold it is from, fallback component)``; None: no per-request price.

        Raises:
            PriceComponentNotFoundError: E4090, no rate and no fallback.
        """
        for above in dict.fromkeys((self.context, 0)):
            amount = self._table.get((self._tier, above, component))
            if amount is not None:
                return amount, above, None
        substitute = _FALLBACKS.get(component)
        if substitute is not None:
            found = self.resolve(substitute)
            if found is not None:
                return found[0], found[1], substitute
        if component == "request":
            return None
        raise PriceComponentNotFoundError(self._model_id, self._tier, self.context, component)


def _table(price: Price) -> dict[tuple[str, int, str], Decimal]:
    table = {
        ("standard", 0, "input"): price.input_per_1m,
        ("standard", 0, "output"): price.output_per_1m,
    }
    if price.cached_input_per_1m is not None:
        table["standard", 0, "cached_input"] = price.cached_input_per_1m
    for rate in price.rates:
        table[rate.key] = rate.amount
    return table


def rate_json(rate: Rate) -> dict[str, Any]:
    """A rate as JSON: its amount as exact decimal text."""
    return {
        "component": rate.component,
        "amount": decimal_text(rate.amount),
        "service_tier": rate.service_tier,
        "above_tokens": rate.above_tokens,
    }


def breakdown_json(found: CostBreakdown) -> dict[str, Any]:
    """A breakdown as JSON (money as exact decimal text), for the CLI and the HTTP API."""
    return {
        "model_id": found.model_id,
        "service_tier": found.service_tier,
        "context_tier": found.context_tier,
        "prompt_tokens": found.prompt_tokens,
        "price_effective_from": found.price_effective_from.isoformat(),
        "currency": "USD",
        "components": [
            {
                "component": part.component,
                "tokens": part.tokens,
                "rate": decimal_text(part.rate),
                "amount": decimal_text(part.amount),
                "rate_above_tokens": part.rate_above_tokens,
                "fallback": part.fallback,
            }
            for part in found.components
        ],
        "total": decimal_text(found.total),
    }
