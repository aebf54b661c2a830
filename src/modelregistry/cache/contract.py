"""The contract between the cache and the database: what a snapshot and the repository answer.

:class:`CatalogReader` is the set of catalog queries that both a cache snapshot
(:class:`~modelregistry.cache.snapshot.Snapshot`) and the database's
:class:`~modelregistry.db.repository.Repository` answer, with the same names and results, so
a read runs on either. :class:`FullLoad` and :class:`Delta` are what the cache reads from the
database (:mod:`modelregistry.cache.source`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Collection
    from datetime import date, datetime

    from modelregistry.db.repository import Anchor
    from modelregistry.domain.history import ModelRevision
    from modelregistry.domain.models import ModelConfig, ModelStatus
    from modelregistry.domain.pricing import Price
    from modelregistry.domain.query import ModelQuery


class CatalogReader(Protocol):
    """The catalog queries that a snapshot and the repository both answer."""

    def get(self, model_id: str) -> ModelConfig | None:
        """Return the model ``model_id``, or None."""

    def list_models(
        self,
        *,
        provider: str | None = None,
        status: ModelStatus | None = None,
        capabilities: Collection[str] = (),
    ) -> list[ModelConfig]:
        """Return the models matching every filter, ordered by model id."""

    def providers_in_use(self) -> list[str]:
        """Names of providers that have at least one model, sorted."""

    def capabilities_in_use(self) -> list[str]:
        """Names of capabilities at least one model has, sorted."""

    def count_by_status(self) -> dict[str, int]:
        """Number of models per status value."""

    def count_by_provider(self) -> dict[str, int]:
        """Number of models per provider name, ordered by name."""

    def retiring(self, until: date) -> list[ModelConfig]:
        """Models whose retirement date is on or before ``until``, soonest first."""

    def find(self, query: ModelQuery) -> list[ModelConfig]:
        """Answer the selection query ``find_models`` asks."""

    def timeline(self, model_id: str) -> tuple[Price, ...]:
        """Every price of the model, in effect order (empty: never priced)."""

    def resolve(self, name: str) -> str:
        """The model id an alias names; any other name as it is."""

    def aliases(self) -> dict[str, str]:
        """Every alias and the model id it names, by alias."""


@dataclass(frozen=True, slots=True)
class FullLoad:
    """The whole catalog, as the cache loads it.

    Attributes:
        anchor: The catalog revision and the ``(model_id, version)`` of its change.
        models: Every model, by id, showing the prices in effect at ``at``.
        prices: Every model's price timeline.
        aliases: Every alias and the model it names.
        alias_cursor: The newest alias change (0: none).
        at: The instant whose prices the models show.
    """

    anchor: Anchor
    models: dict[str, ModelConfig]
    prices: dict[str, tuple[Price, ...]]
    aliases: dict[str, str]
    alias_cursor: int
    at: datetime


@dataclass(frozen=True, slots=True)
class Delta:
    """What changed after an anchor, as the cache reads it.

    Attributes:
        changes: ``(revision, ModelRevision)`` pairs, oldest first.
        prices: The price timelines of the models the changes touch.
        aliases: Every alias and its model, when an alias changed (else None).
        alias_cursor: The newest alias change.
    """

    changes: list[tuple[int, ModelRevision]]
    prices: dict[str, tuple[Price, ...]]
    aliases: dict[str, str] | None
    alias_cursor: int
