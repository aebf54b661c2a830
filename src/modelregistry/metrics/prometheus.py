"""Prometheus metrics of a registry: its catalog, its operations and its cache.

:class:`RegistryMetrics` is what ``registry.metrics`` returns. Its collector computes every
value when scraped: the catalog's gauges from the cache's snapshot (or, without a cache, from
the reporting views), the counters from the registry's :mod:`~modelregistry.metrics.telemetry`.
Labels never carry a model id (one series per model would grow without bound) and nothing
exposes the database URL's password.

========================================================  ====================================
metric                                                    meaning
========================================================  ====================================
``modelregistry_models{provider,status}``                 models, every status of each provider
``modelregistry_capability_models{capability}``           models (any status) with it
``modelregistry_models_retiring{within_days="30"}``       retirement past or within 30 days
``modelregistry_modality_models{direction,modality}``     models (any status) taking (``input``)
                                                          or giving (``output``) it
``modelregistry_mode_models{mode}``                       models (any status) of the mode
``modelregistry_operations_total{operation,outcome}``     public API calls; outcome ``ok``, an
                                                          error code (``E4001``) or ``error``
``modelregistry_operation_duration_seconds{operation}``   their durations (histogram)
``modelregistry_changes_total{kind}``                     revisions this process committed
``modelregistry_cache_revision``                          catalog revision the cache holds
``modelregistry_cache_staleness_seconds``                 since the database last confirmed it
``modelregistry_cache_stale``                             1 while the cache is stale, else 0
``modelregistry_cache_refreshes_total{trigger}``          notify, poll, write, manual, reload,
                                                          stream
``modelregistry_models_synced{source}``                   models whose values came from an
                                                          upstream (litellm, models.dev, ...)
``modelregistry_source_synced_timestamp_seconds{source}`` when a source was last synced
``modelregistry_feed_transport{transport}``               JetStream feed only: 1 for the one in
                                                          use (``jetstream`` or ``poll``)
``modelregistry_feed_lag_seconds``                        JetStream feed only: commit to apply
========================================================  ====================================

This module imports ``prometheus_client``; the registry loads it only when metrics are asked
for, so ``import modelregistry`` stays fast.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, get_args

from prometheus_client import CollectorRegistry, generate_latest, make_wsgi_app
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from modelregistry.db import migrate
from modelregistry.domain.history import ChangeKind
from modelregistry.errors import ModelRegistryError
from modelregistry.metrics.telemetry import DURATION_BUCKETS, Trigger

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

    from prometheus_client.metrics_core import Metric

    from modelregistry.domain.counts import CatalogCounts
    from modelregistry.metrics.telemetry import Telemetry, TelemetryRecord

__all__ = ["RETIRING_WITHIN_DAYS", "Health", "RegistryMetrics"]

logger = logging.getLogger(__name__)

RETIRING_WITHIN_DAYS: Final = 30
"""The window of ``modelregistry_models_retiring`` (its ``within_days`` label)."""

_TRIGGERS: Final[tuple[Trigger, ...]] = get_args(Trigger)


@dataclass(frozen=True, slots=True)
class Health:
    """Whether the registry can serve: its database answers at the schema it needs.

    Attributes:
        ok: True when the database is reachable and at the newest schema revision.
        detail: One line saying so, or what is wrong (password masked).
    """

    ok: bool
    detail: str


class RegistryMetrics:
    """The Prometheus metrics of one registry, on a ``CollectorRegistry``.

    Made by the registry (``registry.metrics``); a host process serves them with its own
    exporter (they are on :attr:`registry`), or collects :attr:`collector` into another
    CollectorRegistry. :meth:`wsgi_app` serves ``/metrics`` and ``/healthz`` (what
    ``modelregistry metrics serve`` runs).

    Args:
        telemetry: The registry's counts of operations, changes and refreshes.
        catalog: Counts the catalog's models (retiring on or before the day given).
        cache: The cache's state (``get_stats()["cache"]``), or None without a cache.
        schema_revision: Reads the database's schema revision (raises when it cannot).
        registry: The CollectorRegistry to register on.
        synced: Per upstream kind, the models synced from it and when it was last synced
            (the provenance; None: not exposed).
    """

    def __init__(  # noqa: PLR0913 - the sources of each family, keyword-only
        self,
        telemetry: Telemetry,
        *,
        catalog: Callable[[date], CatalogCounts],
        cache: Callable[[], dict[str, Any] | None],
        schema_revision: Callable[[], str | None],
        registry: CollectorRegistry,
        synced: Callable[[], dict[str, tuple[int, datetime | None]]] | None = None,
    ) -> None:
        """Register the registry's collector on ``registry``.

        Raises:
            ValueError: ``registry`` already holds modelregistry metrics (of another registry:
                give each registry a CollectorRegistry of its own).
        """
        self.registry = registry
        """The CollectorRegistry the metrics are on."""
        self.collector: Collector = _RegistryCollector(telemetry, catalog, cache, synced)
        """The collector computing every metric when scraped."""
        self._cache = cache
        self._schema_revision = schema_revision
        try:
            registry.register(self.collector)
        except ValueError as exc:
            msg = (
                f"this CollectorRegistry already has modelregistry metrics ({exc}): give each "
                "registry a CollectorRegistry of its own"
            )
            raise ValueError(msg) from exc
        self._registered = True

    def exposition(self) -> bytes:
        """The metrics in Prometheus' text format, as ``/metrics`` serves them."""
        return generate_latest(self.registry)

    def health(self) -> Health:
        """Check that the database answers, at the schema revision this version needs.

        A cache gone stale (its change feed cannot reach the database, or a refresh is stuck
        on a frozen one) is unhealthy at once, with the cache's error, without asking the
        database again.
        """
        cache = self._cache()
        if cache is not None and cache.get("state") == "stale":
            detail = f"cache stale for {cache['staleness_seconds']:.1f} s: {cache['error']}"
            return Health(ok=False, detail=detail.replace("\n", " "))
        try:
            current = self._schema_revision()
        except ModelRegistryError as exc:
            return Health(ok=False, detail=str(exc).replace("\n", " "))
        head = migrate.head_revision()
        if current != head:
            found = current or "none (empty database)"
            return Health(ok=False, detail=f"schema revision {found}, this version needs {head}")
        return Health(ok=True, detail=f"ok: database reachable, schema revision {head}")

    def wsgi_app(self) -> WSGIApplication:
        """A WSGI application: ``/metrics`` (Prometheus' exposition) and ``/healthz``.

        ``/healthz`` answers 200 while the database is reachable at the newest schema, else
        503 with the reason; other paths are 404.
        """
        exposition = make_wsgi_app(self.registry)

        def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
            path = environ.get("PATH_INFO") or "/"
            if path == "/metrics":
                served: Iterable[bytes] = exposition(environ, start_response)
                return served
            if path == "/healthz":
                health = self.health()
                status = "200 OK" if health.ok else "503 Service Unavailable"
                return _text(start_response, status, health.detail)
            if path == "/":
                return _text(start_response, "200 OK", "modelregistry: /metrics, /healthz")
            return _text(start_response, "404 Not Found", f"no such page: {path}")

        return app

    def unregister(self) -> None:
        """Take the metrics off their CollectorRegistry (again: nothing)."""
        if self._registered:
            self._registered = False
            self.registry.unregister(self.collector)


