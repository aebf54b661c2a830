"""Telemetry and its Prometheus form, without a database: a fake clock, a fresh registry."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, date, datetime
from typing import Any
from wsgiref.util import setup_testing_defaults

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy.util import await_only, greenlet_spawn

from modelregistry import DatabaseUnavailableError, ModelNotFoundError
from modelregistry.domain.counts import CatalogCounts
from modelregistry.domain.history import ChangeKind
from modelregistry.metrics import telemetry
from modelregistry.metrics.prometheus import RegistryMetrics
from modelregistry.metrics.telemetry import DURATION_BUCKETS, Telemetry, recorded


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The operations' clock: each reading is the next value pushed here."""
    readings: list[float] = []
    monkeypatch.setattr(telemetry, "_clock", lambda: readings.pop(0))
    return readings


class Service:
    """A stand-in for a registry: public methods recorded by the same decorator."""

    def __init__(self) -> None:
        self._telemetry = Telemetry()

    @property
    def telemetry(self) -> Telemetry:
        return self._telemetry

    @recorded("lookup")
    def lookup(self, name: str) -> str:
        if name == "missing":
            raise ModelNotFoundError(name)
        if name == "broken":
            raise KeyError(name)
        return name.upper()

    @recorded("outer")
    def outer(self, names: list[str]) -> list[str]:
        return [self.lookup(name) for name in names]  # part of this operation, not one more

    @recorded("across")
    def across(self, other: Service, name: str) -> str:
        return other.lookup(name)  # another registry's operation: recorded there


def test_an_operation_is_timed_and_counted_by_outcome(clock: list[float]) -> None:
    service = Service()
    clock.extend([10.0, 10.001, 20.0, 20.5, 30.0, 42.0])
    assert service.lookup("a") == "A"
    with pytest.raises(ModelNotFoundError):
        service.lookup("missing")
    with pytest.raises(KeyError):
        service.lookup("broken")
    stats = service.telemetry.record().operations["lookup"]
    assert stats.outcomes == {"ok": 1, "E4001": 1, "error": 1}
    assert stats.seconds == pytest.approx(0.001 + 0.5 + 12.0)
    expected = [0] * (len(DURATION_BUCKETS) + 1)
    expected[DURATION_BUCKETS.index(0.001)] += 1  # a bound belongs to its own bucket (le)
    expected[DURATION_BUCKETS.index(0.5)] += 1
    expected[-1] += 1  # longer than the last bound: +Inf
    assert list(stats.buckets) == expected
    assert clock == []


def test_a_method_calling_another_is_one_operation(clock: list[float]) -> None:
    service = Service()
    clock.extend([0.0, 0.25])
    assert service.outer(["a", "b", "c"]) == ["A", "B", "C"]
    operations = service.telemetry.record().operations
    assert set(operations) == {"outer"}
    assert operations["outer"].outcomes == {"ok": 1}
    assert clock == []  # read twice: for the outer call only
    # Once the outer call returned, the inner method is an operation of its own again.
    clock.extend([1.0, 1.5])
    service.lookup("a")
    assert service.telemetry.record().operations["lookup"].outcomes == {"ok": 1}


def test_the_guard_is_per_telemetry(clock: list[float]) -> None:
    one, other = Service(), Service()
    clock.extend([0.0, 0.1, 0.2, 0.3])
    assert one.across(other, "x") == "X"
    assert set(one.telemetry.record().operations) == {"across"}
    assert set(other.telemetry.record().operations) == {"lookup"}


def test_the_guard_follows_each_asyncio_task_through_the_bridge(clock: list[float]) -> None:
    """A call suspended in SQLAlchemy's asyncio bridge does not hide another task's call.

    AsyncModelRegistry runs operations inside greenlets on the event loop's thread: while one
    waits on the database, another task's operation runs on the same thread. A thread-local
    guard would take the second for part of the first.
    """
    service = Service()
    clock.extend([0.0, 0.1, 0.2, 0.3])

    async def main() -> list[str]:
        started, release = asyncio.Event(), asyncio.Event()

        def waits(name: str) -> str:  # suspended half-way, as a database call in the bridge
            started.set()
            await_only(release.wait())
            return name

        async def first() -> str:
            return await greenlet_spawn(service.telemetry.run, "first", waits, "a")

        async def second() -> str:
            await started.wait()
            found = service.lookup("b")  # while "first" is suspended inside its operation
            release.set()
            return found

        return list(await asyncio.gather(first(), second()))

    assert asyncio.run(main()) == ["a", "B"]
    assert set(service.telemetry.record().operations) == {"first", "lookup"}


