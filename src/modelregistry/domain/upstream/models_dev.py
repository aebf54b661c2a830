"""models.dev's published ``api.json`` as catalog models.

``api.json`` maps provider id -> ``{..., "models": {model id -> model}}``. It is the output of
models.dev's generate script after its schema validation (``base_model`` inheritance resolved,
defaults filled in), not the raw TOML. The rules are in README, "Upstream sync".
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
    per_1m,
    whole_number,
)
from modelregistry.domain.upstream.price_keys import models_dev_rates

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import date

__all__ = ["RULES", "convert"]

_BOOLEAN_FLAGS: Final = {
    "tool_call": "tool_use",
    "structured_output": "json_mode",
    "reasoning": "reasoning",
    "attachment": "attachment",
    "temperature": "temperature",
    "open_weights": "open_weights",
}
_INPUT_FLAGS: Final = {"pdf": "pdf_input", "audio": "audio_input", "video": "video_input"}
_OUTPUT_FLAGS: Final = {"image": "image_output", "audio": "audio_output", "video": "video_output"}


def _identity(entry: Mapping[str, Any], draft: Draft) -> None:
    provider, _, _ = draft.model_id.partition("/")
    draft.fields["model_id"] = draft.model_id
    draft.fields["provider"] = provider
    name = clean_name(entry.get("name"))
    if name is not None:
        draft.fields["display_name"] = name


def _limits(entry: Mapping[str, Any], draft: Draft) -> None:
    limit = entry.get("limit")
    limit = limit if isinstance(limit, dict) else {}
    for key, field in (("context", "context_window"), ("output", "max_output_tokens")):
        value = limit.get(key)
        if value is None or value == 0:
            raise UnusableValueError(f"limit.{key} is 0 or missing")
        draft.fields[field] = whole_number(value, f"limit.{key}", positive=True)


def _prices(entry: Mapping[str, Any], draft: Draft) -> None:
    cost = entry.get("cost")
    cost = cost if isinstance(cost, dict) else {}
    for key, field in (
        ("input", "cost_per_1m_input_tokens"),
        ("output", "cost_per_1m_output_tokens"),
    ):
        value = cost.get(key)
        draft.fields[field] = 0.0 if value is None else float(per_1m(value, f"cost.{key}"))
    if cost.get("cache_read") is not None:
        draft.cached_input_per_1m = per_1m(cost["cache_read"], "cost.cache_read")


def _modalities(entry: Mapping[str, Any], side: str) -> list[object]:
    modalities = entry.get("modalities")
    found = modalities.get(side) if isinstance(modalities, dict) else None
    return found if isinstance(found, list) else []


def _capabilities(entry: Mapping[str, Any], draft: Draft) -> None:
    draft.flag("streaming", value=True)
    inputs, outputs = _modalities(entry, "input"), _modalities(entry, "output")
    draft.flag("vision", "image" in inputs)
    for key, name in _BOOLEAN_FLAGS.items():
        draft.flag(name, entry.get(key))
    interleaved = entry.get("interleaved")
    draft.flag("interleaved", interleaved is True or isinstance(interleaved, dict))
    for modality, name in _INPUT_FLAGS.items():
        draft.flag(name, modality in inputs)
    for modality, name in _OUTPUT_FLAGS.items():
        draft.flag(name, modality in outputs)


def _status(entry: Mapping[str, Any], draft: Draft) -> None:
    draft.fields["status"] = "deprecated" if entry.get("status") == "deprecated" else "active"


RULES: Final[tuple[Rule, ...]] = (
    _identity,
    _limits,
    _prices,
    _capabilities,
    _status,
    models_dev_rates,
    descriptors.MODELS_DEV,
)
"""The rules applied to each model, in order (a later issue appends to them)."""


def convert(document: object, *, today: date) -> Conversion:
    """Convert models.dev's ``api.json`` (provider id -> provider with ``models``).

    Raises:
        UnusableValueError: the document is not an object of providers with models.
    """
    if not isinstance(document, dict):
        raise UnusableValueError("api.json must be a JSON object of providers")
    entries: list[tuple[str, Mapping[str, Any]]] = []
    for provider_id, provider in document.items():
        models = provider.get("models") if isinstance(provider, dict) else None
        if not isinstance(models, dict):
            raise UnusableValueError(f"provider {provider_id!r} has no models object")
        for model_id, model in models.items():
            entries.append((f"{provider_id}/{model_id}", model if isinstance(model, dict) else {}))
    return convert_entries(entries, RULES, today=today)
