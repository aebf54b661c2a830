"""The catalog's counts by the labels its metrics carry (never model ids).

Counted here from models in memory (the cache's), or by :mod:`modelregistry.db.reports` in
SQL through the reporting views; both give a :class:`CatalogCounts`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from modelregistry.domain.models import ModelStatus

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import date

    from modelregistry.domain.models import ModelConfig


@dataclass(frozen=True, slots=True)
class CatalogCounts:
    """How many models the catalog holds, by the labels its metrics carry (never model ids).

    Attributes:
        by_provider_status: Models per ``(provider, status)``; every status of each provider
            in use is present, zero included.
        by_capability: Models (any status) per capability in use.
        retiring: Models whose retirement date is on or before the day asked about.
        by_modality: Models (any status) per ``(direction, modality)``, direction ``input`` or
            ``output``; a model whose modalities are unknown counts under none.
        by_mode: Models (any status) per ``mode``; unknown modes are not counted.
    """

    by_provider_status: dict[tuple[str, str], int]
    by_capability: dict[str, int]
    retiring: int
    by_modality: dict[tuple[str, str], int]
    by_mode: dict[str, int]


def every_status(counts: Counter[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """``counts`` with every status of each provider in it, zero included."""
    providers = sorted({provider for provider, _ in counts})
    return {
        (provider, status.value): counts[provider, status.value]
        for provider in providers
        for status in ModelStatus
    }


def count_models(models: Iterable[ModelConfig], retiring_by: date) -> CatalogCounts:
    """Count ``models`` (the cache's), retiring on or before ``retiring_by``."""
    by_provider_status: Counter[tuple[str, str]] = Counter()
    by_capability: Counter[str] = Counter()
    by_modality: Counter[tuple[str, str]] = Counter()
    by_mode: Counter[str] = Counter()
    retiring = 0
    for model in models:
        by_provider_status[model.provider, model.status.value] += 1
        by_capability.update(model.capabilities.names())
        by_modality.update(("input", name) for name in model.input_modalities)
        by_modality.update(("output", name) for name in model.output_modalities)
        if model.mode is not None:
            by_mode[model.mode.value] += 1
        if model.retirement_date is not None and model.retirement_date <= retiring_by:
            retiring += 1
    return CatalogCounts(
        every_status(by_provider_status),
        dict(sorted(by_capability.items())),
        retiring,
        dict(sorted(by_modality.items())),
        dict(sorted(by_mode.items())),
    )
