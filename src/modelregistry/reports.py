"""The catalog's counts for its metrics: from the cache's models, or from the reporting views.

The views (``model_catalog``, ``capability_summary``, ...; schema revision 0005) are the SQL
face of the catalog for admins. A registry without a cache counts through them, so its metrics
are what an admin's query of the same views says.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa

from modelregistry.domain import ModelStatus

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import date

    from sqlalchemy.orm import Session

    from modelregistry.domain import ModelConfig

_MODEL_CATALOG = sa.table(
    "model_catalog",
    sa.column("provider", sa.String),
    sa.column("status", sa.String),
    sa.column("retirement_date", sa.Date),
)
_CAPABILITY_SUMMARY = sa.table(
    "capability_summary", sa.column("capability", sa.String), sa.column("models", sa.Integer)
)


@dataclass(frozen=True, slots=True)
class CatalogCounts:
    """How many models the catalog holds, by the labels its metrics carry (never model ids).

    Attributes:
        by_provider_status: Models per ``(provider, status)``; every status of each provider
            in use is present, zero included.
        by_capability: Models (any status) per capability in use.
        retiring: Models whose retirement date is on or before the day asked about.
    """

    by_provider_status: dict[tuple[str, str], int]
    by_capability: dict[str, int]
    retiring: int


def _every_status(counts: Counter[tuple[str, str]]) -> dict[tuple[str, str], int]:
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
    retiring = 0
    for model in models:
        by_provider_status[model.provider, model.status.value] += 1
        by_capability.update(model.capabilities.names())
        if model.retirement_date is not None and model.retirement_date <= retiring_by:
            retiring += 1
    return CatalogCounts(
        _every_status(by_provider_status), dict(sorted(by_capability.items())), retiring
    )


def count_in_views(session: Session, retiring_by: date) -> CatalogCounts:
    """Count the catalog in SQL, through the reporting views (one snapshot: ``session``)."""
    catalog = _MODEL_CATALOG.c
    rows = session.execute(
        sa.select(catalog.provider, catalog.status, sa.func.count()).group_by(
            catalog.provider, catalog.status
        )
    )
    by_provider_status = Counter({(provider, status): n for provider, status, n in rows})
    summary = _CAPABILITY_SUMMARY.c
    by_capability = {
        row.capability: row.models
        for row in session.execute(
            sa.select(summary.capability, summary.models).order_by(summary.capability)
        )
    }
    retiring = session.scalar(
        sa.select(sa.func.count())
        .select_from(_MODEL_CATALOG)
        .where(catalog.retirement_date <= retiring_by)
    )
    return CatalogCounts(
        _every_status(by_provider_status),
        by_capability,
        retiring or 0,
    )
