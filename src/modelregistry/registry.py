"""ModelRegistry: the public API of the catalog (the seed's 14 methods, and what followed).

A thin facade. Each public method checks its arguments (:mod:`modelregistry.domain.arguments`)
and delegates to the operation that does the work (:mod:`modelregistry.service`), over the
:class:`~modelregistry.service.parts.Parts` the registry holds: its database, its optional
cache and its telemetry. Each method declares its kind once (``@operation(Kind.CACHE)``, see
:mod:`modelregistry.service.operations`), which also records its calls for the metrics and
tells :class:`~modelregistry.AsyncModelRegistry` how to run it.
"""

from __future__ import annotations

import inspect
import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Self

from modelregistry.domain import clock
from modelregistry.domain.arguments import (
    alias_name,
    capability_names,
    checked_config,
    existing_id,
    instant,
    one_capability_name,
    provider_name,
    status_argument,
    version_guard,
    whole_number,
)
from modelregistry.domain.models import ModelConfig, ModelStatus, parse_status
from modelregistry.domain.pricing import money
from modelregistry.domain.query import remembered_query
from modelregistry.domain.rates import check_rates, usage
from modelregistry.errors import InvalidArgumentError
from modelregistry.service import aliases, history, models, prices, reads
from modelregistry.service.fetch import DEFAULT_MAX_BYTES as DEFAULT_SYNC_MAX_BYTES
from modelregistry.service.fetch import DEFAULT_TIMEOUT as DEFAULT_SYNC_TIMEOUT
from modelregistry.service.operations import Kind, operation
from modelregistry.service.parts import open_parts

# Catalog files and upstream sync (their documents, formats and plans) are imported by the
# methods that use them: a process that only reads models never loads them (issue 15).


def read_catalog_bytes(path: Path) -> bytes:
    """The bytes of the catalog file ``path``, read as imports read it (the CLI's watch).

    See :func:`modelregistry.service.catalog_files.read_catalog_bytes`.
    """
    from modelregistry.service.catalog_files import read_catalog_bytes as read  # noqa: PLC0415

    return read(path)


def run_relay(
    url: str | None,
    *,
    feed: str | None,
    stop: threading.Event,
    on_ready: Callable[[str], object] | None = None,
) -> int:
    """Relay the catalog at ``url`` to ``feed`` until ``stop`` is set; return messages added.

    See :func:`modelregistry.service.relaying.run_relay` (imported here at the first call).
    """
    from modelregistry.service.relaying import run_relay as run  # noqa: PLC0415 - see above

    return run(url, feed=feed, stop=stop, on_ready=on_ready)


if TYPE_CHECKING:
    import threading
    from collections.abc import Callable, Iterable, Mapping
    from decimal import Decimal
    from types import TracebackType

    from prometheus_client import CollectorRegistry

    from modelregistry.cache.cache import CatalogEvent
    from modelregistry.domain.aliases import AliasState
    from modelregistry.domain.descriptors import ModelMode
    from modelregistry.domain.documents import Format, ImportResult
    from modelregistry.domain.history import FieldChange, ModelRevision
    from modelregistry.domain.pricing import Price
    from modelregistry.domain.rates import CostBreakdown, Rate
    from modelregistry.domain.upstream.records import Override, Provenance, SyncResult
    from modelregistry.metrics.prometheus import RegistryMetrics
    from modelregistry.service.parts import Parts
    from modelregistry.service.sync import Progress

__all__ = [
    "DEFAULT_POLL_INTERVAL",
    "DEFAULT_SYNC_MAX_BYTES",
    "DEFAULT_SYNC_TIMEOUT",
    "ModelRegistry",
    "run_relay",
]

DEFAULT_POLL_INTERVAL: Final = 1.0
"""Seconds between checks of the catalog revision by the change feed."""


