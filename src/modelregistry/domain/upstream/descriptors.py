"""The descriptive fields each upstream gives: modalities, mode, dates, open weights.

One rule per converter, appended to its list (:data:`LITELLM`, :data:`MODELS_DEV`,
:data:`OPENROUTER`). A value the catalog cannot hold (a modality such as LiteLLM's ``code``,
a mode it does not know, a date in another form) is dropped with a reason in the sync's
report; the entry itself stays valid, and the field stays unknown. The README's "Upstream
sync" section lists every mapping, and what is not mapped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from modelregistry.domain.descriptors import MODALITIES, ModelMode, catalog_date, modality_name

if TYPE_CHECKING:
    from collections.abc import Mapping

    from modelregistry.domain.upstream.convert import Draft, Rule

__all__ = ["LITELLM", "MODELS_DEV", "OPENROUTER"]

OPENROUTER_MODALITIES: Final = {"file": "pdf"}
"""OpenRouter's names for a modality the catalog names otherwise (its files are PDFs)."""


def set_modalities(
    draft: Draft,
    field: str,
    values: object,
    source: str,
    renamed: Mapping[str, str] | None = None,
) -> None:
    """Set ``field`` from the list ``values`` (an absent one leaves it unknown)."""
    if values is None:
        return
    if not isinstance(values, list):
        draft.dropped.append(f"{source} dropped: not a list of modalities")
        return
    names: list[str] = []
    for value in values:
        renamed_value = (renamed or {}).get(value, value) if isinstance(value, str) else value
        name = modality_name(renamed_value)
        if name is None:
            draft.dropped.append(
                f"{source}: {value!r} dropped: not a modality ({', '.join(MODALITIES)})"
            )
        else:
            names.append(name)
    draft.fields[field] = names


def set_mode(draft: Draft, value: object, source: str) -> None:
    """Set ``mode`` from ``value`` (None leaves it unknown)."""
    if value is None:
        return
    known = {mode.value: mode for mode in ModelMode}
    mode = known.get(value.lower()) if isinstance(value, str) else None
    if mode is None:
        draft.dropped.append(f"{source}: {value!r} dropped: not a mode the catalog knows")
    else:
        draft.fields["mode"] = mode


def set_date(draft: Draft, field: str, value: object, source: str) -> None:
    """Set ``field`` from ``value``: an ISO day or month (None, or empty, leaves it unknown)."""
    if value is None or value == "":
        return
    text = catalog_date(value)
    if text is None:
        draft.dropped.append(f"{source} dropped: not a date YYYY-MM-DD or a month YYYY-MM")
    else:
        draft.fields[field] = text


def set_open_weights(draft: Draft, value: object, source: str) -> None:
    """Set ``open_weights`` from a boolean (None leaves it unknown)."""
    if value is None:
        return
    if isinstance(value, bool):
        draft.fields["open_weights"] = value
    else:
        draft.dropped.append(f"{source} dropped: not true or false")


def _litellm(entry: Mapping[str, Any], draft: Draft) -> None:
    set_modalities(
        draft, "input_modalities", entry.get("supported_modalities"), "supported_modalities"
    )
    set_modalities(
        draft,
        "output_modalities",
        entry.get("supported_output_modalities"),
        "supported_output_modalities",
    )
    set_mode(draft, entry.get("mode"), "mode")


def _models_dev(entry: Mapping[str, Any], draft: Draft) -> None:
    modalities = entry.get("modalities")
    if isinstance(modalities, dict):
        set_modalities(draft, "input_modalities", modalities.get("input"), "modalities.input")
        set_modalities(draft, "output_modalities", modalities.get("output"), "modalities.output")
    elif modalities is not None:
        draft.dropped.append("modalities dropped: not an object of input and output")
    set_date(draft, "release_date", entry.get("release_date"), "release_date")
    set_date(draft, "knowledge_cutoff", entry.get("knowledge"), "knowledge")
    set_open_weights(draft, entry.get("open_weights"), "open_weights")


def _openrouter(entry: Mapping[str, Any], draft: Draft) -> None:
    architecture = entry.get("architecture")
    if not isinstance(architecture, dict):
        return
    for side in ("input", "output"):
        key = f"{side}_modalities"
        set_modalities(
            draft, key, architecture.get(key), f"architecture.{key}", OPENROUTER_MODALITIES
        )


LITELLM: Final[Rule] = _litellm
"""LiteLLM: ``supported_modalities``, ``supported_output_modalities``, ``mode``."""
MODELS_DEV: Final[Rule] = _models_dev
"""models.dev: ``modalities``, ``release_date``, ``knowledge``, ``open_weights``."""
OPENROUTER: Final[Rule] = _openrouter
"""OpenRouter: ``architecture.input_modalities`` / ``output_modalities`` (``file``: pdf)."""
