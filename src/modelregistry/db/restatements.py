"""Restated price timelines: record one, and read which of a model's prices count.

``model_prices`` is append-only, so a timeline is never rewritten: a restatement row marks the
prices recorded before it as replaced (:func:`modelregistry.domain.pricing.restated` says
which prices count at an instant). Functions over the session of a read or write unit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa

from modelregistry.db.engine import among
from modelregistry.db.tables import ModelPriceRestatementRow, ModelPriceRow

if TYPE_CHECKING:
    from collections.abc import Collection
    from datetime import datetime

    from sqlalchemy.engine import Connection

__all__ = ["record", "restatements"]


def restatements(
    session: Connection, model_ids: Collection[str] | None = None
) -> dict[str, list[tuple[int, datetime]]]:
    """Each restated model's ``(after_price_id, restated_at)``, in the order recorded."""
    query = sa.select(
        ModelPriceRestatementRow.model_id,
        ModelPriceRestatementRow.after_price_id,
        ModelPriceRestatementRow.restated_at,
    ).order_by(ModelPriceRestatementRow.id)
    statements = [query]
    if model_ids is not None:
        column = ModelPriceRestatementRow.model_id
        dialect = session.dialect
        statements = [query.where(ids) for ids in among(dialect, column, list(model_ids))]
    found: dict[str, list[tuple[int, datetime]]] = {}
    for statement in statements:
        for model_id, after, restated_at in session.execute(statement):
            found.setdefault(model_id, []).append((int(after), restated_at))
    return found


def record(
    session: Connection,
    model_ids: Collection[str],
    *,
    now: datetime,
    actor: str,
    reason: str | None,
) -> None:
    """Restate the timelines of ``model_ids``: their prices recorded so far stop counting.

    Call it before writing the new timelines' prices (their ids come after).
    """
    if not model_ids:
        return
    after = session.execute(sa.select(sa.func.coalesce(sa.func.max(ModelPriceRow.id), 0)))
    highest = int(after.scalar_one())
    session.execute(
        sa.insert(ModelPriceRestatementRow),
        [
            {
                "model_id": model_id,
                "after_price_id": highest,
                "restated_at": now,
                "actor": actor,
                "reason": reason,
            }
            for model_id in sorted(model_ids)
        ],
    )
