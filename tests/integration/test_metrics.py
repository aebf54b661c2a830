"""Prometheus metrics of a registry: values after known changes, on both backends and APIs.

The metrics registry is the one thing faked: each test gives the registry a fresh
``CollectorRegistry`` and reads the samples from it.
"""

from __future__ import annotations

import json
import multiprocessing
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from prometheus_client import CollectorRegistry

from cases import GPT4_TURBO, config
from modelregistry import ConcurrentModificationError, ModelNotFoundError, ModelRegistry

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from multiprocessing.queues import Queue

pytestmark = pytest.mark.both_apis

DEADLINE = 60.0  # generous: only a broken feed takes this long
LABELS = {"provider", "status", "capability", "within_days", "operation", "outcome", "kind"}
LABELS |= {"trigger", "le"}


def wait_for(predicate: Callable[[], bool], what: str) -> None:
    limit = time.monotonic() + DEADLINE
    while not predicate():
        if time.monotonic() > limit:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


@pytest.fixture
def collectors() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture(params=[True, False], ids=["cached", "uncached"])
def measured(
    request: pytest.FixtureRequest,
    open_registry: Callable[..., ModelRegistry],
    database_url: str,
    collectors: CollectorRegistry,
) -> Iterator[ModelRegistry]:
    with open_registry(database_url, cache=request.param, metrics=collectors) as registry:
        yield registry


def value(collectors: CollectorRegistry, name: str, **labels: str) -> float | None:
    return collectors.get_sample_value(name, labels)


def operations(collectors: CollectorRegistry) -> dict[tuple[str, str], float]:
    return {
        (sample.labels["operation"], sample.labels["outcome"]): sample.value
        for metric in collectors.collect()
        if metric.name == "modelregistry_operations"
        for sample in metric.samples
    }


def test_catalog_gauges_count_the_catalog_after_known_changes(
    measured: ModelRegistry, collectors: CollectorRegistry
) -> None:
    today = datetime.now(UTC).date()
    measured.register_model(GPT4_TURBO)
    measured.register_model(
        config(model_id="gpt-4-0613", status="deprecated", retirement_date=today)
    )
    measured.register_model(
        config(
            model_id="claude-2",
            provider="anthropic",
            capabilities={"supports_streaming": True},
            retirement_date=today + timedelta(days=40),
        )
    )
    measured.update_model_status("llama3.2:3b", "maintenance")
    measured.remove_model("llava-llama3:latest")
    assert {
        (provider, status): value(
            collectors, "modelregistry_models", provider=provider, status=status
        )
        for provider in ("ollama", "openai", "anthropic")
        for status in ("active", "deprecated", "disabled", "maintenance")
    } == {
        ("ollama", "active"): 1,
        ("ollama", "deprecated"): 0,
        ("ollama", "disabled"): 0,
        ("ollama", "maintenance"): 1,
        ("openai", "active"): 1,
        ("openai", "deprecated"): 1,
        ("openai", "disabled"): 0,
        ("openai", "maintenance"): 0,
        ("anthropic", "active"): 1,
        ("anthropic", "deprecated"): 0,
        ("anthropic", "disabled"): 0,
        ("anthropic", "maintenance"): 0,
    }
    capabilities = {
        name: value(collectors, "modelregistry_capability_models", capability=name)
        for name in measured.get_capabilities()
    }
    assert capabilities == {
        name: len(measured.get_models_by_capability(name)) for name in capabilities
    }
    assert capabilities == {"json_mode": 4, "streaming": 5, "tool_use": 2, "vision": 2}
    # Past or within 30 days: gpt-4-0613 (today), not claude-2 (in 40 days).
    assert value(collectors, "modelregistry_models_retiring", within_days="30") == 1
    assert len(measured.get_models_retiring(30)) == 1


