"""AsyncModelRegistry: the catalog's API as coroutines, for asyncio programs.

Built from the same parts as :class:`~modelregistry.ModelRegistry`
(:class:`~modelregistry.service.parts.Parts`), assembled over an asyncio engine: every
coroutine runs the very code of ModelRegistry's method (the same checks, transactions and
queries) and dispatches on the kind that method declares (:mod:`modelregistry.service.
operations`):

- answered from the cache (and no ``as_of``): called at once, on the event loop, without I/O;
- needs the database: run inside SQLAlchemy's asyncio bridge (``greenlet_spawn``, on which
  ``AsyncSession.run_sync`` is built), so each statement goes through an asyncio driver
  (psycopg 3's async connection, aiosqlite) and the event loop never waits on the database;
- a write: run in the bridge, then the cache is caught up off the event loop;
- a refresh: off the event loop.

The cache and the change feed that keeps it current are the synchronous ones: they run on a
background thread with a synchronous engine of their own, and after a write the cache is
caught up in a worker thread. A private in-memory catalog (``sqlite://``) has one connection,
reached through the asyncio engine only: its cache catches up through the bridge, one refresh
at a time.

Needs the ``async`` extra: ``pip install 'modelregistry[async]'``.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import TYPE_CHECKING, Any, Self, TypeVar

from modelregistry.cache.live import LiveCache
from modelregistry.cache.nats_link import require_nats
from modelregistry.cache.publisher import Publisher
from modelregistry.cache.wire import FeedAddress
from modelregistry.db.bridge import BridgedEngine, in_bridge
from modelregistry.db.database import Database
from modelregistry.db.engine import make_engine, safe_url, with_timeouts
from modelregistry.db.errors import translating
from modelregistry.domain.arguments import poll_seconds, timeout_seconds
from modelregistry.domain.models import ModelStatus
from modelregistry.metrics.telemetry import Telemetry
from modelregistry.registry import (
    DEFAULT_POLL_INTERVAL,
    DEFAULT_SYNC_MAX_BYTES,
    DEFAULT_SYNC_TIMEOUT,
    ModelRegistry,
    assemble,
)
from modelregistry.service.operations import Kind, declared_kind, kind_of
from modelregistry.service.parts import Parts
from modelregistry.settings import resolve_database_url, resolve_feed_url

if TYPE_CHECKING:
    import os
    from collections.abc import Callable, Iterable, Mapping
    from datetime import datetime
    from decimal import Decimal
    from types import TracebackType

    from prometheus_client import CollectorRegistry

    from modelregistry.cache.cache import CatalogEvent
    from modelregistry.domain.aliases import AliasState
    from modelregistry.domain.descriptors import ModelMode
    from modelregistry.domain.documents import Format, ImportResult
    from modelregistry.domain.history import FieldChange, ModelRevision
    from modelregistry.domain.models import ModelConfig
    from modelregistry.domain.pricing import Price
    from modelregistry.domain.rates import CostBreakdown, Rate
    from modelregistry.domain.upstream.records import Override, Provenance, SyncResult
    from modelregistry.metrics.prometheus import RegistryMetrics
    from modelregistry.service.sync import Progress

__all__ = ["AsyncModelRegistry"]

T = TypeVar("T")

logger = logging.getLogger(__name__)


class AsyncModelRegistry:
    """The catalog of models, for asyncio: every method of ModelRegistry, as a coroutine.

    The arguments, results and errors are those of :class:`~modelregistry.ModelRegistry`.
    Creating the object does no I/O: the catalog is opened (schema checked, cache loaded) by
    ``async with``, by :meth:`open`, or by the first call.

    Example:
        >>> import asyncio
        >>> async def main() -> list[str]:
        ...     async with AsyncModelRegistry("sqlite://") as registry:
        ...         return [m.model_id for m in await registry.list_models(provider="ollama")]
        >>> asyncio.run(main())
        ['llama3.1:8b', 'llama3.2:3b', 'llava-llama3:latest']
    """

    def __init__(  # noqa: PLR0913 - keyword-only options, as ModelRegistry's
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
        """Remember where the catalog is; nothing is opened yet.

        ``feed`` (or ``MODELREGISTRY_FEED_URL``): the NATS JetStream change feed, as in
        ModelRegistry: writes are published to it and the cache follows it (E4060 here, before
        anything opens, for an unusable URL or a missing ``nats`` extra).
        """
        feed_url = resolve_feed_url(feed)
        self._feed = None if feed_url is None else FeedAddress.parse(feed_url)
        if self._feed is not None:
            require_nats()
        self._target = with_timeouts(
            resolve_database_url(url),
            call_timeout=timeout_seconds(call_timeout, "call_timeout"),
            lock_timeout=timeout_seconds(lock_timeout, "lock_timeout"),
        )
        self._url = safe_url(self._target)
        self._auto_migrate = auto_migrate
        self._cache = cache
        self._poll_interval = poll_seconds(poll_interval)
        self._collectors = metrics
        self._registry: ModelRegistry | None = None
        self._parts: Parts | None = None
        self._engine: BridgedEngine | None = None
        # With the cache open: the synchronous methods declared Kind.CACHE, by name, bound;
        # they answer reads of the present without I/O.
        self._at_once: dict[str, Callable[..., Any]] = {}
        self._closed = False
        self._opening: asyncio.Lock | None = None
        # In-memory catalogs catch their cache up through the bridge, one refresh at a time.
        self._refreshing: asyncio.Lock | None = None
        self._in_flight: set[asyncio.Future[Any]] = set()

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The catalog's database URL, password masked."""
        return self._url

    async def open(self) -> Self:
        """Open the catalog (again: nothing); see :class:`~modelregistry.ModelRegistry`.

        Raises:
            SchemaOutdatedError: E4010, and the other errors of opening a ModelRegistry.
        """
        await self._opened()
        return self

    async def close(self) -> None:
        """Stop the change feed and release every database connection."""
        self._closed = True
        if self._in_flight:  # calls whose callers were cancelled: let them finish
            await asyncio.gather(*self._in_flight, return_exceptions=True)
        parts, engine = self._parts, self._engine
        self._registry = self._parts = self._engine = None
        self._at_once = {}
        if parts is not None and engine is not None:
            if parts.cache is not None:
                await asyncio.to_thread(parts.cache.close)  # joins the feed's thread
            if parts.publisher is not None:
                await asyncio.to_thread(parts.publisher.close)  # joins its NATS thread
            await in_bridge(parts.close)
            await engine.dispose()

    async def __aenter__(self) -> Self:
        """Open the catalog and return the registry."""
        return await self.open()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Close the registry."""
        await self.close()

    def __repr__(self) -> str:
        """Show the database URL with its password masked."""
        return f"AsyncModelRegistry({self._url!r})"

    @property
    def metrics(self) -> RegistryMetrics:
        """The registry's Prometheus metrics (see ModelRegistry.metrics); the registry must be open.

        The ``metrics=`` CollectorRegistry given to the constructor holds them from the opening.
        Operations are recorded by the same code as ModelRegistry's.

        Raises:
            RuntimeError: the registry is not open.
        """
        if self._parts is None:
            msg = "metrics need an open registry: await registry.open() first"
            raise RuntimeError(msg)
        return self._parts.metrics()

    def subscribe(self, callback: Callable[[CatalogEvent], object]) -> Callable[[], None]:
        """Call ``callback(event)`` for every change of the catalog, from any process.

        As :meth:`ModelRegistry.subscribe <modelregistry.ModelRegistry.subscribe>`; the
        callback runs on a background thread, so hand events to the event loop with
        ``loop.call_soon_threadsafe``. The registry must be open.

        Raises:
            RuntimeError: the registry is not open, or was opened with ``cache=False``.
        """
        if self._registry is None:
            msg = "subscribe() needs an open registry: await registry.open() first"
            raise RuntimeError(msg)
        return self._registry.subscribe(callback)

    async def refresh(self) -> None:
        """Bring the cache up to date now (see ModelRegistry.refresh)."""
        await self._call(ModelRegistry.refresh)

    # -- writes ----------------------------------------------------------------------------

    async def register_model(
        self,
        model: ModelConfig | Mapping[str, Any],
        *,
        expected_version: int | None = None,
        actor: str | None = None,
        reason: str | None = None,
    ) -> ModelConfig:
        """Create or replace a model (see ModelRegistry.register_model)."""
        return await self._call(
            ModelRegistry.register_model,
            model,
            expected_version=expected_version,
            actor=actor,
            reason=reason,
        )

    async def update_model_status(
        self,
        model_id: str,
        status: ModelStatus | str,
        *,
        expected_version: int | None = None,
        actor: str | None = None,
        reason: str | None = None,
    ) -> ModelConfig:
        """Set the status of a model (see ModelRegistry.update_model_status)."""
        return await self._call(
            ModelRegistry.update_model_status,
            model_id,
            status,
            expected_version=expected_version,
            actor=actor,
            reason=reason,
        )

    async def remove_model(
        self,
        model_id: str,
        *,
        expected_version: int | None = None,
        actor: str | None = None,
        reason: str | None = None,
    ) -> ModelRevision:
        """Remove a model (see ModelRegistry.remove_model)."""
        return await self._call(
            ModelRegistry.remove_model,
            model_id,
            expected_version=expected_version,
            actor=actor,
            reason=reason,
        )

    async def restore_model(
        self,
        model_id: str,
        version: int,
        *,
        expected_version: int | None = None,
        actor: str | None = None,
        reason: str | None = None,
    ) -> ModelConfig:
        """Write an older version as the next one (see ModelRegistry.restore_model)."""
        return await self._call(
            ModelRegistry.restore_model,
            model_id,
            version,
            expected_version=expected_version,
            actor=actor,
            reason=reason,
        )

    async def load_default_models(
        self, *, actor: str | None = None, reason: str | None = None
    ) -> int:
        """Insert the defaults the catalog never had (see ModelRegistry.load_default_models)."""
        return await self._call(ModelRegistry.load_default_models, actor=actor, reason=reason)

    async def import_catalog(  # noqa: PLR0913 - keyword-only options, as in ModelRegistry
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
        """Apply a catalog file or mapping, all or nothing (see ModelRegistry.import_catalog)."""
        return await self._call(
            ModelRegistry.import_catalog,
            source,
            prune=prune,
            dry_run=dry_run,
            actor=actor,
            reason=reason,
            progress=progress,
            skip_invalid=skip_invalid,
        )

    async def export_catalog(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        format: Format | None = None,  # noqa: A002 - as in ModelRegistry
        provider: str | None = None,
        status: ModelStatus | str | None = None,
    ) -> str:
        """Render the catalog as a catalog file (see ModelRegistry.export_catalog)."""
        return await self._call(
            ModelRegistry.export_catalog, path, format=format, provider=provider, status=status
        )

    async def set_price(  # noqa: PLR0913 - as in ModelRegistry
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
        """Record the model's price from ``effective_from`` (see ModelRegistry.set_price)."""
        return await self._call(
            ModelRegistry.set_price,
            model_id,
            input_per_1m,
            output_per_1m,
            cached_input_per_1m=cached_input_per_1m,
            rates=rates,
            effective_from=effective_from,
            expected_version=expected_version,
            actor=actor,
            reason=reason,
        )

    async def set_alias(
        self,
        alias: str,
        model_id: str,
        *,
        actor: str | None = None,
        reason: str | None = None,
    ) -> AliasState:
        """Make ``alias`` another name of the model (see ModelRegistry.set_alias)."""
        return await self._call(
            ModelRegistry.set_alias, alias, model_id, actor=actor, reason=reason
        )

    async def remove_alias(
        self, alias: str, *, actor: str | None = None, reason: str | None = None
    ) -> str:
        """Remove ``alias`` (see ModelRegistry.remove_alias)."""
        return await self._call(ModelRegistry.remove_alias, alias, actor=actor, reason=reason)

    # -- reads -----------------------------------------------------------------------------

    async def list_aliases(self) -> list[AliasState]:
        """Every alias, sorted (see ModelRegistry.list_aliases)."""
        return await self._call(ModelRegistry.list_aliases)

    # -- upstream sync (issue 16) ----------------------------------------------------

    async def sync(  # noqa: PLR0913 - as in ModelRegistry
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
        timeout: float = DEFAULT_SYNC_TIMEOUT,  # noqa: ASYNC109 - the HTTP request's, as in ModelRegistry
        max_bytes: int = DEFAULT_SYNC_MAX_BYTES,
        progress: Progress | None = None,
    ) -> SyncResult:
        """Sync from an upstream catalog (see ModelRegistry.sync)."""
        return await self._call(
            ModelRegistry.sync,
            kind,
            location,
            dry_run=dry_run,
            force=force,
            accept_held=accept_held,
            adopt=adopt,
            restore_removed=restore_removed,
            on_removed=on_removed,
            actor=actor,
            timeout=timeout,
            max_bytes=max_bytes,
            progress=progress,
        )

    async def get_provenance(self, model_id: str) -> Provenance | None:
        """Where the model was last synced from (see ModelRegistry.get_provenance)."""
        return await self._call(ModelRegistry.get_provenance, model_id)

    async def list_overrides(self, model_id: str | None = None) -> list[Override]:
        """Every locally edited synced field (see ModelRegistry.list_overrides)."""
        return await self._call(ModelRegistry.list_overrides, model_id)

    async def reset_override(
        self,
        model_id: str,
        field: str | None = None,
        *,
        actor: str | None = None,
        reason: str | None = None,
    ) -> list[Override]:
        """Return a field to its upstream value (see ModelRegistry.reset_override)."""
        return await self._call(
            ModelRegistry.reset_override, model_id, field, actor=actor, reason=reason
        )

    async def get_price(self, model_id: str, at: datetime | None = None) -> Price:
        """Return the price in effect at ``at`` (see ModelRegistry.get_price)."""
        return await self._call(ModelRegistry.get_price, model_id, at)

    async def get_price_history(self, model_id: str) -> list[Price]:
        """Return every price of the model (see ModelRegistry.get_price_history)."""
        return await self._call(ModelRegistry.get_price_history, model_id)

    async def estimate_cost(  # noqa: PLR0913 - the request's counts, its tier and the instant
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
        """Return the exact cost of a request (see ModelRegistry.estimate_cost)."""
        return await self._call(
            ModelRegistry.estimate_cost,
            model_id,
            input_tokens,
            output_tokens,
            cached_input_tokens=cached_input_tokens,
            cache_write_tokens=cache_write_tokens,
            cache_write_ttl=cache_write_ttl,
            reasoning_tokens=reasoning_tokens,
            service_tier=service_tier,
            at=at,
        )

    async def cost_breakdown(  # noqa: PLR0913 - the request's counts, its tier and the instant
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
        """Return the cost of a request by component (see ModelRegistry.cost_breakdown)."""
        return await self._call(
            ModelRegistry.cost_breakdown,
            model_id,
            input_tokens,
            output_tokens,
            cached_input_tokens=cached_input_tokens,
            cache_write_tokens=cache_write_tokens,
            cache_write_ttl=cache_write_ttl,
            reasoning_tokens=reasoning_tokens,
            service_tier=service_tier,
            at=at,
        )

    async def get_model(
        self, model_id: str, *, as_of: datetime | None = None
    ) -> ModelConfig | None:
        """Return the model with this id, or None (see ModelRegistry.get_model)."""
        # The hottest read, without the generic dispatch's argument packing (0.5 µs of 0.7):
        # the lookup is still the declaration's (``_at_once`` holds only Kind.CACHE methods).
        lookup = self._at_once.get("get_model")
        if lookup is not None and as_of is None:
            found: ModelConfig | None = lookup(model_id)
            return found
        return await self._call(ModelRegistry.get_model, model_id, as_of=as_of)

    async def get_model_or_raise(
        self, model_id: str, *, as_of: datetime | None = None
    ) -> ModelConfig:
        """Return the model with this id (see ModelRegistry.get_model_or_raise)."""
        return await self._call(ModelRegistry.get_model_or_raise, model_id, as_of=as_of)

    async def list_models(
        self,
        provider: str | None = None,
        status: ModelStatus | str | None = None,
        *,
        capabilities: Iterable[str] = (),
        as_of: datetime | None = None,
    ) -> list[ModelConfig]:
        """Return the models matching every filter (see ModelRegistry.list_models)."""
        return await self._call(
            ModelRegistry.list_models, provider, status, capabilities=capabilities, as_of=as_of
        )

    async def find_models(  # noqa: PLR0913 - the router's selection criteria, keyword-only
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
        """Select models for a request (see ModelRegistry.find_models)."""
        return await self._call(
            ModelRegistry.find_models,
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
            input_modalities=input_modalities,
            output_modalities=output_modalities,
            mode=mode,
            open_weights=open_weights,
            tags=tags,
        )

    async def select_model(self, /, **criteria: Any) -> ModelConfig | None:  # noqa: ANN401 - find_models' keywords
        """The first model find_models gives, or None (see ModelRegistry.select_model)."""
        return await self._call(ModelRegistry.select_model, **criteria)

    async def get_models_by_capability(self, capability: str) -> list[ModelConfig]:
        """Return the models having the capability (see the synchronous method)."""
        return await self._call(ModelRegistry.get_models_by_capability, capability)

    async def get_models_by_capabilities(self, capabilities: Iterable[str]) -> list[ModelConfig]:
        """Return the models having every named capability (see the synchronous method)."""
        return await self._call(ModelRegistry.get_models_by_capabilities, capabilities)

    async def get_models_by_provider(self, provider: str) -> list[ModelConfig]:
        """Return every model of ``provider`` (any case), any status."""
        return await self._call(ModelRegistry.get_models_by_provider, provider)

    async def get_available_models(self) -> list[ModelConfig]:
        """Return every active model."""
        return await self._call(ModelRegistry.get_available_models)

    async def get_providers(self) -> list[str]:
        """Return the names of providers that have at least one model, sorted."""
        return await self._call(ModelRegistry.get_providers)

    async def get_capabilities(self) -> list[str]:
        """Return the names of capabilities that at least one model has, sorted."""
        return await self._call(ModelRegistry.get_capabilities)

    async def is_initialized(self) -> bool:
        """Tell whether the schema is at the newest revision (see the synchronous method)."""
        return await self._call(ModelRegistry.is_initialized)

    async def get_stats(self) -> dict[str, Any]:
        """Return counts of the catalog (see ModelRegistry.get_stats)."""
        return await self._call(ModelRegistry.get_stats)

    async def get_model_history(self, model_id: str) -> list[ModelRevision]:
        """Return every revision of the model, oldest first (see the synchronous method)."""
        return await self._call(ModelRegistry.get_model_history, model_id)

    async def get_model_version(self, model_id: str, version: int) -> ModelRevision:
        """Return one revision of the model (see ModelRegistry.get_model_version)."""
        return await self._call(ModelRegistry.get_model_version, model_id, version)

    async def diff_versions(self, model_id: str, a: int, b: int) -> list[FieldChange]:
        """Return the fields that differ between two versions (see the synchronous method)."""
        return await self._call(ModelRegistry.diff_versions, model_id, a, b)

    async def get_models_retiring(self, within_days: int = 30) -> list[ModelConfig]:
        """Return the models retiring within ``within_days`` days (see the synchronous one)."""
        return await self._call(ModelRegistry.get_models_retiring, within_days)

    # -- dispatching on each method's declared kind ----------------------------------------

    async def _call(self, method: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:  # noqa: ANN401 - the method's own arguments
        """Run a ModelRegistry method as its declared kind asks (see the module docstring)."""
        direct = self._at_once.get(method.__name__)
        if direct is not None and kwargs.get("as_of") is None:
            # Declared Kind.CACHE, cache on, a read of the present: no I/O, no bridge, no thread.
            answer: T = direct(*args, **kwargs)
            return answer
        kind = kind_of(method)
        registry = await self._opened()
        if kind is Kind.REFRESH:
            return await self._off_loop(functools.partial(method, registry))
        result = await self._bridge(method, registry, *args, **kwargs)
        if kind is Kind.WRITE and self._parts is not None and self._parts.cache is not None:
            await self._off_loop(self._parts.cache.catch_up)
        return result

    async def _off_loop(self, function: Callable[[], T]) -> T:
        """Run cache work where it cannot block the loop: a thread, or (in memory) the bridge."""
        parts = self._parts
        if parts is None or parts.cache is None or parts.background is not parts.database:
            return await asyncio.to_thread(function)
        if self._refreshing is None:
            self._refreshing = asyncio.Lock()
        async with self._refreshing:
            return await self._bridge(function)

    async def _opened(self) -> ModelRegistry:
        if self._registry is not None:
            return self._registry
        if self._closed:
            msg = "this AsyncModelRegistry is closed"
            raise RuntimeError(msg)
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            if self._registry is None:
                self._registry = await self._open_parts()
                cached = self._parts is not None and self._parts.cache is not None
                self._at_once = _answered_at_once(self._registry) if cached else {}
        return self._registry

    async def _open_parts(self) -> ModelRegistry:
        """Assemble the parts over an asyncio engine (the cache's over a synchronous one)."""
        with translating(database=self._url):
            engine = BridgedEngine(self._target)
        try:
            database = await self._bridge(
                Database.open,
                self._target,
                auto_migrate=self._auto_migrate,
                engine=engine.sync_engine,
            )
            parts = await self._assemble(database)
        except BaseException:
            await engine.dispose()
            raise
        self._parts, self._engine = parts, engine
        return assemble(parts)

    async def _assemble(self, database: Database) -> Parts:
        # The cache and its feed run on threads: they get a synchronous engine of their own,
        # unless the catalog is in memory (one connection, reached through the bridge only).
        background = (
            database
            if database.is_memory
            else Database(make_engine(self._target, keep_idle=self._feed is None), url=database.url)
        )
        telemetry = Telemetry()
        live = None
        publisher = None
        try:
            if self._cache:
                # The first load reads and validates the whole catalog: off the event loop.
                load = functools.partial(
                    LiveCache,
                    background,
                    poll_interval=self._poll_interval,
                    on_refresh=telemetry.refreshed,
                    feed=self._feed,
                )
                live = await (
                    in_bridge(load) if background is database else asyncio.to_thread(load)
                )
            # Publishes from the write's own bridge call, reading through its database.
            publisher = None if self._feed is None else Publisher(database, self._feed)
            parts = Parts(
                database,
                cache=live,
                telemetry=telemetry,
                background=background,
                catch_up_writes=False,
                publisher=publisher,
            )
            if self._collectors is not None:
                parts.metrics(self._collectors)
        except BaseException:
            if publisher is not None:
                await asyncio.to_thread(publisher.close)
            if live is not None:
                await asyncio.to_thread(live.close)
            if background is not database:
                background.dispose()
            raise
        return parts

    async def _bridge(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:  # noqa: ANN401 - the function's own arguments
        """Run ``function`` in the asyncio bridge, to its end even if the caller is cancelled.

        A statement cannot be taken back halfway: aiosqlite's thread goes on with it, and a
        connection abandoned there would keep SQLite's write lock. So a cancelled caller
        stops waiting at once, while the call itself finishes (a write commits or rolls back
        as a whole) on its own; :meth:`close` waits for such calls.
        """
        task = asyncio.ensure_future(in_bridge(function, *args, **kwargs))
        self._in_flight.add(task)
        task.add_done_callback(self._settled)
        return await asyncio.shield(task)

    def _settled(self, task: asyncio.Future[Any]) -> None:
        self._in_flight.discard(task)
        if not task.cancelled() and task.exception() is not None:
            # Retrieved here, so a call whose caller was cancelled raises into no one's log.
            logger.debug("modelregistry: a call ended in %r", task.exception())


def _answered_at_once(registry: ModelRegistry) -> dict[str, Callable[..., Any]]:
    """The registry's methods declared :attr:`Kind.CACHE`, bound, by name (its cache is on)."""
    return {
        name: getattr(registry, name)
        for name, method in vars(ModelRegistry).items()
        if callable(method) and declared_kind(method) is Kind.CACHE
    }
