"""ModelRegistry: the public API of the catalog (the seed's 14 methods, and what followed).

Arguments are checked first (:mod:`modelregistry.domain.arguments`); reads and writes then go through
:class:`~modelregistry.store.CatalogStore`, which owns the engine, the transactions and the
cache.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from modelregistry.cache.cache import bulk_building
from modelregistry.db import migrate
from modelregistry.db.errors import translating
from modelregistry.db.repository import CatalogRepository
from modelregistry.domain.arguments import (
    capability_names,
    checked_config,
    existing_id,
    instant,
    is_findable_id,
    provider_name,
    version_guard,
    whole_number,
)
from modelregistry.domain.defaults import DEFAULT_MODELS
from modelregistry.domain.documents import (
    Format,
    ImportResult,
    dump_catalog,
    format_of,
    parse_catalog,
    plan_import,
    read_catalog_file,
)
from modelregistry.domain.history import ChangeKind, FieldChange, ModelRevision, diff_configs
from modelregistry.domain.models import ModelConfig, ModelStatus, parse_status
from modelregistry.domain.pricing import priced
from modelregistry.domain.query import build_query
from modelregistry.errors import (
    InvalidModelConfigError,
    ModelNotFoundError,
    ModelVersionNotFoundError,
)
from modelregistry.metrics.telemetry import operation, recorded_as, unrecorded
from modelregistry.registry_aliases import AliasMethods
from modelregistry.registry_prices import PriceMethods
from modelregistry.store import DEFAULT_POLL_INTERVAL

if TYPE_CHECKING:
    import os
    from collections.abc import Callable, Iterable

    from modelregistry.cache.cache import CatalogReader

__all__ = ["DEFAULT_POLL_INTERVAL", "ModelRegistry"]

_ANALYZE_AFTER: Final = 1000
"""Imports of at least this many entries refresh the planner's statistics afterwards."""

_IMPORT_BATCH: Final = 500
"""Entries an import writes per batch (the progress bar moves between batches)."""


