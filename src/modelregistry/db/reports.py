"""The catalog's counts for its metrics, in SQL through the reporting views.

The views (``model_catalog``, ``capability_summary``, ...; schema revision 0005) are the SQL
face of the catalog for admins. A registry without a cache counts through them, so its metrics
are what an admin's query of the same views says.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

import sqlalchemy as sa

from modelregistry.domain.counts import CatalogCounts, every_status

if TYPE_CHECKING:
    from datetime import date

    from sqlalchemy.engine import Connection

_MODEL_CATALOG = sa.table(
    "model_catalog",
    sa.column("provider", sa.String),
    sa.column("status", sa.String),
    sa.column("retirement_date", sa.Date),
    sa.column("input_modalities", sa.String),
    sa.column("output_modalities", sa.String),
    sa.column("mode", sa.String),
)
_CAPABILITY_SUMMARY = sa.table(
    "capability_summary", sa.column("capability", sa.String), sa.column("models", sa.Integer)
)


def count_in_views(session: Connection, retiring_by: date) -> CatalogCounts:
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
    # Modalities are sorted comma-separated names (revision 0009): counted per distinct
    # combination in SQL, split here.
    by_modality: Counter[tuple[str, str]] = Counter()
    by_mode: Counter[str] = Counter()
    for inputs, outputs, mode, n in session.execute(
        sa.select(
            catalog.input_modalities, catalog.output_modalities, catalog.mode, sa.func.count()
        ).group_by(catalog.input_modalities, catalog.output_modalities, catalog.mode)
    ):
        for direction, names in (("input", inputs), ("output", outputs)):
            for name in (names or "").split(","):
                if name:
                    by_modality[direction, name] += n
        if mode:
            by_mode[mode] += n
    return CatalogCounts(
        every_status(by_provider_status),
        by_capability,
        retiring or 0,
        dict(sorted(by_modality.items())),
        dict(sorted(by_mode.items())),
    )