def test_each_thread_records_into_its_own_shard_and_ended_threads_are_folded() -> None:
    service = Service()
    started = threading.Barrier(4)

    def work() -> None:
        started.wait()
        for _ in range(500):
            service.lookup("x")
        with pytest.raises(ModelNotFoundError):
            service.lookup("missing")

    for _ in range(3):  # threads come and go, as a thread per request would
        threads = [threading.Thread(target=work) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    service.lookup("main")
    stats = service.telemetry.record().operations["lookup"]
    assert stats.outcomes == {"ok": 6001, "E4001": 12}
    assert sum(stats.buckets) == 6013
    assert len(service.telemetry._shards) == 1  # noqa: SLF001 - only this thread's is left


def test_changes_and_refreshes_are_counted() -> None:
    recorder = Telemetry()
    recorder.changed([ChangeKind.CREATED, ChangeKind.CREATED, ChangeKind.REPRICED])
    recorder.refreshed("poll")
    recorder.refreshed("poll")
    recorder.refreshed("write")
    record = recorder.record()
    assert record.changes == {"created": 2, "repriced": 1}
    assert record.refreshes == {"poll": 2, "write": 1}


COUNTS = CatalogCounts(
    by_provider_status={("ollama", "active"): 2, ("ollama", "deprecated"): 1},
    by_capability={"streaming": 3, "vision": 1},
    retiring=1,
    by_modality={("input", "image"): 1, ("input", "text"): 3, ("output", "text"): 3},
    by_mode={"chat": 3},
)


def metrics_of(
    recorder: Telemetry,
    *,
    catalog: Any = lambda _day: COUNTS,
    cache: Any = lambda: {"revision": 42, "staleness_seconds": 0.25},
    schema: Any = lambda: "0009",
) -> tuple[RegistryMetrics, CollectorRegistry]:
    collectors = CollectorRegistry()
    metrics = RegistryMetrics(
        recorder, catalog=catalog, cache=cache, schema_revision=schema, registry=collectors
    )
    return metrics, collectors


def test_the_collector_exposes_every_family(clock: list[float]) -> None:
    service = Service()
    clock.extend([0.0, 0.00003, 1.0, 1.2])
    service.lookup("a")
    with pytest.raises(ModelNotFoundError):
        service.lookup("missing")
    service.telemetry.changed([ChangeKind.REMOVED])
    service.telemetry.refreshed("notify")
    asked: list[date] = []

    def catalog(day: date) -> CatalogCounts:
        asked.append(day)
        return COUNTS

    _, collectors = metrics_of(service.telemetry, catalog=catalog)

    def value(name: str, **labels: str) -> float | None:
        return collectors.get_sample_value(name, labels)

    assert value("modelregistry_models", provider="ollama", status="deprecated") == 1
    assert value("modelregistry_capability_models", capability="streaming") == 3
    assert value("modelregistry_models_retiring", within_days="30") == 1
    assert (asked[0] - datetime.now(UTC).date()).days in {29, 30, 31}  # today + 30, in UTC
    assert value("modelregistry_operations_total", operation="lookup", outcome="ok") == 1
    assert value("modelregistry_operations_total", operation="lookup", outcome="E4001") == 1
    bucket = "modelregistry_operation_duration_seconds_bucket"
    assert value(bucket, operation="lookup", le="2.5e-05") == 0
    assert value(bucket, operation="lookup", le="5e-05") == 1
    assert value(bucket, operation="lookup", le="0.1") == 1
    assert value(bucket, operation="lookup", le="0.25") == 2
    assert value(bucket, operation="lookup", le="+Inf") == 2
    assert value("modelregistry_operation_duration_seconds_sum", operation="lookup") == (
        pytest.approx(0.20003)
    )
    assert value("modelregistry_changes_total", kind="removed") == 1
    assert value("modelregistry_changes_total", kind="created") == 0  # every kind, zeros too
    assert value("modelregistry_cache_revision") == 42
    assert value("modelregistry_cache_staleness_seconds") == 0.25
    assert value("modelregistry_cache_refreshes_total", trigger="notify") == 1
    assert value("modelregistry_cache_refreshes_total", trigger="reload") == 0


def test_a_catalog_that_cannot_be_counted_leaves_the_other_metrics() -> None:
    def unavailable(_day: date) -> CatalogCounts:
        raise DatabaseUnavailableError("database unavailable (sqlite:///x.db): gone")

    _, collectors = metrics_of(Telemetry(), catalog=unavailable, cache=lambda: None)
    names = {metric.name for metric in collectors.collect() if metric.samples}
    assert names == {"modelregistry_changes"}  # no catalog, no operations yet, no cache


def test_health_and_the_wsgi_app() -> None:
    state: dict[str, Any] = {"revision": "0009"}

    def schema() -> str | None:
        if isinstance(state["revision"], Exception):
            raise state["revision"]
        revision: str | None = state["revision"]
        return revision

    metrics, _ = metrics_of(Telemetry(), schema=schema)
    app = metrics.wsgi_app()

    def get(path: str) -> tuple[str, str]:
        environ: dict[str, Any] = {"PATH_INFO": path}
        setup_testing_defaults(environ)
        answer: list[str] = []

        def start_response(status: str, headers: list[tuple[str, str]], _exc: Any = None) -> Any:
            answer.append(status)
            assert headers

        body = b"".join(app(environ, start_response)).decode()
        return answer[0], body

    status, body = get("/metrics")
    assert status.startswith("200")
    assert 'modelregistry_models{provider="ollama",status="active"} 2.0' in body
    assert get("/healthz") == ("200 OK", "ok: database reachable, schema revision 0009\n")
    state["revision"] = "0004"
    assert get("/healthz") == (
        "503 Service Unavailable",
        "schema revision 0004, this version needs 0009\n",
    )
    state["revision"] = DatabaseUnavailableError("database unavailable (postgresql://u:***@h/db)")
    assert get("/healthz") == (
        "503 Service Unavailable",
        "E4020: database unavailable (postgresql://u:***@h/db)\n",
    )
    assert get("/nope")[0].startswith("404")
    assert get("/")[0].startswith("200")


def test_unregistering_twice_is_harmless() -> None:
    metrics, collectors = metrics_of(Telemetry())
    metrics.unregister()
    metrics.unregister()
    assert list(collectors.collect()) == []