def _text(start_response: StartResponse, status: str, text: str) -> list[bytes]:
    body = (text + "\n").encode()
    start_response(
        status,
        [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))],
    )
    return [body]


class _RegistryCollector(Collector):
    """Computes every metric of one registry at scrape time."""

    def __init__(
        self,
        telemetry: Telemetry,
        catalog: Callable[[date], CatalogCounts],
        cache: Callable[[], dict[str, Any] | None],
        synced: Callable[[], dict[str, tuple[int, datetime | None]]] | None = None,
    ) -> None:
        self._telemetry = telemetry
        self._catalog = catalog
        self._cache = cache
        self._synced = synced

    def describe(self) -> Iterable[Metric]:
        """Every family, without samples: registering checks names without a scrape."""
        return list(_families().values())

    def collect(self) -> Iterable[Metric]:
        """Every family with its samples (values as floats, like prometheus_client's own)."""
        families = _families()
        record = self._telemetry.record()
        self._add_catalog(families)
        self._add_provenance(families)
        _add_operations(families, record)
        changes = families["changes"]
        for kind in ChangeKind:
            changes.add_metric([kind.value], float(record.changes.get(kind.value, 0)))
        cache = self._cache()
        if cache is None:
            return [
                family for key, family in families.items() if not key.startswith(("cache", "feed"))
            ]
        families["cache_revision"].add_metric([], float(cache["revision"]))
        families["cache_staleness"].add_metric([], float(cache["staleness_seconds"]))
        families["cache_stale"].add_metric([], 1.0 if cache.get("state") == "stale" else 0.0)
        for trigger in _TRIGGERS:
            families["cache_refreshes"].add_metric(
                [trigger], float(record.refreshes.get(trigger, 0))
            )
        feed = cache.get("feed")
        if feed is None:
            return [family for key, family in families.items() if not key.startswith("feed")]
        for transport in ("jetstream", "poll"):
            families["feed_transport"].add_metric(
                [transport], float(feed["transport"] == transport)
            )
        families["feed_lag"].add_metric([], float(feed["lag_seconds"]))
        return list(families.values())

    def _add_catalog(self, families: dict[str, Any]) -> None:
        today = datetime.now(UTC).date()
        try:
            counts = self._catalog(today + timedelta(days=RETIRING_WITHIN_DAYS))
        except ModelRegistryError as exc:
            # The database is away and there is no cache: the catalog's gauges are absent
            # from this scrape (the others stay); /healthz says what is wrong.
            logger.debug("modelregistry metrics: the catalog could not be counted: %s", exc)
            return
        for (provider, status), count in counts.by_provider_status.items():
            families["models"].add_metric([provider, status], float(count))
        for capability, count in counts.by_capability.items():
            families["capability_models"].add_metric([capability], float(count))
        families["retiring"].add_metric([str(RETIRING_WITHIN_DAYS)], float(counts.retiring))
        for (direction, modality), count in counts.by_modality.items():
            families["modality_models"].add_metric([direction, modality], float(count))
        for mode, count in counts.by_mode.items():
            families["mode_models"].add_metric([mode], float(count))

    def _add_provenance(self, families: dict[str, Any]) -> None:
        if self._synced is None:
            return
        try:
            sources = self._synced()
        except ModelRegistryError as exc:
            logger.debug("modelregistry metrics: the provenance could not be read: %s", exc)
            return
        for kind, (count, last) in sorted(sources.items()):
            families["models_synced"].add_metric([kind], float(count))
            if last is not None:
                families["source_synced"].add_metric([kind], last.timestamp())