def test_modality_and_mode_gauges_count_what_the_models_say_cached_and_in_sql(
    measured: ModelRegistry, collectors: CollectorRegistry
) -> None:
    def gauges() -> tuple[dict[tuple[str, str], float], dict[str, float]]:
        modalities, modes = {}, {}
        for metric in collectors.collect():
            for sample in metric.samples:
                if sample.name == "modelregistry_modality_models":
                    key = (sample.labels["direction"], sample.labels["modality"])
                    modalities[key] = sample.value
                elif sample.name == "modelregistry_mode_models":
                    modes[sample.labels["mode"]] = sample.value
        return modalities, modes

    assert gauges() == ({}, {})  # the seeded models say nothing: nothing is counted
    measured.register_model(
        config(
            model_id="vision-chat",
            input_modalities=["text", "image"],
            output_modalities=["text"],
            mode="chat",
        )
    )
    measured.register_model(
        config(model_id="embedder", input_modalities=["text"], mode="embedding")
    )
    measured.register_model(
        config(model_id="speaker", input_modalities=["text"], output_modalities=["audio"])
    )
    measured.update_model_status("embedder", "disabled")  # any status counts
    assert gauges() == (
        {
            ("input", "image"): 1,
            ("input", "text"): 3,
            ("output", "audio"): 1,
            ("output", "text"): 1,
        },
        {"chat": 1, "embedding": 1},
    )
    measured.remove_model("vision-chat")
    assert gauges() == (
        {("input", "text"): 2, ("output", "audio"): 1},
        {"embedding": 1},
    )


def test_labels_never_carry_a_model_id(
    measured: ModelRegistry, collectors: CollectorRegistry
) -> None:
    measured.register_model(GPT4_TURBO)
    measured.get_model_or_raise("gpt-4-turbo", as_of=datetime.now(UTC))
    with pytest.raises(ModelNotFoundError):
        measured.get_model_or_raise("no-such-model")
    ids = {"gpt-4-turbo", "no-such-model", *(m.model_id for m in measured.list_models())}
    samples = [sample for metric in collectors.collect() for sample in metric.samples]
    assert samples
    for sample in samples:
        assert set(sample.labels) <= LABELS, sample
        assert not ids & set(sample.labels.values()), sample


def test_operations_are_counted_once_by_outcome_and_timed(
    measured: ModelRegistry, collectors: CollectorRegistry
) -> None:
    for _ in range(3):
        measured.list_models(provider="ollama")
    measured.select_model(capabilities=["vision"])  # calls find_models: one operation
    measured.get_models_by_capability("vision")  # and list_models: one operation
    with pytest.raises(ModelNotFoundError):
        measured.get_model_or_raise("no-such-model")
    with pytest.raises(ConcurrentModificationError):
        measured.update_model_status("llama3.1:8b", "disabled", expected_version=7)
    measured.estimate_cost("llama3.1:8b", 1000, 1000)
    counted = operations(collectors)
    assert counted == {
        ("list_models", "ok"): 3,
        ("select_model", "ok"): 1,
        ("get_models_by_capability", "ok"): 1,
        ("get_model_or_raise", "E4001"): 1,
        ("update_model_status", "E4030"): 1,
        ("estimate_cost", "ok"): 1,
    }
    for name, calls in {"list_models": 3, "update_model_status": 1}.items():
        count = value(collectors, "modelregistry_operation_duration_seconds_count", operation=name)
        infinite = value(
            collectors, "modelregistry_operation_duration_seconds_bucket", operation=name, le="+Inf"
        )
        total = value(collectors, "modelregistry_operation_duration_seconds_sum", operation=name)
        assert count == infinite == calls
        assert total is not None
        assert total > 0


def _tiny_litellm_map() -> str:
    """A LiteLLM map of one model, in a file of its own (issue 16's sync)."""
    entry = {"litellm_provider": "tiny", "mode": "chat", "max_tokens": 1000}
    path = Path(tempfile.mkdtemp()) / "map.json"
    path.write_text(json.dumps({"tiny/1": entry}))
    return str(path)


