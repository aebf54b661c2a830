"""The upstream catalogs' price keys beyond input, output and cached input, as rates.

One rule per converter, appended to its ``RULES``; each fills ``Draft.rates`` (README,
"Upstream sync", "Price components"):

- LiteLLM: ``<component>[_above_<N>k_tokens][_<service tier>]`` keys, where the component is
  ``input_cost_per_token``, ``output_cost_per_token``, ``cache_read_input_token_cost`` (or
  ``input_cost_per_token_cache_hit``: the cached-input price, not a tier),
  ``cache_creation_input_token_cost`` (5 minutes) and its ``_above_1hr`` / ``_above_12hr``
  (those cache lifetimes), ``output_cost_per_reasoning_token`` and ``input_cost_per_request``
  (USD per request); the suffix ``_batches`` is the batch tier, ``_flex``, ``_priority``,
  ``_ultrafast``, ``_balanced`` and ``_decisions`` the tiers of those names; ``tiered_pricing``
  ranges are context tiers at each range's lower bound.
- models.dev: ``cost.cache_write`` (5 minutes), ``cost.reasoning``, and ``cost.tiers`` (each
  ``{"tier": {"type": "context", "size": N}, ...rates}`` a context tier above N).
  ``context_over_200k`` is a copy of one tier whose name is not its threshold: never read.
- OpenRouter: ``pricing.input_cache_write`` (5 minutes), ``pricing.internal_reasoning``,
  ``pricing.request`` (USD per request).

A value that is not a usable price is dropped with its reason (the entry is kept).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

from modelregistry.domain.pricing import money, plain
from modelregistry.domain.rates import BASE_COMPONENTS, Rate, ordered
from modelregistry.domain.upstream.convert import (
    UnusableValueError,
    per_1m,
    per_token_to_per_1m,
)
from modelregistry.errors import InvalidModelConfigError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from modelregistry.domain.upstream.convert import Draft

__all__ = ["litellm_rates", "models_dev_rates", "openrouter_rates"]

_LITELLM_COMPONENTS: Final = {
    "input_cost_per_token": "input",
    "output_cost_per_token": "output",
    "cache_read_input_token_cost": "cached_input",
    "input_cost_per_token_cache_hit": "cached_input",
    "cache_creation_input_token_cost": "cache_write_5m",
    "cache_creation_input_token_cost_above_1hr": "cache_write_1h",
    "cache_creation_input_token_cost_above_12hr": "cache_write_12h",
    "output_cost_per_reasoning_token": "reasoning",
    "input_cost_per_request": "request",
}
_LITELLM_TIERS: Final = {
    "batches": "batch",
    "flex": "flex",
    "priority": "priority",
    "ultrafast": "ultrafast",
    "balanced": "balanced",
    "decisions": "decisions",
}
# Longest component names first: ``..._cost_above_1hr`` before ``..._cost``.
_LITELLM_KEY: Final = re.compile(
    "^(?P<component>"
    + "|".join(sorted(map(re.escape, _LITELLM_COMPONENTS), key=len, reverse=True))
    + r")(?:_above_(?P<thousands>\d+)k_tokens)?(?:_(?P<tier>"
    + "|".join(_LITELLM_TIERS)
    + "))?$"
)
_TIERED_KEYS: Final = (
    "input_cost_per_token",
    "output_cost_per_token",
    "cache_read_input_token_cost",
    "output_cost_per_reasoning_token",
)


class _Rates:
    """The rates of one entry as they are found; the first of a key wins."""

    def __init__(self, draft: Draft) -> None:
        self.draft = draft
        self.found: dict[tuple[str, int, str], Rate] = {}

    def add(  # noqa: PLR0913 - where the rate is, what it is, and its value
        self,
        component: str,
        value: object,
        name: str,
        *,
        tier: str = "standard",
        above: int = 0,
        per_token: bool = True,
    ) -> None:
        if value is None or (tier == "standard" and above == 0 and component in BASE_COMPONENTS):
            return  # (the standard base is the converter's own input/output/cached input)
        try:
            if component == "request":  # USD per request, as given
                amount = money(value, name)
            else:
                amount = per_token_to_per_1m(value, name) if per_token else per_1m(value, name)
        except (UnusableValueError, InvalidModelConfigError) as exc:
            self.draft.dropped.append(f"{name} dropped: {exc}")
            return
        rate = Rate(component, plain(amount), tier, above)
        self.found.setdefault(rate.key, rate)

    def done(self) -> None:
        self.draft.rates = ordered(self.found.values())


def litellm_rates(entry: Mapping[str, Any], draft: Draft) -> None:
    """LiteLLM's price keys beyond the base (see the module docstring)."""
    rates = _Rates(draft)
    for key, value in entry.items():
        match = _LITELLM_KEY.match(key)
        if match is None:
            continue
        thousands = match["thousands"]
        rates.add(
            _LITELLM_COMPONENTS[match["component"]],
            value,
            key,
            tier=_LITELLM_TIERS.get(match["tier"] or "", "standard"),
            above=0 if thousands is None else int(thousands) * 1000,
        )
    tiers = entry.get("tiered_pricing")
    for index, tier in enumerate(tiers if isinstance(tiers, list) else []):
        bounds = tier.get("range") if isinstance(tier, dict) else None
        if not isinstance(bounds, list) or not bounds or not _whole(bounds[0]):
            continue  # (``max_results_range``: search queries, not tokens)
        for key in _TIERED_KEYS:
            component = _LITELLM_COMPONENTS[key]
            rates.add(
                component, tier.get(key), f"tiered_pricing[{index}].{key}", above=int(bounds[0])
            )
    rates.done()


