"""Catalog queries: takes a Session, returns domain objects, never commits.

Every list is ordered in SQL: model ids by code point (the columns use the ``C`` collation on
PostgreSQL and SQLite's binary collation), names likewise. Capability queries go through the
``model_capabilities`` join table and provider queries through the provider index; nothing is
filtered in Python.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Final

import sqlalchemy as sa

from modelregistry.db.engine import lock_for_writes
from modelregistry.db.mapping import (
    CAPABILITY_SEPARATOR,
    config_document,
    model_from_row,
    model_values,
    revision_from_row,
)
from modelregistry.db.tables import (
    CapabilityRow,
    ModelCapabilityRow,
    ModelRevisionRow,
    ModelRow,
    ProviderRow,
)

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable

    from sqlalchemy.orm import Session

    from modelregistry.domain import ModelConfig, ModelStatus
    from modelregistry.history import ChangeKind, ModelRevision


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

_REVISIONS: Final = sa.select(*ModelRevisionRow.__table__.columns)

CHANGES_CHANNEL: Final = "modelregistry_changes"
"""PostgreSQL NOTIFY channel on which writers announce new catalog revisions."""

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

    def retiring(self, until: date) -> list[ModelConfig]:
        """Models whose retirement date is on or before ``until``, soonest first."""
        query = _MODELS.where(ModelRow.retirement_date <= until).order_by(
            ModelRow.retirement_date, ModelRow.model_id
        )
        return [model_from_row(row) for row in self._session.execute(query).mappings()]

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
            now = datetime.now(UTC)
        else:
            now = self._session.execute(sa.select(sa.func.clock_timestamp())).scalar_one()
        # Never before the previous change, even if the clock stepped back: point-in-time
        # reads rely on change times growing with the change sequence.
        previous = self._session.scalar(sa.select(sa.func.max(ModelRevisionRow.changed_at)))
        if previous is not None and now <= previous:
            now = previous + timedelta(microseconds=1)
        return now.astimezone(UTC)

    def save(self, config: ModelConfig, *, version: int, now: datetime) -> None:
        """Insert ``config`` at ``version``, or replace the stored model with the same id."""
        values = model_values(config)
        values["provider_id"] = self._provider_id(config.provider)
        values["updated_at"] = now
        values["version"] = version
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

    def delete(self, model_id: str) -> None:
        """Delete the model (its capability links go with it); its revisions stay."""
        self._session.execute(sa.delete(ModelRow).where(ModelRow.model_id == model_id))

    def append_revision(  # noqa: PLR0913 - one column each
        self,
        config: ModelConfig,
        *,
        version: int,
        change: ChangeKind,
        now: datetime,
        actor: str,
        reason: str | None,
    ) -> int:
        """Record ``config`` as ``version`` of its model; return the catalog's new revision."""
        return self._session.scalars(
            sa.insert(ModelRevisionRow)
            .values(
                model_id=config.model_id,
                version=version,
                change=change.value,
                config=config_document(config),
                changed_at=now,
                actor=actor,
                reason=reason,
            )
            .returning(ModelRevisionRow.id)
        ).one()

    def announce(self, revision: int) -> None:
        """Tell listening processes, at commit, that the catalog reached ``revision``.

        PostgreSQL: ``NOTIFY`` on :data:`CHANGES_CHANNEL` (delivered only if the transaction
        commits). SQLite has no notifications; other processes poll.
        """
        if self._session.get_bind().dialect.name != "sqlite":
            self._session.execute(sa.select(sa.func.pg_notify(CHANGES_CHANNEL, str(revision))))

    # -- change log ------------------------------------------------------------------------

    def catalog_revision(self) -> int:
        """The catalog's revision: the sequence number of its latest change (0: none)."""
        return self._session.scalar(sa.select(sa.func.max(ModelRevisionRow.id))) or 0

    def changes_since(self, revision: int) -> list[tuple[int, ModelRevision]] | None:
        """Every change after ``revision``, oldest first, with its sequence number.

        None when the log ends before ``revision``: the database is not the one that revision
        came from (restored or replaced), so only a full reload is right.
        """
        query = _REVISIONS.where(ModelRevisionRow.id > revision).order_by(ModelRevisionRow.id)
        rows = self._session.execute(query).mappings().all()
        if not rows and self.catalog_revision() < revision:
            return None
        return [(row["id"], revision_from_row(row)) for row in rows]

    # -- history ---------------------------------------------------------------------------

    def last_version(self, model_id: str) -> int:
        """The newest version of ``model_id`` (a removal counts), or 0 if it never existed."""
        query = sa.select(sa.func.max(ModelRevisionRow.version)).where(
            ModelRevisionRow.model_id == model_id
        )
        return self._session.scalar(query) or 0

    def history(self, model_id: str) -> list[ModelRevision]:
        """Every revision of ``model_id``, oldest first."""
        query = _REVISIONS.where(ModelRevisionRow.model_id == model_id).order_by(
            ModelRevisionRow.version
        )
        return [revision_from_row(row) for row in self._session.execute(query).mappings()]

    def revision(self, model_id: str, version: int) -> ModelRevision | None:
        """Revision ``version`` of ``model_id``, or None."""
        query = _REVISIONS.where(
            ModelRevisionRow.model_id == model_id, ModelRevisionRow.version == version
        )
        row = self._session.execute(query).mappings().one_or_none()
        return None if row is None else revision_from_row(row)

    def revision_as_of(self, model_id: str, when: datetime) -> ModelRevision | None:
        """The newest revision of ``model_id`` committed at or before ``when``, or None."""
        query = (
            _REVISIONS.where(
                ModelRevisionRow.model_id == model_id, ModelRevisionRow.changed_at <= when
            )
            .order_by(ModelRevisionRow.version.desc())
            .limit(1)
        )
        row = self._session.execute(query).mappings().one_or_none()
        return None if row is None else revision_from_row(row)

    def revisions_as_of(self, when: datetime) -> list[ModelRevision]:
        """The newest revision of every model as of ``when`` (removals included), by id."""
        latest = (
            sa.select(
                ModelRevisionRow.model_id,
                sa.func.max(ModelRevisionRow.version).label("version"),
            )
            .where(ModelRevisionRow.changed_at <= when)
            .group_by(ModelRevisionRow.model_id)
            .subquery()
        )
        query = _REVISIONS.join(
            latest,
            sa.and_(
                latest.c.model_id == ModelRevisionRow.model_id,
                latest.c.version == ModelRevisionRow.version,
            ),
        ).order_by(ModelRevisionRow.model_id)
        return [revision_from_row(row) for row in self._session.execute(query).mappings()]

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