class ModelRegistry:
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
        call_timeout: PostgreSQL: seconds one database call may wait before its connection
            is dropped and it fails with E4020 (default: the URL's ``call_timeout``, else
            30); enforced on the client, so a frozen server cannot hang the caller.
        lock_timeout: PostgreSQL: seconds a write waits for the catalog's write lock before
            E4020 (default: the URL's ``lock_timeout``, else 20).
        feed: A NATS JetStream change feed, ``nats://host:port/stream`` (default: the
            ``MODELREGISTRY_FEED_URL`` environment variable, else none: LISTEN). Writes are
            published to it, the cache follows it instead of LISTEN, and idle connections are
            not kept (README, "Many processes"). Needs the ``nats`` extra.

    An empty database is initialised to the newest schema (seeded with the three default
    models). Use the registry as a context manager, or call :meth:`close`, to release its
    connections.

    Raises:
        SchemaOutdatedError: E4010, the database is older and ``auto_migrate`` is False; run
            ``modelregistry db upgrade``.
        SchemaUnknownError: E4011, the database was migrated by a newer modelregistry.
        DatabaseUnavailableError: E4020, the database cannot be reached.
        DatabaseError: E4021, the URL is not usable or the database refused the schema check.
        FeedConfigurationError: E4060, ``feed`` is not a usable ``nats://`` URL, or the
            ``nats`` extra is not installed.

    Example:
        >>> with ModelRegistry("sqlite://") as registry:
        ...     registry.get_model("llama3.1:8b").display_name
        'Llama 3.1 8B'
    """

    def __init__(  # noqa: PLR0913 - keyword-only options
        self,
        url: str | None = None,
        *,
        auto_migrate: bool = False,
        cache: bool = True,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        metrics: CollectorRegistry | None = None,
        call_timeout: float | None = None,
        lock_timeout: float | None = None,
        feed: str | None = None,
    ) -> None:
        """Open (and if empty, initialise) the catalog at ``url``."""
        self._attach(
            open_parts(
                url,
                auto_migrate=auto_migrate,
                cache=cache,
                poll_interval=poll_interval,
                metrics=metrics,
                call_timeout=call_timeout,
                lock_timeout=lock_timeout,
                feed=feed,
            )
        )

    def _attach(self, parts: Parts) -> None:
        self._parts = parts
        self._telemetry = parts.telemetry  # what @operation records into
        # The read hot path: the snapshots themselves, without going through the parts.
        self._cache = None if parts.cache is None else parts.cache.snapshots

    # -- lifecycle ------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The catalog's database URL, password masked."""
        return self._parts.database.url

    def close(self) -> None:
        """Stop the change feed and release every database connection held by the registry.

        Its metrics leave the CollectorRegistry they were on.
        """
        self._parts.close()

    def subscribe(self, callback: Callable[[CatalogEvent], object]) -> Callable[[], None]:
        """Call ``callback(event)`` for every change of the catalog, from any process.

        Each :class:`~modelregistry.cache.cache.CatalogEvent` (``model_id``, ``change``,
        ``version``, ``revision``) arrives after this registry's cache holds the change, so the
        callback reads the new state (a router can rebuild its routing table). Callbacks run
        one at a time, in revision order, on a thread of the cache's own, outside every lock:
        one may block or write (a write does not wait for the callbacks it causes). An
        exception in one is logged and does not stop the others.

        Returns:
            A function that cancels the subscription.

        Raises:
            RuntimeError: the registry was opened with ``cache=False``.
        """
        cache = self._parts.cache
        if cache is None:
            msg = "subscribe() needs the cache: open the registry with cache=True"
            raise RuntimeError(msg)
        return cache.subscribe(callback)

    @operation(Kind.REFRESH)
    def refresh(self) -> None:
        """Bring the cache up to date now, without waiting for the change feed.

        It reads the database, on a JetStream feed too: afterwards the cache holds every
        change committed before the call, published or not.

        Raises:
            DatabaseUnavailableError: E4020, the database cannot be reached (the cache keeps
                its last snapshot).
        """
        cache = self._parts.cache
        if cache is not None:
            cache.refresh("manual")

    @property
    def metrics(self) -> RegistryMetrics:
        """The registry's Prometheus metrics (a :class:`~modelregistry.RegistryMetrics`).

        On the ``CollectorRegistry`` given as ``metrics=`` when the registry was opened, else
        on a registry of their own, made on first use (``registry.metrics.registry``), which a
        host process can serve or collect from in its own exporter.
        """
        return self._parts.metrics()

    def __enter__(self) -> Self:
        """Return the registry itself."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Close the registry."""
        self.close()

    def __repr__(self) -> str:
        """Show the database URL with its password masked."""
        return f"ModelRegistry({self.url!r})"

    # -- writes ---------------------------------------------------------------------

    @operation(Kind.WRITE)
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
        return models.register(
            self._parts,
            checked_config(model),
            expected_version=version_guard(expected_version),
            actor=actor,
            reason=reason,
        )

    @operation(Kind.WRITE)
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
        return models.set_status(
            self._parts,
            existing_id(model_id),
            new_status,
            expected_version=version_guard(expected_version),
            actor=actor,
            reason=reason,
        )

    @operation(Kind.WRITE)
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
        return models.remove(
            self._parts,
            existing_id(model_id),
            expected_version=version_guard(expected_version),
            actor=actor,
            reason=reason,
        )

    @operation(Kind.WRITE)
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
        return models.restore(
            self._parts,
            model_id,
            whole_number(version, "version"),
            expected_version=version_guard(expected_version),
            actor=actor,
            reason=reason,
        )

    @operation(Kind.WRITE)
    def load_default_models(self, *, actor: str | None = None, reason: str | None = None) -> int:
        """Insert the seed's default models that this catalog never had.

        A default that exists is never overwritten, and one an admin removed is not brought
        back, so an admin's change survives every restart.

        Returns:
            How many models were inserted (0 when all three exist or existed).
        """
        return models.load_defaults(self._parts, actor=actor, reason=reason)

    @operation(Kind.WRITE)
    def import_catalog(  # noqa: PLR0913 - keyword-only options
        self,
        source: str | os.PathLike[str] | Mapping[str, Any],
        *,
        prune: bool = False,
        dry_run: bool = False,
        actor: str | None = None,
        reason: str | None = None,
        progress: Callable[[int, int], None] | None = None,
        skip_invalid: bool = False,
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
            skip_invalid: Leave invalid entries out (listed in the result's ``invalid``)
                instead of refusing the whole file.

        Returns:
            The ids added, changed (with each field's old and new value), unchanged and
            removed.

        Raises:
            InvalidCatalogFileError: E4005, listing every problem (entry index, model_id,
                field, rule); nothing is written.
        """
        from modelregistry.service import catalog_files  # noqa: PLC0415 - see the top

        return catalog_files.import_catalog(
            self._parts,
            source,
            prune=prune,
            dry_run=dry_run,
            actor=actor,
            reason=reason,
            progress=progress,
            skip_invalid=bool(skip_invalid),
        )

    @operation(Kind.DATABASE)
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
        from modelregistry.domain.documents import export_format  # noqa: PLC0415 - see the top
        from modelregistry.service import catalog_files  # noqa: PLC0415

        target = None if path is None else Path(path)
        kind = export_format(format, target)
        # A name no provider can have matches no stored (normalised) name: an empty export.
        name = None if provider is None else provider_name(provider) or str(provider).lower()
        return catalog_files.export_catalog(
            self._parts,
            provider=name,
            status=None if status is None else status_argument(status),
            target=target,
            kind=kind,
        )

    # -- reads ----------------------------------------------------------------------

    @operation(Kind.CACHE, record=False)
    def get_model(self, model_id: str, *, as_of: datetime | None = None) -> ModelConfig | None:
        """Return the model with this id (exact, case-sensitive), or None.

        Args:
            model_id: The model's id.
            as_of: An aware datetime: return what the catalog said at that instant instead
                (None if the model did not exist then, or was removed).

        Raises:
            InvalidArgumentError: E4007, ``model_id`` is not a string or ``as_of`` is not an
                aware datetime.
        """
        cache = self._cache
        if as_of is None and cache is not None and isinstance(model_id, str):
            # The hot path: one dictionary lookup in the current snapshot (and a clock read
            # only while a price is scheduled; an alias costs a second lookup). Not recorded
            # for the metrics: that would double its cost (modelregistry.metrics.telemetry).
            snapshot = cache.snapshot
            if snapshot.expires_at is not None and clock.timestamp() >= snapshot.expires_at:
                snapshot = cache.current()
            model = snapshot.lookup(model_id)
            return snapshot.lookup(snapshot.resolve(model_id)) if model is None else model
        return self._telemetry.run(
            "get_model", reads.get_model, self._parts, model_id, instant(as_of)
        )

    @operation(Kind.CACHE, record=False)
    def get_model_or_raise(self, model_id: str, *, as_of: datetime | None = None) -> ModelConfig:
        """Return the model with this id (at ``as_of``, as in :meth:`get_model`).

        Raises:
            ModelNotFoundError: E4001, no model has this id.
        """
        if as_of is None and self._cache is not None and isinstance(model_id, str):
            model = self.get_model(model_id)
            if model is not None:  # the cache's hot path, not recorded either (see get_model)
                return model
        return self._telemetry.run(
            "get_model_or_raise", reads.require_model, self._parts, model_id, instant(as_of)
        )

    @operation(Kind.CACHE)
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
            InvalidArgumentError: E4007, ``status`` names no status, ``capabilities`` is a
                single string rather than a list of names, or ``as_of`` is not aware.
        """
        wanted = None if status is None else status_argument(status)
        name = None if provider is None else provider_name(provider)
        names = capability_names(capabilities)
        when = instant(as_of)
        if names is None or (provider is not None and name is None):
            return []
        return reads.list_models(
            self._parts, provider=name, status=wanted, capabilities=names, when=when
        )

    @operation(Kind.CACHE)
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
        input_modalities: Iterable[str] = (),
        output_modalities: Iterable[str] = (),
        mode: Iterable[ModelMode | str] | ModelMode | str | None = None,
        open_weights: bool | None = None,
        tags: Mapping[str, str] | None = None,
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
            input_modalities: Modalities (``text``, ``image``, ``audio``, ``video``, ``pdf``)
                the models must all take in; a model whose modalities are unknown has none.
            output_modalities: Modalities the models must all give out.
            mode: A mode (``chat``, ``embedding``, ...) or a list of them; None for any mode.
            open_weights: True or False: only models known to have (not to have) open
                weights; None for any.
            tags: Tags the models must all carry, each ``key: value`` exactly.

        Answered from the cache when there is one, in SQL otherwise; both give the same
        answer (a property-based test holds them to it).

        Raises:
            InvalidArgumentError: E4007 naming the argument; an unknown ``order_by`` lists
                the valid names.
        """
        query = remembered_query(
            capabilities,
            any_capabilities,
            providers,
            statuses,
            min_context_window,
            min_max_output_tokens,
            max_cost_per_1m_input,
            max_cost_per_1m_output,
            min_quality,
            max_latency_p50_ms,
            order_by,
            limit,
            input_modalities,
            output_modalities,
            mode,
            open_weights,
            tags,
        )
        return reads.find_models(self._parts, query)

    @operation(Kind.CACHE)
    def select_model(self, /, **criteria: Any) -> ModelConfig | None:  # noqa: ANN401 - find_models' keywords
        """The first model :meth:`find_models` gives for ``criteria``, or None.

        Example: ``registry.select_model(capabilities=["vision"], order_by="cost")``.
        """
        # find_models' own body: this call is already recorded as select_model, so going
        # through find_models' recording wrapper again would only cost time (issue 15).
        found = _FIND_MODELS(self, **{**criteria, "limit": 1})
        return found[0] if found else None

    @operation(Kind.CACHE)
    def get_models_by_capability(self, capability: str) -> list[ModelConfig]:
        """Return the models (any status) having the capability.

        ``capability`` is ``vision`` or ``supports_vision``, any case; an unknown capability
        gives an empty list, as in the seed.
        """
        # Not through get_models_by_capabilities: its recording wrapper would only cost time.
        name = one_capability_name(capability)
        return [] if name is None else reads.with_capabilities(self._parts, {name})

    @operation(Kind.CACHE)
    def get_models_by_capabilities(self, capabilities: Iterable[str]) -> list[ModelConfig]:
        """Return the models (any status) having every named capability.

        An empty list of names returns every active model, as the seed does.

        Raises:
            InvalidArgumentError: E4007, ``capabilities`` is a single string, not a list.
        """
        names = capability_names(capabilities)
        return [] if names is None else reads.with_capabilities(self._parts, names)

    @operation(Kind.CACHE)
    def get_models_by_provider(self, provider: str) -> list[ModelConfig]:
        """Return every model of ``provider`` (any case), any status."""
        name = provider_name(provider)
        if name is None:  # not a provider name: no provider has it
            return []
        return reads.list_models(
            self._parts, provider=name, status=None, capabilities=set(), when=None
        )

    @operation(Kind.CACHE)
    def get_available_models(self) -> list[ModelConfig]:
        """Return every active model."""
        return reads.list_models(
            self._parts, provider=None, status=ModelStatus.ACTIVE, capabilities=set(), when=None
        )

    @operation(Kind.CACHE)
    def get_providers(self) -> list[str]:
        """Return the names of providers that have at least one model, sorted."""
        return reads.providers(self._parts)

    @operation(Kind.CACHE)
    def get_capabilities(self) -> list[str]:
        """Return the names of capabilities that at least one model has, sorted."""
        return reads.capabilities(self._parts)

    @operation(Kind.DATABASE)
    def is_initialized(self) -> bool:
        """Tell whether the database schema is at the newest revision this version knows.

        Raises:
            DatabaseUnavailableError: E4020, the database cannot be reached.
        """
        return self._parts.database.is_current()

    @operation(Kind.CACHE)
    def get_stats(self) -> dict[str, Any]:
        """Return counts of the catalog, from one consistent snapshot.

        Keys: ``total_models``, ``active_models``, ``total_providers``,
        ``total_capabilities``, ``providers`` (sorted names), ``capabilities`` (sorted names
        in use), ``by_status`` (every status, zeros included) and ``by_provider``.
        """
        return reads.stats(self._parts)

    # -- history and lifecycle ------------------------------------------------------

    @operation(Kind.DATABASE)
    def get_model_history(self, model_id: str) -> list[ModelRevision]:
        """Return every revision of the model, oldest first (removed models included).

        Raises:
            ModelNotFoundError: E4001, the model has no history (it never existed).
        """
        return history.history(self._parts, model_id)

    @operation(Kind.DATABASE)
    def get_model_version(self, model_id: str, version: int) -> ModelRevision:
        """Return one revision of the model.

        Raises:
            ModelNotFoundError: E4001, the model has no history.
            ModelVersionNotFoundError: E4004, it has no such version.
        """
        wanted = whole_number(version, "version")
        return history.version(self._parts, model_id, wanted)

    @operation(Kind.DATABASE)
    def diff_versions(self, model_id: str, a: int, b: int) -> list[FieldChange]:
        """Return the fields that differ from version ``a`` to version ``b``.

        Fields are dotted paths (``quality_scores.coding``, ``capabilities.supports_vision``)
        with their old and new values in JSON form, sorted by path.

        Raises:
            ModelNotFoundError: E4001, the model has no history.
            ModelVersionNotFoundError: E4004, either version does not exist.
        """
        old, new = whole_number(a, "version"), whole_number(b, "version")
        return history.diff(self._parts, model_id, old, new)

    @operation(Kind.CACHE)
    def get_models_retiring(self, within_days: int = 30) -> list[ModelConfig]:
        """Return the models whose retirement date is past or within ``within_days`` days.

        Soonest first; each carries its ``successor_model_id`` when one is set. Days count
        from today in UTC.

        Raises:
            InvalidArgumentError: E4007, ``within_days`` is not an integer >= 0.
        """
        days = whole_number(within_days, "within_days")
        today = datetime.now(UTC).date()
        until = today + timedelta(days=days) if days <= (date.max - today).days else date.max
        return reads.retiring(self._parts, until)

    # -- prices ---------------------------------------------------------------------

    @operation(Kind.WRITE)
    def set_price(  # noqa: PLR0913 - the price, then the write's usual keywords
        self,
        model_id: str,
        input_per_1m: Decimal | float | str,
        output_per_1m: Decimal | float | str,
        *,
        cached_input_per_1m: Decimal | float | str | None = None,
        rates: Iterable[Rate | Mapping[str, object]] = (),
        effective_from: datetime | None = None,
        expected_version: int | None = None,
        actor: str | None = None,
        reason: str | None = None,
    ) -> Price:
        """Record the model's price (USD per 1M tokens) from ``effective_from``.

        The price applies until the model's next price. One in effect now (the default)
        also shows at once in the model's ``cost_per_1m_*`` fields; a later one takes effect
        by itself at its time, in every process. Earlier prices never change, so estimates
        for past instants stay as they were. Each call is a new version of the model (change
        ``repriced``); setting now the very price in effect (with none scheduled) writes
        nothing.

        Args:
            model_id: The model (or an alias of it).
            input_per_1m: Price of input tokens: a Decimal, int, float or decimal text; finite,
                >= 0, at most 10,000, at most 10 decimal places.
            output_per_1m: Price of output tokens (same rules).
            cached_input_per_1m: Price of input tokens read from the provider's prompt cache
                (None: they cost the input price).
            rates: Every other rate of the price (:class:`~modelregistry.Rate`, or mappings of
                its fields): cache writes (``cache_write_5m``/``_1h``/``_12h``), ``reasoning``,
                ``request`` (USD per request), and the rates of context tiers
                (``above_tokens``) and service tiers (``batch``, ``flex``, ``priority``, ...).
                The price replaces the whole set: a rate not given is not priced.
            effective_from: An aware datetime, now or later (default: now).
            expected_version: Write only if the model is at this version.
            actor: Who makes the change.
            reason: Why.

        Returns:
            The price recorded (or the one already in effect).

        Raises:
            ModelNotFoundError: E4001, no model has this id.
            InvalidModelConfigError: E4003 naming the argument (a price breaking a rule, a
                naive or past ``effective_from``); nothing is written.
            InvalidArgumentError: E4007, ``expected_version`` is not an integer >= 0.
            ConcurrentModificationError: E4030, the model is not at ``expected_version``.
        """
        model_id = existing_id(model_id)
        amounts = (
            money(input_per_1m, "input_per_1m"),
            money(output_per_1m, "output_per_1m"),
            None
            if cached_input_per_1m is None
            else money(cached_input_per_1m, "cached_input_per_1m"),
        )
        checked = check_rates(rates)
        start = instant(effective_from, "effective_from", stored=True)
        return prices.set_price(
            self._parts,
            model_id,
            amounts,
            rates=checked,
            effective_from=start,
            expected_version=version_guard(expected_version),
            actor=actor,
            reason=reason,
        )

    @operation(Kind.CACHE)
    def get_price(self, model_id: str, at: datetime | None = None) -> Price:
        """Return the model's price in effect at ``at`` (an aware datetime; default: now).

        Its ``effective_until`` is when the next price takes effect (None: none scheduled).
        Prices outlive a model's removal, like its history.

        Raises:
            ModelNotFoundError: E4001, the model never had a price (it never existed).
            PriceNotFoundError: E4006, ``at`` is before the model's first price.
            InvalidArgumentError: E4007, ``at`` is not an aware datetime.
        """
        return prices.price_at(self._parts, model_id, instant(at, "at"))

    @operation(Kind.CACHE)
    def get_price_history(self, model_id: str) -> list[Price]:
        """Return every price of the model, oldest first, each with its period.

        Two prices set for the same instant: the later one applies, and the earlier one's
        ``effective_until`` equals its ``effective_from`` (it never applied).

        Raises:
            ModelNotFoundError: E4001, the model never had a price.
        """
        return prices.history(self._parts, model_id)

    @operation(Kind.CACHE)
    def estimate_cost(  # noqa: PLR0913 - the request's counts, its tier and the instant
        self,
        model_id: str,
        input_tokens: int,
        output_tokens: int,
        *,
        cached_input_tokens: int = 0,
        cache_write_tokens: int = 0,
        cache_write_ttl: str = "5m",
        reasoning_tokens: int = 0,
        service_tier: str = "standard",
        at: datetime | None = None,
    ) -> Decimal:
        """Return the exact cost in USD of a request, at the price in effect at ``at``.

        The total of :meth:`cost_breakdown` (same arguments, same rules). Count each token
        once: ``input_tokens`` exclude the cached and cache-write ones, ``output_tokens``
        exclude the reasoning ones. The result is an exact Decimal, never rounded; a past
        ``at`` keeps the price of then.

        Raises:
            ModelNotFoundError: E4001, the model never had a price.
            PriceNotFoundError: E4006, ``at`` is before the model's first price.
            PriceComponentNotFoundError: E4090, the price lacks a rate the request needs
                (the service tier, its context tier, a cache write of ``cache_write_ttl``).
            InvalidArgumentError: E4007, a token count is not an integer >= 0, an unknown
                ``cache_write_ttl`` or ``service_tier``, or ``at`` is not an aware datetime.
        """
        asked = usage(
            input_tokens,
            output_tokens,
            cached_input_tokens=cached_input_tokens,
            cache_write_tokens=cache_write_tokens,
            cache_write_ttl=cache_write_ttl,
            reasoning_tokens=reasoning_tokens,
            service_tier=service_tier,
        )
        return prices.cost(self._parts, model_id, asked, instant(at, "at")).total

    @operation(Kind.CACHE)
    def cost_breakdown(  # noqa: PLR0913 - the request's counts, its tier and the instant
        self,
        model_id: str,
        input_tokens: int,
        output_tokens: int,
        *,
        cached_input_tokens: int = 0,
        cache_write_tokens: int = 0,
        cache_write_ttl: str = "5m",
        reasoning_tokens: int = 0,
        service_tier: str = "standard",
        at: datetime | None = None,
    ) -> CostBreakdown:
        """Return the exact cost of a request component by component (see README, "Pricing").

        The prompt (input + cached + cache-write tokens) picks the context tier: strictly
        above a threshold, every token is priced at the highest such tier's rates, and a
        component that tier does not price keeps the service tier's base rate. Rates are those
        of ``service_tier``, the tier that served the request. Fallbacks, said in each
        component's ``fallback``: cached input -> the tier's input rate, reasoning -> its
        output rate; no per-request price means no per-request fee. Anything else missing is
        an error, never another tier's rate.

        Args:
            model_id: The model (or an alias of it).
            input_tokens: Input tokens billed at the input rate.
            output_tokens: Output tokens (reasoning tokens apart).
            cached_input_tokens: Input tokens read from the provider's prompt cache.
            cache_write_tokens: Input tokens written to the cache.
            cache_write_ttl: The lifetime they were written for: ``5m``, ``1h`` or ``12h``.
            reasoning_tokens: Reasoning tokens (the output rate unless priced apart).
            service_tier: ``standard``, ``batch``, ``flex``, ``priority``, ``ultrafast``,
                ``balanced`` or ``decisions``.
            at: An aware datetime (default: now).

        Returns:
            The components, the context and service tiers applied and the exact total.

        Raises:
            ModelNotFoundError: E4001, the model never had a price.
            PriceNotFoundError: E4006, ``at`` is before the model's first price.
            PriceComponentNotFoundError: E4090 naming the model, service tier, context tier
                and component.
            InvalidArgumentError: E4007 naming the argument.
        """
        asked = usage(
            input_tokens,
            output_tokens,
            cached_input_tokens=cached_input_tokens,
            cache_write_tokens=cache_write_tokens,
            cache_write_ttl=cache_write_ttl,
            reasoning_tokens=reasoning_tokens,
            service_tier=service_tier,
        )
        return prices.cost(self._parts, model_id, asked, instant(at, "at"))

    # -- aliases --------------------------------------------------------------------

    @operation(Kind.WRITE)
    def set_alias(
        self,
        alias: str,
        model_id: str,
        *,
        actor: str | None = None,
        reason: str | None = None,
    ) -> AliasState:
        """Make ``alias`` another name of the model ``model_id`` (or repoint it there).

        ``claude-3-opus`` -> ``claude-3-opus-20240229``: from then on every method taking a
        model id accepts the alias, and returns the model under its own id. Each setting is
        recorded with who, when and why; setting what is already set writes nothing.

        Args:
            alias: The other name; the rules of a model id apply, and it cannot be the id of
                a model, past or present.
            model_id: The model it names (an alias of it works too).
            actor: Who makes the change.
            reason: Why.

        Returns:
            The alias as set.

        Raises:
            InvalidModelConfigError: E4003, ``alias`` breaks the rules of an id or is the id
                of a model.
            ModelNotFoundError: E4001, ``model_id`` names no model.
        """
        name = alias_name(alias)
        target = existing_id(model_id)
        return aliases.set_alias(self._parts, name, target, actor=actor, reason=reason)

    @operation(Kind.WRITE)
    def remove_alias(
        self, alias: str, *, actor: str | None = None, reason: str | None = None
    ) -> str:
        """Remove ``alias`` (recorded with who, when and why); return the id it named.

        Raises:
            AliasNotFoundError: E4008, no such alias (a ModelNotFoundError too).
        """
        return aliases.remove_alias(self._parts, existing_id(alias), actor=actor, reason=reason)

    @operation(Kind.DATABASE)
    def list_aliases(self) -> list[AliasState]:
        """Every alias, sorted, with the model it names and who set it when."""
        return aliases.list_aliases(self._parts)

    # -- upstream sync (issue 16) ----------------------------------------------------

    @operation(Kind.WRITE)
    def sync(  # noqa: PLR0913 - the source, then keyword-only options
        self,
        kind: str,
        location: str | os.PathLike[str] | None = None,
        *,
        dry_run: bool = False,
        force: bool = False,
        accept_held: bool = False,
        adopt: bool = False,
        restore_removed: bool = False,
        on_removed: str = "keep",
        actor: str | None = None,
        timeout: float = DEFAULT_SYNC_TIMEOUT,
        max_bytes: int = DEFAULT_SYNC_MAX_BYTES,
        progress: Progress | None = None,
    ) -> SyncResult:
        """Sync the catalog from an upstream catalog: plan, then apply in one transaction.

        Each valid upstream model is added or updated by a three-way merge with the values it
        was last synced with (its base): a field edited locally is never overwritten; a
        change that looks like a mistake is held. The rules of each kind's conversion are
        in the README ("Upstream sync"). The changes are recorded with the reason
        ``sync <kind> <content sha256>``.

        Args:
            kind: ``litellm``, ``models.dev`` or ``openrouter``.
            location: A file, or an http(s) URL (default: the kind's published URL).
            dry_run: Only compute the plan; write nothing.
            force: Skip the guards (fewer than 50 valid models, or fewer than half of those
                synced from the source before).
            accept_held: Apply the held changes too.
            adopt: Take upstream's values for models that exist but were never synced from
                this source (otherwise their differing fields are protected).
            restore_removed: Bring back models an admin removed.
            on_removed: What happens to a model gone upstream: ``keep``, ``deprecate`` or
                ``remove``.
            actor: Who syncs (recorded in the history).
            timeout: Seconds each phase of the HTTP request may take.
            max_bytes: Largest document accepted.
            progress: Called with ``(phase, done, total)``: ``fetch`` in bytes, ``apply`` in
                models.

        Returns:
            The plan (applied unless ``dry_run``) and the source's provenance. An upstream
            unchanged since the last sync (HTTP 304) writes nothing (``not_modified``).

        Raises:
            InvalidArgumentError: E4007, an unknown ``kind`` or ``on_removed``, a ``timeout``
                or ``max_bytes`` that is not > 0.
            SyncRefusedError: E4040, a guard refused the sync; nothing is written.
            UpstreamFetchError: E4041, the document could not be fetched (retryable).
            UpstreamDocumentError: E4042, it is not in the kind's format; nothing written.
        """
        if isinstance(timeout, bool) or not (isinstance(timeout, int | float) and timeout > 0):
            raise InvalidArgumentError.single("timeout", "must be a number of seconds > 0", timeout)
        if isinstance(max_bytes, bool) or not (isinstance(max_bytes, int) and max_bytes > 0):
            raise InvalidArgumentError.single("max_bytes", "must be an integer > 0", max_bytes)
        if location is not None and not isinstance(location, str | os.PathLike):
            raise InvalidArgumentError.single("location", "must be a path or a URL", location)
        from modelregistry.domain.upstream.plan import (  # noqa: PLC0415 - see the top
            SyncOptions,
            on_removed_policy,
        )
        from modelregistry.service import sync as upstream_sync  # noqa: PLC0415

        options = SyncOptions(
            force=bool(force),
            accept_held=bool(accept_held),
            adopt=bool(adopt),
            restore_removed=bool(restore_removed),
            on_removed=on_removed_policy(on_removed),
        )
        return upstream_sync.sync(
            self._parts,
            kind,
            None if location is None else os.fspath(location),
            dry_run=bool(dry_run),
            options=options,
            actor=actor,
            timeout=timeout,
            max_bytes=max_bytes,
            progress=progress,
        )

    @operation(Kind.DATABASE)
    def get_provenance(self, model_id: str) -> Provenance | None:
        """Where the model was last synced from: kind, location, sha256, ETag, time (or None)."""
        from modelregistry.service import sync as upstream_sync  # noqa: PLC0415 - see the top

        return upstream_sync.provenance(self._parts, existing_id(model_id))

    @operation(Kind.DATABASE)
    def list_overrides(self, model_id: str | None = None) -> list[Override]:
        """Every locally edited field of the synced models (of ``model_id``), beside upstream's."""
        from modelregistry.service import sync as upstream_sync  # noqa: PLC0415 - see the top

        return upstream_sync.list_overrides(
            self._parts, None if model_id is None else existing_id(model_id)
        )

    @operation(Kind.WRITE)
    def reset_override(
        self,
        model_id: str,
        field: str | None = None,
        *,
        actor: str | None = None,
        reason: str | None = None,
    ) -> list[Override]:
        """Return the model's field (or every edited field) to its upstream value.

        Returns:
            The overrides reset.

        Raises:
            ModelNotFoundError: E4001, no such model.
            OverrideNotFoundError: E4043, the model was never synced, or ``field`` is not
                edited locally.
        """
        from modelregistry.service import sync as upstream_sync  # noqa: PLC0415 - see the top

        return upstream_sync.reset_override(
            self._parts, existing_id(model_id), field, actor=actor, reason=reason
        )


def assemble(parts: Parts) -> ModelRegistry:
    """A ModelRegistry over ``parts`` opened elsewhere (AsyncModelRegistry's, in the bridge)."""
    registry = ModelRegistry.__new__(ModelRegistry)
    registry._attach(parts)  # noqa: SLF001 - the module's own constructor
    return registry


_FIND_MODELS: Callable[..., list[ModelConfig]] = inspect.unwrap(ModelRegistry.find_models)
"""``find_models`` without its recording wrapper, for :meth:`ModelRegistry.select_model`."""
