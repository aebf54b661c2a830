"""OpenRouter's model list (``GET /api/v1/models``: ``{"data": [...]}``) as catalog models.

The rules are in README, "Upstream sync".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from modelregistry.domain.upstream import descriptors
from modelregistry.domain.upstream.convert import (
    Conversion,
    Draft,
    Rule,
    UnusableValueError,
    clean_name,
    convert_entries,
    per_token_to_per_1m,
    whole_number,
)
from modelregistry.domain.upstream.price_keys import openrouter_rates

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import date

__all__ = ["RULES", "convert"]

_PARAMETER_FLAGS: Final = (
    ("tool_use", ("tools",)),
    ("json_mode", ("response_format", "structured_outputs")),
    ("reasoning", ("reasoning",)),
)


def _identity(entry: Mapping[str, Any], draft: Draft) -> None:
    if not isinstance(entry.get("id"), str):
        raise UnusableValueError("id must be a string")
    provider, slash, _ = draft.model_id.partition("/")
    if not slash:
        raise UnusableValueError("id has no provider part (<provider>/<model>)")
    draft.fields["model_id"] = draft.model_id
    draft.fields["provider"] = provider
    name = clean_name(entry.get("name"))
    if name is not None:
        draft.fields["display_name"] = name


def _limits(entry: Mapping[str, Any], draft: Draft) -> None:
    draft.fields["context_window"] = whole_number(
        entry.get("context_length"), "context_length", positive=True
    )
    top = entry.get("top_provider")
    value = top.get("max_completion_tokens") if isinstance(top, dict) else None
    draft.fields["max_output_tokens"] = whole_number(
        value, "top_provider.max_completion_tokens", positive=True
    )


def _prices(entry: Mapping[str, Any], draft: Draft) -> None:
    pricing = entry.get("pricing")
    pricing = pricing if isinstance(pricing, dict) else {}
    for key, field in (
        ("prompt", "cost_per_1m_input_tokens"),
        ("completion", "cost_per_1m_output_tokens"),
    ):
        value = pricing.get(key)
        draft.fields[field] = (
            0.0 if value is None else float(per_token_to_per_1m(value, f"pricing.{key}"))
        )
    if pricing.get("input_cache_read") is not None:
        draft.cached_input_per_1m = per_token_to_per_1m(
            pricing["input_cache_read"], "pricing.input_cache_read"
        )


def _capabilities(entry: Mapping[str, Any], draft: Draft) -> None:
    draft.flag("streaming", value=True)
    architecture = entry.get("architecture")
    inputs = architecture.get("input_modalities") if isinstance(architecture, dict) else None
    draft.flag("vision", isinstance(inputs, list) and "image" in inputs)
    parameters = entry.get("supported_parameters")
    parameters = parameters if isinstance(parameters, list) else []
    for name, keys in _PARAMETER_FLAGS:
        draft.flag(name, any(key in parameters for key in keys))


RULES: Final[tuple[Rule, ...]] = (
    _identity,
    _limits,
    _prices,
    _capabilities,
    openrouter_rates,
    descriptors.OPENROUTER,
)
"""The rules applied to each model, in order (a later issue appends to them)."""


def convert(document: object, *, today: date) -> Conversion:
    """Convert OpenRouter's ``{"data": [model, ...]}``.

    Raises:
        UnusableValueError: the document has no ``data`` list.
    """
    data = document.get("data") if isinstance(document, dict) else None
    if not isinstance(data, list):
        raise UnusableValueError('the OpenRouter document must be {"data": [...]}')
    entries: list[tuple[str, Mapping[str, Any]]] = []
    for index, entry in enumerate(data):
        model_id = entry.get("id") if isinstance(entry, dict) else None
        if not isinstance(model_id, str):
            entries.append((f"data[{index}]", {"id": None}))
            continue
        entries.append((model_id, entry))
    return convert_entries(entries, RULES, today=today)
