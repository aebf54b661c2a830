"""Reading the catalog: one model, lists, the router's selection, counts, retirements.

Each function answers from the cache when the registry has one (a snapshot of the present),
else from the database; reads of the past (``as_of``) always go to the recorded revisions.
Arguments arrive checked (:mod:`modelregistry.domain.arguments`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from modelregistry.domain.arguments import is_findable_id
from modelregistry.domain.history import ChangeKind
from modelregistry.domain.models import ModelStatus
from modelregistry.domain.pricing import priced
from modelregistry.errors import ModelNotFoundError

if TYPE_CHECKING:
    from datetime import date, datetime

    from modelregistry.cache.contract import CatalogReader
    from modelregistry.db.repository import Repository
    from modelregistry.domain.models import ModelConfig
    from modelregistry.domain.query import ModelQuery
    from modelregistry.service.parts import Parts


def get_model(parts: Parts, model_id: str, when: datetime | None) -> ModelConfig | None:
    """The model with this id or alias (at ``when``, if given), or None: the one lookup."""
    if not is_findable_id(model_id):
        return None
    if when is None:
        # An alias costs a second lookup (a second query without the cache), a hit none.
        return parts.get(model_id)

    def read(repository: Repository) -> ModelConfig | None:
        name = repository.resolve(model_id)
        revision = repository.revision_as_of(name, when)
        if revision is None or revision.change is ChangeKind.REMOVED:
            return None
        return priced(revision.config, repository.timeline(name, as_of=when), when)

    return parts.query(read, snapshot=True)


def require_model(parts: Parts, model_id: str, when: datetime | None) -> ModelConfig:
    """:func:`get_model`, raising E4001 when there is no such model."""
    model = get_model(parts, model_id, when)
    if model is None:
        raise ModelNotFoundError(model_id)
    return model


def resolve(parts: Parts, name: str) -> str:
    """The model id an alias names; any other name as it is."""
    return parts.read(lambda catalog: catalog.resolve(name))


def list_models(
    parts: Parts,
    *,
    provider: str | None,
    status: ModelStatus | None,
    capabilities: set[str],
    when: datetime | None,
) -> list[ModelConfig]:
    """The models matching every filter (normalised names), now or at ``when``."""
    if when is None:
        return parts.read(
            lambda catalog: catalog.list_models(
                provider=provider, status=status, capabilities=capabilities
            )
        )
    revisions, timelines = parts.query(
        lambda repository: (
            repository.revisions_as_of(when),
            repository.price_timelines(as_of=when),
        ),
        snapshot=True,
    )
    # The past catalog lives in revision documents: filtered here, not in SQL.
    return [
        priced(revision.config, timelines.get(revision.model_id, ()), when)
        for revision in revisions
        if revision.change is not ChangeKind.REMOVED
        and (provider is None or revision.config.provider == provider)
        and (status is None or revision.config.status is status)
        and capabilities <= revision.config.capabilities.names()
    ]


def find_models(parts: Parts, query: ModelQuery) -> list[ModelConfig]:
    """The router's selection: filtered, ordered, limited (cache and SQL agree)."""
    return parts.read(lambda catalog: catalog.find(query))


def with_capabilities(parts: Parts, names: set[str]) -> list[ModelConfig]:
    """Models (any status) having every capability; no names: every active model (the seed)."""
    if not names:
        return parts.read(lambda catalog: catalog.list_models(status=ModelStatus.ACTIVE))
    return parts.read(lambda catalog: catalog.list_models(capabilities=names))


def providers(parts: Parts) -> list[str]:
    """Providers that have at least one model, sorted."""
    return parts.read(lambda catalog: catalog.providers_in_use())


def capabilities(parts: Parts) -> list[str]:
    """Capabilities that at least one model has, sorted."""
    return parts.read(lambda catalog: catalog.capabilities_in_use())


def retiring(parts: Parts, until: date) -> list[ModelConfig]:
    """Models whose retirement date is on or before ``until``, soonest first."""
    return parts.read(lambda catalog: catalog.retiring(until))


def stats(parts: Parts) -> dict[str, Any]:
    """Counts of the catalog from one consistent snapshot, and the cache's state."""

    def collect(catalog: CatalogReader) -> dict[str, Any]:
        counts = catalog.count_by_status()
        by_status = {status.value: counts.get(status.value, 0) for status in ModelStatus}
        by_provider = catalog.count_by_provider()
        in_use = catalog.capabilities_in_use()
        return {
            "total_models": sum(by_status.values()),
            "active_models": by_status[ModelStatus.ACTIVE.value],
            "total_providers": len(by_provider),
            "total_capabilities": len(in_use),
            "providers": list(by_provider),
            "capabilities": in_use,
            "by_status": by_status,
            "by_provider": by_provider,
        }

    found = parts.read(collect, snapshot=True)
    found["cache"] = {"enabled": False} if parts.cache is None else parts.cache.state()
    return found