PUBLIC_CALLS: dict[str, Callable[[ModelRegistry], object]] = {
    "register_model": lambda r: r.register_model(GPT4_TURBO),
    "update_model_status": lambda r: r.update_model_status("gpt-4-turbo", "deprecated"),
    "set_price": lambda r: r.set_price("gpt-4-turbo", "9", "27"),
    "set_alias": lambda r: r.set_alias("turbo", "gpt-4-turbo"),
    "list_aliases": lambda r: r.list_aliases(),
    "remove_alias": lambda r: r.remove_alias("turbo"),
    "get_model": lambda r: r.get_model("gpt-4-turbo", as_of=datetime.now(UTC)),
    "get_model_or_raise": lambda r: r.get_model_or_raise("llama3.1:8b", as_of=datetime.now(UTC)),
    "list_models": lambda r: r.list_models(provider="ollama"),
    "find_models": lambda r: r.find_models(capabilities=["vision"], order_by="cost"),
    "select_model": lambda r: r.select_model(capabilities=["vision"]),
    "get_models_by_capability": lambda r: r.get_models_by_capability("vision"),
    "get_models_by_capabilities": lambda r: r.get_models_by_capabilities([]),
    "get_models_by_provider": lambda r: r.get_models_by_provider("ollama"),
    "get_available_models": lambda r: r.get_available_models(),
    "get_providers": lambda r: r.get_providers(),
    "get_capabilities": lambda r: r.get_capabilities(),
    "get_stats": lambda r: r.get_stats(),
    "is_initialized": lambda r: r.is_initialized(),
    "get_model_history": lambda r: r.get_model_history("gpt-4-turbo"),
    "get_model_version": lambda r: r.get_model_version("gpt-4-turbo", 1),
    "diff_versions": lambda r: r.diff_versions("gpt-4-turbo", 1, 2),
    "get_models_retiring": lambda r: r.get_models_retiring(30),
    "get_price": lambda r: r.get_price("gpt-4-turbo"),
    "get_price_history": lambda r: r.get_price_history("gpt-4-turbo"),
    "estimate_cost": lambda r: r.estimate_cost("gpt-4-turbo", 1000, 10),
    "cost_breakdown": lambda r: r.cost_breakdown("gpt-4-turbo", 1000, 10, reasoning_tokens=5),
    "export_catalog": lambda r: r.export_catalog(provider="ollama"),
    "import_catalog": lambda r: r.import_catalog({"models": [GPT4_TURBO]}, dry_run=True),
    "load_default_models": lambda r: r.load_default_models(),
    "sync": lambda r: r.sync("litellm", _tiny_litellm_map(), force=True),
    "get_provenance": lambda r: r.get_provenance("tiny/1"),
    "list_overrides": lambda r: r.list_overrides(),
    "reset_override": lambda r: r.reset_override("tiny/1"),
    "remove_model": lambda r: r.remove_model("gpt-4-turbo"),
    "restore_model": lambda r: r.restore_model("gpt-4-turbo", 1),
    "refresh": lambda r: r.refresh(),
}
"""A call of every recorded public method (in an order in which each succeeds)."""


def test_every_public_method_is_one_operation_under_its_own_name(
    measured: ModelRegistry, collectors: CollectorRegistry
) -> None:
    public = {
        name
        for name in dir(ModelRegistry)
        if not name.startswith("_") and callable(getattr(ModelRegistry, name))
    }
    assert set(PUBLIC_CALLS) == public - {"subscribe", "close"}
    for name, call in PUBLIC_CALLS.items():
        before = operations(collectors)
        call(measured)
        after = operations(collectors)
        grown = {
            key: after[key] - before.get(key, 0) for key in after if after[key] != before.get(key)
        }
        assert grown == {(name, "ok"): 1}, name


