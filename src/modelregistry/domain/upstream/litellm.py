"""LiteLLM's model map (``model_prices_and_context_window.json``) as catalog models.

The rules (README, "Upstream sync"): entries whose ``mode`` is chat, completion or responses
(never ``sample_spec``); ``model_id`` is the key; ``provider`` is ``litellm_provider``; limits
from ``max_input_tokens``/``max_output_tokens``, else ``max_tokens``; per-token prices times
10^6; capabilities from the ``supports_*`` keys; ``rpm``/``tpm``; ``deprecation_date`` and
``successor_model``.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any, Final

from modelregistry.domain.rules import CAPABILITY_PREFIX, is_model_id
from modelregistry.domain.upstream import descriptors
from modelregistry.domain.upstream.convert import (
    Conversion,
    Draft,
    Rule,
    UnusableValueError,
    convert_entries,
    per_token_to_per_1m,
    whole_number,
)
from modelregistry.domain.upstream.price_keys import litellm_rates

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["KEPT_MODES", "RULES", "convert"]

KEPT_MODES: Final = frozenset({"chat", "completion", "responses"})
"""The modes whose entries become models."""
SPEC_KEY: Final = "sample_spec"
"""The map's documentation entry, never a model."""
RENAMED_FLAGS: Final = {
    "supports_vision": "supports_vision",
    "supports_function_calling": "supports_tool_use",
    "supports_response_schema": "supports_json_mode",
}
"""LiteLLM's flags that map onto the catalog's standard flags (copied under the new name only)."""


def _identity(entry: Mapping[str, Any], draft: Draft) -> None:
    draft.fields["model_id"] = draft.model_id
    draft.fields["provider"] = entry.get("litellm_provider")


def _limit(entry: Mapping[str, Any], first: str) -> tuple[object, str]:
    if entry.get(first) is not None:
        return entry[first], first
    if entry.get("max_tokens") is not None:
        return entry["max_tokens"], "max_tokens"
    raise UnusableValueError(f"neither {first} nor max_tokens is given")


def _limits(entry: Mapping[str, Any], draft: Draft) -> None:
    context, name = _limit(entry, "max_input_tokens")
    draft.fields["context_window"] = whole_number(context, name, positive=True)
    output, name = _limit(entry, "max_output_tokens")
    draft.fields["max_output_tokens"] = whole_number(output, name, positive=True)


def _base_tier(entry: Mapping[str, Any]) -> Mapping[str, Any] | None:
    tiers = entry.get("tiered_pricing")
    if not isinstance(tiers, list):
        return None
    for tier in tiers:
        bounds = tier.get("range") if isinstance(tier, dict) else None
        if isinstance(bounds, list) and bounds and bounds[0] == 0:
            return dict(tier)
    raise UnusableValueError("tiered_pricing has no range starting at 0")


def _prices(entry: Mapping[str, Any], draft: Draft) -> None:
    source: Mapping[str, Any] = entry
    if "input_cost_per_token" not in entry and "output_cost_per_token" not in entry:
        source = _base_tier(entry) or entry
    for key, field in (
        ("input_cost_per_token", "cost_per_1m_input_tokens"),
        ("output_cost_per_token", "cost_per_1m_output_tokens"),
    ):
        value = source.get(key)
        amount = 0 if value is None else per_token_to_per_1m(value, key)
        draft.fields[field] = float(amount)
    cached = entry.get("cache_read_input_token_cost")
    if cached is not None:
        draft.cached_input_per_1m = per_token_to_per_1m(cached, "cache_read_input_token_cost")


def _capabilities(entry: Mapping[str, Any], draft: Draft) -> None:
    flags: dict[str, bool] = {"supports_streaming": True}
    for key, value in entry.items():
        if not key.startswith(CAPABILITY_PREFIX):
            continue
        if key in RENAMED_FLAGS:
            if isinstance(value, bool):
                flags[RENAMED_FLAGS[key]] = value
        elif value is True:
            flags[key] = True
    draft.fields["capabilities"] = flags


def _rate_limits(entry: Mapping[str, Any], draft: Draft) -> None:
    for key, field in (("rpm", "rate_limit_rpm"), ("tpm", "rate_limit_tpm")):
        value = entry.get(key)
        draft.fields[field] = 0 if value is None else whole_number(value, key, positive=False)


def _lifecycle(entry: Mapping[str, Any], draft: Draft) -> None:
    deprecation = entry.get("deprecation_date")
    draft.fields["status"] = "active"
    if deprecation is not None:
        try:
            day = date.fromisoformat(deprecation) if isinstance(deprecation, str) else None
        except ValueError:
            day = None
        if day is None:
            raise UnusableValueError("deprecation_date must be a date YYYY-MM-DD")
        draft.fields["deprecation_date"] = day
        if day < draft.today:
            draft.fields["status"] = "deprecated"
    successor = entry.get("successor_model")
    if successor is None:
        return
    if is_model_id(successor) and successor != draft.model_id:
        draft.fields["successor_model_id"] = successor
    else:
        draft.dropped.append(
            "successor_model dropped: not a valid model id (1-256 characters, no whitespace "
            "or control characters, not the model itself)"
        )


RULES: Final[tuple[Rule, ...]] = (
    _identity,
    _limits,
    _prices,
    _capabilities,
    _rate_limits,
    _lifecycle,
    litellm_rates,
    descriptors.LITELLM,
)
"""The rules applied to each kept entry, in order (a later issue appends to them)."""


def convert(document: object, *, today: date) -> Conversion:
    """Convert LiteLLM's map (a JSON object: model key -> entry).

    Raises:
        UnusableValueError: the document is not a JSON object.
    """
    if not isinstance(document, dict):
        raise UnusableValueError("the LiteLLM map must be a JSON object of model entries")
    kept: list[tuple[str, Mapping[str, Any]]] = []
    ignored = 0
    for key, entry in document.items():
        if key == SPEC_KEY or not isinstance(entry, dict) or entry.get("mode") not in KEPT_MODES:
            ignored += 1
            continue
        kept.append((key, entry))
    return convert_entries(kept, RULES, today=today, ignored=ignored)
