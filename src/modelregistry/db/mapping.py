"""The only place where database rows become domain objects and back."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from modelregistry.domain.aliases import AliasState
from modelregistry.domain.history import ChangeKind, ModelRevision
from modelregistry.domain.models import QUALITY_DIMENSIONS, ModelConfig
from modelregistry.domain.pricing import Price, exact_decimal, plain
from modelregistry.domain.rates import Rate
from modelregistry.domain.rules import CAPABILITY_PREFIX

if TYPE_CHECKING:
    from collections.abc import Mapping

    from sqlalchemy import RowMapping

CAPABILITY_SEPARATOR: Final = ","
"""Separates capability names aggregated into one text column (names never contain it)."""
TAG_SEPARATOR: Final = "\x1f"
"""Separates ``key=value`` tags aggregated into one text column (tag values never contain
control characters, and keys never ``=``)."""
MODALITY_SEPARATOR: Final = ","
"""Separates the modality names of a modalities column."""


def model_values(config: ModelConfig) -> dict[str, Any]:
    """Column values of ``models`` for ``config`` (without keys, provider and timestamps)."""
    values: dict[str, Any] = {
        "display_name": config.display_name,
        "context_window": config.context_window,
        "max_output_tokens": config.max_output_tokens,
        "cost_per_1m_input_tokens": exact_decimal(config.cost_per_1m_input_tokens),
        "cost_per_1m_output_tokens": exact_decimal(config.cost_per_1m_output_tokens),
        "rate_limit_rpm": config.rate_limit_rpm,
        "rate_limit_tpm": config.rate_limit_tpm,
        "latency_p50_ms": config.latency_p50_ms,
        "latency_p99_ms": config.latency_p99_ms,
        "status": config.status.value,
        "deprecation_date": config.deprecation_date,
        "retirement_date": config.retirement_date,
        "successor_model_id": config.successor_model_id,
        "input_modalities": MODALITY_SEPARATOR.join(config.input_modalities),
        "output_modalities": MODALITY_SEPARATOR.join(config.output_modalities),
        "mode": None if config.mode is None else config.mode.value,
        "release_date": config.release_date,
        "knowledge_cutoff": config.knowledge_cutoff,
        "open_weights": config.open_weights,
    }
    scores = config.quality_scores
    values.update({f"quality_{name}": getattr(scores, name) for name in QUALITY_DIMENSIONS})
    return values


def model_from_row(row: Mapping[Any, Any]) -> ModelConfig:
    """Build the domain model from a row of the repository's model query.

    The row carries every ``models`` column, ``provider`` (the provider's name) and
    ``capabilities`` (true capability names joined by :data:`CAPABILITY_SEPARATOR`, or NULL)
    and ``tags`` (``key=value`` joined by :data:`TAG_SEPARATOR`, or NULL).
    """
    capability_text: str | None = row["capabilities"]
    names = capability_text.split(CAPABILITY_SEPARATOR) if capability_text else ()
    config = ModelConfig.model_validate(
        {
            "model_id": row["model_id"],
            "provider": row["provider"],
            "display_name": row["display_name"],
            "capabilities": {CAPABILITY_PREFIX + name: True for name in names},
            "context_window": row["context_window"],
            "max_output_tokens": row["max_output_tokens"],
            "cost_per_1m_input_tokens": float(row["cost_per_1m_input_tokens"]),
            "cost_per_1m_output_tokens": float(row["cost_per_1m_output_tokens"]),
            "rate_limit_rpm": row["rate_limit_rpm"],
            "rate_limit_tpm": row["rate_limit_tpm"],
            "latency_p50_ms": row["latency_p50_ms"],
            "latency_p99_ms": row["latency_p99_ms"],
            "status": row["status"],
            "quality_scores": {name: row[f"quality_{name}"] for name in QUALITY_DIMENSIONS},
            "deprecation_date": row["deprecation_date"],
            "retirement_date": row["retirement_date"],
            "successor_model_id": row["successor_model_id"],
            "input_modalities": _modalities(row["input_modalities"]),
            "output_modalities": _modalities(row["output_modalities"]),
            "mode": row["mode"],
            "release_date": row["release_date"],
            "knowledge_cutoff": row["knowledge_cutoff"],
            "open_weights": row["open_weights"],
            "tags": tags_from_text(row["tags"]),
        }
    )
    return config.with_version(row["version"])


def _modalities(text: str | None) -> list[str]:
    return text.split(MODALITY_SEPARATOR) if text else []


def tags_from_text(text: str | None) -> dict[str, str]:
    """The tags aggregated by the model query (``key=value`` joined by TAG_SEPARATOR)."""
    if not text:
        return {}
    pairs = (item.partition("=") for item in text.split(TAG_SEPARATOR))
    return {key: value for key, _, value in pairs}


def tag_rows(model_pk: int, config: ModelConfig) -> list[dict[str, Any]]:
    """Rows of ``model_tags`` for ``config``'s tags."""
    return [
        {"model_pk": model_pk, "key": key, "value": value} for key, value in config.tags.items()
    ]


def config_document(config: ModelConfig) -> dict[str, Any]:
    """The JSON document a revision stores: the config's JSON form (without ``version``)."""
    return config.model_dump(mode="json")


def config_document_text(config: ModelConfig) -> str:
    """:func:`config_document` as JSON text, serialised by pydantic-core (for bulk writes)."""
    return config.model_dump_json()


def revision_from_row(row: RowMapping, known: ModelConfig | None = None) -> ModelRevision:
    """Build a ModelRevision from a ``model_revisions`` row.

    ``known``: the config this process validated and wrote as that revision, used instead of
    validating its document again (the document is that config's JSON form).
    """
    version: int = row["version"]
    config = ModelConfig.model_validate(row["config"]) if known is None else known
    return ModelRevision(
        model_id=row["model_id"],
        version=version,
        config=config.with_version(version),
        change=ChangeKind(row["change"]),
        changed_at=row["changed_at"],
        actor=row["actor"],
        reason=row["reason"],
    )


def price_from_row(row: RowMapping, rates: tuple[Rate, ...] = ()) -> Price:
    """Build a Price (without ``effective_until``) from a ``model_prices`` row and its rates."""
    return Price(
        model_id=row["model_id"],
        input_per_1m=plain(row["input_per_1m"]),
        output_per_1m=plain(row["output_per_1m"]),
        cached_input_per_1m=None
        if row["cached_input_per_1m"] is None
        else plain(row["cached_input_per_1m"]),
        effective_from=row["effective_from"],
        recorded_at=row["recorded_at"],
        actor=row["actor"],
        reason=row["reason"],
        currency=row["currency"],
        rates=rates,
    )


def rate_from_row(row: RowMapping) -> Rate:
    """Build a Rate from a ``model_price_rates`` row."""
    return Rate(
        component=row["component"],
        amount=plain(row["amount"]),
        service_tier=row["service_tier"],
        above_tokens=row["above_tokens"],
    )


def rate_values(price_id: int, rate: Rate) -> dict[str, Any]:
    """Column values of ``model_price_rates`` for ``rate`` of the price ``price_id``."""
    return {
        "price_id": price_id,
        "service_tier": rate.service_tier,
        "above_tokens": rate.above_tokens,
        "component": rate.component,
        "amount": rate.amount,
    }


def price_values(price: Price) -> dict[str, Any]:
    """Column values of ``model_prices`` for ``price``."""
    return {
        "model_id": price.model_id,
        "input_per_1m": price.input_per_1m,
        "output_per_1m": price.output_per_1m,
        "cached_input_per_1m": price.cached_input_per_1m,
        "currency": price.currency,
        "effective_from": price.effective_from,
        "recorded_at": price.recorded_at,
        "actor": price.actor,
        "reason": price.reason,
    }


def alias_from_row(row: RowMapping) -> AliasState:
    """Build an AliasState from a ``model_aliases`` row that sets an alias."""
    return AliasState(
        alias=row["alias"],
        model_id=row["model_id"],
        changed_at=row["changed_at"],
        actor=row["actor"],
        reason=row["reason"],
    )
