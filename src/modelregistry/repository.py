"""Catalog queries: takes a Session, returns domain objects, never commits.

Every list is ordered in SQL: model ids by code point (the columns use the ``C`` collation on
PostgreSQL and SQLite's binary collation), names likewise. Capability queries go through the
``model_capabilities`` join table and provider queries through the provider index; nothing is
filtered in Python.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

import sqlalchemy as sa

from modelregistry.db.engine import lock_for_writes
from modelregistry.db.mapping import CAPABILITY_SEPARATOR, model_from_row, model_values
from modelregistry.db.tables import CapabilityRow, ModelCapabilityRow, ModelRow, ProviderRow

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable

    from sqlalchemy.orm import Session

    from modelregistry.domain import ModelConfig, ModelStatus


def _capability_names() -> sa.ScalarSelect[str]:
    return (
        sa.select(sa.func.aggregate_strings(CapabilityRow.name, CAPABILITY_SEPARATOR))
        .select_from(ModelCapabilityRow)
        .join(CapabilityRow, CapabilityRow.id == ModelCapabilityRow.capability_id)
        .where(ModelCapabilityRow.model_pk == ModelRow.id)
        .correlate(ModelRow)
        .scalar_subquery()
    )


_MODELS: Final = sa.select(
    *ModelRow.__table__.columns,
    ProviderRow.name.label("provider"),
    _capability_names().label("capabilities"),
).join(ProviderRow, ProviderRow.id == ModelRow.provider_id)
"""Every column a ModelConfig needs, one row per model (capabilities aggregated)."""

# Built once: the statement and its cache key are reused by every lookup.
_MODEL_BY_ID: Final = _MODELS.where(ModelRow.model_id == sa.bindparam("model_id"))


def _with_capability_ids(names: Collection[str]) -> sa.Select[int]:
    """Model keys having every capability in ``names``."""
    return (
        sa.select(ModelCapabilityRow.model_pk)
        .join(CapabilityRow, CapabilityRow.id == ModelCapabilityRow.capability_id)
        .where(CapabilityRow.name.in_(names))
        .group_by(ModelCapabilityRow.model_pk)
        .having(sa.func.count() == len(names))
    )


class CatalogRepository:
    """Reads and writes the catalog through one session; the caller owns the transaction."""

    def __init__(self, session: Session) -> None:
        """Wrap ``session``; nothing is executed yet."""
        self._session = session

    # -- reads -----------------------------------------------------------------------------

    def get(self, model_id: str) -> ModelConfig | None:
        """Return the model ``model_id`` (exact, case-sensitive), or None."""
        row = self._session.execute(_MODEL_BY_ID, {"model_id": model_id}).mappings().one_or_none()
        return None if row is None else model_from_row(row)

    def list_models(
        self,
        *,
        provider: str | None = None,
        status: ModelStatus | None = None,
        capabilities: Collection[str] = (),
    ) -> list[ModelConfig]:
        """Return the models matching every given filter, ordered by model id.

        Args:
            provider: Provider name (already normalised), or None for every provider.
            status: Status, or None for every status.
            capabilities: Canonical capability names the model must all have.
        """
        query = _MODELS
        if provider is not None:
            query = query.where(ProviderRow.name == provider)
        if status is not None:
            query = query.where(ModelRow.status == status.value)
        if capabilities:
            query = query.where(ModelRow.id.in_(_with_capability_ids(set(capabilities))))
        rows = self._session.execute(query.order_by(ModelRow.model_id)).mappings()
        return [model_from_row(row) for row in rows]

    def providers_in_use(self) -> list[str]:
        """Names of providers that have at least one model, sorted."""
        used = sa.exists().where(ModelRow.provider_id == ProviderRow.id)
        query = sa.select(ProviderRow.name).where(used).order_by(ProviderRow.name)
        return list(self._session.scalars(query))

    def capabilities_in_use(self) -> list[str]:
        """Names of capabilities at least one model has, sorted."""
        used = sa.exists().where(ModelCapabilityRow.capability_id == CapabilityRow.id)
        query = sa.select(CapabilityRow.name).where(used).order_by(CapabilityRow.name)
        return list(self._session.scalars(query))

    def count_by_status(self) -> dict[str, int]:
        """Number of models per status value (statuses without models are absent)."""
        query = sa.select(ModelRow.status, sa.func.count()).group_by(ModelRow.status)
        return dict(self._session.execute(query).all())

    def count_by_provider(self) -> dict[str, int]:
        """Number of models per provider name, ordered by name."""
        query = (
            sa.select(ProviderRow.name, sa.func.count())
            .join(ModelRow, ModelRow.provider_id == ProviderRow.id)
            .group_by(ProviderRow.name)
            .order_by(ProviderRow.name)
        )
        return dict(self._session.execute(query).all())

    # -- writes ----------------------------------------------------------------------------

    def lock_for_write(self) -> datetime:
        """Serialise this write transaction with every other writer; return the write's time.

        PostgreSQL takes a transaction-scoped advisory lock and reads the database clock after
        it, so write times follow commit order. SQLite writers already hold the database's
        write lock (``BEGIN IMMEDIATE``), and the clock is this machine's, in UTC.
        """
        connection = self._session.connection()
        lock_for_writes(connection)
        if connection.dialect.name == "sqlite":
            return datetime.now(UTC)
        now = self._session.scalar(sa.select(sa.func.clock_timestamp()))
        if not isinstance(now, datetime):  # pragma: no cover - the database always answers
            msg = "clock_timestamp() returned no time"
            raise TypeError(msg)
        return now.astimezone(UTC)

    def save(self, config: ModelConfig, *, now: datetime) -> None:
        """Insert ``config``, or replace the stored model with the same ``model_id``."""
        values = model_values(config)
        values["provider_id"] = self._provider_id(config.provider)
        values["updated_at"] = now
        model_pk = self._session.scalar(
            sa.select(ModelRow.id).where(ModelRow.model_id == config.model_id)
        )
        if model_pk is None:
            model_pk = self._session.scalars(
                sa.insert(ModelRow)
                .values(model_id=config.model_id, created_at=now, **values)
                .returning(ModelRow.id)
            ).one()
        else:
            self._session.execute(
                sa.update(ModelRow).where(ModelRow.id == model_pk).values(**values)
            )
        self._replace_capabilities(model_pk, config.capabilities.names())

    def set_status(self, model_id: str, status: ModelStatus, *, now: datetime) -> bool:
        """Set the status of ``model_id``; return False when no such model exists."""
        result = self._session.execute(
            sa.update(ModelRow)
            .where(ModelRow.model_id == model_id)
            .values(status=status.value, updated_at=now)
        )
        return bool(getattr(result, "rowcount", 0))

    def _provider_id(self, name: str) -> int:
        existing = self._session.scalar(sa.select(ProviderRow.id).where(ProviderRow.name == name))
        if existing is not None:
            return existing
        return self._session.scalars(
            sa.insert(ProviderRow).values(name=name).returning(ProviderRow.id)
        ).one()

    def _capability_ids(self, names: Iterable[str]) -> set[int]:
        wanted = set(names)
        if not wanted:
            return set()
        query = sa.select(CapabilityRow.name, CapabilityRow.id).where(
            CapabilityRow.name.in_(wanted)
        )
        found = dict(self._session.execute(query).all())
        for name in sorted(wanted - found.keys()):
            found[name] = self._session.scalars(
                sa.insert(CapabilityRow).values(name=name).returning(CapabilityRow.id)
            ).one()
        return set(found.values())

    def _replace_capabilities(self, model_pk: int, names: Iterable[str]) -> None:
        wanted = self._capability_ids(names)
        current = set(
            self._session.scalars(
                sa.select(ModelCapabilityRow.capability_id).where(
                    ModelCapabilityRow.model_pk == model_pk
                )
            )
        )
        if stale := current - wanted:
            self._session.execute(
                sa.delete(ModelCapabilityRow).where(
                    ModelCapabilityRow.model_pk == model_pk,
                    ModelCapabilityRow.capability_id.in_(stale),
                )
            )
        if missing := wanted - current:
            self._session.execute(
                sa.insert(ModelCapabilityRow),
                [{"model_pk": model_pk, "capability_id": cid} for cid in sorted(missing)],
            )