def test_a_subscriber_called_during_a_write_records_its_own_calls(
    open_registry: Callable[..., ModelRegistry], database_url: str, collectors: CollectorRegistry
) -> None:
    """Told of this process's own write (inside that operation), its calls still count."""
    with open_registry(database_url, metrics=collectors) as registry:
        seen: list[int] = []
        registry.subscribe(lambda _event: seen.append(registry.get_stats()["total_models"]))
        registry.register_model(GPT4_TURBO)
        wait_for(lambda: seen == [4], "the subscriber")
        counted = operations(collectors)
        assert counted[("register_model", "ok")] == 1
        assert counted[("get_stats", "ok")] == 1


def test_lookups_the_cache_answers_are_not_counted(
    open_registry: Callable[..., ModelRegistry], database_url: str, collectors: CollectorRegistry
) -> None:
    with open_registry(database_url, metrics=collectors) as registry:
        for _ in range(5):
            assert registry.get_model("llama3.1:8b") is not None
            assert registry.get_model_or_raise("llama3.1:8b").model_id == "llama3.1:8b"
        assert registry.get_model("llama3.1:8b", as_of=datetime.now(UTC)) is not None
        assert operations(collectors) == {("get_model", "ok"): 1}  # the point-in-time read


def test_changes_count_committed_revisions_by_kind(
    measured: ModelRegistry, collectors: CollectorRegistry
) -> None:
    measured.register_model(GPT4_TURBO)
    measured.register_model(GPT4_TURBO)  # the same config: no revision
    measured.register_model(config(display_name="GPT-4 Turbo (2024-04-09)"))
    measured.update_model_status("gpt-4-turbo", "deprecated")
    measured.set_price("gpt-4-turbo", "9", "27")
    with pytest.raises(ConcurrentModificationError):
        measured.remove_model("gpt-4-turbo", expected_version=1)  # rolled back: not counted
    measured.remove_model("gpt-4-turbo")
    measured.restore_model("gpt-4-turbo", 4)
    measured.import_catalog(
        {"models": [config(model_id="a"), config(model_id="b"), GPT4_TURBO]}, reason="sync"
    )
    changes = {
        kind: value(collectors, "modelregistry_changes_total", kind=kind)
        for kind in ("created", "updated", "status_changed", "removed", "restored", "repriced")
    }
    assert changes == {
        "created": 3,
        "updated": 2,
        "status_changed": 1,
        "removed": 1,
        "restored": 1,
        "repriced": 1,
    }


def test_cache_metrics_follow_another_writer(
    open_registry: Callable[..., ModelRegistry], database_url: str, collectors: CollectorRegistry
) -> None:
    with (
        open_registry(database_url, metrics=collectors, poll_interval=0.05) as registry,
        ModelRegistry(database_url, cache=False) as writer,
    ):
        assert value(collectors, "modelregistry_cache_refreshes_total", trigger="reload") == 1
        revision = value(collectors, "modelregistry_cache_revision")
        assert revision is not None
        assert revision == registry.get_stats()["cache"]["revision"]
        staleness = value(collectors, "modelregistry_cache_staleness_seconds")
        assert staleness is not None
        assert 0 <= staleness < DEADLINE
        # The feed's first check: on PostgreSQL, once it LISTENs (so the NOTIFY is heard).
        wait_for(
            lambda: (
                (value(collectors, "modelregistry_cache_refreshes_total", trigger="poll") or 0) >= 1
            ),
            "the change feed's first check",
        )
        writer.register_model(GPT4_TURBO)
        wait_for(
            lambda: value(collectors, "modelregistry_cache_revision") == revision + 1,
            "the cache to hold the other writer's change",
        )
        heard = "poll" if database_url.startswith("sqlite") else "notify"
        wait_for(
            lambda: (
                (value(collectors, "modelregistry_cache_refreshes_total", trigger=heard) or 0) >= 1
            ),
            f"a refresh by {heard}",
        )
        registry.update_model_status("gpt-4-turbo", "deprecated")
        assert value(collectors, "modelregistry_cache_refreshes_total", trigger="write") == 1
        registry.refresh()
        assert value(collectors, "modelregistry_cache_refreshes_total", trigger="manual") == 1
        assert value(collectors, "modelregistry_cache_revision") == revision + 2
        # This process committed one change; the other writer's is counted there, not here.
        assert value(collectors, "modelregistry_changes_total", kind="status_changed") == 1
        assert value(collectors, "modelregistry_changes_total", kind="created") == 0