def models_dev_rates(entry: Mapping[str, Any], draft: Draft) -> None:
    """models.dev's ``cost`` beyond the base, with its context tiers (module docstring)."""
    cost = entry.get("cost")
    if not isinstance(cost, dict):
        return
    rates = _Rates(draft)
    add = _models_dev_card(rates)
    add(cost, "cost", 0)
    tiers = cost.get("tiers")
    for index, tier in enumerate(tiers if isinstance(tiers, list) else []):
        where = f"cost.tiers[{index}]"
        kind = tier.get("tier") if isinstance(tier, dict) else None
        size = kind.get("size") if isinstance(kind, dict) else None
        if not isinstance(kind, dict) or kind.get("type") != "context" or not _whole(size):
            draft.dropped.append(f"{where} dropped: not a context tier with a whole size")
            continue
        add(tier, where, int(size))  # type: ignore[arg-type]
    rates.done()


def _models_dev_card(rates: _Rates) -> Callable[[Mapping[str, Any], str, int], None]:
    def add(card: Mapping[str, Any], where: str, above: int) -> None:
        for key, component in (
            ("input", "input"),
            ("output", "output"),
            ("cache_read", "cached_input"),
            ("cache_write", "cache_write_5m"),
            ("reasoning", "reasoning"),
        ):
            rates.add(component, card.get(key), f"{where}.{key}", above=above, per_token=False)

    return add


def openrouter_rates(entry: Mapping[str, Any], draft: Draft) -> None:
    """OpenRouter's ``pricing`` beyond the base (module docstring)."""
    pricing = entry.get("pricing")
    if not isinstance(pricing, dict):
        return
    rates = _Rates(draft)
    for key, component in (
        ("input_cache_write", "cache_write_5m"),
        ("internal_reasoning", "reasoning"),
        ("request", "request"),
    ):
        value = pricing.get(key)
        if value not in (None, "0", 0):  # (OpenRouter writes "0" for "not charged apart")
            rates.add(component, value, f"pricing.{key}")
    rates.done()


def _whole(value: object) -> bool:
    """A whole number >= 0 (``256000``, ``256000.0``, or a Decimal of one)."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return False
    try:
        return value >= 0 and value == int(value)
    except (ValueError, OverflowError):  # NaN, infinity
        return False