class ModelRegistry(AliasMethods, PriceMethods):
    """The catalog of models, stored in SQLite or PostgreSQL.

    Args:
        url: SQLAlchemy database URL (``postgresql://user@host/db``, ``sqlite:///path.db``,
            ``sqlite://`` for a private in-memory catalog). Default: the
            ``MODELREGISTRY_DATABASE_URL`` environment variable, else an embedded SQLite file
            in the user data directory, created on first use.
        auto_migrate: Upgrade a database at an older schema revision instead of refusing it.
        cache: Answer reads from an in-memory snapshot kept current by the change feed (False:
            every read queries the database).
        poll_interval: Seconds between the change feed's checks of the catalog revision.
        metrics: A ``prometheus_client.CollectorRegistry`` to put the registry's metrics on
            (:attr:`metrics`); without one, they get a CollectorRegistry of their own when
            first asked for.

    An empty database is initialised to the newest schema (seeded with the three default
    models). Use the registry as a context manager, or call :meth:`close`, to release its
    connections.

    Raises:
        SchemaOutdatedError: E4010, the database is older and ``auto_migrate`` is False; run
            ``modelregistry db upgrade``.
        SchemaUnknownError: E4011, the database was migrated by a newer modelregistry.
        DatabaseUnavailableError: E4020, the database cannot be reached.
        DatabaseError: E4021, the URL is not usable or the database refused the schema check.

    Example:
        >>> with ModelRegistry("sqlite://") as registry:
        ...     registry.get_model("llama3.1:8b").display_name
        'Llama 3.1 8B'
    """

    # -- writes ----------------------------------------------------------------------------

    @operation
    def register_model(
        self,
        model: ModelConfig | Mapping[str, Any],
        *,
        expected_version: int | None = None,
        actor: str | None = None,
        reason: str | None = None,
    ) -> ModelConfig:
        """Create the model, or replace the stored model with the same ``model_id``.

        Args:
            model: A ModelConfig or a mapping of its fields. It is validated again, so a
                model altered with ``model_copy(update=...)`` cannot bypass the rules.
            expected_version: Write only if the model's version is this one (0: only if the
                model does not exist yet).
            actor: Who makes the change (default: ``MODELREGISTRY_ACTOR``, else the OS user).
            reason: Why, recorded in the model's history.

        Returns:
            The model as stored, with its new ``version``. A config equal to the stored one
            writes nothing and returns the stored model.

        Raises:
            InvalidModelConfigError: E4003, naming each broken rule; nothing is written.
            ConcurrentModificationError: E4030, the model is not at ``expected_version``.
            DatabaseUnavailableError: E4020, the database cannot be reached (retryable).
        """
        config = checked_config(model)
        with self._changes(actor, reason) as changes:
            return changes.write(
                config, kind=ChangeKind.UPDATED, expected_version=version_guard(expected_version)
            )

    @operation
    def update_model_status(
        self,
        model_id: str,
        status: ModelStatus | str,
        *,
        expected_version: int | None = None,
        actor: str | None = None,
        reason: str | None = None,
    ) -> ModelConfig:
        """Set the status of a model (``status`` is a ModelStatus or its name, any case).

        Setting the status it already has changes nothing. ``expected_version``, ``actor``
        and ``reason`` work as in :meth:`register_model`.

        Returns:
            The model after the change.

        Raises:
            ModelNotFoundError: E4001, no model has this id; nothing is written.
            InvalidModelConfigError: E4003, ``status`` names no status.
            ConcurrentModificationError: E4030, the model is not at ``expected_version``.
        """
        new_status = parse_status(status)
        model_id = existing_id(model_id)
        with self._changes(actor, reason) as changes:
            current = changes.current(changes.resolve(model_id))
            return changes.write(
                current.model_copy(update={"status": new_status}),
                kind=ChangeKind.STATUS_CHANGED,
                expected_version=version_guard(expected_version),
            )

    @operation
    def remove_model(
        self,
        model_id: str,
        *,
        expected_version: int | None = None,
        actor: str | None = None,
        reason: str | None = None,
    ) -> ModelRevision:
        """Remove a model from the catalog: it disappears from every query.

        Its history stays readable, and registering the same id later continues its version
        numbers. ``expected_version``, ``actor`` and ``reason`` work as in
        :meth:`register_model`.

        Returns:
            The revision that records the removal.

        Raises:
            ModelNotFoundError: E4001, no model has this id.
            ConcurrentModificationError: E4030, the model is not at ``expected_version``.
        """
        model_id = existing_id(model_id)
        with self._changes(actor, reason) as changes:
            return changes.remove(
                changes.resolve(model_id), expected_version=version_guard(expected_version)
            )

    @operation
    def restore_model(
        self,
        model_id: str,
        version: int,
        *,
        expected_version: int | None = None,
        actor: str | None = None,
        reason: str | None = None,
    ) -> ModelConfig:
        """Write the config of an older version as the model's next version.

        Works on a removed model too (it comes back). Restoring a config equal to the current
        one changes nothing.

        Returns:
            The model as stored after the restore.

        Raises:
            ModelNotFoundError: E4001, the model has no history.
            ModelVersionNotFoundError: E4004, it has no such version.
            ConcurrentModificationError: E4030, the model is not at ``expected_version``.
        """
        model_id = existing_id(model_id)
        wanted = whole_number(version, "version")
        with self._changes(actor, reason) as changes:
            revision = changes.revision(changes.resolve(model_id), wanted)
            return changes.write(
                revision.config,
                kind=ChangeKind.RESTORED,
                expected_version=version_guard(expected_version),
            )

    @operation
    def load_default_models(self, *, actor: str | None = None, reason: str | None = None) -> int:
        """Insert the seed's default models that this catalog never had.

        A default that exists is never overwritten, and one an admin removed is not brought
        back, so an admin's change survives every restart.

        Returns:
            How many models were inserted (0 when all three exist or existed).
        """
        inserted = 0
        with self._changes(actor, reason) as changes:
            for config in DEFAULT_MODELS:
                if changes.last_version(config.model_id) == 0:
                    changes.write(config, kind=ChangeKind.CREATED)
                    inserted += 1
        return inserted

    @operation
    def import_catalog(  # noqa: PLR0913 - keyword-only options
        self,
        source: str | os.PathLike[str] | Mapping[str, Any],
        *,
        prune: bool = False,
        dry_run: bool = False,
        actor: str | None = None,
        reason: str | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> ImportResult:
        """Apply a catalog file (YAML or JSON, by extension) or mapping, all or nothing.

        Every entry is validated first; any invalid entry stops the import before anything is
        written. Then every entry is registered in one transaction (new versions only for
        real changes) and, with ``prune``, models the catalog lacks are removed.

        Args:
            source: A path, or a mapping ``{"models": [...], "schema_version": 1}``.
            prune: Remove the models that are not in ``source``.
            dry_run: Only report what would change.
            actor: Who makes the changes (recorded in each model's history).
            reason: Why.
            progress: Called with ``(done, total)`` as entries are applied.

        Returns:
            The ids added, changed, unchanged and removed.

        Raises:
            InvalidCatalogFileError: E4005, listing every problem (entry index, model_id,
                field, rule); nothing is written.
        """
        with bulk_building():
            models = (
                parse_catalog(source)
                if isinstance(source, Mapping)
                else read_catalog_file(Path(source))
            )
        if dry_run:
            current = self._query_db(
                lambda repository: {m.model_id: m for m in repository.list_models()}
            )
            return plan_import(current, models, prune=prune, dry_run=True)
        total = len(models)
        with bulk_building(), self._changes(actor, reason) as changes:
            current = changes.all_models()
            result = plan_import(current, models, prune=prune, dry_run=False)
            for start in range(0, total, _IMPORT_BATCH):
                changes.write_many(models[start : start + _IMPORT_BATCH], current)
                if progress is not None:
                    progress(min(start + _IMPORT_BATCH, total), total)
            for model_id in result.removed:
                changes.remove(model_id)
        if total + len(result.removed) >= _ANALYZE_AFTER:
            with translating(database=self._url), self._write_session.begin() as session:
                CatalogRepository(session).refresh_statistics()
        return result

    @operation
    def export_catalog(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        format: Format | None = None,  # noqa: A002 - the natural name, as in the CLI
        provider: str | None = None,
        status: ModelStatus | str | None = None,
    ) -> str:
        """Render the catalog (or the models of ``provider``/``status``) as a catalog file.

        Importing the result into an empty database gives the same catalog, field for field.

        Args:
            path: Also write the text to this file (its extension picks the format).
            format: ``yaml`` or ``json`` (default: from ``path``, else ``yaml``).
            provider: Only this provider's models.
            status: Only models in this status.

        Returns:
            The file's text.
        """
        target = None if path is None else Path(path)
        kind: Format = format or (format_of(target) if target is not None else "yaml")
        if kind not in {"yaml", "json"}:
            raise InvalidModelConfigError.single("format", "must be yaml or json", kind)
        text = dump_catalog(unrecorded(ModelRegistry.list_models)(self, provider, status), kind)
        if target is not None:
            target.write_text(text, encoding="utf-8")
        return text

    # -- reads -----------------------------------------------------------------------------

    def get_model(self, model_id: str, *, as_of: datetime | None = None) -> ModelConfig | None:
        """Return the model with this id (exact, case-sensitive), or None.

        Args:
            model_id: The model's id.
            as_of: An aware datetime: return what the catalog said at that instant instead
                (None if the model did not exist then, or was removed).

        Raises:
            InvalidModelConfigError: E4003, ``model_id`` is not a string or ``as_of`` is not
                an aware datetime.
        """
        cache = self._cache
        if as_of is None and cache is not None and isinstance(model_id, str):
            # The hot path: one dictionary lookup in the current snapshot (and a clock read
            # only while a price is scheduled; an alias costs a second lookup). Not timed for
            # the metrics: that would double its cost (modelregistry.metrics.telemetry).
            snapshot = cache.snapshot
            if snapshot.expires_at is not None and time.time() >= snapshot.expires_at:
                snapshot = cache.current()
            model = snapshot.lookup(model_id)
            return snapshot.lookup(snapshot.resolve(model_id)) if model is None else model
        return self._get_model(model_id, as_of)

    @recorded_as("get_model")
    def _get_model(self, model_id: str, as_of: datetime | None) -> ModelConfig | None:
        """``get_model`` when the cache does not answer (recorded: it reads the database)."""
        when = instant(as_of)
        if not is_findable_id(model_id):
            return None
        if when is None:
            # An alias costs a second lookup (a second query without the cache), a hit none.
            return self._read(
                lambda catalog: catalog.get(model_id) or catalog.get(catalog.resolve(model_id))
            )

        def read(repository: CatalogRepository) -> ModelConfig | None:
            name = repository.resolve(model_id)
            revision = repository.revision_as_of(name, when)
            if revision is None or revision.change is ChangeKind.REMOVED:
                return None
            return priced(revision.config, repository.timeline(name), when)

        return self._query_db(read, snapshot=True)

    def get_model_or_raise(self, model_id: str, *, as_of: datetime | None = None) -> ModelConfig:
        """Return the model with this id (at ``as_of``, as in :meth:`get_model`).

        Raises:
            ModelNotFoundError: E4001, no model has this id.
        """
        if as_of is None and self._cache is not None and isinstance(model_id, str):
            model = self.get_model(model_id)
            if model is not None:  # the cache's hot path, not timed either (see get_model)
                return model
        return self._get_model_or_raise(model_id, as_of)

    @recorded_as("get_model_or_raise")
    def _get_model_or_raise(self, model_id: str, as_of: datetime | None) -> ModelConfig:
        model = unrecorded(ModelRegistry._get_model)(self, model_id, as_of)
        if model is None:
            raise ModelNotFoundError(model_id)
        return model

    @operation
    def list_models(
        self,
        provider: str | None = None,
        status: ModelStatus | str | None = None,
        *,
        capabilities: Iterable[str] = (),
        as_of: datetime | None = None,
    ) -> list[ModelConfig]:
        """Return the models matching every given filter; None (or no names) means any.

        Args:
            provider: Provider name, any case.
            status: A ModelStatus or its name, any case.
            capabilities: Capability names (``vision`` or ``supports_vision``) the models
                must all have.
            as_of: An aware datetime: list the catalog as it was at that instant.

        Raises:
            InvalidModelConfigError: E4003, ``status`` names no status, ``capabilities`` is a
                single string rather than a list of names, or ``as_of`` is not aware.
        """
        wanted = None if status is None else parse_status(status)
        name = None if provider is None else provider_name(provider)
        names = capability_names(capabilities)
        when = instant(as_of)
        if names is None or (provider is not None and name is None):
            return []
        if when is not None:
            revisions, timelines = self._query_db(
                lambda repository: (
                    repository.revisions_as_of(when),
                    repository.price_timelines(),
                ),
                snapshot=True,
            )
            # The past catalog lives in revision documents: filtered here, not in SQL.
            return [
                priced(revision.config, timelines.get(revision.model_id, ()), when)
                for revision in revisions
                if revision.change is not ChangeKind.REMOVED
                and (name is None or revision.config.provider == name)
                and (wanted is None or revision.config.status is wanted)
                and names <= revision.config.capabilities.names()
            ]
        return self._read(
            lambda catalog: catalog.list_models(provider=name, status=wanted, capabilities=names)
        )

    @operation
    def find_models(  # noqa: PLR0913 - the router's selection criteria, keyword-only
        self,
        *,
        capabilities: Iterable[str] = (),
        any_capabilities: Iterable[str] = (),
        providers: Iterable[str] | None = None,
        statuses: Iterable[ModelStatus | str] | None = (ModelStatus.ACTIVE,),
        min_context_window: int | None = None,
        min_max_output_tokens: int | None = None,
        max_cost_per_1m_input: float | None = None,
        max_cost_per_1m_output: float | None = None,
        min_quality: Mapping[str, float] | None = None,
        max_latency_p50_ms: int | None = None,
        order_by: str | None = None,
        limit: int | None = None,
    ) -> list[ModelConfig]:
        """Select models for a request: every criterion at once, ordered, limited.

        Args:
            capabilities: Names the models must all have (an unknown one matches nothing).
            any_capabilities: Names of which the models must have at least one.
            providers: Provider names (any case); None for every provider.
            statuses: Statuses allowed (default: active only); None for every status.
            min_context_window: Smallest context window (inclusive, like every bound).
            min_max_output_tokens: Smallest max output.
            max_cost_per_1m_input: Highest input price, USD per 1M tokens.
            max_cost_per_1m_output: Highest output price.
            min_quality: Lowest score per dimension, e.g. ``{"coding": 0.8}``.
            max_latency_p50_ms: Highest median latency; a model whose latency is 0 (unknown)
                never passes it.
            order_by: ``cost`` (input + output per 1M), ``cost_per_1m_input_tokens``,
                ``cost_per_1m_output_tokens``, ``latency_p50_ms`` (unknown last),
                ``context_window`` or ``quality.<dimension>`` (highest first); prefix ``-``
                to reverse. Ties are broken by ``model_id`` ascending, in either direction.
            limit: At most this many models.

        Answered from the cache when there is one, in SQL otherwise; both give the same
        answer (a property-based test holds them to it).

        Raises:
            InvalidModelConfigError: E4003 naming the argument; an unknown ``order_by``
                lists the valid names.
        """
        query = build_query(
            capabilities=capabilities,
            any_capabilities=any_capabilities,
            providers=providers,
            statuses=statuses,
            min_context_window=min_context_window,
            min_max_output_tokens=min_max_output_tokens,
            max_cost_per_1m_input=max_cost_per_1m_input,
            max_cost_per_1m_output=max_cost_per_1m_output,
            min_quality=min_quality,
            max_latency_p50_ms=max_latency_p50_ms,
            order_by=order_by,
            limit=limit,
        )
        return self._read(lambda catalog: catalog.find(query))

    @operation
    def select_model(self, /, **criteria: Any) -> ModelConfig | None:  # noqa: ANN401 - find_models' keywords
        """The first model :meth:`find_models` gives for ``criteria``, or None.

        Example: ``registry.select_model(capabilities=["vision"], order_by="cost")``.
        """
        found = unrecorded(ModelRegistry.find_models)(self, **{**criteria, "limit": 1})
        return found[0] if found else None

    @operation
    def get_models_by_capability(self, capability: str) -> list[ModelConfig]:
        """Return the models (any status) having the capability.

        ``capability`` is ``vision`` or ``supports_vision``, any case; an unknown capability
        gives an empty list, as in the seed.
        """
        return unrecorded(ModelRegistry.get_models_by_capabilities)(self, [capability])

    @operation
    def get_models_by_capabilities(self, capabilities: Iterable[str]) -> list[ModelConfig]:
        """Return the models (any status) having every named capability.

        An empty list of names returns every active model, as the seed does.

        Raises:
            InvalidModelConfigError: E4003, ``capabilities`` is a single string, not a list.
        """
        names = capability_names(capabilities)
        if names is None:
            return []
        if not names:
            return self._read(lambda catalog: catalog.list_models(status=ModelStatus.ACTIVE))
        return self._read(lambda catalog: catalog.list_models(capabilities=names))

    @operation
    def get_models_by_provider(self, provider: str) -> list[ModelConfig]:
        """Return every model of ``provider`` (any case), any status."""
        name = provider_name(provider)
        if name is None:  # not a provider name: no provider has it
            return []
        return self._read(lambda catalog: catalog.list_models(provider=name))

    @operation
    def get_available_models(self) -> list[ModelConfig]:
        """Return every active model."""
        return self._read(lambda catalog: catalog.list_models(status=ModelStatus.ACTIVE))

    @operation
    def get_providers(self) -> list[str]:
        """Return the names of providers that have at least one model, sorted."""
        return self._read(lambda catalog: catalog.providers_in_use())

    @operation
    def get_capabilities(self) -> list[str]:
        """Return the names of capabilities that at least one model has, sorted."""
        return self._read(lambda catalog: catalog.capabilities_in_use())

    @operation
    def is_initialized(self) -> bool:
        """Tell whether the database schema is at the newest revision this version knows.

        Raises:
            DatabaseUnavailableError: E4020, the database cannot be reached.
        """
        with translating(database=self._url):
            return migrate.is_current(self._engine)

    @operation
    def get_stats(self) -> dict[str, Any]:
        """Return counts of the catalog, from one consistent snapshot.

        Keys: ``total_models``, ``active_models``, ``total_providers``,
        ``total_capabilities``, ``providers`` (sorted names), ``capabilities`` (sorted names
        in use), ``by_status`` (every status, zeros included) and ``by_provider``.
        """

        def collect(repository: CatalogReader) -> dict[str, Any]:
            counts = repository.count_by_status()
            by_status = {status.value: counts.get(status.value, 0) for status in ModelStatus}
            by_provider = repository.count_by_provider()
            capabilities = repository.capabilities_in_use()
            return {
                "total_models": sum(by_status.values()),
                "active_models": by_status[ModelStatus.ACTIVE.value],
                "total_providers": len(by_provider),
                "total_capabilities": len(capabilities),
                "providers": list(by_provider),
                "capabilities": capabilities,
                "by_status": by_status,
                "by_provider": by_provider,
            }

        stats = self._read(collect, snapshot=True)
        stats["cache"] = {"enabled": False} if self._cache is None else self._cache.state()
        return stats

    # -- history and lifecycle -------------------------------------------------------------

    @operation
    def get_model_history(self, model_id: str) -> list[ModelRevision]:
        """Return every revision of the model, oldest first (removed models included).

        Raises:
            ModelNotFoundError: E4001, the model has no history (it never existed).
        """
        if not is_findable_id(model_id):
            raise ModelNotFoundError(model_id)
        model_id = self._resolve(model_id)
        history = self._query_db(lambda repository: repository.history(model_id))
        if not history:
            raise ModelNotFoundError(model_id)
        return history

    @operation
    def get_model_version(self, model_id: str, version: int) -> ModelRevision:
        """Return one revision of the model.

        Raises:
            ModelNotFoundError: E4001, the model has no history.
            ModelVersionNotFoundError: E4004, it has no such version.
        """
        wanted = whole_number(version, "version")
        if not is_findable_id(model_id):
            raise ModelNotFoundError(model_id)
        model_id = self._resolve(model_id)
        revision = self._query_db(lambda repository: repository.revision(model_id, wanted))
        if revision is not None:
            return revision
        latest = self._query_db(lambda repository: repository.last_version(model_id))
        if latest == 0:
            raise ModelNotFoundError(model_id)
        raise ModelVersionNotFoundError(model_id, wanted, latest)

    @operation
    def diff_versions(self, model_id: str, a: int, b: int) -> list[FieldChange]:
        """Return the fields that differ from version ``a`` to version ``b``.

        Fields are dotted paths (``quality_scores.coding``, ``capabilities.supports_vision``)
        with their old and new values in JSON form, sorted by path.

        Raises:
            ModelNotFoundError: E4001, the model has no history.
            ModelVersionNotFoundError: E4004, either version does not exist.
        """
        version_of = unrecorded(ModelRegistry.get_model_version)
        old, new = version_of(self, model_id, a), version_of(self, model_id, b)
        return diff_configs(old.config, new.config)

    @operation
    def get_models_retiring(self, within_days: int = 30) -> list[ModelConfig]:
        """Return the models whose retirement date is past or within ``within_days`` days.

        Soonest first; each carries its ``successor_model_id`` when one is set. Days count
        from today in UTC.

        Raises:
            InvalidModelConfigError: E4003, ``within_days`` is not an integer >= 0.
        """
        days = whole_number(within_days, "within_days")
        today = datetime.now(UTC).date()
        until = today + timedelta(days=days) if days <= (date.max - today).days else date.max
        return self._read(lambda catalog: catalog.retiring(until))