def test_without_a_cache_there_are_no_cache_metrics(
    open_registry: Callable[..., ModelRegistry], database_url: str, collectors: CollectorRegistry
) -> None:
    with open_registry(database_url, cache=False, metrics=collectors):
        names = {metric.name for metric in collectors.collect()}
    assert "modelregistry_models" in names
    assert not {name for name in names if name.startswith("modelregistry_cache")}


def test_metrics_and_health_on_registry_metrics(
    open_registry: Callable[..., ModelRegistry], database_url: str
) -> None:
    with open_registry(database_url) as registry:
        metrics = registry.metrics  # a CollectorRegistry of their own, made on first use
        assert registry.metrics is metrics
        registry.update_model_status("llama3.2:3b", "disabled")
        text = metrics.exposition().decode()
        assert 'modelregistry_models{provider="ollama",status="disabled"} 1.0' in text.splitlines()
        assert 'modelregistry_changes_total{kind="status_changed"} 1.0' in text.splitlines()
        health = metrics.health()
        assert health.ok
        assert "0009" in health.detail


def test_one_collector_registry_holds_one_registrys_metrics(
    open_registry: Callable[..., ModelRegistry], database_url: str, collectors: CollectorRegistry
) -> None:
    with open_registry(database_url, metrics=collectors):
        with pytest.raises(ValueError, match="CollectorRegistry of its own"):
            open_registry(database_url, metrics=collectors)
        assert value(collectors, "modelregistry_models", provider="ollama", status="active") == 3
    # Closing takes the metrics off: another registry may use the CollectorRegistry.
    assert list(collectors.collect()) == []
    with open_registry(database_url, metrics=collectors):
        assert value(collectors, "modelregistry_models", provider="ollama", status="active") == 3


def test_health_fails_when_the_schema_is_gone(tmp_path: Path) -> None:
    path = tmp_path / "gone.db"
    with ModelRegistry(f"sqlite:///{path}") as registry:
        assert registry.metrics.health().ok
        path.unlink()
        health = registry.metrics.health()
        assert not health.ok
        assert "none" in health.detail


def test_importing_modelregistry_does_not_load_prometheus_client() -> None:
    script = (
        "import sys\n"
        "from modelregistry import ModelRegistry\n"
        "with ModelRegistry('sqlite://') as registry:\n"
        "    registry.list_models()\n"
        "    assert 'prometheus_client' not in sys.modules, 'loaded before use'\n"
        "    registry.metrics.exposition()\n"
        "    assert 'prometheus_client' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)


def _count_in_child(registry: ModelRegistry, report: Queue[object]) -> None:
    try:
        metrics = registry.metrics
        before = metrics.registry.get_sample_value(
            "modelregistry_operations_total", {"operation": "list_models", "outcome": "ok"}
        )
        registry.list_models()
        after = metrics.registry.get_sample_value(
            "modelregistry_operations_total", {"operation": "list_models", "outcome": "ok"}
        )
        report.put((before, after))
    except Exception as exc:  # noqa: BLE001 - the parent reports it
        report.put(repr(exc))


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # fork with threads (3.12+ warns)
def test_a_forked_child_counts_from_zero(database_url: str) -> None:
    context = multiprocessing.get_context("fork")
    report: Queue[object] = context.Queue()
    with ModelRegistry(database_url, metrics=CollectorRegistry()) as registry:
        registry.list_models()
        registry.list_models()
        child = context.Process(target=_count_in_child, args=(registry, report))
        child.start()
        try:
            assert report.get(timeout=DEADLINE) == (None, 1.0)
        finally:
            child.join(timeout=DEADLINE)
        assert operations(registry.metrics.registry) == {("list_models", "ok"): 2}
