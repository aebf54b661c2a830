"""Cached reads next to a plain dict, and cross-process propagation, measured in one run.

    python benchmarks/cache_and_propagation.py [--models 1000] [--changes 200]
        [--backend sqlite|postgresql|both] [--postgres-url URL]

Prints, per backend: the seed-style in-memory registry's ``get_model`` (one dict lookup), the
cached ``ModelRegistry.get_model`` and ``get_models_by_capability`` beside their reference
figures, and the latency from "a process starts a write" to "another process's subscriber
has the change in its cache" (p50, p99, max). Figures only: nothing is asserted.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import tempfile
import time
import timeit
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from modelregistry import CatalogEvent, ModelConfig, ModelRegistry

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


class SeedRegistry:
    """The seed's in-memory registry: dicts of models, capability and provider indexes."""

    def __init__(self, models: list[ModelConfig]) -> None:
        self._models = {model.model_id: model for model in models}
        self._by_capability: dict[str, set[str]] = {}
        self._by_provider: dict[str, set[str]] = {}
        for model in models:
            self._by_provider.setdefault(model.provider, set()).add(model.model_id)
            for name in model.capabilities.names():
                self._by_capability.setdefault(name, set()).add(model.model_id)

    def get_model(self, model_id: str) -> ModelConfig | None:
        return self._models.get(model_id)

    def get_models_by_capability(self, capability: str) -> list[ModelConfig]:
        return [self._models[i] for i in sorted(self._by_capability.get(capability, ()))]


def catalog(size: int) -> list[ModelConfig]:
    return [
        ModelConfig(
            model_id=f"provider-{n % 7}/model-{n}:latest",
            provider=f"provider-{n % 7}",
            context_window=8192 + n,
            max_output_tokens=4096,
            capabilities={"supports_streaming": True, "supports_vision": n % 3 == 0},
        )
        for n in range(size)
    ]


def per_call(function: Any, *args: Any) -> tuple[float, float]:
    """Median and p99 of one call, in microseconds (batches of calls, many repeats)."""
    timer = timeit.Timer(lambda: function(*args))
    number = max(timer.autorange()[0] // 10, 1)
    runs = sorted(t / number * 1e6 for t in timer.repeat(repeat=50, number=number))
    return statistics.median(runs), runs[int(len(runs) * 0.99) - 1]


def _subscriber(url: str, ready: Any, arrivals: Any, stop: Any) -> None:
    with ModelRegistry(url, poll_interval=0.05) as registry:

        def on_change(event: CatalogEvent) -> None:
            arrivals.put((time.time(), event.version))

        registry.subscribe(on_change)
        ready.put("ready")
        stop.wait(600)


def propagation(url: str, changes: int) -> list[float]:
    """Milliseconds from a write's start in one process to the event in another's cache."""
    context = multiprocessing.get_context("spawn")
    ready, arrivals, stop = context.Queue(), context.Queue(), context.Event()
    process = context.Process(target=_subscriber, args=(url, ready, arrivals, stop))
    process.start()
    ready.get(timeout=120)
    latencies = []
    try:
        with ModelRegistry(url, cache=False) as writer:
            model_id = "provider-0/model-0:latest"
            for n in range(changes):
                status = "deprecated" if n % 2 == 0 else "active"
                started = time.time()
                version = writer.update_model_status(model_id, status).version
                arrived, seen = arrivals.get(timeout=60)
                while seen != version:
                    arrived, seen = arrivals.get(timeout=60)
                latencies.append((arrived - started) * 1000)
    finally:
        stop.set()
        process.join(timeout=60)
    return latencies


def database(backend: str, postgres_url: str, directory: Path) -> tuple[str, Any]:
    if backend == "sqlite":
        return f"sqlite:///{directory / 'bench.db'}", lambda: None
    schema = f"mr_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(postgres_url)
    with admin.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')

    def drop() -> None:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()

    url = make_url(postgres_url).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False), drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES)
    options = parser.parse_args()
    models = catalog(options.models)
    reference = SeedRegistry(models)
    probe = models[len(models) // 2].model_id
    backends = ["sqlite", "postgresql"] if options.backend == "both" else [options.backend]
    print(f"{options.models} models, {options.changes} changes; microseconds per call")
    for backend in backends:
        with tempfile.TemporaryDirectory() as directory:
            url, drop = database(backend, options.postgres_url, Path(directory))
            try:
                with ModelRegistry(url) as registry:
                    registry.import_catalog({"models": [m.model_dump() for m in models]})
                    rows = [
                        ("get_model", registry.get_model, reference.get_model, probe),
                        (
                            "get_models_by_capability",
                            registry.get_models_by_capability,
                            reference.get_models_by_capability,
                            "vision",
                        ),
                    ]
                    print(f"\n[{backend}]")
                    print(
                        f"{'operation':28} {'cached p50':>11} {'p99':>9} {'reference p50':>14} {'ratio':>6}"
                    )
                    for name, ours, theirs, argument in rows:
                        mine, mine99 = per_call(ours, argument)
                        base, _ = per_call(theirs, argument)
                        print(
                            f"{name:28} {mine:11.3f} {mine99:9.3f} {base:14.3f} {mine / base:6.2f}"
                        )
                latencies = sorted(propagation(url, options.changes))
                p50 = statistics.median(latencies)
                p99 = latencies[max(int(len(latencies) * 0.99) - 1, 0)]
                print(
                    f"propagation to another process (ms): p50 {p50:.2f}  p99 {p99:.2f}  "
                    f"max {latencies[-1]:.2f}  ({len(latencies)} changes)"
                )
            finally:
                drop()


if __name__ == "__main__":
    main()