def _add_operations(families: dict[str, Any], record: TelemetryRecord) -> None:
    # repr() of these bounds is how prometheus_client writes them (Go's float format).
    bounds = [repr(float(bound)) for bound in DURATION_BUCKETS] + ["+Inf"]
    for name in sorted(record.operations):
        stats = record.operations[name]
        for outcome in sorted(stats.outcomes):
            families["operations"].add_metric([name, outcome], float(stats.outcomes[outcome]))
        cumulative, running = [], 0
        for bound, count in zip(bounds, stats.buckets, strict=True):
            running += count
            cumulative.append((bound, float(running)))
        families["durations"].add_metric([name], cumulative, stats.seconds)


def _families() -> dict[str, Any]:
    """A new, empty family of each metric, by a short key."""
    gauge, counter = GaugeMetricFamily, CounterMetricFamily
    return {
        "models": gauge(
            "modelregistry_models",
            "Models in the catalog, by provider and status.",
            labels=["provider", "status"],
        ),
        "capability_models": gauge(
            "modelregistry_capability_models",
            "Models (any status) having the capability.",
            labels=["capability"],
        ),
        "modality_models": gauge(
            "modelregistry_modality_models",
            "Models (any status) taking (input) or giving (output) the modality.",
            labels=["direction", "modality"],
        ),
        "mode_models": gauge(
            "modelregistry_mode_models",
            "Models (any status) of the mode (chat, embedding, ...).",
            labels=["mode"],
        ),
        "retiring": gauge(
            "modelregistry_models_retiring",
            "Models whose retirement date is past or within the days given.",
            labels=["within_days"],
        ),
        "operations": counter(
            "modelregistry_operations",
            "Calls of the registry's public API by operation and outcome (ok, an error code, "
            "or error); lookups of a model by id that the cache answers are not counted.",
            labels=["operation", "outcome"],
        ),
        "durations": HistogramMetricFamily(
            "modelregistry_operation_duration_seconds",
            "Duration of the registry's public API calls.",
            labels=["operation"],
        ),
        "changes": counter(
            "modelregistry_changes",
            "Revisions of models committed by this process, by kind of change.",
            labels=["kind"],
        ),
        "models_synced": gauge(
            "modelregistry_models_synced",
            "Models whose values were last synced from an upstream, by its kind.",
            labels=["source"],
        ),
        "source_synced": gauge(
            "modelregistry_source_synced_timestamp_seconds",
            "When an upstream of this kind was last synced (Unix time).",
            labels=["source"],
        ),
        "cache_revision": gauge(
            "modelregistry_cache_revision", "The catalog revision the cache holds."
        ),
        "cache_staleness": gauge(
            "modelregistry_cache_staleness_seconds",
            "Seconds since the database last confirmed the cache's snapshot.",
        ),
        "cache_stale": gauge(
            "modelregistry_cache_stale",
            "1 while the cache is stale (the database has not confirmed it for a few polls, "
            "or its last refresh failed), else 0.",
        ),
        "cache_refreshes": counter(
            "modelregistry_cache_refreshes",
            "Successful refreshes of the cache, by what asked for them.",
            labels=["trigger"],
        ),
        "feed_transport": gauge(
            "modelregistry_feed_transport",
            "1 for how the cache follows the JetStream feed now: jetstream, or poll (NATS away).",
            labels=["transport"],
        ),
        "feed_lag": gauge(
            "modelregistry_feed_lag_seconds",
            "Seconds from the commit of the last change applied to its arrival (or how long a "
            "gap has waited).",
        ),
    }
